"""Parsing COTAHIST files into a typed DataFrame: :func:`read_cotahist` and :func:`ingest`.

One file is parsed in five vectorized steps: read the bytes (:mod:`.source`), find the records
(:mod:`.framing`), decode header and trailer (:mod:`.rejects`), validate and convert every quote
record in one compiled pass (:mod:`.detail_kernel`; :mod:`.kernel` names the first bad field of a
record it rejects), and factorize the text fields (:mod:`.textcodes`).
Each problem found is a :class:`~.rejects.Reject` (file, line, field, reason). With
``strict=True`` the first one in line order is raised as :class:`~mfg_finance.errors.CotahistError`;
with ``strict=False`` the offending lines are left out and reported, and the good lines are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from mfg_finance.cotahist import detail_kernel, kernel
from mfg_finance.cotahist.fields import POSITIVE_FIELDS
from mfg_finance.cotahist.framing import frame
from mfg_finance.cotahist.layout import (COLUMNS, DATE, DATE_OR_NEVER, DETAIL_FIELDS, HEADER_FIELDS,
                                         INT_OR_BLANK, RECORD_BYTES, TRAILER_FIELDS)
from mfg_finance.cotahist.rejects import Reject, header_and_trailer, kernel_rejects, length_rejects
from mfg_finance.cotahist.source import read_source
from mfg_finance.cotahist.textcodes import (TextTable, categorical_columns, factorize_records, merge_tables,
                                            text_columns)
from mfg_finance.cotahist.typed_rows import typed_rows
from mfg_finance.errors import CotahistError
from mfg_finance.job_threads import parallel_kernels

PathLike = str | os.PathLike

INT_DTYPES = {"codbdi": "int16", "market_type": "int16", "term_days": "int16", "n_trades": "int64",
              "quantity": "int64", "strike_correction": "int8", "quote_factor": "int32",
              "distribution": "int16"}
"""Dtypes of the integer columns (``term_days`` is nullable: pandas ``Int16``)."""

_SPEC = kernel.kernel_spec(DETAIL_FIELDS)
_TEXT_COLUMNS = text_columns(DETAIL_FIELDS)
_EXACT_INT = 2 ** 53  # integers below this convert to float64 exactly
#: Problems listed per file and kind in quarantine mode; the rest are counted, not listed.
MAX_REJECTS_LISTED = 1000
_HEADER_TRAILER_FIELDS = {f.name for f in HEADER_FIELDS + TRAILER_FIELDS} - {"TIPREG"}
_POSITIVE_ROWS = [(DETAIL_FIELDS.index(f), row) for row, f in enumerate(_SPEC.int_fields)
                  if f.name in POSITIVE_FIELDS]
# float rows whose field has room for integers of 2**53 or more (a field of w digits holds less than 10**w)
_WIDE_FLOAT_ROWS = [(k, f) for k, f in enumerate(_SPEC.float_fields) if 10 ** f.width > _EXACT_INT]
_DATE_ROW = next(i for i, f in enumerate(_SPEC.int_fields) if f.column == "date")


@dataclass
class ParsedFile:
    """The valid quote records of one file, still as arrays, with its summary and rejects."""

    summary: dict
    ints: np.ndarray     # int64 (len(_SPEC.int_fields), n_records), see kernel.parse_records
    floats: np.ndarray   # float64 (len(_SPEC.float_fields), n_records)
    text: TextTable
    rejects: list[Reject]


@dataclass
class IngestResult:
    """What :func:`ingest` returns.

    Attributes
    ----------
    quotes : pandas.DataFrame
        The records, columns as in :func:`read_cotahist`.
    summary : dict
        JSON-able: ``files`` (one entry per file: name, path, size_bytes, sha256, zip_member,
        header_file_name, header_generation_date, trailer_count, lines, records, rejected,
        date_min, date_max) and the
        totals ``records``, ``rejected``, ``date_min``, ``date_max`` (ISO dates or None) and
        ``n_tickers``.
    rejects : list of str
        ``"FILE:LINE: field X: reason"`` for every problem found (empty when ``strict=True``).
    """

    quotes: pd.DataFrame
    summary: dict
    rejects: list[str]


def _redo_large_values(buf: np.ndarray, starts: np.ndarray, floats: np.ndarray) -> None:
    """Make values of 2**53 and more (over R$ 90 trillion: never seen in B3 files) exact too.

    The kernel's int64 -> float64 conversion is exact below 2**53; above, Python's integer true
    division gives the float nearest to the exact decimal value.
    """
    for k, f in _WIDE_FLOAT_ROWS:
        row = floats[k]
        for i in np.flatnonzero(row >= _EXACT_INT / 10.0 ** f.decimals):
            raw = buf[starts[i] + f.offset:starts[i] + f.end].tobytes()
            row[i] = int(raw) / 10 ** f.decimals


def _flag_zero_positive_fields(ints: np.ndarray, err_field: np.ndarray) -> None:
    """Flag records whose quote factor (FATCOT) is 0, the rule the kernel does not apply.

    Only records that reached the field are looked at (valid, or flagged at a later field, which
    FATCOT then precedes); the others hold no value there.
    """
    for index, row in _POSITIVE_ROWS:
        zero = ((err_field < 0) | (err_field > index)) & (ints[row] == 0)
        if zero.any():
            err_field[zero] = index


def _date_range(dates_ns: np.ndarray) -> dict:
    """``date_min`` and ``date_max`` (ISO dates, None when there are no records)."""
    if not dates_ns.size:
        return {"date_min": None, "date_max": None}
    bounds = np.array([dates_ns.min(), dates_ns.max()]).view("M8[ns]").astype("M8[D]")
    return {"date_min": str(bounds[0]), "date_max": str(bounds[1])}


def parse_file(path: PathLike, *, strict: bool = True, checksum: bool = True) -> ParsedFile:
    """Parse one COTAHIST file (``.TXT`` or single-member ZIP).

    Raises
    ------
    CotahistError
        With ``strict=True``, at the first problem in line order; with ``strict=False`` only when
        the file cannot be read at all (unreadable or malformed ZIP, I/O error).
    """
    src = read_source(path, checksum=checksum)
    name, buf = str(path), src.data
    framing = frame(buf)
    # strict: the first problem of each kind is enough to find the first; quarantine: list the first
    # MAX_REJECTS_LISTED of each kind (all are counted), so a file of bad lines gives a bounded list
    limit = 1 if strict else MAX_REJECTS_LISTED
    rejects = length_rejects(framing, name, limit)
    header, trailer, keep = header_and_trailer(buf, framing, name, rejects)
    starts, line_numbers = framing.starts[keep], framing.line_numbers[keep]

    n = starts.size
    ints = np.empty((len(_SPEC.int_fields), n), dtype=np.int64)
    floats = np.empty((len(_SPEC.float_fields), n), dtype=np.float64)
    keys = np.empty(n, dtype=np.uint64)
    err_field = np.empty(n, dtype=np.int16)
    err_reason = np.empty(n, dtype=np.int8)
    if parallel_kernels(buf.size):
        detail_kernel.parse_detail_records(buf, starts, ints, floats, keys, err_field, err_reason)
    else:            # its one-block body: the same outputs, no parallel variant to compile
        detail_kernel.parse_block(buf, starts, 0, n, ints, floats, keys, err_field, err_reason)
    _flag_zero_positive_fields(ints, err_field)
    rejects.extend(kernel_rejects(buf, starts, line_numbers, err_field, name, limit))
    if strict and rejects:
        raise min(rejects).error()
    ok = err_field < 0
    n_field_rejected = int(n - ok.sum())
    if not ok.all():
        ints, floats, keys, starts = ints[:, ok], floats[:, ok], keys[ok], starts[ok]
    _redo_large_values(buf, starts, floats)
    text = factorize_records(buf, starts, keys, _TEXT_COLUMNS)
    summary = {
        "name": src.path.name,
        "path": str(src.path),
        "size_bytes": src.size_bytes,
        "sha256": src.sha256,
        "zip_member": src.member,
        "header_file_name": (header or {}).get("header_file_name"),
        "header_generation_date": (header or {}).get("header_generation_date"),
        "trailer_count": (trailer or {}).get("trailer_count"),
        "lines": framing.n_lines,
        "records": int(n if ok.all() else ok.sum()),
        "rejected": framing.n_bad + n_field_rejected + _header_trailer_dropped(rejects),
        **_date_range(ints[_DATE_ROW]),
    }
    summary["rejects_not_listed"] = summary["rejected"] - len({r.line for r in rejects if r.line_dropped})
    return ParsedFile(summary, ints, floats, text, sorted(rejects))


def _header_trailer_dropped(rejects: list[Reject]) -> int:
    """Header or trailer lines dropped for a bad field (the other lines are counted in bulk)."""
    return len({r.line for r in rejects if r.line_dropped and r.field in _HEADER_TRAILER_FIELDS})


_NARROW_DTYPES = (np.int8, np.int16, np.int32, np.int64)
# The integer rows that become typed columns (dates are used as they are): where each one goes in
# typed_rows' outputs, by dtype
_NARROWED = [(row, f) for row, f in enumerate(_SPEC.int_fields) if f.kind not in (DATE, DATE_OR_NEVER)]
_NARROW_WIDTHS = [_NARROW_DTYPES.index(np.dtype(INT_DTYPES[f.column])) for _, f in _NARROWED]
_NARROW_TARGETS = [_NARROW_WIDTHS[:k].count(w) for k, w in enumerate(_NARROW_WIDTHS)]
_NARROW_BLANKS = [[f.kind for _, f in _NARROWED][:k + 1].count(INT_OR_BLANK) - 1 if f.kind == INT_OR_BLANK else -1
                  for k, (_, f) in enumerate(_NARROWED)]


def _narrowed_columns(ints: np.ndarray) -> dict[str, object]:
    """The non-date integer columns of :func:`_columns`, converted in one parallel pass (large inputs)."""
    n = ints.shape[1]
    outs = [np.empty((_NARROW_WIDTHS.count(w), n), dtype=dtype) for w, dtype in enumerate(_NARROW_DTYPES)]
    blank = np.empty((max(_NARROW_BLANKS) + 1, n), dtype=bool)
    typed_rows(ints, np.array([row for row, _ in _NARROWED], dtype=np.int64), None,
               np.array(_NARROW_WIDTHS, dtype=np.int64), np.array(_NARROW_TARGETS, dtype=np.int64),
               np.array(_NARROW_BLANKS, dtype=np.int64), *outs, blank)
    out: dict[str, object] = {}
    for (_, f), width, target, blank_row in zip(_NARROWED, _NARROW_WIDTHS, _NARROW_TARGETS, _NARROW_BLANKS):
        values = outs[width][target]
        out[f.column] = values if blank_row < 0 else pd.arrays.IntegerArray(values, blank[blank_row])
    return out


def _columns(ints: np.ndarray, floats: np.ndarray) -> dict[str, object]:
    """Typed columns from the kernel's outputs (float rows are used as they are, without a copy)."""
    out: dict[str, object] = {f.column: row for row, f in zip(floats, _SPEC.float_fields)}
    if parallel_kernels(ints.shape[1] * RECORD_BYTES):
        out.update(_narrowed_columns(ints))
    for row, f in zip(ints, _SPEC.int_fields):
        if f.kind in (DATE, DATE_OR_NEVER):
            out[f.column] = row.view("M8[ns]")
        elif f.column in out:
            continue
        elif f.kind == INT_OR_BLANK:
            blank = row < 0
            out[f.column] = pd.arrays.IntegerArray(np.where(blank, 0, row).astype(INT_DTYPES[f.column]), blank)
        else:
            out[f.column] = row.astype(INT_DTYPES[f.column])
    return out


def _frame(parsed: list[ParsedFile]) -> pd.DataFrame:
    if len(parsed) == 1:
        columns = _columns(parsed[0].ints, parsed[0].floats)
    else:
        columns = _columns(np.concatenate([p.ints for p in parsed], axis=1),
                           np.concatenate([p.floats for p in parsed], axis=1))
    columns.update(categorical_columns(merge_tables([p.text for p in parsed]), DETAIL_FIELDS))
    return pd.DataFrame({c: columns[c] for c in COLUMNS}, copy=False)


def _as_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise CotahistError("no COTAHIST file given")
    return out


def ingest(paths: PathLike | Iterable[PathLike], *, strict: bool = True) -> IngestResult:
    """Parse COTAHIST files into one DataFrame, with a summary and the problems found.

    Parameters
    ----------
    paths : path or iterable of paths
        ``.TXT`` files or ZIP archives holding one file each (any member name); records are
        concatenated in the order given.
    strict : bool
        ``True``: raise at the first problem. ``False`` (quarantine): leave the bad lines out, list
        them in ``rejects`` and count them in ``summary``.

    Raises
    ------
    CotahistError
        Naming the file, line and field: with ``strict=True`` on any problem, with
        ``strict=False`` only when a file cannot be read at all.
    """
    parsed = [parse_file(p, strict=strict) for p in _as_paths(paths)]
    quotes = _frame(parsed)
    has_rows = len(quotes) > 0
    summary = {
        "files": [p.summary for p in parsed],
        "records": int(len(quotes)),
        "rejected": int(sum(p.summary["rejected"] for p in parsed)),
        "date_min": quotes["date"].min().date().isoformat() if has_rows else None,
        "date_max": quotes["date"].max().date().isoformat() if has_rows else None,
        "n_tickers": int(quotes["ticker"].nunique()),
    }
    rejects = []
    for p in parsed:
        rejects.extend(str(r) for r in p.rejects)
        if p.summary["rejects_not_listed"]:
            rejects.append(f"# {p.summary['path']}: {p.summary['rejects_not_listed']} more rejected lines "
                           f"not listed (at most {MAX_REJECTS_LISTED} per file and kind of problem)")
    return IngestResult(quotes, summary, rejects)


def read_cotahist(paths: PathLike | Iterable[PathLike], *, strict: bool = True) -> pd.DataFrame:
    """Read COTAHIST files (B3 historical quotes) into a typed DataFrame.

    Parameters
    ----------
    paths : path or iterable of paths
        ``.TXT`` files or single-member ZIP archives, concatenated in the order given.
    strict : bool
        Raise :class:`~mfg_finance.errors.CotahistError` on the first bad line (default), or leave
        bad lines out (:func:`ingest` also lists them).

    Returns
    -------
    pandas.DataFrame
        One row per quote record (type ``01``), in file order, columns: ``date`` (datetime64),
        ``codbdi``, ``ticker``, ``market_type``, ``short_name``, ``spec``, ``term_days`` (days,
        <NA> when blank), ``currency``, ``open``, ``high``, ``low``, ``avg``, ``close``,
        ``best_bid``, ``best_ask`` (BRL per ``quote_factor`` shares), ``n_trades``, ``quantity``
        (shares), ``volume`` (BRL), ``strike`` (BRL), ``strike_correction``, ``expiry``
        (datetime64, NaT when none), ``quote_factor`` (shares), ``strike_points`` (points),
        ``isin``, ``distribution``. Text columns are categoricals with sorted categories.
    """
    return _frame([parse_file(p, strict=strict, checksum=False) for p in _as_paths(paths)])
