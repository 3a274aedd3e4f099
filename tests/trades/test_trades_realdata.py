"""The two real NEG_OPCOES sessions: structure, and reconciliation with B3's own daily file."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.cotahist import read_cotahist
from mfg_finance.trades import parse_session, read_trades
from mfg_finance.trades.bars import time_bars

pytestmark = pytest.mark.realdata


def test_2016_01_04_matches_cotahist_for_every_option(trades_dir, cotahist_day_2016):
    trades = read_trades(trades_dir / "NEG_OPCOES_20160104.zip", drop_cancelled=True)
    quotes = read_cotahist(cotahist_day_2016)
    options = quotes[quotes["market_type"].isin([70, 80])].copy()
    options["ticker"] = options["ticker"].astype(str)
    options = options.set_index("ticker").sort_index()
    per_ticker = trades.groupby("ticker", observed=True).agg(
        n=("price", "size"), quantity=("quantity", "sum"), high=("price", "max"), low=("price", "min"),
        last=("price", "last"))
    per_ticker.index = per_ticker.index.astype(str)
    per_ticker = per_ticker.sort_index()
    assert list(per_ticker.index) == list(options.index)
    assert len(options) == 961
    np.testing.assert_array_equal(per_ticker["n"], options["n_trades"])
    np.testing.assert_array_equal(per_ticker["quantity"], options["quantity"])
    np.testing.assert_array_equal(per_ticker["high"], options["high"])
    np.testing.assert_array_equal(per_ticker["low"], options["low"])
    np.testing.assert_array_equal(per_ticker["last"], options["close"])


def test_bars_of_2016_01_04_reproduce_the_daily_figures(trades_dir, cotahist_day_2016):
    bars = time_bars(read_trades(trades_dir / "NEG_OPCOES_20160104.zip"))
    quotes = read_cotahist(cotahist_day_2016)
    options = quotes[quotes["market_type"].isin([70, 80])].set_index("ticker")
    daily = bars.groupby("ticker", observed=True).agg(n=("n_trades", "sum"), high=("high", "max"),
                                                     close=("close", "last"))
    daily.index = daily.index.astype(str)
    options.index = options.index.astype(str)
    options = options.loc[daily.index]
    np.testing.assert_array_equal(daily["n"], options["n_trades"])
    np.testing.assert_array_equal(daily["high"], options["high"])
    np.testing.assert_array_equal(daily["close"], options["close"])


@pytest.mark.parametrize("name, lines, cancelled, tickers", [
    ("NEG_OPCOES_20160104.zip", 35520, 1, 961), ("NEG_OPCOES_20160105.zip", 25202, 1, 984)])
def test_real_sessions_structure(trades_dir, name, lines, cancelled, tickers):
    session = parse_session(trades_dir / name)
    s = session.summary
    assert (s["layout"], s["lines"], s["header_lines"], s["trades"]) == ("neg", lines, lines, lines - 2)
    assert (s["cancelled"], s["n_tickers"], s["rejected"]) == (cancelled, tickers, 0)
    t = session.trades
    assert t["time"].min() >= 10 * 3600 * 10 ** 9 and t["time"].max() < 18 * 3600 * 10 ** 9 + 20 * 60 * 10 ** 9
    assert set(np.unique(t["side"])) == {-1, 0, 1}


def test_aggressor_flag_agrees_with_the_tick_rule_more_often_than_not(trades_dir):
    # Condition 1 = aggressor: a buyer-initiated trade should mostly print at or above the previous one.
    t = read_trades(trades_dir / "NEG_OPCOES_20160104.zip", drop_cancelled=True)
    step = np.sign(t.groupby("ticker", observed=True)["price"].diff().to_numpy())
    known = (step != 0) & ~np.isnan(step) & (t["side"].to_numpy() != 0)
    agreement = np.mean(step[known] == t["side"].to_numpy()[known])
    assert known.sum() > 5000 and agreement > 0.7
