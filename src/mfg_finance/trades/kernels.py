"""Compiled inner loops: validate and convert every field of every trade line in one pass.

Lines are read in place from the file's byte buffer. Each kernel fills one typed array per kept
field (:data:`OUTPUTS`), and for the instrument code its byte span and a 64-bit FNV-1a hash (used
to factorize the codes, :mod:`.tickers`). A line that breaks a rule gets the index of the
first offending field and a reason (1 separator / field count, 2 field value); the messages come
from the scalar rules of :mod:`.fields`, which state the same rules in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mfg_finance.trades.layout import NEG_OFFSETS

REASON_SEPARATOR = 1
REASON_VALUE = 2
MISSING = -1  # kernel output of an empty DIGITS_OR_EMPTY field
MAX_PARTICIPANT = 2 ** 31 - 1  # participant / broker codes are stored as int32

OUTPUTS = (("date", np.int32), ("trade_id", np.int64), ("mantissa", np.int64), ("decimals", np.int8),
           ("quantity", np.int64), ("time", np.int64), ("cancelled", np.bool_), ("buyer", np.int32),
           ("seller", np.int32), ("buy_condition", np.int8), ("sell_condition", np.int8),
           ("prices", np.float64), ("keys", np.uint64), ("sym_start", np.int64), ("sym_len", np.int32))
"""The kernels' output arrays, one element per line, in the order of the tuple they take: date as
YYYYMMDD, price as mantissa / 10**decimals (and in BRL in ``prices``), time in ns since midnight,
instrument code as a hash ``keys`` and its byte span ``sym_start``/``sym_len``."""

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
def _symbol(buf, p, q, fixed, keys, sym_start, sym_len, i):
    """Instrument code at buf[p:q] (NEG: right-padded with blanks): hash and span; False if invalid."""
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


# NEG field offsets as literals, so the compiler sees constant widths (checked against the layout table).
_NEG_SEPARATORS = np.array([o - 1 for o in NEG_OFFSETS[1:]], dtype=np.int64)
assert NEG_OFFSETS == (0, 11, 62, 73, 94, 113, 126, 128, 139, 155, 171, 173, 184, 200, 216, 218, 220, 229)


@njit(cache=True, nogil=True)
def _code(byte, low, high):
    """A one-byte code as its digit if within [low, high], else -1."""
    v = np.int64(byte) - 48
    return v if low <= v <= high else -1


@njit(cache=True, nogil=True)
def _neg_line(buf, b, o, i):
    """Parse one NEG line at ``b`` into the outputs ``o`` (see :data:`OUTPUTS`); return (first bad
    field, reason) or (-1, 0). Separators are checked first."""
    (date, trade_id, mantissa, decimals, quantity, time, cancelled, buyer, seller, buy_condition, sell_condition,
     prices, keys, sym_start, sym_len) = o
    for j in range(_NEG_SEPARATORS.shape[0]):
        if buf[b + _NEG_SEPARATORS[j]] != 59:
            return j, REASON_SEPARATOR
    v = _date(buf, b, b + 10)
    if v < 0:
        return 0, REASON_VALUE
    date[i] = v
    if not _symbol(buf, b + 11, b + 61, True, keys, sym_start, sym_len, i):
        return 1, REASON_VALUE
    v = _digits(buf, b + 62, b + 72)
    if v < 0:
        return 2, REASON_VALUE
    trade_id[i] = v
    mant, dec = _price(buf, b + 73, b + 93, True, 6)
    if mant <= 0:
        return 3, REASON_VALUE
    prices[i] = mant / 1e6
    mantissa[i] = mant
    decimals[i] = 6
    v = _digits(buf, b + 94, b + 112)
    if v <= 0:
        return 4, REASON_VALUE
    quantity[i] = v
    v = _time(buf, b + 113, b + 125, True)
    if v < 0:
        return 5, REASON_VALUE
    time[i] = v
    v = _code(buf[b + 126], 1, 2)
    if v < 0:
        return 6, REASON_VALUE
    cancelled[i] = v == 2
    for j, p, n in ((7, 128, 10), (8, 139, 15), (9, 155, 15), (11, 173, 10), (12, 184, 15), (13, 200, 15)):
        v = _date(buf, b + p, b + p + n) if n == 10 else _digits(buf, b + p, b + p + n)
        if v < 0:
            return j, REASON_VALUE
    v = _code(buf[b + 171], 0, 2)
    if v < 0:
        return 10, REASON_VALUE
    buy_condition[i] = v
    v = _code(buf[b + 216], 0, 2)
    if v < 0:
        return 14, REASON_VALUE
    sell_condition[i] = v
    if _code(buf[b + 218], 0, 1) < 0:
        return 15, REASON_VALUE
    v = _digits(buf, b + 220, b + 228)
    if v < 0:
        return 16, REASON_VALUE
    buyer[i] = v
    v = _digits(buf, b + 229, b + 237)
    if v < 0:
        return 17, REASON_VALUE
    seller[i] = v
    return -1, 0


@njit(cache=True, nogil=True)
def parse_fixed(buf, starts, o, err_field, err_reason):
    """Parse the fixed-width ``;``-separated lines of the NEG layout starting at ``starts``.

    ``o`` is the tuple of output arrays (:data:`OUTPUTS`). ``err_field[i]`` gets the first bad field
    of line ``i`` (-1 if none) and ``err_reason[i]`` the reason (1 missing separator after it, 2
    bad value).
    """
    for i in range(starts.shape[0]):
        bad, reason = _neg_line(buf, starts[i], o, i)
        err_field[i] = bad
        err_reason[i] = reason


@njit(cache=True, nogil=True)
def _next(buf, p, end):
    """Index of the next ';' at or after p, or end."""
    while p < end and buf[p] != 59:
        p += 1
    return p


@njit(cache=True, nogil=True)
def _optional_digits(buf, p, q):
    """A participant code: digits up to MAX_PARTICIPANT, or MISSING when empty; -2 when invalid."""
    if q == p:
        return MISSING
    v = _digits(buf, p, q)
    return v if 0 <= v <= MAX_PARTICIPANT else -2


@njit(cache=True, nogil=True)
def _negocios_line(buf, p, end, max_decimals, o, i):
    """Parse one NEGOCIOS line buf[p:end] into the outputs ``o``; return (bad field, reason) or (-1, 0)."""
    (date, trade_id, mantissa, decimals, quantity, time, cancelled, buyer, seller, buy_condition, sell_condition,
     prices, keys, sym_start, sym_len) = o
    count = 1
    for k in range(p, end):
        if buf[k] == 59:
            count += 1
    if count != 11:
        return count, REASON_SEPARATOR
    q = _next(buf, p, end)
    if _date(buf, p, q) < 0:                        # DataReferencia
        return 0, REASON_VALUE
    p = q + 1
    q = _next(buf, p, end)
    if not _symbol(buf, p, q, False, keys, sym_start, sym_len, i):
        return 1, REASON_VALUE
    p = q + 1
    q = _next(buf, p, end)                           # AcaoAtualizacao: 0 new, 2 cancelled
    v = _code(buf[p], 0, 2) if q - p == 1 else -1
    if v != 0 and v != 2:
        return 2, REASON_VALUE
    cancelled[i] = v == 2
    p = q + 1
    q = _next(buf, p, end)
    mant, dec = _price(buf, p, q, False, max_decimals)
    if mant <= 0:
        return 3, REASON_VALUE
    prices[i] = mant / _POW10[dec]
    mantissa[i] = mant
    decimals[i] = dec
    p = q + 1
    q = _next(buf, p, end)
    v = _digits(buf, p, q)
    if v <= 0:
        return 4, REASON_VALUE
    quantity[i] = v
    p = q + 1
    q = _next(buf, p, end)
    v = _time(buf, p, q, False)
    if v < 0:
        return 5, REASON_VALUE
    time[i] = v
    p = q + 1
    q = _next(buf, p, end)
    v = _digits(buf, p, q)
    if v < 0:
        return 6, REASON_VALUE
    trade_id[i] = v
    p = q + 1
    q = _next(buf, p, end)
    if _digits(buf, p, q) < 0:                      # TipoSessaoPregao
        return 7, REASON_VALUE
    p = q + 1
    q = _next(buf, p, end)
    v = _date(buf, p, q)
    if v < 0:
        return 8, REASON_VALUE
    date[i] = v
    p = q + 1
    q = _next(buf, p, end)
    v = _optional_digits(buf, p, q)
    if v == -2:
        return 9, REASON_VALUE
    buyer[i] = v
    p = q + 1
    v = _optional_digits(buf, p, end)
    if v == -2:
        return 10, REASON_VALUE
    seller[i] = v
    return -1, 0


@njit(cache=True, nogil=True)
def parse_delimited(buf, starts, ends, max_decimals, o, err_field, err_reason):
    """Parse the ``;``-separated lines of the NEGOCIOS layout: line ``i`` is buf[starts[i]:ends[i]].

    ``err_reason`` 1 means the line does not have 11 fields (``err_field`` = the number of fields
    it has); 2 means field ``err_field`` breaks its rules.
    """
    for i in range(starts.shape[0]):
        bad, reason = _negocios_line(buf, starts[i], ends[i], max_decimals, o, i)
        err_field[i] = bad
        err_reason[i] = reason


@njit(cache=True, nogil=True)
def first_symbol_mismatch(buf, sym_start, sym_len, codes, rep_start, rep_len):
    """Index of the first line whose instrument bytes differ from its code's representative, or -1.

    A line whose span is the previous line's (the fast kernel points repeated codes at their first
    copy) holds the same bytes, already compared.
    """
    for i in range(sym_start.shape[0]):
        if i > 0 and sym_start[i] == sym_start[i - 1] and sym_len[i] == sym_len[i - 1]:
            continue
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
def narrow_codes(labels, n_codes):
    """``labels`` (0..n_codes-1, first appearances in order) as int32, and the first index of each."""
    codes = np.empty(labels.shape[0], dtype=np.int32)
    first = np.full(n_codes, -1, dtype=np.int64)
    for i in range(labels.shape[0]):
        c = labels[i]
        codes[i] = c
        if first[c] < 0:
            first[c] = i
    return codes, first


@njit(cache=True, nogil=True)
def is_identity(perm):
    """Whether ``perm`` is 0, 1, 2, ... (the lines were already in order)."""
    for i in range(perm.shape[0]):
        if perm[i] != i:
            return False
    return True


@njit(cache=True, nogil=True)
def counting_order(codes, n_codes):
    """Stable permutation sorting ``codes`` (0..n_codes-1): a counting sort, O(n)."""
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(codes.shape[0]):
        counts[codes[i] + 1] += 1
    for c in range(n_codes):
        counts[c + 1] += counts[c]
    perm = np.empty(codes.shape[0], dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        perm[counts[c]] = i
        counts[c] += 1
    return perm


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
