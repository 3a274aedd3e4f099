"""Splitting a file's bytes into 245-byte records, without a per-line Python loop.

A well-formed file is a sequence of 247-byte lines (245 bytes + CRLF): it is recognised in one
vectorized check and its records are read in place. Anything else (a line of the wrong length, LF
line ends, a missing final line end) goes through the general path, which finds the line ends
with NumPy and keeps every line whose content is exactly 245 bytes.

Lines are framed one way per file, decided by its first line end: if it is CRLF, only CRLF ends a
line and a lone LF is a byte of the record (which the field checks then reject, on the right line
number: the same answer as the fast path gives); otherwise every LF ends a line and a CR just
before it is dropped. The general path scans the file in chunks and keeps only the good lines'
offsets plus the first :data:`MAX_BAD_LINES_LISTED` bad ones (all are counted), so its memory is a
fraction of the file's size whatever the file holds (a file of newlines has one line a byte).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from mfg_finance.cotahist.layout import LINE_BYTES, RECORD_BYTES
from mfg_finance.job_threads import parallel_kernels

_SCAN_CHUNK = 1 << 21  # bytes scanned per step (bounds the temporaries: ~40 bytes per line in a chunk)
#: Bad lines whose number and length are kept (every one is counted in ``Framing.n_bad``).
MAX_BAD_LINES_LISTED = 1000


@dataclass(frozen=True)
class Framing:
    """Where the records of one file are.

    Attributes
    ----------
    starts : ndarray of int64
        Offset of the first byte of each line whose content is 245 bytes, in file order.
    line_numbers : ndarray of int64
        1-based line number of each of those lines.
    bad_line_numbers, bad_lengths : ndarray of int64
        The first :data:`MAX_BAD_LINES_LISTED` lines whose content is not 245 bytes, and their
        length (bytes, line end excluded).
    n_lines : int
        Number of lines in the file.
    n_bad : int
        Number of lines whose content is not 245 bytes (listed or not).
    """

    starts: np.ndarray
    line_numbers: np.ndarray
    bad_line_numbers: np.ndarray
    bad_lengths: np.ndarray
    n_lines: int
    n_bad: int = 0


def _regular(buf: np.ndarray) -> bool:
    """Whether ``buf`` is a whole number of 245-byte + CRLF lines (the common case)."""
    if buf.size == 0 or buf.size % LINE_BYTES:
        return False
    if parallel_kernels(buf.size):
        return _crlf_every_line(buf)
    ends = buf.reshape(-1, LINE_BYTES)[:, RECORD_BYTES:]         # one thread: NumPy, nothing to compile
    return bool((ends[:, 0] == 13).all() and (ends[:, 1] == 10).all())


_LINES_PER_BLOCK = 1 << 16


@numba.njit(cache=True, nogil=True, parallel=True)
def _crlf_every_line(buf):
    """Whether every 247-byte line of ``buf`` ends in CRLF (blocks of lines over the threads)."""
    n = buf.shape[0] // LINE_BYTES
    n_blocks = (n + _LINES_PER_BLOCK - 1) // _LINES_PER_BLOCK
    bad = np.zeros(n_blocks, dtype=np.bool_)
    for block in numba.prange(n_blocks):
        for i in range(block * _LINES_PER_BLOCK, min((block + 1) * _LINES_PER_BLOCK, n)):
            end = i * LINE_BYTES + RECORD_BYTES
            if buf[end] != 13 or buf[end + 1] != 10:
                bad[block] = True
                break
    return not bad.any()


def crlf_framed(buf: np.ndarray) -> bool:
    """Whether the file's first line end is CRLF (then only CRLF ends a line, see module docstring)."""
    for i in range(0, buf.size, _SCAN_CHUNK):
        hits = np.flatnonzero(buf[i:i + _SCAN_CHUNK] == 10)
        if hits.size:
            first = i + int(hits[0])
            return first > 0 and buf[first - 1] == 13
    return False


def frame(buf: np.ndarray) -> Framing:
    """Locate the records of a COTAHIST file.

    Parameters
    ----------
    buf : ndarray of uint8
        The whole file's bytes.
    """
    if _regular(buf):
        n = buf.size // LINE_BYTES
        empty = np.empty(0, dtype=np.int64)
        return Framing(np.arange(n, dtype=np.int64) * LINE_BYTES, np.arange(1, n + 1, dtype=np.int64),
                       empty, empty, n)
    crlf = crlf_framed(buf)
    lines = _LineSorter(buf)
    line_start = 0                                   # first byte of the line in progress
    for i in range(0, buf.size, _SCAN_CHUNK):
        ends = np.flatnonzero(buf[i:i + _SCAN_CHUNK] == 10) + i      # LF offsets
        if crlf:
            ends = ends[(ends > 0) & (buf[np.maximum(ends - 1, 0)] == 13)]
        if not ends.size:
            continue
        starts = np.empty(ends.size, dtype=np.int64)
        starts[0] = line_start
        starts[1:] = ends[:-1] + 1
        line_start = int(ends[-1]) + 1
        lines.add(starts, ends, cr_before_end=True if crlf else None)
    if line_start < buf.size:                        # a last line without a line end
        lines.add(np.array([line_start], dtype=np.int64), np.array([buf.size], dtype=np.int64),
                  cr_before_end=None)
    return lines.framing()


class _LineSorter:
    """Accumulates lines chunk by chunk: offsets of the good ones, the first bad ones, counts."""

    def __init__(self, buf: np.ndarray):
        self.buf = buf
        self.good_starts, self.good_numbers, self.bad_numbers, self.bad_lengths = [], [], [], []
        self.n_lines = self.n_bad = self.n_listed = 0

    def add(self, starts: np.ndarray, ends: np.ndarray, *, cr_before_end: bool | None) -> None:
        """Lines ``[starts, ends)`` (``ends`` at the LF or the end of the file), in file order.

        ``cr_before_end``: True when every line end is CRLF; None to look for a CR before each end.
        """
        if cr_before_end is None:
            cr = (ends > starts) & (self.buf[np.maximum(ends - 1, 0)] == 13)
        else:
            cr = np.ones(ends.size, dtype=bool)
        lengths = ends - starts - cr
        good = lengths == RECORD_BYTES
        numbers = np.arange(self.n_lines + 1, self.n_lines + 1 + ends.size, dtype=np.int64)
        self.n_lines += ends.size
        self.good_starts.append(starts[good])
        self.good_numbers.append(numbers[good])
        bad = np.flatnonzero(~good)
        self.n_bad += bad.size
        listed = bad[:max(MAX_BAD_LINES_LISTED - self.n_listed, 0)]
        if listed.size:
            self.bad_numbers.append(numbers[listed])
            self.bad_lengths.append(lengths[listed])
            self.n_listed += listed.size

    def framing(self) -> Framing:
        def joined(parts):
            return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.empty(0, dtype=np.int64)

        return Framing(joined(self.good_starts), joined(self.good_numbers), joined(self.bad_numbers),
                       joined(self.bad_lengths), self.n_lines, self.n_bad)
