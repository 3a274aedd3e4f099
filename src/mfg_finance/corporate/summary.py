"""A JSON-able summary of the event table, for the report and the log."""

from __future__ import annotations

from typing import Any

import pandas as pd


def events_summary(events: pd.DataFrame, disagreements: pd.DataFrame, notes: list[str], *,
                   tolerance: float) -> dict[str, Any]:
    """Counts by kind and source, the disagreements with the files, and the files' notes."""
    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = frame.copy()
        out["ex_date"] = pd.to_datetime(out["ex_date"]).dt.strftime("%Y-%m-%d")
        return out.to_dict(orient="records")

    by_kind = events["kind"].value_counts().sort_index()
    by_source = events["source"].value_counts().sort_index()
    return {"n_events": int(len(events)), "tolerance": float(tolerance),
            "by_kind": {str(k): int(v) for k, v in by_kind.items()},
            "by_source": {str(k): int(v) for k, v in by_source.items()},
            "n_tickers": int(events["ticker"].nunique()),
            "disagreements": records(disagreements), "file_notes": list(notes)}
