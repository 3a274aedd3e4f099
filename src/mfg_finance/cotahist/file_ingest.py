"""One ingestion job per input file, and the summary of all of them.

:func:`ingest_file` parses one COTAHIST file (:func:`~mfg_finance.cotahist.parser.parse_file`,
strict or quarantine as before) into its year-partitioned folder (:mod:`.dataset`) and returns a
JSON-able record: the file's summary entry, its rejected lines, its distinct tickers and years.
:func:`combine_records` turns the records of every file, in input order, into exactly the
``summary`` and ``rejects`` that :func:`~mfg_finance.cotahist.parser.ingest` gives for the same
files read together (a test holds the two to the same answer).
"""

from __future__ import annotations

import os

from mfg_finance.cotahist.dataset import write_file_dataset
from mfg_finance.cotahist.parser import MAX_REJECTS_LISTED, ParsedFile, _frame, parse_file


def reject_lines(parsed: ParsedFile) -> list[str]:
    """``FILE:LINE: field X: reason`` per problem, and a last line counting those not listed."""
    lines = [str(r) for r in parsed.rejects]
    if parsed.summary["rejects_not_listed"]:
        lines.append(f"# {parsed.summary['path']}: {parsed.summary['rejects_not_listed']} more rejected lines "
                     f"not listed (at most {MAX_REJECTS_LISTED} per file and kind of problem)")
    return lines


def value_identity(quotes) -> dict:
    """How well ``volume = avg * quantity / quote_factor`` holds on the file's cash-market records.

    B3's files of 2016-2023 satisfy it to within the rounding of the average price (median ratio
    1.000-1.014), which is what says that QUATOT counts shares and prices are per FATCOT shares. A
    median far from 1 in an old file would mean the fields read differently in that era (e.g. a
    quantity in lots): the ingestion log says so (docs/cotahist.md, "Old files").

    Returns ``{"records": n, "median_ratio": m}`` (``m`` None without a usable record).
    """
    import numpy as np

    cash = ((quotes["market_type"] == 10) & (quotes["quantity"] > 0) & (quotes["avg"] > 0)).to_numpy()
    ratio = (quotes["volume"].to_numpy()[cash] * quotes["quote_factor"].to_numpy()[cash]
             / (quotes["avg"].to_numpy()[cash] * quotes["quantity"].to_numpy()[cash]))
    return {"records": int(cash.sum()), "median_ratio": float(np.median(ratio)) if ratio.size else None}


def ingest_file(path: str | os.PathLike, dest: str | os.PathLike, *, strict: bool = True) -> dict:
    """Parse one COTAHIST file into ``dest/year=YYYY/part-0.parquet``; return its record.

    Returns
    -------
    dict
        ``file`` (the summary entry of :func:`~mfg_finance.cotahist.parser.ingest`'s ``files``),
        ``rejects`` (lines), ``tickers`` (distinct, sorted), ``years`` (written, ascending),
        ``value_identity`` (:func:`value_identity`).

    Raises
    ------
    CotahistError
        As :func:`~mfg_finance.cotahist.parser.ingest` for this file; nothing is written then.
    """
    parsed = parse_file(path, strict=strict)
    summary, rejects = parsed.summary, reject_lines(parsed)
    quotes = _frame([parsed])
    del parsed                      # the kernel's integer rows: the frame holds its own copies
    years = write_file_dataset(quotes, dest)
    tickers = sorted(set(quotes["ticker"].cat.categories[quotes["ticker"].cat.codes.unique()].astype(str)))
    return {"file": summary, "rejects": rejects, "tickers": tickers, "years": years,
            "value_identity": value_identity(quotes)}
