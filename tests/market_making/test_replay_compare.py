"""Simulated vs replayed: the comparison table on tapes whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import DataError
from mfg_finance.market_making.backtest import backtest_statistics, run_backtest
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay import ReplaySettings
from mfg_finance.market_making.replay.compare import VARIANTS, replay_comparison, replay_variants
from mfg_finance.market_making.replay.synthetic import poisson_tapes
from mfg_finance.report.figures.market_making import plot_replay_comparison

PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01,
          "order_size": 100}


def replays(settings, n_sessions=40, horizon=600.0):
    """Variants of the ``constant`` strategy on Poisson tapes (prices on the settings' tick grid)."""
    market = MarketParameters.from_mapping(PARAMS)
    frames = []
    tapes = poisson_tapes(market, horizon_s=horizon, dt_s=1.0, n_paths=n_sessions, seed=5)
    for i, (tape, mid) in enumerate(tapes):
        # Poisson tapes print one order_size each; real prints are bigger: 300 shares
        tape.quantity[:] = 300.0
        if settings.tick_size > 0:
            tape.price[:] = np.round(tape.price / settings.tick_size) * settings.tick_size
        frames.append(replay_variants(tape, "constant", market, settings, session=f"s{i}", reference=mid,
                                      session_start_s=0.0, session_end_s=horizon)
                      .assign(ticker="SYNA3", strategy="constant"))
    return market, pd.concat(frames, ignore_index=True)


def test_ideal_variant_of_a_model_tape_is_the_simulator():
    settings = ReplaySettings(dt_s=1.0, tick_size=0.0, queue="back", queue_ahead=250.0, latency_s=0.5)
    market, rows = replays(settings)
    assert rows.groupby("variant").size().to_dict() == {v: 40 for v in VARIANTS}
    simulated = backtest_statistics({("SYNA3", "constant"): run_backtest("constant", market, horizon_s=600.0,
                                                                          dt_s=1.0, n_paths=2000, seed=1)})
    row = replay_comparison(rows, simulated, {"SYNA3": market}).iloc[0]
    assert row["n_sessions"] == 40 and row["A"] == market.A
    ideal = rows[rows["variant"] == "ideal"]["final_pnl"].to_numpy() * 6      # 600 s sessions: BRL/h
    se = np.hypot(ideal.std(ddof=1) / np.sqrt(ideal.size), row["sim_pnl_per_hour_se"])
    assert abs(ideal.mean() - row["sim_pnl_per_hour"]) < 3.5 * se
    # the model's rate at the replayed quotes is the simulated rate (no grid: the same quotes); the
    # simulated rate is a little lower as a side is switched off at the inventory limit
    assert row["model_fill_rate_per_s"] == pytest.approx(row["sim_fill_rate_per_s"], rel=0.05)
    # off the grid no print lands exactly at our price, so the queue ahead is always traded through
    assert row["queue_cost_per_hour"] == 0.0


def test_queue_position_and_latency_costs_on_the_tick_grid(tmp_path):
    settings = ReplaySettings(dt_s=1.0, tick_size=0.01, queue="back", queue_ahead=250.0, latency_s=0.5)
    market, rows = replays(settings)
    simulated = backtest_statistics({("SYNA3", "constant"): run_backtest("constant", market, horizon_s=600.0,
                                                                          dt_s=1.0, n_paths=200, seed=1)})
    row = replay_comparison(rows, simulated, {"SYNA3": market}).iloc[0]
    shares = rows.assign(filled=rows["bought_shares"] + rows["sold_shares"]).groupby("variant")["filled"].mean()
    assert shares["ideal"] > 1.15 * shares["queue"]        # at our level 250 of a print's 300 shares go ahead
    assert row["queue_cost_per_hour"] > 3 * row["queue_cost_per_hour_se"] > 0
    conf = rows[rows["variant"] == "configured"].set_index("session")["final_pnl"]
    queue = rows[rows["variant"] == "queue"].set_index("session")["final_pnl"]
    assert row["latency_cost_per_hour"] == pytest.approx(((queue - conf) * 6).mean())
    assert row["latency_cost_per_hour_se"] == pytest.approx(((queue - conf) * 6).std(ddof=1) / np.sqrt(40))
    lots = rows[rows["variant"] == "configured"][["bought_shares", "sold_shares"]].to_numpy().sum(axis=1) / 2 / 100
    assert row["replay_fill_rate_per_s"] == pytest.approx(lots.mean() / 600.0)
    plot_replay_comparison(replay_comparison(rows, simulated, {"SYNA3": market}), tmp_path / "replay.png")
    assert (tmp_path / "replay.png").read_bytes()[:4] == b"\x89PNG"


def test_comparison_refuses_incomplete_input():
    settings = ReplaySettings(dt_s=1.0, tick_size=0.0)
    market, rows = replays(settings, n_sessions=2, horizon=60.0)
    empty = backtest_statistics({("SYNA3", "constant"): run_backtest("constant", market, horizon_s=60.0, dt_s=1.0,
                                                                      n_paths=10, seed=1)})
    with pytest.raises(DataError, match="variants"):
        replay_comparison(rows[rows["variant"] != "queue"], empty, {"SYNA3": market})
    with pytest.raises(DataError, match="no calibrated parameters"):
        replay_comparison(rows, empty, {})


def test_report_section_reads_the_aggregate_outputs(tmp_path):
    from mfg_finance.io import write_json
    from mfg_finance.report.replay_section import replay_context

    settings = ReplaySettings(dt_s=1.0, tick_size=0.01, queue="back", queue_ahead=250.0, latency_s=0.5)
    market, rows = replays(settings, n_sessions=3, horizon=120.0)
    simulated = backtest_statistics({("SYNA3", "constant"): run_backtest("constant", market, horizon_s=120.0,
                                                                          dt_s=1.0, n_paths=20, seed=1)})
    table = replay_comparison(rows, simulated, {"SYNA3": market})
    paths = {"replay_comparison": tmp_path / "comparison.csv", "replay_stats": tmp_path / "statistics.csv",
             "replay_summary": tmp_path / "summary.json", "replay_figure": tmp_path / "comparison.png"}
    table.to_csv(paths["replay_comparison"], index=False)
    pd.DataFrame({"ticker": ["SYNA3"], "n_sessions": [3]}).to_csv(paths["replay_stats"], index=False)
    write_json(paths["replay_summary"], {"settings": settings.to_dict(), "sessions": ["s0", "s1", "s2"],
                                         "missing": ["SYNB4 on s2"], "source": "sample"})
    plot_replay_comparison(table, paths["replay_figure"])
    context = replay_context({k: str(v) for k, v in paths.items()})
    assert context["sessions"] == ["s0", "s1", "s2"] and context["missing"] == ["SYNB4 on s2"]
    assert "cost of queue position (BRL/h)" in context["comparison_table"]
    assert context["figure"]["src"].startswith("data:image/png;base64,")
    assert replay_context({}) is None                         # no trades replayed: no section
