"""``mfg-finance replay`` on a trades table of two sessions."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.cli import main
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay import ReplaySettings, replay_session, session_tapes
from mfg_finance.market_making.replay.synthetic import poisson_tapes

PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01}


def trades_frame(tmp_path):
    market = MarketParameters.from_mapping(PARAMS)
    frames = []
    for day, (tape, _) in zip(("2016-01-04", "2016-01-05"),
                              poisson_tapes(market, horizon_s=120.0, dt_s=1.0, n_paths=2, seed=3)):
        frames.append(pd.DataFrame({
            "date": pd.Timestamp(day), "ticker": "SYNA3",
            "time": (36_000 + tape.time_s) * 1e9, "price": np.round(tape.price, 2),
            "quantity": (tape.quantity * 100).astype(np.int64), "side": tape.side, "cancelled": False}))
    frame = pd.concat(frames, ignore_index=True)
    frame["time"] = frame["time"].astype(np.int64)
    path = tmp_path / "trades.parquet"
    frame.to_parquet(path)
    return frame, path


def test_replay_command_writes_sessions_fills_and_statistics(tmp_path, capsys):
    frame, path = trades_frame(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text("".join(f"{k}: {v}\n" for k, v in PARAMS.items()))
    out = tmp_path / "out"
    code = main(["replay", "--trades", str(path), "--strategy", "hjb", "constant", "--params", str(params),
                 "--order-size", "100", "--queue", "back", "--queue-ahead", "200", "--latency-s", "0.1",
                 "--maker-fee-bps", "2.3", "--output-dir", str(out)])
    assert code == 0
    sessions = pd.read_csv(out / "replay_sessions.csv")
    assert sessions[["strategy", "session"]].values.tolist() == [
        ["hjb", "2016-01-04"], ["hjb", "2016-01-05"], ["constant", "2016-01-04"], ["constant", "2016-01-05"]]
    fills = pd.read_parquet(out / "replay_fills.parquet")
    assert len(fills) == sessions["n_trades"].sum() > 0
    stats = pd.read_csv(out / "replay_statistics.csv")
    assert set(stats["strategy"]) == {"hjb", "constant"} and (stats["n_sessions"] == 2).all()
    # the command is the library call
    market = MarketParameters.from_mapping({**PARAMS, "order_size": 100})
    settings = ReplaySettings(queue="back", queue_ahead=200.0, latency_s=0.1, maker_fee_bps=2.3)
    label, tape = session_tapes(frame, "SYNA3")[1]
    direct = replay_session(tape, "constant", market, settings, session=label).summary
    row = sessions[(sessions["strategy"] == "constant") & (sessions["session"] == label)].iloc[0]
    assert row["final_pnl"] == pytest.approx(direct["final_pnl"], rel=1e-9)
    assert row["n_trades"] == direct["n_trades"]
    assert "constant" in capsys.readouterr().out


def test_replay_command_reports_bad_input(tmp_path, capsys):
    frame, path = trades_frame(tmp_path)
    frame.assign(quantity=-frame["quantity"]).to_parquet(path)
    assert main(["replay", "--trades", str(path), "--output-dir", str(tmp_path / "o")]) == 2
    assert "quantity" in capsys.readouterr().err
    assert main(["replay", "--trades", str(tmp_path / "missing.parquet"), "--output-dir", str(tmp_path)]) == 2


def test_replay_command_time_window(tmp_path):
    frame, path = trades_frame(tmp_path)
    out = tmp_path / "out"
    assert main(["replay", "--trades", str(path), "--strategy", "constant", "--start", "10:00:30", "--end", "10:01:30",
                 "--output-dir", str(out)]) == 0
    sessions = pd.read_csv(out / "replay_sessions.csv")
    in_window = frame[(frame["time"] >= 36_030e9) & (frame["time"] <= 36_090e9)].groupby("date").size()
    assert sessions["n_prints"].tolist() == in_window.tolist()
    assert (sessions["horizon_s"] == 60.0).all()
    with pytest.raises(SystemExit):
        main(["replay", "--trades", str(path), "--start", "25:00", "--output-dir", str(out)])


def test_replay_command_reads_b3_trade_files(tmp_path):
    # a synthetic NEG session file, read by mfg_finance.trades like a real one
    from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session, write_neg

    trades = simulate_session([SyntheticInstrument("SYNA3", rate_buy=1.0, rate_sell=1.0)], date="2024-01-02",
                              seed=4, seconds=600.0)
    path = tmp_path / "NEG_20240102.zip"
    write_neg(trades, path)
    out = tmp_path / "out"
    assert main(["replay", "--trades", str(path), "--strategy", "constant", "--order-size", "100",
                 "--output-dir", str(out)]) == 0
    row = pd.read_csv(out / "replay_sessions.csv").iloc[0]
    assert row["session"] == "2024-01-02"
    assert row["n_prints"] == (~trades["cancelled"]).sum() and row["n_cancelled"] == trades["cancelled"].sum()
    assert row["n_trades"] > 0
