"""Writing COTAHIST records from field values: the inverse of the parser, driven by the same layout.

Used by the synthetic sample generator and by the tests (round trips, corrupted variants). Values
are given in the file's own units: integers as stored (a price of R$ 28.65 is ``2865``), dates as
``YYYYMMDD`` integers, text as ``str``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from mfg_finance.cotahist.layout import (CONST, DATE_OR_NEVER, HEADER, INT, INT_OR_BLANK, LINE_BYTES,
                                         NEVER_EXPIRES, RECORD_BYTES, TEXT, TRAILER, Field, record_fields)

_BLANK = 0x20


def _encode_text(f: Field, values, n: int, out: np.ndarray) -> None:
    arr = np.broadcast_to(np.asarray(values, dtype=object), (n,))
    encoded = [str(v).encode("latin-1") for v in arr]
    too_long = [v for v in encoded if len(v) > f.width]
    if too_long:
        raise ValueError(f"{f.name}: {too_long[0]!r} is longer than {f.width} bytes")
    block = np.array(encoded, dtype=f"S{f.width}").view(np.uint8).reshape(n, f.width).copy()
    block[block == 0] = _BLANK  # numpy pads with NUL; COTAHIST pads with blanks
    out[:, f.offset:f.end] = block


def _encode_int(f: Field, values, n: int, out: np.ndarray) -> None:
    raw = np.broadcast_to(np.asarray(values), (n,))
    blank = np.zeros(n, dtype=bool)
    if f.kind == INT_OR_BLANK and raw.dtype == object:
        blank = np.array([v is None for v in raw], dtype=bool)
        raw = np.where(blank, 0, raw)
    ints = raw.astype(np.int64)
    outside = (ints < 0) | (ints >= 10 ** f.width)  # widths are <= 18: 10**18 fits in int64
    if outside.any():
        raise ValueError(f"{f.name}: {ints[outside][0]} does not fit in {f.width} digits")
    block = out[:, f.offset:f.end]
    rest = ints.copy()
    for k in range(f.width - 1, -1, -1):
        block[:, k] = 48 + rest % 10
        rest //= 10
    block[blank] = _BLANK


def encode_records(record: str, values: Mapping[str, object], n: int | None = None) -> np.ndarray:
    """Fixed-width records of one type from per-field values.

    Parameters
    ----------
    record : {"00", "01", "99"}
        Record type.
    values : mapping of B3 field name -> scalar or array of length n
        Numeric fields as stored integers (implied decimals included, dates as YYYYMMDD),
        ``INT_OR_BLANK`` fields may hold ``None`` (blank, object arrays), text as ``str``.
        Missing fields default to blanks (text, optional integers), 0 (integers) or 99991231
        (expiry); the record type is filled in.
    n : int, optional
        Number of records (default: length of the first array value, else 1).

    Returns
    -------
    ndarray of uint8, shape (n, 245)
    """
    fields = record_fields(record)
    unknown = set(values) - {f.name for f in fields}
    if unknown:
        raise KeyError(f"not fields of record {record}: {sorted(unknown)}")
    if n is None:
        n = next((len(v) for v in values.values() if np.ndim(v) == 1), 1)
    out = np.full((n, RECORD_BYTES), _BLANK, dtype=np.uint8)
    for f in fields:
        if f.kind == CONST:
            out[:, f.offset:f.end] = np.frombuffer(record.encode(), dtype=np.uint8)
        elif f.name in values:
            (_encode_text if f.kind == TEXT else _encode_int)(f, values[f.name], n, out)
        elif f.kind == DATE_OR_NEVER:
            _encode_int(f, NEVER_EXPIRES, n, out)
        elif f.kind == INT:
            _encode_int(f, 0, n, out)
        elif f.kind not in (TEXT, INT_OR_BLANK):
            raise KeyError(f"record {record}: field {f.name} ({f.kind}) has no default; give it")
    return out


def to_bytes(records: np.ndarray) -> bytes:
    """Records (n, 245) as file bytes, each followed by CRLF."""
    lines = np.empty((records.shape[0], LINE_BYTES), dtype=np.uint8)
    lines[:, :RECORD_BYTES] = records
    lines[:, RECORD_BYTES:] = (13, 10)
    return lines.tobytes()


def cotahist_bytes(details: np.ndarray, *, file_name: str = "COTAHIST.2023", origin: str = "BOVESPA",
                   generation_date: int = 20230102, trailer_count: int | None = None) -> bytes:
    """A whole COTAHIST file: header, the given detail records (n, 245) and trailer.

    ``trailer_count`` defaults to the right value (details + 2).
    """
    meta = {"NOMARQ": file_name, "CODORI": origin, "DATGER": generation_date}
    header = encode_records(HEADER, meta, 1)
    count = details.shape[0] + 2 if trailer_count is None else trailer_count
    trailer = encode_records(TRAILER, dict(meta, TOTREG=count), 1)
    return to_bytes(np.concatenate([header, details, trailer]))

