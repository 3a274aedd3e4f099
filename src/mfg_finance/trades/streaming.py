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


class _Lines:
    """Line offsets and kernel outputs written piece after piece into arrays sized once (an estimate of the
    line count; grown by half when it falls short): no piece is copied or joined at the end, and the
    untouched tail of an array costs no memory. ``allocate(n, conditions=, zeroed=)`` gives the kernels'
    outputs (uninitialised here; each piece's part is zeroed before the kernel fills it)."""

    def __init__(self, layout: str, allocate: Callable, capacity: int):
        self.layout, self.allocate, self.n_lines, self.n_parsed = layout, allocate, 0, 0
        self.starts, self.ends = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
        self.o, self.err_field, self.err_reason = allocate(capacity, conditions=layout == NEG, zeroed=False)

    def _grow_lines(self, need: int) -> None:
        size = max(need, self.starts.size + self.starts.size // 2)
        for name in ("starts", "ends"):
            old, new = getattr(self, name), np.empty(size, np.int64)
            new[:self.n_lines] = old[:self.n_lines]
            setattr(self, name, new)

    def _grow_parsed(self, need: int) -> None:
        size = max(need, self.err_field.size + self.err_field.size // 2)
        o, err_field, err_reason = self.allocate(size, conditions=self.layout == NEG, zeroed=False)
        for new, old in zip((*o, err_field, err_reason), (*self.o, self.err_field, self.err_reason)):
            if old.size:                        # the NEGOCIOS outputs hold no order conditions
                new[:self.n_parsed] = old[:self.n_parsed]
        self.o, self.err_field, self.err_reason = o, err_field, err_reason

    def add(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, first_piece: bool) -> None:
        """Record a piece's lines and parse those the layout parses (NEG: 237 bytes; NEGOCIOS: non-empty,
        after the header)."""
        k = starts.size
        if self.n_lines + k > self.starts.size:
            self._grow_lines(self.n_lines + k)
        self.starts[self.n_lines:self.n_lines + k] = starts
        self.ends[self.n_lines:self.n_lines + k] = ends
        self.n_lines += k
        if self.layout == NEG:
            sel = (ends - starts) == NEG_LINE_BYTES
        else:
            sel = ends > starts
            if first_piece and sel.size:
                sel[0] = False                  # the NEGOCIOS column names
        s = starts[sel]
        m, lo = s.size, self.n_parsed
        if lo + m > self.err_field.size:
            self._grow_parsed(lo + m)
        o = type(self.o)(*(a[lo:lo + m] if a.size else a for a in self.o))      # views: the kernel writes in place
        for view in o:
            view[...] = 0                       # as the reader's zeroed arrays, only where used
        if self.layout == NEG:
            fast_kernels.parse_fixed(buf, s, o, self.err_field[lo:lo + m], self.err_reason[lo:lo + m])
        else:
            fast_kernels.parse_delimited(buf, s, ends[sel], NEGOCIOS_MAX_DECIMALS, o, self.err_field[lo:lo + m],
                                         self.err_reason[lo:lo + m])
        self.n_parsed += m

    def result(self):
        n = self.n_parsed
        o = type(self.o)(*(a[:n] if a.size else a for a in self.o))
        parsed = Parsed(self.layout, n, o, self.err_field[:n], self.err_reason[:n])
        return self.starts[:self.n_lines], self.ends[:self.n_lines], parsed


def _capacity(layout: str, size: int, piece_lines: int, piece_bytes: int) -> int:
    """Lines to allocate for: exact bound for NEG (237 bytes and a line end each), else the first piece's mean
    line length with 5% more (an array's unused tail may still cost memory when the allocator reuses freed
    pages for it)."""
    if layout == NEG:
        return size // (NEG_LINE_BYTES + 1) + 2
    return int(size / max(piece_bytes, 1) * piece_lines * 1.05) + 1024


def _stream(inflater: MemberInflater, allocate: Callable, piece_bytes: int):
    """Frame and parse whole lines as they arrive. Returns ``(starts, ends, Parsed | None)``."""
    buf, size = inflater.data, inflater.data.size
    lines: _Lines | None = None
    done = 0
    while done < size:
        filled = inflater.wait(min(done + piece_bytes, size))
        stop = size if filled == size else _last_line_end(buf, done, filled)
        if stop == done:                        # no whole line yet (a line longer than a piece)
            inflater.wait(filled + piece_bytes)
            continue
        s, e = fast_kernels.line_bounds(buf[done:stop])
        s += done
        e += done
        if lines is None:
            layout = _layout_of(buf[s[0]:e[0]].tobytes())
            if layout is None:                  # the reader's whole-text path names the problem
                inflater.join()
                return None
            lines = _Lines(layout, allocate, _capacity(layout, size, s.size, stop))
        lines.add(buf, s, e, done == 0)
        done = stop
    inflater.join()
    if lines is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), None
    return lines.result()


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
