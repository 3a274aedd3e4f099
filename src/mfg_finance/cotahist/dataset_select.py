"""Equities and the universe table from the year-partitioned dataset, one year at a time.

Same answer as :func:`~mfg_finance.cotahist.select_equities` and
:func:`~mfg_finance.cotahist.universe_table` on all files read into one DataFrame, with memory
bounded by one year of the selected markets' rows: each year is read with the market-type (and BDI
code) filter pushed into the Parquet scan, selected and de-duplicated (:func:`.select.selected_rows`:
duplicates share their date, hence their year), and summarised per ticker (:func:`.universe.ticker_rows`);
the years are then put together and sorted as the one-frame selection sorts.

:func:`select_to_parquet` (the pipeline's rule) does not hold the years' equities together either: each
year's selected rows, sorted by (ticker, date), go to a temporary Parquet file beside the output; the
output is then written a batch of whole tickers at a time, each batch gathered from the years' files
(read front to back, once), so the memory is one year of the selected markets or one batch of tickers,
whichever is larger. A year's rows sorted and the years concatenated in time order are the whole
frame's stable sort, so the file holds the rows of ``write_parquet(select_from_dataset(...)[0])`` in the
same order, in row groups of :data:`EQUITIES_ROW_GROUP_ROWS` rows (byte for byte that file below that size).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from mfg_finance.cotahist.classes import classify_instruments
from mfg_finance.cotahist.dataset import TEXT_COLUMNS, dataset_years, read_year
from mfg_finance.cotahist.select import (finish_selection, nothing_selected_message, per_share, selected_rows,
                                         sort_selected)
from mfg_finance.cotahist.universe import combine_ticker_rows, ticker_rows, universe_from_rows
from mfg_finance.errors import DataError

#: Rows of equities written per batch (whole tickers; a longer ticker is a batch alone).
DEFAULT_BATCH_ROWS = 100_000
#: Rows per row group of ``equities.parquet``: the writer holds at most this many rows (a one-shot
#: write's 1,048,576 would hold every row of up to 4 years of B3 shares). A file of fewer rows (the
#: sample, a year or two of B3) is byte for byte the one-shot write's.
EQUITIES_ROW_GROUP_ROWS = 65_536
#: Rows per row group of the per-year temporary files (the unit read back at a time).
SPILL_ROWS = 16_384


def _row_filter(market_types: Sequence[int]):
    """Rows of the selected markets (BDI codes are filtered later: the universe lists every code)."""
    import pyarrow.compute as pc

    return pc.field("market_type").isin(sorted({int(m) for m in market_types}))


def _concat_years(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Years of selected rows as one frame; each text column's categories the sorted union."""
    if len(parts) == 1:
        return parts[0]
    columns = {}
    for name in parts[0].columns:
        if name in TEXT_COLUMNS:
            pieces = [p[name].cat.remove_unused_categories() for p in parts]
            columns[name] = union_categoricals(pieces, sort_categories=True)
        elif name == "instrument_class":
            columns[name] = union_categoricals([p[name] for p in parts])
        else:
            columns[name] = pd.concat([p[name] for p in parts], ignore_index=True)
    return pd.DataFrame(columns)


def _presence(folders: Sequence[str], years: list[int], market_types: Sequence[int]) -> dict:
    """What the no-record message lists, gathered year by year (only when nothing was selected)."""
    n_records, codbdi, markets, counts = 0, set(), set(), pd.Series(dtype="int64")
    for year in years:
        q = read_year(folders, year, columns=["codbdi", "market_type", "spec", "isin", "short_name"])
        n_records += len(q)
        codbdi.update(q["codbdi"].unique().tolist())
        markets.update(q["market_type"].unique().tolist())
        in_market = q["market_type"].isin(sorted({int(m) for m in market_types})).to_numpy()
        counts = counts.add(pd.Series(classify_instruments(q)[in_market]).value_counts(), fill_value=0)
    counts = counts[counts > 0].astype("int64").sort_values(ascending=False, kind="stable")
    return {"n_records": n_records, "codbdi_present": list(codbdi), "market_types_present": list(markets),
            "classes_present": dict(counts)}


def select_from_dataset(folders: Sequence[str], *, classes: Iterable[str] | None = None,
                        codbdi: Iterable[int] | None = None,
                        market_types: Iterable[int] = (10,)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(equities, universe) from the per-file dataset folders, given in input-file order.

    Parameters as :func:`~mfg_finance.cotahist.select_equities`; the result is identical to
    ``select_equities(q, ...)`` and ``universe_table(q, ...)`` with ``q`` every file read into one
    DataFrame in the same order.

    Raises
    ------
    DataError
        If a class is unknown, or if no record passes the filters (naming them and what is present).
    """
    market_types = list(market_types)
    codbdi = None if codbdi is None else list(codbdi)
    classes = None if classes is None else list(classes)
    folders = [str(f) for f in folders]
    years = dataset_years(folders)
    selected, per_ticker = [], []
    for year in years:
        quotes = read_year(folders, year, filter=_row_filter(market_types))
        if len(quotes) == 0:
            continue
        rows = selected_rows(quotes, classes=classes, codbdi=codbdi, market_types=market_types)
        if len(rows):
            selected.append(rows)
        per_ticker.append(ticker_rows(quotes, market_types=market_types))
    if not selected:
        raise DataError(nothing_selected_message(classes=classes, codbdi=codbdi, market_types=market_types,
                                                 **_presence(folders, years, market_types)))
    equities = finish_selection(_concat_years(selected))
    universe = universe_from_rows(combine_ticker_rows(per_ticker), classes=classes, codbdi=codbdi)
    return equities, universe


class _YearRows:
    """One year's selected rows, sorted by (ticker, date), in a temporary Parquet file, read back in
    consecutive pieces: only the row groups (:data:`SPILL_ROWS` rows) a piece covers are decoded, and
    nothing is held between pieces, so the years' files cost no memory while the batches are written."""

    def __init__(self, rows: pd.DataFrame, path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = sort_selected(rows)
        counts = rows["ticker"].astype(str).value_counts(sort=False)
        self.counts = dict(zip(counts.index.tolist(), counts.to_numpy().tolist()))
        self.categories = {c: rows[c].cat.remove_unused_categories().cat.categories
                           for c in TEXT_COLUMNS if c in rows.columns}
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path, row_group_size=SPILL_ROWS,
                       compression="lz4")
        self.path, self.position = path, 0

    def take(self, n: int):
        """The next ``n`` rows (an Arrow table)."""
        import pyarrow.parquet as pq

        first, last = self.position // SPILL_ROWS, (self.position + n - 1) // SPILL_ROWS
        table = pq.ParquetFile(self.path).read_row_groups(list(range(first, last + 1)))
        piece = table.slice(self.position - first * SPILL_ROWS, n)
        self.position += n
        return piece


def _with_categories(frame: pd.DataFrame, categories: dict[str, pd.Index]) -> pd.DataFrame:
    """Text columns as categoricals with the given (sorted, global) categories (recoded by value)."""
    for column, values in categories.items():
        frame[column] = frame[column].cat.set_categories(values)
    return frame


def select_to_parquet(folders: Sequence[str], equities_path: str | os.PathLike, *,
                      classes: Iterable[str] | None = None, codbdi: Iterable[int] | None = None,
                      market_types: Iterable[int] = (10,),
                      batch_rows: int = DEFAULT_BATCH_ROWS) -> tuple[pd.DataFrame, dict]:
    """Write the equities of the dataset to ``equities_path``; return (universe, counts).

    Same rows as ``write_parquet(equities_path, select_from_dataset(folders, ...)[0])`` (the same bytes
    up to :data:`EQUITIES_ROW_GROUP_ROWS` rows; row groups of that many rows above), and the same
    universe table, with memory bounded by one year of the selected markets' rows or
    ``batch_rows`` rows of equities (see the module docstring). ``counts``: ``rows`` and ``tickers``
    written. The file appears whole or not at all (:func:`mfg_finance.io.atomic_path`).

    Raises
    ------
    DataError
        As :func:`select_from_dataset`; nothing is written then.
    """
    from mfg_finance.io import atomic_path
    from mfg_finance.parquet_stream import FrameAppender, group_counts

    market_types = list(market_types)
    codbdi = None if codbdi is None else list(codbdi)
    classes = None if classes is None else list(classes)
    folders = [str(f) for f in folders]
    years = dataset_years(folders)
    destination = Path(equities_path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Beside the output (a cluster node's /tmp may be small), removed whatever happens.
    with tempfile.TemporaryDirectory(prefix=f".{destination.name}.years-", dir=destination.parent) as spill:
        parts, per_ticker = [], []
        for year in years:
            quotes = read_year(folders, year, filter=_row_filter(market_types))
            if len(quotes) == 0:
                continue
            per_ticker.append(ticker_rows(quotes, market_types=market_types))
            rows = selected_rows(quotes, classes=classes, codbdi=codbdi, market_types=market_types)
            del quotes
            if len(rows):
                parts.append(_YearRows(rows, Path(spill) / f"{year}.parquet"))
            del rows
        if not parts:
            raise DataError(nothing_selected_message(classes=classes, codbdi=codbdi, market_types=market_types,
                                                     **_presence(folders, years, market_types)))
        universe = universe_from_rows(combine_ticker_rows(per_ticker), classes=classes, codbdi=codbdi)
        categories = {column: pd.Index(sorted(set().union(*(p.categories[column].tolist() for p in parts))),
                                       dtype="str")
                      for column in parts[0].categories}
        tickers = sorted(set().union(*(p.counts for p in parts)))
        totals = [sum(p.counts.get(t, 0) for p in parts) for t in tickers]
        with atomic_path(destination) as tmp:
            writer = FrameAppender(tmp, EQUITIES_ROW_GROUP_ROWS)
            try:
                for first, end in group_counts(totals, batch_rows):
                    batch = tickers[first:end]
                    pieces = []
                    for part in parts:
                        n = sum(part.counts.get(t, 0) for t in batch)
                        if n:
                            pieces.append(_with_categories(part.take(n).to_pandas(), categories))
                    frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
                    del pieces
                    writer.add(per_share(sort_selected(frame)))
                    del frame
            finally:
                writer.close()
    return universe, {"rows": int(np.sum(totals)), "tickers": len(tickers)}
