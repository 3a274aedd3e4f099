"""The report's "backtests against the tape" section, read from the ``aggregate_replays`` outputs."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from mfg_finance.io import read_json
from mfg_finance.report.formatting import figure, html_tables_fitting, num
from mfg_finance.report.uncertain import plus_minus

#: names of the ``render_report`` inputs this section reads (present only when ``data.trades`` is set)
REPLAY_INPUTS = ("replay_comparison", "replay_stats", "replay_summary", "replay_figure")


KEYS = ("ticker", "strategy")   # repeated in each of the narrower tables a wide one is split into


def _comparison_table(table: pd.DataFrame) -> str:
    rows = []
    for row in table.itertuples():
        rows.append({
            "ticker": row.ticker, "strategy": row.strategy, "sessions": row.n_sessions,
            "simulated PnL (BRL/h)": plus_minus(row.sim_pnl_per_hour, row.sim_pnl_per_hour_se),
            "replayed PnL (BRL/h)": plus_minus(row.replay_pnl_per_hour, row.replay_pnl_per_hour_se),
            "replayed, liquidated (BRL/h)": plus_minus(row.replay_liquidation_pnl_per_hour,
                                                       row.replay_liquidation_pnl_per_hour_se),
            "calibrated A (1/s)": num(row.A, 3),
            "model fills/s at replayed quotes": num(row.model_fill_rate_per_s, 3),
            "simulated fills/s": num(row.sim_fill_rate_per_s, 3),
            "replayed fills/s": plus_minus(row.replay_fill_rate_per_s, row.replay_fill_rate_per_s_se),
            "cost of queue position (BRL/h)": plus_minus(row.queue_cost_per_hour, row.queue_cost_per_hour_se),
            "cost of latency (BRL/h)": plus_minus(row.latency_cost_per_hour, row.latency_cost_per_hour_se),
        })
    return html_tables_fitting(pd.DataFrame(rows), KEYS, max_columns=6, box=None)


def replay_context(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The section's numbers, tables and figure; ``None`` when the run replayed no tape."""
    if not all(inputs.get(name) for name in REPLAY_INPUTS):
        return None
    comparison = pd.read_csv(inputs["replay_comparison"])
    stats = pd.read_csv(inputs["replay_stats"])
    summary = read_json(inputs["replay_summary"])
    return {
        "comparison_table": _comparison_table(comparison),
        "stats_table": html_tables_fitting(stats, KEYS, box=None),
        "figure": figure(inputs["replay_figure"], "Simulated vs replayed PnL and fill rates"),
        "settings": summary.get("settings", {}),
        "sessions": summary.get("sessions", []),
        "missing": summary.get("missing", []),
        "source": summary.get("source", ""),
    }
