"""Scalar decoding of one field of a trade line: the rules every byte obeys, in plain Python.

The compiled kernels (:mod:`.kernels`) apply the same rules to every line of a file and only flag
the first offending field; this module says *why* (and ``tests/trades`` checks the two agree).
"""

from __future__ import annotations

import datetime as dt

from mfg_finance.trades.layout import (CANCEL, CONDITION, DATE, DIGITS, DIGITS_OR_EMPTY, FLAG,
                                       NEGOCIOS_MAX_DECIMALS, PRICE, QUANTITY, SYMBOL, TIME, Field)

MAX_DIGITS = 18  # integers of up to 18 digits fit an int64
MAX_PARTICIPANT = 2 ** 31 - 1  # participant / broker codes are stored as int32


class FieldValueError(ValueError):
    """A field's bytes break its kind's rules; the message says how."""


def _show(raw: bytes) -> str:
    return repr(raw.decode("latin-1"))


def _digits(raw: bytes, what: str, max_len: int = MAX_DIGITS) -> int:
    if not raw or not raw.isdigit() or not raw.isascii() or len(raw) > max_len:
        raise FieldValueError(f"{_show(raw)} is not {what} (1 to {max_len} digits)")
    return int(raw)


def decode_date(raw: bytes) -> dt.date:
    """``YYYY-MM-DD``."""
    if len(raw) != 10 or raw[4:5] != b"-" or raw[7:8] != b"-" or not (raw[:4] + raw[5:7] + raw[8:]).isdigit():
        raise FieldValueError(f"{_show(raw)} is not a date YYYY-MM-DD")
    try:
        return dt.date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
    except ValueError as exc:
        raise FieldValueError(f"invalid date {_show(raw)}: {exc}") from None


def _clock(h: int, m: int, s: int, ms: int, raw: bytes) -> int:
    if h > 23 or m > 59 or s > 59:
        raise FieldValueError(f"time {_show(raw)} out of range (hour 0-23, minute and second 0-59)")
    return ((h * 60 + m) * 60 + s) * 1_000_000_000 + ms * 1_000_000


def decode_field(field: Field, raw: bytes, *, fixed: bool):
    """Decode one field: ``fixed=True`` for the NEG layout, False for the NEGOCIOS layout.

    Returns the value as the reader stores it: ``date`` a :class:`datetime.date`; ``symbol`` the
    stripped text; ``price`` BRL (float); ``time`` ns since midnight; ``cancel`` a bool; ``digits``,
    ``quantity``, ``condition``, ``flag`` an int; ``digits_or_empty`` an int or None.

    Raises
    ------
    FieldValueError
        With the offending value and what was expected.
    """
    kind = field.kind
    if fixed and len(raw) != field.width:
        raise FieldValueError(f"{len(raw)} bytes, expected {field.width}")
    if kind == DATE:
        return decode_date(raw)
    if kind == SYMBOL:
        text = raw.rstrip(b" ") if fixed else raw
        if not text or not all(0x21 <= b <= 0x7E for b in text) or (not fixed and len(text) > 50):
            padding = " padded with blanks" if fixed else ""
            raise FieldValueError(f"{_show(raw)} is not an instrument code (1-50 printable ASCII "
                                  f"characters without blanks{padding})")
        return text.decode("ascii")
    if kind in (DIGITS, QUANTITY):
        value = _digits(raw, "an unsigned integer", field.width or MAX_DIGITS)
        if kind == QUANTITY and value == 0:
            raise FieldValueError("quantity 0, expected a positive number of shares")
        return value
    if kind == DIGITS_OR_EMPTY:
        if raw == b"":
            return None
        value = _digits(raw, "a participant code or empty")
        if value > MAX_PARTICIPANT:
            raise FieldValueError(f"participant code {value} above {MAX_PARTICIPANT}")
        return value
    if kind == PRICE:
        if fixed:
            if raw[:1] != b" " or raw[13:14] != b"." or not (raw[1:13] + raw[14:]).isdigit():
                raise FieldValueError(f"{_show(raw)} is not a price ' ' + 12 digits + '.' + 6 digits")
            micro = int(raw[1:13] + raw[14:])
            value = micro / 10 ** 6
        else:
            whole, comma, frac = raw.partition(b",")
            if (not whole or not (whole + frac).isdigit() or not (whole + frac).isascii()
                    or (comma and not 1 <= len(frac) <= NEGOCIOS_MAX_DECIMALS) or len(whole + frac) > MAX_DIGITS):
                raise FieldValueError(f"{_show(raw)} is not a price: digits, optionally a decimal comma "
                                      f"and 1 to {NEGOCIOS_MAX_DECIMALS} decimals")
            micro = int(whole + frac)
            value = micro / 10 ** len(frac)
        if micro == 0:
            raise FieldValueError("price 0, expected a positive price")
        return value
    if kind == TIME:
        if fixed:
            if (raw[2:3] != b":" or raw[5:6] != b":" or raw[8:9] != b"."
                    or not (raw[:2] + raw[3:5] + raw[6:8] + raw[9:]).isdigit()):
                raise FieldValueError(f"{_show(raw)} is not a time HH:MM:SS.mmm")
            return _clock(int(raw[:2]), int(raw[3:5]), int(raw[6:8]), int(raw[9:]), raw)
        v = _digits(raw, "a time HHMMSSmmm", 9)
        return _clock(v // 10_000_000, v // 100_000 % 100, v // 1000 % 100, v % 1000, raw)
    if kind == CANCEL:
        allowed = (b"1", b"2") if fixed else (b"0", b"2")
        if raw not in allowed:
            meaning = "1 (trade stands) or 2 (cancelled)" if fixed else "0 (new trade) or 2 (cancelled)"
            raise FieldValueError(f"{_show(raw)}, expected {meaning}")
        return raw == b"2"
    if kind == CONDITION:
        if raw not in (b"0", b"1", b"2"):
            raise FieldValueError(f"{_show(raw)}, expected 0 (neutral), 1 (aggressor) or 2 (aggressed)")
        return int(raw)
    if kind == FLAG:
        if raw not in (b"0", b"1"):
            raise FieldValueError(f"{_show(raw)}, expected 0 or 1")
        return int(raw)
    raise AssertionError(f"unknown field kind {kind!r}")
