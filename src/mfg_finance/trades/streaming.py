"""Parsing a zipped trade file while it is inflated: whole lines are framed and parsed on one core while the
next piece of the member is inflated on another (:mod:`.inflate`).

The result is the one :func:`~mfg_finance.trades.reader.parse_session` would compute from the whole text: the
same line offsets (:func:`.fast_kernels.line_bounds`, run piece by piece on pieces that end after a line end, so
no line is cut) and the same kernel outputs for the lines the layout parses (NEG: the lines of 237 bytes;
NEGOCIOS: the non-empty lines after the header), concatenated in file order. The reader uses them only when
its own selection of lines has the same count (it then is the same set); anything unusual (a damaged line, an
unknown layout, a failed inflate) is left to the reader's whole-text path, whose messages name file, line
and field. The text is the member's bytes in either case, so the output does not depend on the path taken
(``tests/trades/test_trades_zip_stream.py``).

Threads: the inflate runs in a thread of its own and the kernels on the rest of the process's budget
(``NUMBA_NUM_THREADS``, the pipeline job's ``threads``): with a budget of one thread, or a member smaller than
:data:`STREAM_MIN_BYTES`, the member is inflated first and parsed afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mfg_finance.cotahist.source import SourceFile
from mfg_finance.trades import fast_kernels
from mfg_finance.trades.inflate import InflateError, MemberInflater, open_member
from mfg_finance.trades.layout import NEG_HEADER, NEG_LINE_BYTES, NEGOCIOS_HEADER, NEGOCIOS_MAX_DECIMALS

#: Members at least this large are parsed while they are inflated (smaller ones gain nothing from it).
STREAM_MIN_BYTES = 1 << 23
#: Text framed and parsed at a time (bytes): a piece ends after the last line end it holds.
PIECE_BYTES = 1 << 23
#: Bytes looked at before the rest is read (the readers' first-line check).
SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"
NEG, NEGOCIOS = "neg", "negocios"


@dataclass
class Parsed:
    """Kernel outputs of the lines a layout parses, in file order (``o``: the reader's outputs tuple)."""

    layout: str
    count: int
    o: tuple
    err_field: np.ndarray
    err_reason: np.ndarray


def _thread_budget() -> int:
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    budget = int(value) if value.isdigit() and int(value) > 0 else (os.cpu_count() or 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(budget, cores)


def _layout_of(first: bytes) -> str | None:
    if first[:2] == NEG_HEADER:
        return NEG
    if first.removeprefix(_BOM).decode("latin-1") == NEGOCIOS_HEADER:
        return NEGOCIOS
    return None


def _last_line_end(buf: np.ndarray, start: int, stop: int) -> int:
    """Offset just after the last LF in ``buf[start:stop]``, ``start`` when there is none."""
    width = 1 << 16
    while True:
        lo = max(start, stop - width)
        hits = np.flatnonzero(buf[lo:stop] == 10)
        if hits.size:
            return lo + int(hits[-1]) + 1
        if lo == start:
            return start
        width *= 4


def _sniffed(inflater: MemberInflater, sniff: Callable, path) -> None:
    size = inflater.data.size
    filled = inflater.wait(min(SNIFF_BYTES, size))
    head = inflater.data[:min(filled, SNIFF_BYTES)].tobytes()
    sniff(head, whole=filled >= size and size <= SNIFF_BYTES, path=path)


def _parse_piece(buf, starts, ends, layout, first_piece, allocate):
    if layout == NEG:
        sel = (ends - starts) == NEG_LINE_BYTES
    else:
        sel = ends > starts
        if first_piece and sel.size:
            sel[0] = False                      # the NEGOCIOS column names
    s = starts[sel]
    o, err_field, err_reason = allocate(s.size, conditions=layout == NEG)
    if layout == NEG:
        fast_kernels.parse_fixed(buf, s, o, err_field, err_reason)
    else:
        fast_kernels.parse_delimited(buf, s, ends[sel], NEGOCIOS_MAX_DECIMALS, o, err_field, err_reason)
    return o, err_field, err_reason


def _concat(parts: list) -> np.ndarray:
    out = np.concatenate(parts) if len(parts) != 1 else parts[0]
    parts.clear()                               # each piece is freed once joined: one array's worth extra
    return out


def _stream(inflater: MemberInflater, allocate: Callable, piece_bytes: int):
    """Frame and parse whole lines as they arrive. Returns ``(starts, ends, Parsed | None)``."""
    buf, size = inflater.data, inflater.data.size
    starts, ends, outs, errs, reasons = [], [], [], [], []
    layout, done = None, 0
    while done < size:
        filled = inflater.wait(min(done + piece_bytes, size))
        stop = size if filled == size else _last_line_end(buf, done, filled)
        if stop == done:                        # no whole line yet (a line longer than a piece)
            filled = inflater.wait(filled + piece_bytes)
            continue
        s, e = fast_kernels.line_bounds(buf[done:stop])
        s += done
        e += done
        if layout is None:
            layout = _layout_of(buf[s[0]:e[0]].tobytes())
            if layout is None:                  # the reader's whole-text path names the problem
                inflater.join()
                return None
        o, err_field, err_reason = _parse_piece(buf, s, e, layout, done == 0, allocate)
        starts.append(s), ends.append(e), outs.append(o), errs.append(err_field), reasons.append(err_reason)
        done = stop
    inflater.join()
    if layout is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), None
    columns = [_concat([o[i] for o in outs]) for i in range(len(outs[0]))]
    o = type(outs[0])(*columns)
    outs.clear()
    parsed = Parsed(layout, int(o[0].size), o, _concat(errs), _concat(reasons))
    return _concat(starts), _concat(ends), parsed


def read_zip(path, *, checksum: bool, sniff: Callable, allocate: Callable):
    """``(SourceFile, line starts, line ends, Parsed | None)`` of a plain trade-file ZIP, the lines framed and
    parsed while the member is inflated; ``(SourceFile, None, None, None)`` when it was inflated first (one
    thread, or a small member: the caller frames and parses); ``None`` when the file is not the plain case
    or the inflate failed (the caller's reference reader then reads it, or says what is wrong).

    ``sniff(head, whole=, path=)`` checks the first bytes before the rest is waited for (its error is raised);
    ``allocate(n, conditions=)`` gives the kernels' output arrays.
    """
    inflater = open_member(path, checksum=checksum)
    if inflater is None:
        return None
    budget = _thread_budget()
    if budget < 2 or inflater.data.size < STREAM_MIN_BYTES:
        inflater.run()
        try:
            _sniffed(inflater, sniff, path)
            inflater.join()
        except InflateError:
            return None
        return _source(inflater), None, None, None
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, budget - 1)))   # the inflate thread takes one of the budget
    inflater.start()
    try:
        _sniffed(inflater, sniff, path)
        framed = _stream(inflater, allocate, PIECE_BYTES)
    except InflateError:
        inflater.cancel()
        return None
    except BaseException:
        inflater.cancel()
        raise
    finally:
        numba.set_num_threads(threads)
    if framed is None:
        return _source(inflater), None, None, None
    return (_source(inflater), *framed)


def _source(inflater: MemberInflater) -> SourceFile:
    return SourceFile(inflater.path, inflater.size_bytes, inflater.sha256, inflater.member, inflater.data)
