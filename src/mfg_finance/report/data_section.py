"""The report's instrument-class and corporate-event tables (data section)."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from mfg_finance.corporate.events import SHARE_KINDS
from mfg_finance.cotahist.universe import class_counts
from mfg_finance.io import read_json, read_parquet
from mfg_finance.report.formatting import html_table

MAX_EVENT_ROWS = 200
"""Events listed in the report (share events and unexplained ones first); all are in the Parquet file."""


def data_section(inputs: Mapping[str, Any], adjust: str) -> dict[str, Any]:
    """Class counts, event counts and tables; empty parts when the run has no such artefact."""
    out: dict[str, Any] = {"class_table": None, "events": None, "adjust": adjust}
    if inputs.get("universe"):
        counts = class_counts(read_parquet(inputs["universe"]))
        out["class_table"] = html_table(counts)
    if inputs.get("corporate_events") and inputs.get("corporate_events_summary"):
        events = read_parquet(inputs["corporate_events"])
        summary = read_json(inputs["corporate_events_summary"])
        priority = (~events["kind"].isin(SHARE_KINDS + ("unexplained",))).astype(int)
        shown = events.assign(_p=priority).sort_values(["_p", "ticker", "ex_date"], kind="stable")
        shown = shown.drop(columns="_p").head(MAX_EVENT_ROWS).assign(
            ex_date=lambda f: pd.to_datetime(f["ex_date"]).dt.strftime("%Y-%m-%d"))
        disagreements = pd.DataFrame(summary.get("disagreements", []))
        out["events"] = {
            "n": summary["n_events"], "n_shown": int(len(shown)), "tolerance": summary["tolerance"],
            "by_kind": summary["by_kind"], "by_source": summary["by_source"],
            "table": html_table(shown, classes="sortable wrap") if len(shown) else None,
            "disagreements": html_table(disagreements, classes="sortable wrap") if len(disagreements) else None,
            "notes": summary.get("file_notes", []),
        }
    return out
