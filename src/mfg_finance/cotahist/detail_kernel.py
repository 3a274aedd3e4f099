"""The fast kernel for quote records: fixed offsets, eight bytes at a time, records split over threads.

:func:`.kernel.parse_records` interprets the field table byte by byte (about 1.4 ns a byte). This
kernel knows the quote record's layout at compile time (offsets and widths are module constants
taken from :data:`~.layout.DETAIL_FIELDS`, which numba folds into the code) and works on 64-bit
words loaded straight from the buffer:

* a numeric field of ``w`` digits is ``ceil(w / 8)`` words; each is checked to be eight ASCII
  digits and converted with three multiplications (the SWAR method of simdjson / D. Lemire), with
  no branch per byte (the failure bits of all checks are OR-ed: one test per record). A partial
  word is loaded so that it ends at the field's end and the bytes before the field are replaced
  by ``'0'``;
* text bytes are checked eight at a time against the rule of :func:`.fields.is_text_byte` (three
  exact "has a byte below n" word tests) and hashed a word at a time into the record's text key
  (the words cover exactly the text bytes);
* dates are validated and converted once per distinct value in a run (a file's records come day
  by day, so a one-entry cache hits almost always).

A record passes or fails this fast path as a whole. One that fails (a corrupt byte anywhere, a bad
date, the wrong record type) is parsed again by the exact per-field reference code
(:func:`.kernel.parse_record`), which finds the first offending field and the reason: the error
reports are those of the generic kernel by construction, and ``tests/cotahist`` checks that the
values agree on random and corrupted records. Records are independent, so blocks of them are
spread over numba's threads (``prange``); the output does not depend on the thread count.

The word loads read eight bytes at any offset (an unaligned load); they stay inside the record's
245 bytes, and the code assumes a little-endian machine (checked at import).
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from mfg_finance.cotahist import kernel
from mfg_finance.cotahist.fields import MAX_YEAR, MIN_YEAR
from mfg_finance.cotahist.layout import (CONST, DATE, DATE_OR_NEVER, DETAIL, DETAIL_FIELDS, INT, INT_OR_BLANK,
                                         NEVER_EXPIRES, RECORD_BYTES, TEXT)

if sys.byteorder != "little":  # pragma: no cover - every platform numba supports today is little-endian
    raise ImportError("the COTAHIST word kernel assumes a little-endian machine")

SPEC = kernel.kernel_spec(DETAIL_FIELDS)
_OFFSETS, _WIDTHS, _KINDS, _ROWS, _SCALES = SPEC.offsets, SPEC.widths, SPEC.kinds, SPEC.rows, SPEC.scales
RECORD_TYPE = np.frombuffer(DETAIL.encode(), dtype=np.uint8)
#: Records per parallel task: large enough to amortise scheduling, small enough to share 2 threads well.
RECORDS_PER_BLOCK = 8192

_U = np.uint64
_ZEROS = _U(0x3030303030303030)
_HIGH_NIBBLES = _U(0xF0F0F0F0F0F0F0F0)
_SIXES = _U(0x0606060606060606)
_THREES = _U(0x3333333333333333)
_PAIR_MASK = _U(0x000000FF000000FF)
_MUL_HIGH = _U(100 + (1000000 << 32))
_MUL_LOW = _U(1 + (10000 << 32))
_ONES = _U(0x0101010101010101)
_HIGHS = _U(0x8080808080808080)
_SPACES = _U(0x2020202020202020)
_DELS = _U(0x7F7F7F7F7F7F7F7F)
_HASH_MUL = _U(0x9E3779B97F4A7C15)
_HASH_SEED = _U(0xCBF29CE484222325)
_NS_PER_DAY = 86_400_000_000_000


def _field(name):
    return next(f for f in DETAIL_FIELDS if f.name == name)


def _int_row(name):
    return SPEC.int_fields.index(_field(name))


def _float_row(name):
    return SPEC.float_fields.index(_field(name))


# Offsets and widths the kernel below is written for, read from the layout table.
_F = {f.name: (f.offset, f.width) for f in DETAIL_FIELDS}
O_TIPREG, _ = _F["TIPREG"]
O_DATPRE, W_DATPRE = _F["DATPRE"]
O_CODBDI, W_CODBDI = _F["CODBDI"]
O_TPMERC, W_TPMERC = _F["TPMERC"]
O_PRAZOT, W_PRAZOT = _F["PRAZOT"]
O_PREABE, W_PREABE = _F["PREABE"]
O_PREMAX, W_PREMAX = _F["PREMAX"]
O_PREMIN, W_PREMIN = _F["PREMIN"]
O_PREMED, W_PREMED = _F["PREMED"]
O_PREULT, W_PREULT = _F["PREULT"]
O_PREOFC, W_PREOFC = _F["PREOFC"]
O_PREOFV, W_PREOFV = _F["PREOFV"]
O_TOTNEG, W_TOTNEG = _F["TOTNEG"]
O_QUATOT, W_QUATOT = _F["QUATOT"]
O_VOLTOT, W_VOLTOT = _F["VOLTOT"]
O_PREEXE, W_PREEXE = _F["PREEXE"]
O_INDOPC, W_INDOPC = _F["INDOPC"]
O_DATVEN, W_DATVEN = _F["DATVEN"]
O_FATCOT, W_FATCOT = _F["FATCOT"]
O_PTOEXE, W_PTOEXE = _F["PTOEXE"]
O_DISMES, W_DISMES = _F["DISMES"]
O_CODNEG, W_CODNEG = _F["CODNEG"]
O_NOMRES, W_NOMRES = _F["NOMRES"]
O_ESPECI, W_ESPECI = _F["ESPECI"]
O_MODREF, W_MODREF = _F["MODREF"]
O_CODISI, W_CODISI = _F["CODISI"]
R_DATPRE, R_CODBDI, R_TPMERC, R_PRAZOT = (_int_row(n) for n in ("DATPRE", "CODBDI", "TPMERC", "PRAZOT"))
R_TOTNEG, R_QUATOT, R_INDOPC, R_DATVEN = (_int_row(n) for n in ("TOTNEG", "QUATOT", "INDOPC", "DATVEN"))
R_FATCOT, R_DISMES = _int_row("FATCOT"), _int_row("DISMES")
R_PREABE, R_PREMAX, R_PREMIN, R_PREMED = (_float_row(n) for n in ("PREABE", "PREMAX", "PREMIN", "PREMED"))
R_PREULT, R_PREOFC, R_PREOFV, R_VOLTOT = (_float_row(n) for n in ("PREULT", "PREOFC", "PREOFV", "VOLTOT"))
R_PREEXE, R_PTOEXE = _float_row("PREEXE"), _float_row("PTOEXE")
S_PRICE = 10.0 ** _field("PREABE").decimals
S_VOLTOT = 10.0 ** _field("VOLTOT").decimals
S_PREEXE = 10.0 ** _field("PREEXE").decimals
S_PTOEXE = 10.0 ** _field("PTOEXE").decimals

#: What the kernel body handles, field by field: (kind, decimals) as it assumes them.
HANDLED = {
    "TIPREG": (CONST, 0), "DATPRE": (DATE, 0), "CODBDI": (INT, 0), "CODNEG": (TEXT, 0), "TPMERC": (INT, 0),
    "NOMRES": (TEXT, 0), "ESPECI": (TEXT, 0), "PRAZOT": (INT_OR_BLANK, 0), "MODREF": (TEXT, 0),
    "PREABE": (INT, 2), "PREMAX": (INT, 2), "PREMIN": (INT, 2), "PREMED": (INT, 2), "PREULT": (INT, 2),
    "PREOFC": (INT, 2), "PREOFV": (INT, 2), "TOTNEG": (INT, 0), "QUATOT": (INT, 0), "VOLTOT": (INT, 2),
    "PREEXE": (INT, 2), "INDOPC": (INT, 0), "DATVEN": (DATE_OR_NEVER, 0), "FATCOT": (INT, 0),
    "PTOEXE": (INT, 6), "CODISI": (TEXT, 0), "DISMES": (INT, 0),
}


def _check_layout() -> None:
    """The layout is the one this kernel is written for (a layout edit must edit the kernel too)."""
    found = {f.name: (f.kind, f.decimals) for f in DETAIL_FIELDS}
    if found != HANDLED:
        raise ImportError(f"detail_kernel is written for the fields {HANDLED}, the layout has {found}")
    for f in DETAIL_FIELDS:
        if f.kind == TEXT or f.kind == CONST:
            continue
        if f.width > 18 or (f.width % 8 and f.offset + f.width % 8 < 8):   # int64 range; loads inside the record
            raise ImportError(f"detail_kernel cannot read field {f.name} ({f.width} digits at {f.offset})")
    if DETAIL_FIELDS[-1].end != RECORD_BYTES:
        raise ImportError("detail_kernel: the detail fields do not end at the record's end")


_check_layout()


@intrinsic
def load_u64(typingctx, buf, pos):
    """The eight bytes ``buf[pos:pos + 8]`` as a little-endian uint64 (unaligned load, no bounds check)."""
    signature = types.uint64(buf, pos)

    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        pointer = builder.bitcast(builder.gep(array.data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(pointer, align=1)

    return signature, codegen


@numba.njit(inline="always")
def _eight_digits(word):
    """``(value, bad)`` of eight ASCII digits packed little-endian (first digit in the low byte).

    ``bad`` is nonzero when a byte is not a digit: a byte passes when its high nibble is 3 and adding
    6 leaves it at most 0x3F (a carry out of a byte only comes from a byte that already fails).
    """
    bad = ((word & _HIGH_NIBBLES) | (((word + _SIXES) & _HIGH_NIBBLES) >> _U(4))) ^ _THREES
    word = word - _ZEROS
    word = word * _U(10) + (word >> _U(8))
    word = ((word & _PAIR_MASK) * _MUL_HIGH + ((word >> _U(16)) & _PAIR_MASK) * _MUL_LOW) >> _U(32)
    return np.int64(word), bad


@numba.njit
def digits(buf, pos, width):
    """``(value, bad)`` of the ``width`` (<= 18) ASCII digits at ``buf[pos:]``; ``bad`` nonzero if one is not."""
    head = width % 8
    value = np.int64(0)
    bad = _U(0)
    if head:
        keep = _U(0xFFFFFFFFFFFFFFFF) << _U(8 * (8 - head))     # the field's bytes: the word's high ones
        value, bad = _eight_digits((load_u64(buf, pos + head - 8) & keep) | (_ZEROS & ~keep))
    for c in range(width // 8):
        chunk, chunk_bad = _eight_digits(load_u64(buf, pos + head + 8 * c))
        value = value * 100_000_000 + chunk
        bad |= chunk_bad
    return value, bad


@numba.njit(inline="always")
def _has_byte_below(word, limit_bytes):
    """Nonzero iff a byte of ``word`` is below ``n`` (``limit_bytes`` = n in every byte, n <= 128).

    Exact as a test (Bit Twiddling Hacks' ``hasless``): the lowest such byte borrows nothing from
    below, so ``b - n`` wraps to >= 128 while ``b < 128``.
    """
    return (word - limit_bytes) & ~word & _HIGHS


@numba.njit(inline="always")
def text_word_bad(word):
    """Nonzero iff a byte of ``word`` may not be text: < 0x20, 0x7F or 0x80-0x9F (:func:`.fields.is_text_byte`)."""
    return (_has_byte_below(word, _SPACES) | _has_byte_below(word ^ _HIGHS, _SPACES)
            | _has_byte_below(word ^ _DELS, _ONES))


@numba.njit(inline="always")
def _mix(h, word):
    h = (h ^ word) * _HASH_MUL
    return h ^ (h >> _U(29))


@numba.njit
def text_words(buf, pos, width, h, bad):
    """Fold the ``width`` bytes at ``buf[pos:]`` into hash ``h`` a word at a time (exactly those bytes),
    and OR into ``bad`` the :func:`text_word_bad` of the words read.

    A field narrower than 8 bytes is read with the bytes before it, which a valid record fills with
    digits or blanks (valid text): the check can only reject a record that is invalid anyway.
    """
    for c in range(width // 8):
        word = load_u64(buf, pos + 8 * c)
        bad |= text_word_bad(word)
        h = _mix(h, word)
    tail = width % 8
    if tail:   # the last ``tail`` bytes: the high bytes of the word ending at the field's end
        word = load_u64(buf, pos + width - 8)
        bad |= text_word_bad(word)
        h = _mix(h, word >> _U(8 * (8 - tail)))
    return h, bad


@numba.njit
def text_key(buf, base):
    """``(key, bad)``: 64-bit hash of a record's text fields (their bytes, nothing else), and nonzero
    ``bad`` if one of those bytes may not appear in text."""
    h, bad = _HASH_SEED, _U(0)
    h, bad = text_words(buf, base + O_CODNEG, W_CODNEG, h, bad)
    h, bad = text_words(buf, base + O_NOMRES, W_NOMRES, h, bad)
    h, bad = text_words(buf, base + O_ESPECI, W_ESPECI, h, bad)
    h, bad = text_words(buf, base + O_MODREF, W_MODREF, h, bad)
    h, bad = text_words(buf, base + O_CODISI, W_CODISI, h, bad)
    return h, bad


@numba.njit
def _date_ns(value):
    """``(ns since 1970-01-01, ok)`` of a YYYYMMDD integer (the rules of :func:`.kernel.parse_record`)."""
    year = value // 10000
    month = value // 100 % 100
    day = value % 100
    if (year < MIN_YEAR or year > MAX_YEAR or month < 1 or month > 12 or day < 1
            or day > kernel._days_in_month(year, month)):
        return np.int64(0), False
    return kernel._days_from_civil(year, month, day) * _NS_PER_DAY, True


@numba.njit(cache=True, nogil=True, parallel=True)
def parse_detail_records(buf, starts, ints, floats, keys, err_field, err_reason):
    """Parse the quote records at ``starts``; same outputs as :func:`.kernel.parse_records` with :data:`SPEC`.

    ``keys`` are :func:`text_key` hashes (not FNV-1a); only their equalities matter to the caller.
    """
    n = starts.shape[0]
    n_blocks = (n + RECORDS_PER_BLOCK - 1) // RECORDS_PER_BLOCK
    for block in numba.prange(n_blocks):
        parse_block(buf, starts, block * RECORDS_PER_BLOCK, min((block + 1) * RECORDS_PER_BLOCK, n), ints, floats,
                    keys, err_field, err_reason)


@numba.njit(cache=True, nogil=True)
def parse_block(buf, starts, first, stop, ints, floats, keys, err_field, err_reason):
    """Records ``first`` to ``stop - 1`` of :func:`parse_detail_records` (one thread's task)."""
    last_raw, last_ns = np.int64(-1), np.int64(0)            # one-entry caches of DATPRE and DATVEN
    last_expiry_raw, last_expiry_ns = np.int64(-1), np.int64(0)
    for i in range(first, stop):
        base = starts[i]
        ok = buf[base + O_TIPREG] == RECORD_TYPE[0] and buf[base + O_TIPREG + 1] == RECORD_TYPE[1]
        raw, bad = digits(buf, base + O_DATPRE, W_DATPRE)          # bad: OR of every check's failure bits
        if raw != last_raw:
            date_ns, good = _date_ns(raw)
            if good:
                last_raw, last_ns = raw, date_ns
            ok &= good
        ints[R_DATPRE, i] = last_ns
        value, bits = digits(buf, base + O_CODBDI, W_CODBDI)
        ints[R_CODBDI, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_TPMERC, W_TPMERC)
        ints[R_TPMERC, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_PRAZOT, W_PRAZOT)
        if bits:         # blank, or a non-digit (then the reference path below decides)
            ok &= (buf[base + O_PRAZOT] == 0x20 and buf[base + O_PRAZOT + 1] == 0x20
                   and buf[base + O_PRAZOT + 2] == 0x20)
            value = kernel.BLANK
        ints[R_PRAZOT, i] = value
        value, bits = digits(buf, base + O_PREABE, W_PREABE)
        floats[R_PREABE, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREMAX, W_PREMAX)
        floats[R_PREMAX, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREMIN, W_PREMIN)
        floats[R_PREMIN, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREMED, W_PREMED)
        floats[R_PREMED, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREULT, W_PREULT)
        floats[R_PREULT, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREOFC, W_PREOFC)
        floats[R_PREOFC, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_PREOFV, W_PREOFV)
        floats[R_PREOFV, i] = value / S_PRICE
        bad |= bits
        value, bits = digits(buf, base + O_TOTNEG, W_TOTNEG)
        ints[R_TOTNEG, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_QUATOT, W_QUATOT)
        ints[R_QUATOT, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_VOLTOT, W_VOLTOT)
        floats[R_VOLTOT, i] = value / S_VOLTOT
        bad |= bits
        value, bits = digits(buf, base + O_PREEXE, W_PREEXE)
        floats[R_PREEXE, i] = value / S_PREEXE
        bad |= bits
        value, bits = digits(buf, base + O_INDOPC, W_INDOPC)
        ints[R_INDOPC, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_DATVEN, W_DATVEN)
        bad |= bits
        if value == NEVER_EXPIRES:
            ints[R_DATVEN, i] = kernel.NAT
        else:
            if value != last_expiry_raw:
                date_ns, good = _date_ns(value)
                if good:
                    last_expiry_raw, last_expiry_ns = value, date_ns
                ok &= good
            ints[R_DATVEN, i] = last_expiry_ns
        value, bits = digits(buf, base + O_FATCOT, W_FATCOT)
        ints[R_FATCOT, i] = value
        bad |= bits
        value, bits = digits(buf, base + O_PTOEXE, W_PTOEXE)
        floats[R_PTOEXE, i] = value / S_PTOEXE
        bad |= bits
        value, bits = digits(buf, base + O_DISMES, W_DISMES)
        ints[R_DISMES, i] = value
        bad |= bits
        key, text_bad = text_key(buf, base)
        keys[i] = key
        if ok and (bad | text_bad) == 0:
            err_field[i] = -1
            err_reason[i] = 0
        else:            # the exact reference decides: first bad field and reason, values before it
            bad_field, reason, _ = kernel.parse_record(buf, base, i, _OFFSETS, _WIDTHS, _KINDS, _ROWS,
                                                       _SCALES, RECORD_TYPE, ints, floats)
            err_field[i] = bad_field
            err_reason[i] = reason


@numba.njit(cache=True, nogil=True, parallel=True)
def renumber_and_check(buf, starts, codes, bounds, global_of, first_starts):
    """Renumber chunk-local codes and check every record's text, in one pass over the records.

    ``codes``, ``bounds`` and ``global_of`` are those of :class:`.hashcodes.ChunkCodes` (chunk ``k``'s
    local code ``c`` becomes ``global_of[bounds[k] + c]``; nothing is renumbered when ``global_of`` is
    empty). Returns the index of the first record whose text differs from that of its code's first record
    (at ``first_starts[code]``), or -1; the codes are left unfinished then. Text is compared through the same
    words :func:`text_key` hashes (they cover exactly the text bytes).
    """
    n_chunks = bounds.shape[0] - 1
    found = np.full(n_chunks, -1, dtype=np.int64)
    renumber = global_of.shape[0] > 0
    for chunk in numba.prange(n_chunks):
        base = bounds[chunk]
        for i in range(base, bounds[chunk + 1]):
            code = global_of[base + codes[i]] if renumber else codes[i]
            codes[i] = code
            if not _same_text(buf, starts[i], first_starts[code]):
                found[chunk] = i
                break
    for chunk in range(n_chunks):
        if found[chunk] >= 0:
            return found[chunk]
    return -1


@numba.njit(inline="always")
def _same_words(buf, a, b, offset, width):
    same = True
    for c in range(width // 8):
        same = same and load_u64(buf, a + offset + 8 * c) == load_u64(buf, b + offset + 8 * c)
    tail = width % 8
    if tail:
        shift = _U(8 * (8 - tail))
        same = same and (load_u64(buf, a + offset + width - 8) >> shift) == (load_u64(buf, b + offset + width - 8)
                                                                             >> shift)
    return same


@numba.njit(inline="always")
def _same_text(buf, a, b):
    return (_same_words(buf, a, b, O_CODNEG, W_CODNEG) and _same_words(buf, a, b, O_NOMRES, W_NOMRES)
            and _same_words(buf, a, b, O_ESPECI, W_ESPECI) and _same_words(buf, a, b, O_MODREF, W_MODREF)
            and _same_words(buf, a, b, O_CODISI, W_CODISI))
