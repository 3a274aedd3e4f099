"""Splitting a file's bytes into 245-byte records, without a per-line Python loop.

A well-formed file is a sequence of 247-byte lines (245 bytes + CRLF): it is recognised in one
vectorized check and its records are read in place. Anything else (a line of the wrong length, LF
line ends, a missing final line end) goes through the general path, which finds the line ends
with NumPy and keeps every line whose content is exactly 245 bytes (LF or CRLF terminated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.cotahist.layout import LINE_BYTES, RECORD_BYTES

_SCAN_CHUNK = 1 << 24  # bytes scanned per step for line ends (bounds the temporary mask)


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
        Lines whose content is not 245 bytes, and their length (bytes, line end excluded).
    n_lines : int
        Number of lines in the file.
    """

    starts: np.ndarray
    line_numbers: np.ndarray
    bad_line_numbers: np.ndarray
    bad_lengths: np.ndarray
    n_lines: int


def _regular(buf: np.ndarray) -> bool:
    """Whether ``buf`` is a whole number of 245-byte + CRLF lines (the common case)."""
    if buf.size == 0 or buf.size % LINE_BYTES:
        return False
    lines = buf.reshape(-1, LINE_BYTES)
    return bool((lines[:, RECORD_BYTES] == 13).all() and (lines[:, RECORD_BYTES + 1] == 10).all())


def _line_ends(buf: np.ndarray) -> np.ndarray:
    """Offsets of every LF byte, scanned in chunks so the temporary mask stays small."""
    parts = [np.flatnonzero(buf[i:i + _SCAN_CHUNK] == 10) + i for i in range(0, buf.size, _SCAN_CHUNK)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


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
    newlines = _line_ends(buf).astype(np.int64, copy=False)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [buf.size])).astype(np.int64)
    if starts[-1] == buf.size:  # the file ends with a line end: no unterminated last line
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13) if ends.size else ends.astype(bool)
    lengths = ends - starts - has_cr
    line_numbers = np.arange(1, starts.size + 1, dtype=np.int64)
    good = lengths == RECORD_BYTES
    return Framing(starts[good], line_numbers[good], line_numbers[~good], lengths[~good], int(starts.size))
