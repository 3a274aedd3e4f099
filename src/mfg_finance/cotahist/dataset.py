"""The quotes as a year-partitioned Parquet dataset: one ingestion job per input file.

Forty years of B3's annual files are about 28 GB of text: they cannot be held in one DataFrame.
Each input file is parsed on its own (:func:`ingest_file`) into its own folder, one Parquet
fragment per calendar year of its sessions::

    results/data/quotes/<file key>/year=2021/part-0.parquet
    results/data/quotes/<file key>/year=2022/part-0.parquet

Rows keep the file's own order. Readers (:func:`read_year`) take the folders in the order the
files were given and read one year at a time with column selection and row filters pushed down to
the Parquet scan (pyarrow.dataset), so their memory is bounded by one year of the rows they keep,
not by the whole history.

Overlapping files (an annual, a monthly and daily files covering the same sessions) are resolved as
before, by :func:`~mfg_finance.cotahist.select.select_equities`: the last record of a (date,
ticker, market_type, term_days) key, in input-file order, wins. A key holds its date, so every
duplicate lives in one year, and a year's fragments concatenated in input-file order are exactly the
rows of that year in the order the single-DataFrame ingestion had them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from mfg_finance.cotahist.layout import DETAIL_FIELDS, TEXT
from mfg_finance.errors import CotahistError

FRAGMENT = "part-0.parquet"
"""File name of each (input file, year) fragment."""

ROW_GROUP_ROWS = 262_144
"""Rows per Parquet row group: the unit a filtered scan decodes at a time (~50 MB of columns)."""

TEXT_COLUMNS = tuple(f.column for f in DETAIL_FIELDS if f.kind == TEXT and f.column)
"""Categorical columns: dictionary-encoded on disk, categories sorted again on reading."""

def _fragment_table(quotes: pd.DataFrame):
    """Arrow table of one fragment: text columns as dictionary<int32, string> (one schema for all)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(quotes, preserve_index=False)
    fields = [pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in TEXT_COLUMNS else f
              for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _write_fragment(frame: pd.DataFrame, path: Path) -> None:
    """One Parquet file, converted and written a row group at a time (one group's copy in memory)."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for start in range(0, max(len(frame), 1), ROW_GROUP_ROWS):
            table = _fragment_table(frame.iloc[start:start + ROW_GROUP_ROWS])
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd", write_statistics=True)
            writer.write_table(table.cast(writer.schema), row_group_size=ROW_GROUP_ROWS)
    finally:
        if writer is not None:
            writer.close()


def write_file_dataset(quotes: pd.DataFrame, dest: str | os.PathLike) -> list[int]:
    """Write one file's records as ``dest/year=YYYY/part-0.parquet`` fragments, atomically.

    Rows keep their order. The folder appears complete or not at all (built beside ``dest`` and
    renamed into place). Returns the years written, ascending (none for a file without records).
    """
    from mfg_finance.io import atomic_directory

    years = quotes["date"].dt.year.to_numpy()
    written = sorted(int(y) for y in np.unique(years))
    with atomic_directory(dest) as tmp:
        for year in written:
            part = quotes if len(written) == 1 else quotes.loc[years == year]
            if len(written) > 1:
                part = part.assign(**{c: part[c].cat.remove_unused_categories() for c in TEXT_COLUMNS})
            folder = tmp / f"year={year}"
            folder.mkdir()
            _write_fragment(part, folder / FRAGMENT)
    return written


def dataset_years(folders: Iterable[str | os.PathLike]) -> list[int]:
    """Years present in any of the per-file folders, ascending."""
    years = set()
    for folder in folders:
        for sub in Path(folder).glob("year=*"):
            if (sub / FRAGMENT).is_file():
                years.add(int(sub.name.split("=", 1)[1]))
    return sorted(years)


def year_fragments(folders: Sequence[str | os.PathLike], year: int) -> list[Path]:
    """The fragments of ``year``, in the order of ``folders`` (the input-file order)."""
    return [p for p in (Path(f) / f"year={year}" / FRAGMENT for f in folders) if p.is_file()]


def _sorted_categorical(column) -> pd.Categorical:
    """A dictionary column as a categorical with sorted categories, as the parser makes them."""
    import pyarrow as pa

    chunks = [c for c in column.chunks if len(c)] or column.chunks[:1]
    if not chunks:
        return pd.Categorical.from_codes(np.empty(0, np.int32), categories=pd.Index([], dtype="str"))
    unified = pa.chunked_array(chunks, type=column.type).unify_dictionaries()
    dictionary = np.asarray(unified.chunk(0).dictionary.to_pylist(), dtype=object) \
        if unified.num_chunks else np.empty(0, dtype=object)
    indices = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in unified.chunks]) \
        if unified.num_chunks else np.empty(0, np.int64)
    used = np.unique(indices)
    order = used[np.argsort(dictionary[used].astype(str), kind="stable")]
    rank = np.full(dictionary.size, -1, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    return pd.Categorical.from_codes(rank[indices], categories=pd.Index(dictionary[order].tolist(), dtype="str"))


def read_year(folders: Sequence[str | os.PathLike], year: int, *, columns: Sequence[str] | None = None,
              filter=None) -> pd.DataFrame:
    """The rows of ``year`` from the per-file folders, in input-file order, as the parser types them.

    Parameters
    ----------
    folders : list of paths
        The per-file folders, in the order the files were given.
    year : int
        Calendar year of the sessions.
    columns : list of str or None
        Columns to read (None: all); only these are decoded.
    filter : pyarrow.compute.Expression or None
        Row filter evaluated during the scan (e.g. ``pc.field("market_type").isin([10])``):
        row groups whose statistics exclude it are skipped, the others are filtered batch by batch.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`~mfg_finance.cotahist.read_cotahist` returns them (text columns are
        categoricals with sorted categories, only the values present), fresh index.
    """
    import pyarrow.dataset as ds

    fragments = year_fragments(folders, year)
    if not fragments:
        raise CotahistError(f"no fragment of year {year} in {[str(f) for f in folders]}")
    dataset = ds.dataset([str(p) for p in fragments], format="parquet")
    table = dataset.to_table(columns=list(columns) if columns is not None else None, filter=filter,
                             batch_readahead=1, fragment_readahead=1)
    text = [c for c in table.column_names if c in TEXT_COLUMNS]
    frame = table.drop_columns(text).to_pandas()
    for name in text:
        frame[name] = _sorted_categorical(table.column(name))
    order = [c for c in table.column_names]
    return frame.loc[:, order]
