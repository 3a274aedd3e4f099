"""Compiled inner loops: validate and convert every field of every trade line in one pass.

Lines are read in place from the file's byte buffer. Each kernel fills one int64 row per kept
field (dates as ``YYYYMMDD``, times as ns since midnight, prices as their integer mantissa with
the number of decimals in the next row, flags as 0/1), the price in BRL, and for the instrument code its byte span and a 64-bit FNV-1a hash
(used to factorize the codes, :mod:`.tickers`). A line that breaks a rule gets the index of the
first offending field and a reason (1 separator / field count, 2 field value); the messages come
from the scalar rules of :mod:`.fields`, which state the same rules in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mfg_finance.trades.layout import KIND_CODES

K_DATE, K_SYMBOL, K_DIGITS, K_PRICE, K_TIME = (KIND_CODES[k] for k in ("date", "symbol", "digits", "price", "time"))
K_CANCEL, K_CONDITION, K_FLAG, K_DIGITS_OR_EMPTY, K_QUANTITY = (
    KIND_CODES[k] for k in ("cancel", "condition", "flag", "digits_or_empty", "quantity"))

REASON_SEPARATOR = 1
REASON_VALUE = 2
MISSING = -1  # kernel output of an empty DIGITS_OR_EMPTY field

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_NS_PER_S = 1_000_000_000
_POW10 = np.array([10.0 ** i for i in range(19)])


@njit(cache=True, nogil=True)
def _days_in_month(year, month):
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


@njit(cache=True, nogil=True)
def _digits(buf, p, q):
    """Value of buf[p:q] as an unsigned integer, or -1 if empty, too long or not all digits."""
    if q <= p or q - p > 18:
        return -1
    acc = 0
    for k in range(p, q):
        d = np.int64(buf[k]) - 48
        if d < 0 or d > 9:
            return -1
        acc = acc * 10 + d
    return acc


@njit(cache=True, nogil=True)
def _date(buf, p, q):
    """YYYY-MM-DD at buf[p:q] as the integer YYYYMMDD, or -1."""
    if q - p != 10 or buf[p + 4] != 45 or buf[p + 7] != 45:
        return -1
    y, m, d = _digits(buf, p, p + 4), _digits(buf, p + 5, p + 7), _digits(buf, p + 8, p + 10)
    if y < 0 or m < 1 or m > 12 or d < 1 or d > _days_in_month(y, m):
        return -1
    return y * 10000 + m * 100 + d


@njit(cache=True, nogil=True)
def _clock(h, m, s, ms):
    if h < 0 or m < 0 or s < 0 or ms < 0 or h > 23 or m > 59 or s > 59:
        return -1
    return ((h * 60 + m) * 60 + s) * _NS_PER_S + ms * 1_000_000


@njit(cache=True, nogil=True)
def _time(buf, p, q, fixed):
    """ns since midnight of HH:MM:SS.mmm (fixed) or HHMMSSmmm (variable), or -1."""
    if fixed:
        if buf[p + 2] != 58 or buf[p + 5] != 58 or buf[p + 8] != 46:
            return -1
        return _clock(_digits(buf, p, p + 2), _digits(buf, p + 3, p + 5), _digits(buf, p + 6, p + 8),
                      _digits(buf, p + 9, p + 12))
    if q - p > 9:
        return -1
    v = _digits(buf, p, q)
    if v < 0:
        return -1
    return _clock(v // 10_000_000, v // 100_000 % 100, v // 1000 % 100, v % 1000)


@njit(cache=True, nogil=True)
def _price(buf, p, q, fixed, max_decimals):
    """(mantissa, decimals) of a price, or (-1, 0). Fixed: ' ' + 12 digits + '.' + 6 digits."""
    if fixed:
        if buf[p] != 32 or buf[p + 13] != 46:
            return -1, 0
        whole, frac = _digits(buf, p + 1, p + 13), _digits(buf, p + 14, p + 20)
        if whole < 0 or frac < 0:
            return -1, 0
        return whole * 1_000_000 + frac, 6
    comma = -1
    for k in range(p, q):
        if buf[k] == 44:
            comma = k
            break
    if comma < 0:
        return _digits(buf, p, q), 0
    n_dec = q - comma - 1
    if comma == p or n_dec < 1 or n_dec > max_decimals or q - p - 1 > 18:
        return -1, 0
    whole, frac = _digits(buf, p, comma), _digits(buf, comma + 1, q)
    if whole < 0 or frac < 0:
        return -1, 0
    return whole * 10 ** n_dec + frac, n_dec


@njit(cache=True, nogil=True)
def _field(buf, p, q, kind, fixed, max_decimals, out, row, i, prices, keys, sym_start, sym_len):
    """Parse one field into the outputs; return False if it breaks its kind's rules."""
    if kind == K_SYMBOL:
        end = q
        if fixed:
            while end > p and buf[end - 1] == 32:
                end -= 1
        if end == p or end - p > 50:
            return False
        key = _FNV_OFFSET
        for k in range(p, end):
            b = buf[k]
            if b < 0x21 or b > 0x7E:
                return False
            key = (key ^ np.uint64(b)) * _FNV_PRIME
        keys[i] = key
        sym_start[i] = p
        sym_len[i] = end - p
        return True
    if kind == K_PRICE:
        mant, dec = _price(buf, p, q, fixed, max_decimals)
        if mant <= 0:
            return False
        prices[i] = mant / _POW10[dec]
        if row >= 0:  # the mantissa and, in the next row, its number of decimals
            out[row, i] = mant
            out[row + 1, i] = dec
        return True
    if kind == K_DATE:
        v = _date(buf, p, q)
    elif kind == K_TIME:
        v = _time(buf, p, q, fixed)
    elif kind == K_DIGITS or kind == K_QUANTITY:
        v = _digits(buf, p, q)
        if kind == K_QUANTITY and v == 0:
            return False
    elif kind == K_DIGITS_OR_EMPTY:
        if q == p:
            if row >= 0:
                out[row, i] = MISSING
            return True
        v = _digits(buf, p, q)
    else:  # one-byte codes
        if q - p != 1:
            return False
        v = np.int64(buf[p]) - 48
        if kind == K_CANCEL:
            if fixed:
                v = 0 if v == 1 else 1 if v == 2 else -1
            else:
                v = 0 if v == 0 else 1 if v == 2 else -1
        elif kind == K_CONDITION:
            v = v if 0 <= v <= 2 else -1
        else:  # K_FLAG
            v = v if 0 <= v <= 1 else -1
    if v < 0:
        return False
    if row >= 0:
        out[row, i] = v
    return True


@njit(cache=True, nogil=True)
def parse_fixed(buf, starts, offsets, widths, kinds, rows, out, prices, keys, sym_start, sym_len,
                err_field, err_reason):
    """Parse fixed-width ``;``-separated lines (NEG layout) starting at ``starts``.

    ``offsets``/``widths``/``kinds``/``rows`` describe the fields (``rows[j]`` = output row of
    field ``j`` in ``out``, -1 = validated but not kept). ``err_field[i]`` gets the first bad field
    of line ``i`` (-1 if none) and ``err_reason[i]`` the reason (1 missing separator after it).
    """
    n_fields = offsets.shape[0]
    for i in range(starts.shape[0]):
        base = starts[i]
        bad, reason = -1, 0
        for j in range(n_fields):
            p = base + offsets[j]
            q = p + widths[j]
            if j + 1 < n_fields and buf[q] != 59:
                bad, reason = j, REASON_SEPARATOR
                break
            if not _field(buf, p, q, kinds[j], True, 6, out, rows[j], i, prices, keys, sym_start, sym_len):
                bad, reason = j, REASON_VALUE
                break
        err_field[i] = bad
        err_reason[i] = reason


@njit(cache=True, nogil=True)
def parse_delimited(buf, starts, ends, kinds, rows, max_decimals, out, prices, keys, sym_start, sym_len,
                    err_field, err_reason):
    """Parse ``;``-separated lines of variable width (NEGOCIOS layout): line ``i`` is buf[starts[i]:ends[i]].

    ``err_reason`` 1 means the line does not have ``len(kinds)`` fields (``err_field`` = the number
    of fields it has); 2 means field ``err_field`` breaks its rules.
    """
    n_fields = kinds.shape[0]
    for i in range(starts.shape[0]):
        p, end = starts[i], ends[i]
        bad, reason = -1, 0
        count = 1
        for k in range(p, end):
            if buf[k] == 59:
                count += 1
        if count != n_fields:
            err_field[i] = count
            err_reason[i] = REASON_SEPARATOR
            continue
        for j in range(n_fields):
            q = p
            while q < end and buf[q] != 59:
                q += 1
            if not _field(buf, p, q, kinds[j], False, max_decimals, out, rows[j], i, prices, keys,
                          sym_start, sym_len):
                bad, reason = j, REASON_VALUE
                break
            p = q + 1
        err_field[i] = bad
        err_reason[i] = reason


@njit(cache=True, nogil=True)
def first_symbol_mismatch(buf, sym_start, sym_len, codes, rep_start, rep_len):
    """Index of the first line whose instrument bytes differ from its code's representative, or -1."""
    for i in range(sym_start.shape[0]):
        c = codes[i]
        n = sym_len[i]
        if n != rep_len[c]:
            return i
        a, b = sym_start[i], rep_start[c]
        for k in range(n):
            if buf[a + k] != buf[b + k]:
                return i
    return -1


@njit(cache=True, nogil=True)
def order_by_ticker_time(codes, times, ids):
    """A permutation sorting lines by (code, time, id), stable; insertion sort (files are nearly sorted).

    Returns the permutation and the number of element moves; callers fall back to ``np.lexsort``
    when the input was far from sorted (see :func:`mfg_finance.trades.reader._order`).
    """
    n = codes.shape[0]
    perm = np.arange(n)
    moves = 0
    limit = 8 * n + 1000
    for i in range(1, n):
        cur = perm[i]
        c, t, d = codes[cur], times[cur], ids[cur]
        j = i - 1
        while j >= 0:
            o = perm[j]
            if codes[o] < c or (codes[o] == c and (times[o] < t or (times[o] == t and ids[o] <= d))):
                break
            perm[j + 1] = o
            j -= 1
            moves += 1
        perm[j + 1] = cur
        if moves > limit:
            return perm, moves
    return perm, moves
