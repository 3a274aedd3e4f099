"""Parquet files read a batch of whole tickers at a time, and written a piece at a time with the bytes
of a one-shot write: the stages after the selection hold a batch, not the history.

* :func:`iter_ticker_frames` yields the rows of consecutive tickers (sorted by ticker text) up to
  ``batch_rows`` rows at a time, every ticker whole. A file sorted by ticker (``equities.parquet`` is,
  by (ticker, date)) is read once, front to back; any other order falls back to one scan per batch with
  the ticker filter applied batch by batch (slower, same frames).
* :class:`FrameAppender` appends DataFrames to one Parquet file in row groups of a fixed size, so the
  file is byte for byte what :func:`mfg_finance.io.write_parquet` writes for their concatenation
  (provided every piece has the same dtypes, categoricals with the same categories).
"""

from __future__ import annotations

import os
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

#: Rows per row group of a one-shot ``pyarrow.parquet.write_table`` (its default), hence of the appender.
ONE_SHOT_ROW_GROUP_ROWS = 1024 * 1024
#: Rows decoded at a time while reading (bounds the scan's memory).
SCAN_ROWS = 65_536


def group_counts(counts: Sequence[int], batch_rows: int) -> list[tuple[int, int]]:
    """Consecutive items (with ``counts`` rows each) grouped up to ``batch_rows`` rows: ``[(first, end), ...]``.

    An item longer than ``batch_rows`` is a group alone; no group is empty.
    """
    groups, first, size = [], 0, 0
    for i, n in enumerate(counts):
        if i > first and size + n > batch_rows:
            groups.append((first, i))
            first, size = i, 0
        size += int(n)
    if len(counts):
        groups.append((first, len(counts)))
    return groups


def ticker_runs(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, bool]:
    """(ticker of each run of equal tickers, run lengths, whether the runs are sorted and distinct).

    Reads only the ``ticker`` column (its dictionary indices: 4 bytes a row while this runs).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    column = pq.read_table(path, columns=["ticker"]).column("ticker")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    column = column.unify_dictionaries()
    if column.num_chunks == 0 or len(column) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64), True
    values = np.asarray(column.chunk(0).dictionary.to_pylist(), dtype=object)
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks])
    del column
    starts = np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1]
    lengths = np.diff(np.r_[starts, codes.size])
    names = values[codes[starts]].astype(str)
    return names, lengths, bool(np.all(names[1:] > names[:-1]))


def _read_tickers(path, columns: Sequence[str], tickers: list[str]) -> pd.DataFrame:
    """The rows of ``tickers`` (file order), decoded :data:`SCAN_ROWS` rows at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = pa.array(tickers, type=pa.string())
    parquet = pq.ParquetFile(path)
    parts = []
    for batch in parquet.iter_batches(batch_size=SCAN_ROWS, columns=list(columns)):
        keep = pc.is_in(batch.column("ticker").cast(pa.string()), value_set=wanted)
        if pc.any(keep).as_py():
            parts.append(batch.filter(keep))
    if not parts:   # not reached for tickers of the file; the pushed-down read gives the empty frame
        return pd.read_parquet(path, columns=list(columns), filters=[("ticker", "in", tickers)])
    return pa.Table.from_batches(parts).to_pandas()


def _sequential(path, columns: Sequence[str], ends: list[int]) -> Iterator[pd.DataFrame]:
    """Rows ``[0, ends[0]), [ends[0], ends[1]), ...`` of the file, read once front to back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    pending, start, position, k = [], 0, 0, 0
    for batch in parquet.iter_batches(batch_size=SCAN_ROWS, columns=list(columns)):
        pending.append(batch)
        position += batch.num_rows
        while k < len(ends) and ends[k] <= position:
            table = pa.Table.from_batches(pending)
            cut = ends[k] - start
            piece, rest = table.slice(0, cut), table.slice(cut)
            pending, start, k = rest.to_batches(), ends[k], k + 1
            yield piece.to_pandas()
            del piece, table


def iter_ticker_frames(path: str | os.PathLike, columns: Sequence[str],
                       batch_rows: int) -> Iterator[pd.DataFrame]:
    """Frames of the file's rows, consecutive whole tickers (in text order) up to ``batch_rows`` rows each.

    Each frame holds its tickers' rows in file order, typed as :func:`pandas.read_parquet` types them
    (categoricals keep the file's whole dictionary as categories). ``columns`` must include ``ticker``.
    """
    names, lengths, in_order = ticker_runs(path)
    if in_order:
        groups = group_counts(lengths, batch_rows)
        ends = np.cumsum(lengths)
        yield from _sequential(path, columns, [int(ends[end - 1]) for _, end in groups])
        return
    counts = pd.Series(lengths, index=names).groupby(level=0, sort=True).sum()
    tickers = counts.index.to_numpy(dtype=str)
    for first, end in group_counts(counts.to_numpy(), batch_rows):
        yield _read_tickers(path, columns, tickers[first:end].tolist())


class FrameAppender:
    """Appends DataFrames to one Parquet file in row groups of ``row_group_rows`` rows, exactly as
    :func:`mfg_finance.io.write_parquet` (``row_group_rows`` = :data:`ONE_SHOT_ROW_GROUP_ROWS`) writes
    their concatenation. Holds at most one row group's rows; :meth:`close` writes the rest."""

    def __init__(self, path: str | os.PathLike, row_group_rows: int = ONE_SHOT_ROW_GROUP_ROWS):
        self.path, self.row_group_rows = path, row_group_rows
        self.writer, self.pending, self.n_pending = None, [], 0

    def add(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd", write_statistics=True)
        self.pending.append(table)
        self.n_pending += len(table)
        while self.n_pending >= self.row_group_rows:
            self._flush(self.row_group_rows)

    def _flush(self, n: int) -> None:
        import pyarrow as pa

        # One chunk per column, as a one-shot write's table has: the pages then split at the same rows.
        table = pa.concat_tables(self.pending).combine_chunks()
        self.writer.write_table(table.slice(0, n), row_group_size=self.row_group_rows)
        rest = table.slice(n)
        self.pending, self.n_pending = ([rest] if len(rest) else []), len(rest)

    def close(self) -> None:
        if self.n_pending:
            self._flush(self.n_pending)
        if self.writer is not None:
            self.writer.close()
