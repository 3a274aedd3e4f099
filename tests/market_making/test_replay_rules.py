"""Replay rules on hand-made tapes: sides, tick grid, queue models, partial fills, latency, fees, limits."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from replay_checks import assert_replay_accounting

from mfg_finance.errors import ConfigError, DataError
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay import (ReplaySettings, Tape, reference_price, replay_session, side_codes,
                                              tape_from_frame, tick_rule_signs)
from mfg_finance.market_making.strategies import STRATEGIES

MARKET = MarketParameters(sigma=0.004, A=0.5, k=60.0, gamma=0.1, Q_max=2, S0=10.0, tick_size=0.01,
                          order_size=100)


def fixed(bid, ask):
    """A policy quoting fixed prices whatever (t, q, S)."""
    return lambda t, q, S: (bid, ask)


def tape(rows):
    """Tape from (time_s, price, quantity, side) rows."""
    t, p, v, s = (np.array(col) for col in zip(*rows))
    return Tape(time_s=t, price=p, quantity=v, side=s)


def run(rows, policy=fixed(9.99, 10.01), **kw):
    start = kw.pop("start", 0.0)
    end = kw.pop("end", max(r[0] for r in rows))
    return replay_session(tape(rows), policy, MARKET, ReplaySettings(**{"dt_s": 100.0, **kw}),
                          session_start_s=start, session_end_s=end)


def test_a_print_fills_only_the_side_its_aggressor_hits_at_or_through_our_price():
    rows = [(1, 10.00, 500, -1),   # sell above our bid: no fill
            (2, 9.99, 50, 1),      # buyer-initiated at our bid price: wrong side, no fill
            (3, 9.99, 30, -1),     # sell at our bid: 30 of our 100
            (4, 9.98, 500, -1),    # sell through our bid: the other 70, at our price
            (5, 10.02, 40, 1)]     # buy through our ask: 40 at 10.01
    out = run(rows)
    fills = out.fills
    assert fills["print_index"].tolist() == [2, 3, 4]
    assert fills["side"].tolist() == [1, 1, -1]
    assert fills["quantity"].tolist() == [30, 70, 40]
    assert fills["price"].tolist() == [9.99, 9.99, 10.01]
    assert out.summary["final_inventory"] == pytest.approx(0.6)  # 60 shares, lots of 100
    assert out.summary["cash"] == pytest.approx(-100 * 9.99 + 40 * 10.01)


def test_unsigned_prints_take_the_tick_rule():
    assert tick_rule_signs(np.array([10.0, 10.01, 10.01, 10.0, 10.0, 10.02])).tolist() == [0, 1, 1, -1, -1, 1]
    rows = [(1, 10.02, 10, 0), (2, 10.01, 10, 0), (3, 9.99, 10, 0), (4, 9.99, 10, 0), (5, 10.01, 10, 0)]
    out = run(rows)
    # 10.01 after 10.02 is a down-tick (a sell, not at our bid); 9.99 down-tick fills the bid, the zero tick
    # keeps the sell sign; 10.01 up-tick lifts our ask
    assert out.fills["print_index"].tolist() == [2, 3, 4]
    assert out.fills["side"].tolist() == [1, 1, -1]
    assert out.summary["n_unsigned_prints"] == 1  # only the first print has no sign


def test_back_queue_serves_the_queue_ahead_first_and_a_trade_through_clears_it():
    rows = [(1, 9.99, 250, -1), (2, 9.99, 100, -1), (3, 9.98, 30, -1)]
    back = run(rows, queue="back", queue_ahead=300.0)
    assert back.fills["quantity"].tolist() == [50, 30]      # 300 ahead: 250 + 50 of the 2nd print, then we
    front = run(rows)
    assert front.fills["quantity"].tolist() == [100]        # first in line: filled by the first print
    deep = run([(1, 9.98, 20, -1), (2, 9.99, 40, -1)], queue="back", queue_ahead=1000.0)
    assert deep.fills["quantity"].tolist() == [20, 40]      # the level was traded through: nobody ahead


def test_probabilistic_queue_lies_between_front_and_back_and_depends_on_the_seed_only():
    rows = [(1 + i, 9.99, 20, -1) for i in range(40)]
    fills = {}
    for queue, ahead in (("front", 0.0), ("probabilistic", 500.0), ("back", 500.0)):
        out = run(rows, queue=queue, queue_ahead=ahead, seed=4)
        fills[queue] = out.fills["time_s"].iloc[0]
    assert fills["front"] <= fills["probabilistic"] <= fills["back"]
    a = run(rows, queue="probabilistic", queue_ahead=500.0, seed=4).fills
    pd.testing.assert_frame_equal(a, run(rows, queue="probabilistic", queue_ahead=500.0, seed=4).fills)


def test_latency_keeps_the_old_quote_live_until_the_new_one_arrives():
    # quote 9.99 decided at t = 0 and t = 10 (dt 10 s); from t = 10 on the policy bids 9.90
    def moving(t, q, S):
        return (9.99 if t < 10 else 9.90), 10.50

    rows = [(0.5, 9.99, 100, -1), (10.2, 9.99, 100, -1), (10.6, 9.99, 100, -1), (20.0, 10.0, 1, 1)]
    fast = replay_session(tape(rows), moving, MARKET, ReplaySettings(dt_s=10.0), session_start_s=0.0,
                          session_end_s=20.0)
    slow = replay_session(tape(rows), moving, MARKET, ReplaySettings(dt_s=10.0, latency_s=0.5),
                          session_start_s=0.0, session_end_s=20.0)
    # no latency: 9.99 live from t = 0 (fills the 0.5 s print), 9.90 from t = 10 (no more fills)
    assert fast.fills["print_index"].tolist() == [0]
    # 0.5 s latency: nothing live at 0.5 s (a print at an arrival time comes first); the t = 0 quote
    # is still live at 10.2 s, the t = 10 quote from 10.5 s
    assert slow.fills["print_index"].tolist() == [1]


def test_quotes_sit_on_the_tick_grid_away_from_the_mid_and_never_cross():
    rng = np.random.default_rng(2)
    n = 400
    price = np.round(10 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n)), 2)
    tp = Tape(time_s=np.arange(n, dtype=float), price=price, quantity=np.full(n, 100.0),
              side=rng.choice(np.array([-1, 1], dtype=np.int8), n))
    for strategy in STRATEGIES:
        quotes = replay_session(tp, strategy, MARKET, ReplaySettings(dt_s=5.0, tick_size=0.01)).quotes
        for side in ("bid", "ask"):
            ticks = quotes[side].dropna() / 0.01
            np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-6)
        both = quotes.dropna(subset=["bid", "ask"])
        assert (both["bid"] < both["ask"]).all()
    # rounding goes away from the reference: a 1.5-tick half-spread becomes 2 ticks on each side
    quotes = replay_session(tp, lambda t, q, S: (S - 0.015, S + 0.015), MARKET,
                            ReplaySettings(dt_s=5.0, tick_size=0.01)).quotes.dropna()
    assert ((quotes["reference"] - quotes["bid"]) >= 0.015 - 1e-12).all()
    assert ((quotes["ask"] - quotes["reference"]) >= 0.015 - 1e-12).all()
    crossing = replay_session(tp, lambda t, q, S: (S + 0.001, S - 0.001), MARKET,
                              ReplaySettings(dt_s=5.0, tick_size=0.01))
    assert crossing.quotes[["bid", "ask"]].isna().all().all() and crossing.fills.empty


def test_inventory_limit_fees_and_liquidation():
    rows = [(t, 9.99, 1000, -1) for t in range(1, 10)] + [(10, 9.95, 10, 1)]
    out = run(rows, dt_s=1.0, maker_fee_bps=2.3, taker_fee_bps=5.0)
    assert out.fills["inventory"].max() == MARKET.Q_max * MARKET.order_size   # 2 lots of 100, then no bid
    assert out.summary["bought_shares"] == 200 and out.summary["max_abs_inventory"] == 2
    fees = 200 * 9.99 * 2.3e-4
    assert out.summary["fees"] == pytest.approx(fees)
    assert out.summary["cash"] == pytest.approx(-200 * 9.99 - fees)
    assert out.summary["pnl_at_last_print"] == pytest.approx(out.summary["cash"] + 200 * 9.95)
    assert out.summary["liquidation_pnl"] == pytest.approx(out.summary["pnl_at_last_print"] - 200 * 9.95 * 5e-4)


def test_reference_price_is_the_midpoint_of_the_last_buy_and_sell_prints():
    price = np.array([10.0, 10.02, 10.0, 10.02, 10.0, 10.02, 50.0, 10.0])
    signs = np.array([-1, 1, -1, 1, -1, 1, 1, -1], dtype=np.int8)
    ref = reference_price(price, signs, 1)
    np.testing.assert_allclose(ref[1:6], 10.01)
    robust = reference_price(price, signs, 5)
    assert robust[6] == pytest.approx(10.01) and robust[7] == pytest.approx(10.01)  # one bad print is ignored


def test_tape_from_frame_selects_sorts_drops_cancelled_and_maps_sides():
    frame = pd.DataFrame({"ticker": ["A", "B", "A", "A", "A"],
                          "time": np.array([3, 1, 2, 2, 5], dtype=np.int64) * 1_000_000_000,
                          "trade_id": [30, 10, 25, 20, 40], "price": [10.0, 5.0, 10.1, 10.2, 10.3],
                          "quantity": [100, 100, 200, 300, 400], "side": ["buy", "sell", "", "S", "B"],
                          "cancelled": [False, False, False, False, True]})
    tp = tape_from_frame(frame, "A")
    assert tp.time_s.tolist() == [2.0, 2.0, 3.0] and tp.price.tolist() == [10.2, 10.1, 10.0]
    assert tp.side.tolist() == [-1, 0, 1] and tp.n_cancelled == 1 and tp.n_flagged == 2
    with pytest.raises(DataError, match="2 tickers"):
        tape_from_frame(frame)
    with pytest.raises(DataError, match="row 1 has aggressor side 'x'"):
        side_codes(["buy", "x"])
    with pytest.raises(DataError, match="print 1 has quantity"):
        Tape(time_s=[0.0, 1.0], price=[1.0, 1.0], quantity=[1.0, 0.0], side=[0, 0])
    with pytest.raises(DataError, match="non-decreasing"):
        Tape(time_s=[1.0, 0.0], price=[1.0, 1.0], quantity=[1.0, 1.0], side=[0, 0])
    with pytest.raises(ConfigError, match="queue"):
        ReplaySettings(queue="middle")
    with pytest.raises(ConfigError, match="reference_window must be odd"):
        ReplaySettings(reference_window=4)
    with pytest.raises(ConfigError, match="unknown strategy"):
        replay_session(tp, "nope", MARKET, ReplaySettings())


# -- accounting invariants on random tapes, settings and strategies --------------------------------------
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), queue=st.sampled_from(["front", "back", "probabilistic"]),
       strategy=st.sampled_from(STRATEGIES), latency=st.sampled_from([0.0, 0.3, 2.5]),
       fee=st.sampled_from([0.0, 2.3]), unsigned=st.floats(0.0, 1.0))
def test_accounting_invariants(seed, queue, strategy, latency, fee, unsigned):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    time_s = np.sort(rng.random(n) * 120.0)
    price = np.round(10.0 + np.cumsum(rng.choice([-0.02, -0.01, 0.0, 0.01, 0.02], n)), 2)
    side = rng.choice(np.array([-1, 1], dtype=np.int8), n) * (rng.random(n) >= unsigned)
    quantity = rng.integers(1, 5, n) * 50.0
    tp = Tape(time_s=time_s, price=price, quantity=quantity, side=side.astype(np.int8))
    cfg = ReplaySettings(dt_s=2.0, tick_size=0.01, queue=queue, queue_ahead=0.0 if queue == "front" else 120.0,
                         latency_s=latency, maker_fee_bps=fee, seed=seed)
    out = replay_session(tp, strategy, MARKET, cfg)
    assert_replay_accounting(tp, out, MARKET)
