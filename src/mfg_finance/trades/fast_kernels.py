"""The fast path of the trade-line kernels: every line in one branch-light pass, lines split over threads.

:mod:`.kernels` states each field's rules byte by byte and names the first offending field of a
line. This module reaches the same outputs for the lines that obey every rule, faster:

* **NEG** (fixed width): numeric fields are read eight bytes at a time (one unaligned 64-bit load,
  a digit check and three multiplications per eight digits, :func:`mfg_finance.cotahist.detail_kernel.digits`);
  the failure bits of every check are OR-ed and tested once per line. The three dates and the
  50-byte instrument field are compared as words with the previous line's (a file holds one
  session and is sorted by instrument): equal bytes give the value already validated, so the
  calendar and character checks run once per distinct value in a run.
* **NEGOCIOS** (``;``-separated): one pass over the line, each number accumulated as its digits are
  met, the decimal comma of the price read on the way; the dates are compared with the previous
  line's as words.

A line the fast path does not accept as a whole (any rule broken, or anything unusual) is parsed
again by the exact per-field code of :mod:`.kernels`, which decides the first offending field and
the reason: error reports are the exact kernels' by construction, and a line the fast path
accepts is one the exact path accepts with the same values (``tests/trades/test_fast_kernels.py``
checks both on random lines and on every single-byte corruption of real-shaped lines). Lines are
independent, so blocks of them are spread over numba's threads (``prange``); the caches are per
block, so the output does not depend on the thread count.

Word loads stay inside the line being read (NEG: the 237 bytes; NEGOCIOS: only after checking the
line is long enough), and assume a little-endian machine (checked by the COTAHIST word kernel at import).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from mfg_finance.cotahist.detail_kernel import digits, load_u64
from mfg_finance.trades import kernels
from mfg_finance.trades.layout import NEG_LINE_BYTES, NEG_OFFSETS

#: Lines per parallel task: large enough to amortise scheduling, small enough to share 2 threads well.
LINES_PER_BLOCK = 16384

_U = np.uint64
_SEMI = 59
_NS_PER_S = 1_000_000_000
_POW10 = np.array([10.0 ** i for i in range(19)])

# The NEG kernel below is written for these offsets (from the layout table, checked in kernels.py too).
assert NEG_LINE_BYTES == 237
assert NEG_OFFSETS == (0, 11, 62, 73, 94, 113, 126, 128, 139, 155, 171, 173, 184, 200, 216, 218, 220, 229)
_NEG_SEPARATORS = np.array([o - 1 for o in NEG_OFFSETS[1:]], dtype=np.int64)
_SYMBOL_WORDS = np.array([11, 19, 27, 35, 43, 51, 53], dtype=np.int64)   # cover bytes 11-60, in the field


@numba.njit(inline="always")
def _bad_code(byte, low, high):
    """Nonzero iff ``byte`` is not a digit in [low, high]."""
    v = np.int64(byte) - 48
    return _U(0) if low <= v <= high else _U(1)


@numba.njit(inline="always")
def _neg_date(buf, p, cache):
    """YYYYMMDD of the date at ``buf[p:p + 10]`` or -1; ``cache`` = [word at p, word at p + 2, value]
    of the last valid date seen (compared as words, so only a new date's bytes are checked)."""
    w0, w1 = load_u64(buf, p), load_u64(buf, p + 2)
    if np.int64(w0) == cache[0] and np.int64(w1) == cache[1]:
        return cache[2]
    v = kernels._date(buf, p, p + 10)
    if v >= 0:
        cache[0], cache[1], cache[2] = np.int64(w0), np.int64(w1), v
    return v


@numba.njit
def _neg_fast_line(buf, b, o, i, dates, sym_cache):
    """Parse the NEG line at ``b`` if it obeys every rule, into ``o`` (see :data:`.kernels.OUTPUTS`);
    return False (outputs partly written) when anything is off."""
    (date, trade_id, mantissa, decimals, quantity, time, cancelled, buyer, seller, buy_condition, sell_condition,
     prices, keys, sym_start, sym_len) = o
    bad = _U(0)
    for j in range(_NEG_SEPARATORS.shape[0]):
        bad |= _U(buf[b + _NEG_SEPARATORS[j]] ^ _SEMI)
    # instrument: the same 50 bytes as the previous valid line's give its key and length
    same = sym_cache[0] >= 0
    for k in range(_SYMBOL_WORDS.shape[0]):
        same = same and np.int64(load_u64(buf, b + _SYMBOL_WORDS[k])) == sym_cache[3 + k]
    if same:   # the span of the earlier copy of these bytes: lets the factorization skip the comparison
        keys[i] = _U(sym_cache[1])
        sym_start[i] = sym_cache[10]
        sym_len[i] = sym_cache[2]
    else:
        if not kernels._symbol(buf, b + 11, b + 61, True, keys, sym_start, sym_len, i):
            return False
        sym_cache[0], sym_cache[1], sym_cache[2], sym_cache[10] = 1, np.int64(keys[i]), sym_len[i], b + 11
        for k in range(_SYMBOL_WORDS.shape[0]):
            sym_cache[3 + k] = np.int64(load_u64(buf, b + _SYMBOL_WORDS[k]))
    d0 = _neg_date(buf, b, dates[0])
    d1 = _neg_date(buf, b + 128, dates[1])
    d2 = _neg_date(buf, b + 173, dates[2])
    if d0 < 0 or d1 < 0 or d2 < 0:
        return False
    date[i] = d0
    v, bits = digits(buf, b + 62, 10)
    trade_id[i] = v
    bad |= bits
    bad |= _U(buf[b + 73] ^ 32) | _U(buf[b + 86] ^ 46)
    whole, bits = digits(buf, b + 74, 12)
    bad |= bits
    frac, bits = digits(buf, b + 87, 6)
    bad |= bits
    mant = whole * 1_000_000 + frac
    prices[i] = mant / 1e6
    mantissa[i] = mant
    decimals[i] = 6
    q, bits = digits(buf, b + 94, 18)
    quantity[i] = q
    bad |= bits
    bad |= _U(buf[b + 115] ^ 58) | _U(buf[b + 118] ^ 58) | _U(buf[b + 121] ^ 46)
    h, bits = digits(buf, b + 113, 2)
    bad |= bits
    m, bits = digits(buf, b + 116, 2)
    bad |= bits
    s, bits = digits(buf, b + 119, 2)
    bad |= bits
    ms, bits = digits(buf, b + 122, 3)
    bad |= bits
    time[i] = ((h * 60 + m) * 60 + s) * _NS_PER_S + ms * 1_000_000
    bad |= _bad_code(buf[b + 126], 1, 2)
    cancelled[i] = buf[b + 126] == 50
    for p in (139, 155, 184, 200):
        _, bits = digits(buf, b + p, 15)
        bad |= bits
    bad |= _bad_code(buf[b + 171], 0, 2) | _bad_code(buf[b + 216], 0, 2) | _bad_code(buf[b + 218], 0, 1)
    buy_condition[i] = np.int64(buf[b + 171]) - 48
    sell_condition[i] = np.int64(buf[b + 216]) - 48
    v, bits = digits(buf, b + 220, 8)
    buyer[i] = v
    bad |= bits
    v, bits = digits(buf, b + 229, 8)
    seller[i] = v
    bad |= bits
    return bad == 0 and mant > 0 and q > 0 and h <= 23 and m <= 59 and s <= 59


@numba.njit(cache=True, nogil=True)
def parse_fixed_block(buf, starts, first, stop, o, err_field, err_reason):
    """Lines ``first`` to ``stop - 1`` of :func:`parse_fixed` (one thread's task)."""
    dates = np.full((3, 3), -1, dtype=np.int64)
    sym_cache = np.full(4 + _SYMBOL_WORDS.shape[0], -1, dtype=np.int64)   # valid, key, length, 7 words, start
    for i in range(first, stop):
        b = starts[i]
        if _neg_fast_line(buf, b, o, i, dates, sym_cache):
            err_field[i] = -1
            err_reason[i] = 0
        else:
            bad, reason = kernels._neg_line(buf, b, o, i)
            err_field[i] = bad
            err_reason[i] = reason


@numba.njit(cache=True, nogil=True, parallel=True)
def parse_fixed(buf, starts, o, err_field, err_reason):
    """Same outputs as :func:`.kernels.parse_fixed` for 237-byte NEG lines at ``starts`` (values of
    rejected lines aside: only ``err_field``/``err_reason`` count for them)."""
    n = starts.shape[0]
    n_blocks = (n + LINES_PER_BLOCK - 1) // LINES_PER_BLOCK
    for block in numba.prange(n_blocks):
        parse_fixed_block(buf, starts, block * LINES_PER_BLOCK, min((block + 1) * LINES_PER_BLOCK, n), o,
                          err_field, err_reason)


@numba.njit(inline="always")
def _uint(buf, p, end):
    """Digits from ``p``: (value, number of digits, position of the first non-digit or ``end``).
    The value is meaningless beyond 18 digits (callers reject those)."""
    acc = np.int64(0)
    q = p
    while q < end:
        d = np.int64(buf[q]) - 48
        if d < 0 or d > 9:
            break
        acc = acc * 10 + d
        q += 1
    return acc, q - p, q


@numba.njit(inline="always")
def _negocios_date(buf, p, end, cache):
    """YYYYMMDD of ``YYYY-MM-DD;`` at ``buf[p:]`` or -1 (also -1 when the ``;`` is missing)."""
    if end - p < 11:
        return -1
    w0, w1 = load_u64(buf, p), load_u64(buf, p + 3)      # bytes p..p+10, the ';' included
    if np.int64(w0) == cache[0] and np.int64(w1) == cache[1]:
        return cache[2]
    if buf[p + 10] != _SEMI:
        return -1
    v = kernels._date(buf, p, p + 10)
    if v >= 0:
        cache[0], cache[1], cache[2] = np.int64(w0), np.int64(w1), v
    return v


@numba.njit
def _negocios_fast_line(buf, p, end, max_decimals, o, i, date_cache):
    """Parse the NEGOCIOS line ``buf[p:end]`` if it obeys every rule; False when anything is off."""
    (date, trade_id, mantissa, decimals, quantity, time, cancelled, buyer, seller, buy_condition, sell_condition,
     prices, keys, sym_start, sym_len) = o
    if _negocios_date(buf, p, end, date_cache) < 0:         # DataReferencia
        return False
    p += 11                                                   # CodigoInstrumento
    key = kernels._FNV_OFFSET
    q = p
    while q < end and buf[q] != _SEMI:
        c = buf[q]
        if c < 0x21 or c > 0x7E:
            return False
        key = (key ^ _U(c)) * kernels._FNV_PRIME
        q += 1
    if q == p or q - p > 50 or q + 2 >= end:
        return False
    keys[i] = key
    sym_start[i] = p
    sym_len[i] = q - p
    c = buf[q + 1]                                            # AcaoAtualizacao: 0 or 2, alone
    if (c != 48 and c != 50) or buf[q + 2] != _SEMI:
        return False
    cancelled[i] = c == 50
    p = q + 3                                                 # PrecoNegocio: digits[,digits]
    mant, n_whole, q = _uint(buf, p, end)
    n_dec = 0
    if q < end and buf[q] == 44:
        frac, n_dec, q2 = _uint(buf, q + 1, end)
        mant = mant * np.int64(10) ** n_dec + frac
        q = q2
        if n_dec < 1 or n_dec > max_decimals:
            return False
    if n_whole < 1 or n_whole + n_dec > 18 or mant <= 0 or q >= end or buf[q] != _SEMI:
        return False
    prices[i] = mant / _POW10[n_dec]
    mantissa[i] = mant
    decimals[i] = n_dec
    v, n, q = _uint(buf, q + 1, end)                          # QuantidadeNegociada
    if n < 1 or n > 18 or v <= 0 or q >= end or buf[q] != _SEMI:
        return False
    quantity[i] = v
    v, n, q = _uint(buf, q + 1, end)                          # HoraFechamento HHMMSSmmm
    if n < 1 or n > 9 or q >= end or buf[q] != _SEMI:
        return False
    h, m, s = v // 10_000_000, v // 100_000 % 100, v // 1000 % 100
    if h > 23 or m > 59 or s > 59:
        return False
    time[i] = ((h * 60 + m) * 60 + s) * _NS_PER_S + (v % 1000) * 1_000_000
    v, n, q = _uint(buf, q + 1, end)                          # CodigoIdentificadorNegocio
    if n < 1 or n > 18 or q >= end or buf[q] != _SEMI:
        return False
    trade_id[i] = v
    v, n, q = _uint(buf, q + 1, end)                          # TipoSessaoPregao
    if n < 1 or n > 18 or q >= end or buf[q] != _SEMI:
        return False
    v = _negocios_date(buf, q + 1, end, date_cache)           # DataNegocio
    if v < 0:
        return False
    date[i] = v
    v, n, q = _uint(buf, q + 12, end)                         # CodigoParticipanteComprador
    if n > 18 or q >= end or buf[q] != _SEMI or v > kernels.MAX_PARTICIPANT:
        return False
    buyer[i] = v if n else kernels.MISSING
    v, n, q = _uint(buf, q + 1, end)                          # CodigoParticipanteVendedor
    if n > 18 or q != end or v > kernels.MAX_PARTICIPANT:
        return False
    seller[i] = v if n else kernels.MISSING
    return True


@numba.njit(cache=True, nogil=True)
def parse_delimited_block(buf, starts, ends, first, stop, max_decimals, o, err_field, err_reason):
    """Lines ``first`` to ``stop - 1`` of :func:`parse_delimited` (one thread's task)."""
    date_cache = np.full(3, -1, dtype=np.int64)
    for i in range(first, stop):
        if _negocios_fast_line(buf, starts[i], ends[i], max_decimals, o, i, date_cache):
            err_field[i] = -1
            err_reason[i] = 0
        else:
            bad, reason = kernels._negocios_line(buf, starts[i], ends[i], max_decimals, o, i)
            err_field[i] = bad
            err_reason[i] = reason


@numba.njit(cache=True, nogil=True, parallel=True)
def parse_delimited(buf, starts, ends, max_decimals, o, err_field, err_reason):
    """Same outputs as :func:`.kernels.parse_delimited` (values of rejected lines aside)."""
    n = starts.shape[0]
    n_blocks = (n + LINES_PER_BLOCK - 1) // LINES_PER_BLOCK
    for block in numba.prange(n_blocks):
        parse_delimited_block(buf, starts, ends, block * LINES_PER_BLOCK, min((block + 1) * LINES_PER_BLOCK, n),
                              max_decimals, o, err_field, err_reason)


#: Bytes per parallel task of :func:`line_bounds` (a multiple of 8).
BYTES_PER_BLOCK = 1 << 20
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_LFS = _U(0x0A0A0A0A0A0A0A0A)
_BYTE_ONES = _U(0x0101010101010101)


@numba.njit(inline="always")
def _lf_bits(word):
    """The high bit of each byte of ``word`` that is an LF, and only those (exact zero-byte test)."""
    x = word ^ _LFS
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


@numba.njit(inline="always")
def _block_lfs(buf, first, stop, size):
    """Number of LF bytes in ``buf[first:stop]`` (eight bytes at a time while a whole word fits)."""
    c = 0
    k = first
    while k + 8 <= stop:
        c += np.int64(((_lf_bits(load_u64(buf, k)) >> _U(7)) * _BYTE_ONES) >> _U(56))
        k += 8
    while k < stop:
        c += buf[k] == 10
        k += 1
    return c


@numba.njit(inline="always")
def _line_end(buf, k, j, n_lines, starts, ends):
    ends[j] = k - 1 if k > 0 and buf[k - 1] == 13 else k   # a CR there is inside this line
    if j + 1 < n_lines:
        starts[j + 1] = k + 1


@numba.njit(cache=True, nogil=True, parallel=True)
def line_bounds(buf):
    """Start and end offsets of every line of ``buf`` (end excludes the LF and a CR before it).

    Lines are separated by LF; a last line without a line end counts, an empty text has no line.
    Two passes over blocks of the text, each spread over the threads and reading eight bytes at a
    time: count the line ends of each block, then write the offsets (the same for any thread count).
    """
    size = buf.shape[0]
    n_blocks = (size + BYTES_PER_BLOCK - 1) // BYTES_PER_BLOCK
    counts = np.zeros(n_blocks + 1, dtype=np.int64)
    for block in numba.prange(n_blocks):
        counts[block + 1] = _block_lfs(buf, block * BYTES_PER_BLOCK, min((block + 1) * BYTES_PER_BLOCK, size), size)
    for block in range(n_blocks):
        counts[block + 1] += counts[block]
    n_newlines = counts[n_blocks]
    n_lines = n_newlines + (1 if size and buf[size - 1] != 10 else 0)
    starts = np.empty(n_lines, dtype=np.int64)
    ends = np.empty(n_lines, dtype=np.int64)
    if n_lines:
        starts[0] = 0
    for block in numba.prange(n_blocks):
        j = counts[block]
        k = block * BYTES_PER_BLOCK
        stop = min((block + 1) * BYTES_PER_BLOCK, size)
        while k + 8 <= stop:
            bits = _lf_bits(load_u64(buf, k))
            while bits:
                _line_end(buf, k + np.int64(trailing_zeros(bits) >> 3), j, n_lines, starts, ends)
                j += 1
                bits &= bits - _U(1)                          # clear the lowest set bit
            k += 8
        while k < stop:
            if buf[k] == 10:
                _line_end(buf, k, j, n_lines, starts, ends)
                j += 1
            k += 1
    if n_lines > n_newlines:                                  # a last line without a line end
        ends[n_lines - 1] = size - 1 if buf[size - 1] == 13 else size
    return starts, ends
