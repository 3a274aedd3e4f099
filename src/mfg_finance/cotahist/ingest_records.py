"""The summary of a COTAHIST ingestion from the per-file records of
:func:`~mfg_finance.cotahist.file_ingest.ingest_file`.

Kept apart from the parser (numba, pandas): the summary job reads the records' JSON and nothing else.
"""

from __future__ import annotations

from typing import Sequence


def combine_records(records: Sequence[dict]) -> tuple[dict, list[str]]:
    """(summary, rejects) of all files from their :func:`ingest_file` records, in input order."""
    files = [r["file"] for r in records]
    dated = [f for f in files if f["records"]]
    summary = {
        "files": files,
        "records": int(sum(f["records"] for f in files)),
        "rejected": int(sum(f["rejected"] for f in files)),
        "date_min": min(f["date_min"] for f in dated) if dated else None,
        "date_max": max(f["date_max"] for f in dated) if dated else None,
        "n_tickers": len(set().union(*(r["tickers"] for r in records))),
    }
    rejects = [line for r in records for line in r["rejects"]]
    return summary, rejects
