"""The compiled inner loop: validate and convert every byte of every detail record in one pass.

Records are read in place from the file's byte buffer (no per-record Python object is made). For
each record the kernel checks the record type, converts each numeric field to an integer (dates
to nanoseconds since 1970-01-01), checks every text byte is printable and hashes the text fields
into one 64-bit key (used to factorize them, see :mod:`.textcodes`). A record that breaks a rule
gets the index of the first offending field and a reason code; the caller turns those into
messages with :func:`.fields.decode_field`.

The per-field rules are those of :mod:`.fields`; ``tests/cotahist`` checks the two agree byte for
byte on random and corrupted records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from mfg_finance.cotahist.fields import MAX_YEAR, MIN_YEAR
from mfg_finance.cotahist.layout import (CONST, DATE, DATE_OR_NEVER, INT, INT_OR_BLANK, NEVER_EXPIRES,
                                         NUMERIC_KINDS, TEXT, Field)

# Kind codes passed to the kernel.
K_CONST, K_TEXT, K_INT, K_INT_OR_BLANK, K_DATE, K_DATE_OR_NEVER = range(6)
KIND_CODES = {CONST: K_CONST, TEXT: K_TEXT, INT: K_INT, INT_OR_BLANK: K_INT_OR_BLANK, DATE: K_DATE,
              DATE_OR_NEVER: K_DATE_OR_NEVER}

BLANK = np.int64(-1)
"""Kernel output of a blank ``INT_OR_BLANK`` field."""

NAT = np.iinfo(np.int64).min
"""Kernel output of a ``99991231`` ``DATE_OR_NEVER`` field (the bit pattern of ``NaT``)."""

_NS_PER_DAY = 86_400_000_000_000
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class KernelSpec:
    """The fields of one record type as the arrays the kernel takes (one entry per field).

    ``offsets``, ``widths`` (bytes) and ``kinds`` (kind codes) locate and type each field; numeric
    fields are written to row ``rows[j]`` of the float output divided by ``scales[j]`` (fields with
    implied decimals) or, when ``scales[j] == 0``, to row ``rows[j]`` of the integer output.
    """

    offsets: np.ndarray
    widths: np.ndarray
    kinds: np.ndarray
    rows: np.ndarray
    scales: np.ndarray
    int_fields: tuple[Field, ...]     # fields of the integer output rows, in row order
    float_fields: tuple[Field, ...]   # fields of the float output rows, in row order


def kernel_spec(fields: tuple[Field, ...]) -> KernelSpec:
    """Arrays describing ``fields`` for :func:`parse_records`."""
    numeric = [f for f in fields if f.kind in NUMERIC_KINDS]
    int_fields = tuple(f for f in numeric if not f.decimals)
    float_fields = tuple(f for f in numeric if f.decimals)
    rows = [int_fields.index(f) if f in int_fields else float_fields.index(f) if f in float_fields else -1
            for f in fields]
    return KernelSpec(offsets=np.array([f.offset for f in fields], dtype=np.int64),
                      widths=np.array([f.width for f in fields], dtype=np.int64),
                      kinds=np.array([KIND_CODES[f.kind] for f in fields], dtype=np.int64),
                      rows=np.array(rows, dtype=np.int64),
                      scales=np.array([10.0 ** f.decimals if f.decimals else 0.0 for f in fields]),
                      int_fields=int_fields, float_fields=float_fields)


@njit(cache=True, nogil=True)
def _days_in_month(year, month):
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


@njit(cache=True, nogil=True)
def _days_from_civil(y, m, d):
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, nogil=True)
def parse_records(buf, starts, offsets, widths, kinds, rows, scales, record_type, ints, floats, keys,
                  err_field, err_reason):
    """Parse the records starting at ``starts`` in ``buf``; fill the output arrays in place.

    This is the generic, field-table-driven kernel; :func:`.detail_kernel.parse_detail_records`
    is the fast one for quote records and falls back on :func:`parse_record` for any record its
    checks do not pass.

    Parameters
    ----------
    buf : uint8[:]
        The file's bytes.
    starts : int64[:]
        Offset in ``buf`` of the first byte of each record to parse (each has 245 bytes).
    offsets, widths, kinds, rows, scales : arrays
        The record's fields, covering all its bytes (see :class:`KernelSpec`).
    record_type : uint8[:]
        The two bytes the ``CONST`` field must hold (``b"01"``).
    ints : int64[:, :]
        Output, one row per integer field and one column per record: the integer, ``BLANK`` for a
        blank optional integer, nanoseconds since 1970-01-01 for a date, ``NAT`` for 99991231.
    floats : float64[:, :]
        Output, one row per field with implied decimals: integer / 10**decimals, rounded once
        (exact below 2**53; the caller redoes larger values).
    keys : uint64[:]
        Output, FNV-1a hash of the bytes of all text fields of each record.
    err_field, err_reason : int16[:], int8[:]
        Output: index (in ``offsets``) of the first field breaking a rule and a reason code
        (1 bad record type, 2 non-digit, 3 invalid date, 4 non-printable text byte); -1 and 0 if
        the record is valid.
    """
    for i in range(starts.shape[0]):
        bad_field, reason, key = parse_record(buf, starts[i], i, offsets, widths, kinds, rows, scales,
                                              record_type, ints, floats)
        keys[i] = key
        err_field[i] = bad_field
        err_reason[i] = reason


@njit(cache=True, nogil=True)
def parse_record(buf, base, i, offsets, widths, kinds, rows, scales, record_type, ints, floats):
    """Parse the record at ``buf[base:]`` into column ``i`` of ``ints``/``floats``.

    Returns ``(bad_field, reason, key)`` as :func:`parse_records` stores them. Fields before the
    first bad one are written (the caller's later checks read them), the others are not.
    """
    n_fields = offsets.shape[0]
    key = _FNV_OFFSET
    bad_field = -1
    reason = 0
    for j in range(n_fields):
        pos = base + offsets[j]
        width = widths[j]
        kind = kinds[j]
        if kind == K_CONST:
            for k in range(width):
                if buf[pos + k] != record_type[k]:
                    bad_field = j
                    reason = 1
            if bad_field >= 0:
                break
        elif kind == K_TEXT:
            for k in range(width):
                b = buf[pos + k]
                if b < 0x20 or (b > 0x7E and b < 0xA0):
                    bad_field = j
                    reason = 4
                    break
                key = (key ^ np.uint64(b)) * _FNV_PRIME
            if bad_field >= 0:
                break
        else:
            if kind == K_INT_OR_BLANK and buf[pos] == 0x20:  # blank
                for k in range(width):
                    if buf[pos + k] != 0x20:
                        bad_field = j
                        reason = 2
                        break
                if bad_field >= 0:
                    break
                ints[rows[j], i] = BLANK
                continue
            acc = 0
            for k in range(width):
                digit = np.int64(buf[pos + k]) - 48
                if digit < 0 or digit > 9:
                    bad_field = j
                    reason = 2
                    break
                acc = acc * 10 + digit
            if bad_field >= 0:
                break
            if scales[j] > 0:
                floats[rows[j], i] = acc / scales[j]
                continue
            if kind == K_DATE or kind == K_DATE_OR_NEVER:
                if kind == K_DATE_OR_NEVER and acc == NEVER_EXPIRES:
                    ints[rows[j], i] = NAT
                    continue
                year = acc // 10000
                month = acc // 100 % 100
                day = acc % 100
                if (year < MIN_YEAR or year > MAX_YEAR or month < 1 or month > 12 or day < 1
                        or day > _days_in_month(year, month)):
                    bad_field = j
                    reason = 3
                    break
                acc = _days_from_civil(year, month, day) * _NS_PER_DAY
            ints[rows[j], i] = acc
    return bad_field, reason, key


@njit(cache=True, nogil=True)
def first_text_mismatch(buf, starts, columns, rows, codes):
    """Index of the first record whose text bytes differ from its claimed text, or -1.

    Verifies a hash factorization: record ``i`` (at ``starts[i]``) claims to hold, at the byte
    offsets ``columns``, the bytes ``rows[codes[i]]`` (a small table that stays in cache).
    """
    width = columns.shape[0]
    for i in range(starts.shape[0]):
        base = starts[i]
        row = rows[codes[i]]
        for k in range(width):
            if buf[base + columns[k]] != row[k]:
                return i
    return -1


@njit(cache=True, nogil=True)
def gather_bytes(buf, starts, columns):
    """``buf[starts[:, None] + columns[None, :]]`` without the int64 index array NumPy would build.

    That index array is 8 bytes per gathered byte: for the text of a year's distinct instruments it
    was the largest temporary of a parse, and set the file's peak memory.
    """
    out = np.empty((starts.shape[0], columns.shape[0]), dtype=np.uint8)
    for i in range(starts.shape[0]):
        base = starts[i]
        for k in range(columns.shape[0]):
            out[i, k] = buf[base + columns[k]]
    return out
