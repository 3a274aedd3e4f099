"""Text fields to categoricals, without decoding a Python string per record.

A year of COTAHIST has millions of records but only tens of thousands of distinct (ticker, name,
spec, currency, ISIN) combinations. The kernel hashes each record's text bytes into a 64-bit key;
the keys are factorized (a hash table, O(n)), every record is checked byte for byte against the
first record with its key (so a hash collision can never merge two different texts: if one is
found, the exact but slower sort-based factorization is used), and only the distinct combinations
are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mfg_finance.cotahist import detail_kernel
from mfg_finance.cotahist.kernel import first_text_mismatch, gather_bytes
from mfg_finance.cotahist.layout import DETAIL_FIELDS, TEXT, Field
from mfg_finance.job_threads import parallel_kernels


@dataclass(frozen=True)
class TextTable:
    """Distinct text combinations of a set of records.

    Attributes
    ----------
    codes : ndarray of int64
        For each record, the row of ``rows`` holding its text.
    rows : ndarray of uint8, shape (n_distinct, text_bytes)
        The text fields' bytes of each distinct combination, fields concatenated in layout order.
    keys : ndarray of uint64
        Hash key of each row of ``rows``.
    """

    codes: np.ndarray
    rows: np.ndarray
    keys: np.ndarray


def text_columns(fields: tuple[Field, ...]) -> np.ndarray:
    """Byte offsets (within a record) of all text fields, concatenated in layout order."""
    return np.concatenate([np.arange(f.offset, f.offset + f.width) for f in fields if f.kind == TEXT])


_DETAIL_TEXT_COLUMNS = text_columns(DETAIL_FIELDS)


def _first_index(codes: np.ndarray, n_unique: int) -> np.ndarray:
    """Index of the first element carrying each code."""
    first = np.empty(n_unique, dtype=np.int64)
    order = np.arange(codes.size - 1, -1, -1, dtype=np.int64)
    first[codes[order]] = order  # later writes (earlier indices) win
    return first


def _exact_factorize(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort-based factorization of byte rows: (codes, index of one representative per code)."""
    _, first, codes = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), first.astype(np.int64)


def _first_mismatch(buf, starts, columns, rows, codes, first_starts) -> int:
    """First record whose text differs from its code's row: word-wise for quote records' text columns."""
    if np.array_equal(columns, _DETAIL_TEXT_COLUMNS) and parallel_kernels(buf.size):   # else the serial byte loop
        return detail_kernel.first_text_mismatch(buf, starts, first_starts, codes)
    return first_text_mismatch(buf, starts, columns, rows, codes)


def factorize_records(buf: np.ndarray, starts: np.ndarray, keys: np.ndarray, columns: np.ndarray) -> TextTable:
    """Distinct text combinations of the records at ``starts``, from their kernel hash ``keys``.

    ``columns`` are the byte offsets of the text fields within a record (:func:`text_columns`).
    """
    codes, uniques = pd.factorize(keys)
    codes = codes.astype(np.int64, copy=False)
    first = _first_index(codes, uniques.size)
    rows = gather_bytes(buf, starts[first], columns)
    if _first_mismatch(buf, starts, columns, rows, codes, starts[first]) >= 0:
        # A 64-bit hash collision (about 1e-10 per file): fall back to exact byte comparison.
        codes, first = _exact_factorize(gather_bytes(buf, starts, columns))
        rows = gather_bytes(buf, starts[first], columns)
    return TextTable(codes, rows, keys[first])


def merge_tables(tables: list[TextTable]) -> TextTable:
    """Concatenate the records of several tables into one, with one row per distinct text."""
    if len(tables) == 1:
        return tables[0]
    all_rows = np.concatenate([t.rows for t in tables])
    all_keys = np.concatenate([t.keys for t in tables])
    codes, uniques = pd.factorize(all_keys)
    codes = codes.astype(np.int64, copy=False)
    first = _first_index(codes, uniques.size)
    if (all_rows != all_rows[first[codes]]).any():  # a collision between files: compare bytes
        codes, first = _exact_factorize(all_rows)
    offsets = np.cumsum([0] + [t.rows.shape[0] for t in tables[:-1]])
    record_codes = np.concatenate([codes[off + t.codes] for off, t in zip(offsets, tables)])
    return TextTable(record_codes, all_rows[first], all_keys[first])


def categorical_columns(table: TextTable, fields: tuple[Field, ...]) -> dict[str, pd.Categorical]:
    """One categorical per text field with a column: right-stripped Latin-1 text, sorted categories."""
    out: dict[str, pd.Categorical] = {}
    start = 0
    for f in fields:
        if f.kind != TEXT:
            continue
        block = np.ascontiguousarray(table.rows[:, start:start + f.width])
        start += f.width
        if f.column is None:
            continue
        # Fixed-width byte strings: distinct bytes give distinct right-stripped texts.
        values = block.view(f"S{f.width}").reshape(-1)
        uniques, inverse = np.unique(values, return_inverse=True)
        categories = pd.Index([u.decode("latin-1").rstrip(" ") for u in uniques], dtype="str")
        codes = inverse.reshape(-1).astype(np.int32)[table.codes]
        # codes index ``uniques`` (np.unique's inverse): in range by construction, no need to re-check
        out[f.column] = pd.Categorical.from_codes(codes, categories=categories, validate=False)
    return out
