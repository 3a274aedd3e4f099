"""Trade signs: the aggressor flag where the file gives it, the tick rule elsewhere."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.microstructure.signs import tick_rule, trade_signs
from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session


def test_tick_rule_follows_the_last_price_change():
    price = np.array([10.0, 10.0, 10.01, 10.01, 10.0, 10.0, 10.02, 10.02])
    assert tick_rule(price).tolist() == [0, 0, 1, 1, -1, -1, 1, 1]
    assert tick_rule(np.array([])).tolist() == []


def test_flag_wins_and_the_tick_rule_fills_only_the_unflagged_trades():
    frame = pd.DataFrame({"price": [10.0, 10.01, 10.0, 10.0], "side": [-1, 0, 1, 0]})
    signs, source = trade_signs(frame)
    assert signs.tolist() == [-1, 1, 1, -1] and source == "aggressor flag (tick rule where missing)"
    assert trade_signs(frame.assign(side=[1, 1, -1, -1]))[1] == "aggressor flag"
    signs, source = trade_signs(frame.assign(side=0))
    assert source == "tick rule" and signs.tolist() == [0, 1, -1, -1]


def test_tick_rule_recovers_the_true_aggressor_when_the_bounce_dominates():
    """Unsigned sessions (NEGOCIOS layout): with a half-spread bounce large against the efficient
    price's moves between trades the tick rule names the generator's aggressor on most trades."""
    inst = SyntheticInstrument("SYNT3", price0=20.0, sigma=0.001, half_spread=0.02, rate_buy=0.1, rate_sell=0.1,
                               impact=0.0, cancel_prob=0.0)
    day = simulate_session([inst], date="2024-07-01", seed=3).sort_values(["time", "trade_id"])
    truth = day["side"].to_numpy()
    signs, source = trade_signs(day.assign(side=0))
    assert source == "tick rule"
    signed = signs != 0
    assert signed.mean() > 0.99
    assert 0.85 < np.mean(signs[signed] == truth[signed]) < 1.0
