"""Text fields to categoricals, without decoding a Python string per record.

A year of COTAHIST has millions of records but only tens of thousands of distinct (ticker, name,
spec, currency, ISIN) combinations. The kernel hashes each record's text bytes into a 64-bit key;
the keys are factorized (a hash table, O(n)), every record is checked byte for byte against the
first record with its key (so a hash collision can never merge two different texts: if one is
found, the exact but slower sort-based factorization is used), and only the distinct combinations
are decoded.

Large inputs (:func:`~mfg_finance.job_threads.parallel_kernels`) take compiled passes over numba's
threads: the keys are factorized in chunks (:mod:`.hashcodes`), renumbered during the byte check
(:func:`.detail_kernel.renumber_and_check`), and each field's category codes are taken in one pass
(:func:`.typed_rows.typed_rows`). Small ones use pandas and NumPy (nothing to compile); both give the
same codes (``tests/cotahist/test_parallel_columns.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from mfg_finance.cotahist import detail_kernel
from mfg_finance.cotahist.hashcodes import factorize_chunks
from mfg_finance.cotahist.kernel import first_text_mismatch, gather_bytes
from mfg_finance.cotahist.layout import DETAIL_FIELDS, RECORD_BYTES, TEXT, Field
from mfg_finance.cotahist.typed_rows import no_blanks, typed_rows
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


def factorize_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize``'s codes (int64) of ``keys`` and the index of each code's first key."""
    codes, uniques = pd.factorize(keys)
    codes = codes.astype(np.int64, copy=False)
    return codes, _first_index(codes, uniques.size)


def factorize_records(buf: np.ndarray, starts: np.ndarray, keys: np.ndarray, columns: np.ndarray) -> TextTable:
    """Distinct text combinations of the records at ``starts``, from their kernel hash ``keys``.

    ``columns`` are the byte offsets of the text fields within a record (:func:`text_columns`).
    """
    if np.array_equal(columns, _DETAIL_TEXT_COLUMNS) and parallel_kernels(buf.size):
        part = factorize_chunks(keys, numba.get_num_threads())        # the codes are those of pd.factorize
        codes, first = part.codes, part.first
        rows = gather_bytes(buf, starts[first], columns)
        mismatch = detail_kernel.renumber_and_check(buf, starts, codes, part.bounds, part.global_of, starts[first])
    else:
        codes, first = factorize_keys(keys)
        rows = gather_bytes(buf, starts[first], columns)
        mismatch = first_text_mismatch(buf, starts, columns, rows, codes)
    if mismatch >= 0:
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


def _sorted_unique_rows(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, return_inverse=True)`` of byte rows (uniques in byte order, inverse as int32).

    Rows are compared as big-endian 64-bit words (the order of their bytes), a few integer sorts rather
    than NumPy's comparison of byte strings (about twice as fast on a year's text).
    """
    m, width = block.shape
    padded = np.zeros((m, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = block
    words = padded.view(">u8").astype(np.uint64)
    order = np.lexsort(words.T[::-1])               # the first word is the primary key
    ordered = words[order]
    new = np.ones(m, dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(m, dtype=np.int32)
    inverse[order] = np.cumsum(new, dtype=np.int32) - 1
    return block[order[new]], inverse


_CODE_DTYPES = (np.int8, np.int16, np.int32)


def _code_width(n_categories: int) -> int:
    """Index in :data:`_CODE_DTYPES` of the codes' dtype pandas uses for ``n_categories`` categories."""
    for width, dtype in enumerate(_CODE_DTYPES):
        if n_categories < np.iinfo(dtype).max:
            return width
    raise ValueError(f"{n_categories} categories: more than int32 codes can number")


def categorical_columns(table: TextTable, fields: tuple[Field, ...]) -> dict[str, pd.Categorical]:
    """One categorical per text field with a column: right-stripped Latin-1 text, sorted categories.

    Each field's categories and the map from distinct text combinations to them come from the table's few
    rows; the per-record codes are then taken through those maps, for large tables all fields in one
    parallel pass (:func:`.typed_rows.typed_rows`), directly at the width pandas stores them.
    """
    names, categories, maps = [], [], []
    start = 0
    for f in fields:
        if f.kind != TEXT:
            continue
        block = np.ascontiguousarray(table.rows[:, start:start + f.width])
        start += f.width
        if f.column is None:
            continue
        # Fixed-width byte strings: distinct bytes give distinct right-stripped texts.
        uniques, inverse = _sorted_unique_rows(block)
        names.append(f.column)
        categories.append(pd.Index([u.decode("latin-1").rstrip(" ") for u in uniques.view(f"S{f.width}").reshape(-1)],
                                   dtype="str"))
        maps.append(inverse)
    codes = _take_codes(table.codes, maps, [_code_width(len(c)) for c in categories])
    # codes index ``uniques`` (np.unique's inverse): in range by construction, no need to re-check
    return {name: pd.Categorical.from_codes(c, categories=cats, validate=False)
            for name, c, cats in zip(names, codes, categories)}


def _take_codes(record_codes: np.ndarray, maps: list[np.ndarray], widths: list[int]) -> list[np.ndarray]:
    """``maps[f][record_codes]`` as ``_CODE_DTYPES[widths[f]]`` for each field ``f``."""
    n = record_codes.size
    if not parallel_kernels(n * RECORD_BYTES):   # small (in file bytes): NumPy, nothing to compile
        return [m.astype(_CODE_DTYPES[w])[record_codes] for m, w in zip(maps, widths)]
    rows = [sum(1 for v in widths[:f] if v == w) for f, w in enumerate(widths)]
    outs = [np.empty((widths.count(w), n), dtype=dtype) for w, dtype in enumerate(_CODE_DTYPES)]
    table = np.stack(maps) if maps else np.empty((0, 0), dtype=np.int32)
    fields = np.arange(len(maps), dtype=np.int64)
    typed_rows(table, fields, record_codes, np.array(widths, dtype=np.int64), np.array(rows, dtype=np.int64),
               np.full(len(maps), -1, dtype=np.int64), *outs, *no_blanks(n))
    return [outs[w][r] for w, r in zip(widths, rows)]
