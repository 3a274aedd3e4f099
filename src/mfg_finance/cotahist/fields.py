"""Scalar decoding of one field: the rules every byte must obey, stated once in plain Python.

The vectorized kernel (:mod:`.kernel`) applies the same rules to millions of records; this module
decodes the header and trailer, and explains *why* a record was rejected when the kernel flags it.
"""

from __future__ import annotations

import datetime as dt

from mfg_finance.cotahist.layout import (CONST, DATE, DATE_OR_NEVER, INT, INT_OR_BLANK, NEVER_EXPIRES,
                                         TEXT, Field)

MIN_YEAR, MAX_YEAR = 1678, 2261
"""Dates outside these years cannot be held as ``datetime64[ns]`` and are rejected."""


#: Integer fields that must be >= 1: prices are quoted per FATCOT shares, so a factor of 0 would
#: make every price of the record infinite.
POSITIVE_FIELDS = frozenset({"FATCOT"})


class FieldValueError(ValueError):
    """A field's bytes break its kind's rules; the message says how."""


def is_text_byte(b: int) -> bool:
    """Printable ASCII or printable Latin-1 (B3 files before ~2000 carry accented names)."""
    return 0x20 <= b <= 0x7E or b >= 0xA0


def _describe(raw: bytes) -> str:
    return repr(raw.decode("latin-1"))


def check_date(value: int) -> dt.date:
    """The calendar date of a YYYYMMDD integer, or :class:`FieldValueError`."""
    year, month, day = value // 10000, value // 100 % 100, value % 100
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise FieldValueError(f"invalid date {value:08d}: year outside {MIN_YEAR}..{MAX_YEAR}")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise FieldValueError(f"invalid date {value:08d}: {exc}") from None


def decode_field(field: Field, raw: bytes, *, record_type: str | None = None):
    """Decode one field's bytes according to its kind.

    Parameters
    ----------
    field : Field
        The layout entry.
    raw : bytes
        Exactly ``field.width`` bytes.
    record_type : str, optional
        Expected value of a ``CONST`` field (default: ``field.record``).

    Returns
    -------
    str, int, float, datetime.date or None
        Text right-stripped; integers as int (``decimals`` = 0) or float (value / 10**decimals);
        ``None`` for a blank ``INT_OR_BLANK`` or a ``99991231`` ``DATE_OR_NEVER``.

    Raises
    ------
    FieldValueError
        With a reason naming the offending value and what was expected.
    """
    if len(raw) != field.width:
        raise FieldValueError(f"{len(raw)} bytes, expected {field.width}")
    kind = field.kind
    if kind == CONST:
        expected = record_type or field.record
        if raw != expected.encode():
            raise FieldValueError(f"record type {_describe(raw)}, expected {expected!r}")
        return raw.decode()
    if kind == TEXT:
        bad = [b for b in raw if not is_text_byte(b)]
        if bad:
            raise FieldValueError(f"non-printable byte 0x{bad[0]:02x} in text {_describe(raw)}")
        return raw.decode("latin-1").rstrip(" ")
    if kind == INT_OR_BLANK and raw == b" " * field.width:
        return None
    if not raw.isdigit() or not raw.isascii():
        blank = " or all blanks" if kind == INT_OR_BLANK else ""
        raise FieldValueError(f"non-digit in numeric field {_describe(raw)}, expected {field.width} "
                              f"digits{blank}")
    value = int(raw)
    if value == 0 and field.name in POSITIVE_FIELDS:
        raise FieldValueError(f"{_describe(raw)} is zero, expected >= 1 (prices are per this many shares)")
    if kind == INT_OR_BLANK or kind == INT:
        return value / 10 ** field.decimals if field.decimals else value
    if kind == DATE_OR_NEVER and value == NEVER_EXPIRES:
        return None
    if kind in (DATE, DATE_OR_NEVER):
        return check_date(value)
    raise AssertionError(f"unknown field kind {kind!r}")
