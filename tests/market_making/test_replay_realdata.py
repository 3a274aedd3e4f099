"""Replay of the most traded option series of 2016-01-04 (real B3 NEG file; skipped when absent)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from replay_checks import assert_replay_accounting

from mfg_finance.cli import main
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay import ReplaySettings, replay_session, tape_from_frame
from mfg_finance.market_making.strategies import STRATEGIES

REPO_ROOT = Path(__file__).resolve().parents[2]   # not `from conftest`: several conftest modules exist
NEG_FILE = REPO_ROOT.parent / "shared" / "data" / "trades" / "NEG_OPCOES_20160104.zip"
# a 0.22 BRL option on the 0.01 grid: half-spreads of one to three ticks, lots of 100 contracts
MARKET = MarketParameters(sigma=0.0005, A=0.1, k=100.0, gamma=1.0, Q_max=10, S0=0.22, tick_size=0.01,
                          order_size=100)


@pytest.fixture(scope="module")
def session():
    if not NEG_FILE.is_file():
        pytest.skip(f"real B3 trade file not available at {NEG_FILE}")
    from mfg_finance.trades import read_trades

    return read_trades(NEG_FILE)


def test_most_traded_series_replays_with_consistent_accounting(session):
    live = session[~session["cancelled"].to_numpy()]
    counts = live.groupby("ticker", observed=True).size()
    ticker = str(counts.idxmax())
    tape = tape_from_frame(session, ticker)
    assert tape.size == counts.max() > 1000
    assert tape.n_flagged > 0.9 * tape.size                   # NEG files carry the aggressor on most trades
    filled = 0
    for strategy in STRATEGIES:
        for queue, ahead, latency in (("front", 0.0, 0.0), ("back", 2000.0, 0.5), ("probabilistic", 2000.0, 0.05)):
            settings = ReplaySettings(dt_s=1.0, tick_size=0.01, queue=queue, queue_ahead=ahead, latency_s=latency,
                                      maker_fee_bps=2.3, taker_fee_bps=2.3)
            out = replay_session(tape, strategy, MARKET, settings, session="2016-01-04")
            assert_replay_accounting(tape, out, MARKET)
            assert out.summary["last_price"] == tape.price[-1]
            filled += out.summary["n_trades"]
            quotes = out.quotes.dropna(subset=["bid", "ask"])
            assert (quotes["bid"] < quotes["ask"]).all()
            np.testing.assert_allclose(quotes["bid"] * 100, np.round(quotes["bid"] * 100), atol=1e-6)
    assert filled > 100                                       # the checks saw real fills


def test_replay_command_on_the_real_file(session, tmp_path):
    live = session[~session["cancelled"].to_numpy()]
    ticker = str(live.groupby("ticker", observed=True).size().idxmax())
    out = tmp_path / "out"
    params = tmp_path / "params.yaml"
    params.write_text("".join(f"{key}: {value}\n" for key, value in MARKET.to_dict().items() if value is not None))
    assert main(["replay", "--trades", str(NEG_FILE), "--ticker", ticker, "--strategy", "hjb", "constant",
                 "--params", str(params), "--queue", "back", "--queue-ahead", "2000", "--start", "10:00",
                 "--end", "17:00", "--output-dir", str(out)]) == 0
    rows = pd.read_csv(out / "replay_sessions.csv")
    regular = live[(live["ticker"] == ticker) & (live["time"] >= 36_000e9) & (live["time"] <= 61_200e9)]
    assert rows["session"].tolist() == ["2016-01-04"] * 2
    assert (rows["n_prints"] == len(regular)).all() and (rows["horizon_s"] == 25_200.0).all()
