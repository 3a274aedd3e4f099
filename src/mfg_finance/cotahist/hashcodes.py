"""Factorizing 64-bit keys over numba's threads: the codes :func:`pandas.factorize` gives, in parallel.

``codes[i]`` numbers the distinct keys in order of first appearance (code 0 is ``keys[0]``'s), exactly as
``pandas.factorize(keys)`` (``sort=False``), and ``first[c]`` is the index of the first key with code ``c``.

The keys are cut into one chunk per thread. Each chunk is factorized on its own (an open-addressing hash
table with linear probing, grown to stay at most half full, so it stays in cache for the tens of thousands
of distinct keys of a year's file): local codes in first-appearance order within the chunk. The chunks'
distinct keys are then merged in chunk order, which numbers them in global first-appearance order (a key's
first appearance is in the first chunk holding it, at its first position there), and the caller renumbers
the local codes in a parallel pass of its own. The answer does not depend on the number of chunks (tests
compare it with pandas for several chunk counts). Serial work: one table insert per distinct key per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIN_BITS = 12
#: Keys per chunk at least (smaller inputs take fewer chunks: a chunk per thread costs a table each).
MIN_CHUNK = 1 << 15


@numba.njit(inline="always")
def _slot(key, shift):
    return np.int64((key * _GOLDEN) >> shift)     # Fibonacci hashing: the high bits of the product


@numba.njit(cache=True, nogil=True)
def _grow(table_keys, table_codes, bits):
    """The table with twice the slots, every entry reinserted."""
    bits += 1
    size = np.int64(1) << bits
    shift = np.uint64(64 - bits)
    new_keys = np.empty(size, dtype=np.uint64)
    new_codes = np.full(size, -1, dtype=np.int64)
    for s in range(table_codes.shape[0]):
        if table_codes[s] >= 0:
            key = table_keys[s]
            t = _slot(key, shift)
            while new_codes[t] >= 0:
                t = (t + 1) & (size - 1)
            new_keys[t] = key
            new_codes[t] = table_codes[s]
    return new_keys, new_codes, bits


@numba.njit(cache=True, nogil=True)
def factorize_range(keys, start, stop, codes, first):
    """Factorize ``keys[start:stop]``: ``codes[i]`` local codes (first appearance in the range),
    ``first[start + c]`` the index of code ``c``'s first key; returns the number of distinct keys."""
    bits = _MIN_BITS
    size = np.int64(1) << bits
    table_keys = np.empty(size, dtype=np.uint64)
    table_codes = np.full(size, -1, dtype=np.int64)
    shift = np.uint64(64 - bits)
    n_unique = 0
    for i in range(start, stop):
        key = keys[i]
        s = _slot(key, shift)
        while True:
            c = table_codes[s]
            if c < 0:                                # a new key
                table_keys[s] = key
                table_codes[s] = n_unique
                codes[i] = n_unique
                first[start + n_unique] = i
                n_unique += 1
                if 2 * n_unique > size:              # keep the table at most half full
                    table_keys, table_codes, bits = _grow(table_keys, table_codes, bits)
                    size = np.int64(1) << bits
                    shift = np.uint64(64 - bits)
                break
            if table_keys[s] == key:
                codes[i] = c
                break
            s = (s + 1) & (size - 1)
    return n_unique


@numba.njit(cache=True, nogil=True, parallel=True)
def _factorize_chunks(keys, bounds, codes, first, counts):
    for chunk in numba.prange(bounds.shape[0] - 1):
        counts[chunk] = factorize_range(keys, bounds[chunk], bounds[chunk + 1], codes, first)


@dataclass(frozen=True)
class ChunkCodes:
    """Keys factorized chunk by chunk, before the local codes are renumbered (see :func:`factorize_chunks`).

    ``codes[i]`` is key ``i``'s code local to its chunk (``bounds[k] <= i < bounds[k + 1]``), and
    ``global_of[bounds[k] + c]`` chunk ``k``'s local code ``c`` as a global code; ``global_of`` is empty
    when there is one chunk (the codes are then global already). ``first[c]`` is the index of the first
    key with global code ``c``.
    """

    codes: np.ndarray
    bounds: np.ndarray
    global_of: np.ndarray
    first: np.ndarray


def factorize_chunks(keys: np.ndarray, n_chunks: int) -> ChunkCodes:
    """Factorize ``keys`` (uint64) in up to ``n_chunks`` parallel chunks (see module docstring).

    Renumbering the local codes is left to the caller, whose own pass over the records does it on the way
    (:func:`.detail_kernel.renumber_and_check`): ``global_of[codes[i] + bounds[k]]`` for key ``i`` of
    chunk ``k``.
    """
    n = keys.shape[0]
    n_chunks = max(1, min(int(n_chunks), n // MIN_CHUNK))
    bounds = np.array([n * k // n_chunks for k in range(n_chunks + 1)], dtype=np.int64)
    codes = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)          # chunk k's first indices at first[bounds[k]:]
    counts = np.zeros(n_chunks, dtype=np.int64)
    _factorize_chunks(keys, bounds, codes, first, counts)   # also for one chunk: one kernel to compile
    if n_chunks == 1:
        return ChunkCodes(codes, bounds, np.empty(0, dtype=np.int64), first[:counts[0]].copy())
    # the chunks' distinct keys, in chunk order and first appearance within each: global first appearance
    local_first = np.concatenate([first[b:b + c] for b, c in zip(bounds[:-1], counts)])
    merged_codes = np.empty(local_first.size, dtype=np.int64)
    merged_first = np.empty(local_first.size, dtype=np.int64)
    n_unique = factorize_range(keys[local_first], 0, local_first.size, merged_codes, merged_first)
    global_first = local_first[merged_first[:n_unique]]
    global_of = first                            # reused: chunk k's local code c -> global code, at bounds[k] + c
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for k in range(n_chunks):
        global_of[bounds[k]:bounds[k] + counts[k]] = merged_codes[offsets[k]:offsets[k + 1]]
    return ChunkCodes(codes, bounds, global_of, global_first)

