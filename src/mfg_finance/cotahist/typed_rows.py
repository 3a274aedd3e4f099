"""Typed copies of integer rows in one parallel pass: the parser's integer columns and text codes.

The record kernel gives every integer field as an int64 row and every record one code of its distinct text
combination; pandas stores each column at its own width (int8 ... int64; categorical codes int8 ... int32).
:func:`typed_rows` writes all of a file's rows into outputs of those widths at once, each row either copied
(:func:`.parser._narrowed_columns`) or taken through the records' codes (:func:`.textcodes._take_codes`).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

#: Records per parallel task of :func:`typed_rows`.
_BLOCK = 1 << 14


@numba.njit(cache=True, nogil=True, parallel=True)
def typed_rows(values, sources, index, widths, targets, blank_rows, out8, out16, out32, out64, blank):
    """``out[targets[k], i] = values[sources[k], index[i]]`` for every ``k``, in one parallel pass over the records
    (``index`` None: ``values[sources[k], i]``, a plain copy).

    ``widths[k]`` (0-3) picks the output (``out8``, ``out16``, ``out32``, ``out64``: int8 to int64, one row per
    target). When ``blank_rows[k] >= 0`` the source is an optional integer: a blank (negative) value becomes 0
    with ``blank[blank_rows[k], i]`` True (pandas' nullable integers), others keep theirs. Values must fit
    their output (the layout's field widths and the category counts guarantee it).
    """
    n = values.shape[1] if index is None else index.shape[0]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for block in numba.prange(n_blocks):
        lo, hi = block * _BLOCK, min((block + 1) * _BLOCK, n)
        for k in range(sources.shape[0]):       # row by row: plain loops the compiler vectorizes
            src, dst, optional = values[sources[k]], targets[k], blank_rows[k] >= 0
            if optional:
                _blanks(src, index, blank[blank_rows[k]], lo, hi)
            if widths[k] == 0:
                _copy(src, index, out8[dst], lo, hi, optional)
            elif widths[k] == 1:
                _copy(src, index, out16[dst], lo, hi, optional)
            elif widths[k] == 2:
                _copy(src, index, out32[dst], lo, hi, optional)
            else:
                _copy(src, index, out64[dst], lo, hi, optional)


@njit(inline="always")
def _blanks(src, index, mask, lo, hi):
    if index is None:
        for i in range(lo, hi):
            mask[i] = src[i] < 0
    else:
        for i in range(lo, hi):
            mask[i] = src[index[i]] < 0


@njit(inline="always")
def _copy(src, index, dst, lo, hi, optional):
    if index is None:
        if optional:                           # a blank (negative) becomes 0
            for i in range(lo, hi):
                dst[i] = max(src[i], 0)
        else:
            for i in range(lo, hi):
                dst[i] = src[i]
    elif optional:
        for i in range(lo, hi):
            dst[i] = max(src[index[i]], 0)
    else:
        for i in range(lo, hi):
            dst[i] = src[index[i]]


def no_blanks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(out64, blank)`` placeholders for rows that need no int64 output and hold no optional integer."""
    return np.empty((0, n), dtype=np.int64), np.empty((0, n), dtype=np.bool_)
