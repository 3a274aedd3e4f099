"""Numba kernel of the table-driven Monte Carlo (imported lazily: numba costs ~0.3 s to import).

The kernel draws its own random numbers: path ``p`` uses the per-path stream of
:mod:`._path_rng` (xoshiro256** seeded from ``(seed, p)``), taking at each step one uniform for
the bid, one for the ask, then the mid's normal (or, for the binomial mid, one fair sign). Each
path's result is thus a function of ``(seed, p)`` and the table only, and threads split the paths
(``numba.prange`` over blocks of :data:`PATHS_PER_BLOCK` paths): the output is byte-identical for
any thread count and any number of paths around it. The per-step update is the one of
``simulator._State.step`` (same operations, same order); only the random numbers differ from the
NumPy engine's, so the two engines agree in law, not path by path.

Paths advance step-major inside a block so the quote tables' row ``n`` stays in L1 while every
path of the block reads it; walking one path through all steps would instead chain a cache miss
on the table into every step's inventory update. The body is branch-free apart from the ziggurat's
rare slow branch (fills as 0/1 integers, gains of unquoted sides stored as 0) because fills are
random and a mispredicted branch per side costs more than the arithmetic.
"""

from __future__ import annotations

import numba
import numpy as np

from mfg_finance.market_making._path_rng import next_u64, normal, path_state, seed_key, to_unit

#: Paths advanced together by one thread (their state, ~20 KB, stays in L1 with the tables' row).
PATHS_PER_BLOCK = 128
_SIGN_BIT = np.uint64(1 << 63)


@numba.njit(cache=True, nogil=True)
def _advance_block(first, last, key, prob_b, prob_a, gain_b, gain_a, spread, quoted, n_steps, scale, drift,
                   binomial, Q, q, pnl, price, n_bid, n_ask, max_abs_q, spread_sum, spread_n):  # pragma: no cover
    """Paths ``first`` to ``last - 1`` of :func:`table_paths` (one block, one thread's task)."""
    rng = np.empty((last - first, 4), dtype=np.uint64)
    for p in range(first, last):
        rng[p - first, 0], rng[p - first, 1], rng[p - first, 2], rng[p - first, 3] = path_state(key, p)
    for n in range(n_steps):
        for p in range(first, last):
            r = p - first
            s0, s1, s2, s3 = rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3]
            x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            u_b = to_unit(x)
            x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
            u_a = to_unit(x)
            if binomial:
                x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
                d_price = drift + (scale if x & _SIGN_BIT else -scale)
            else:
                z, s0, s1, s2, s3 = normal(s0, s1, s2, s3)
                d_price = drift + scale * z
            rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3] = s0, s1, s2, s3
            qi = q[p]
            j = qi + Q
            fill_b = np.int64(u_b < prob_b[n, j])
            fill_a = np.int64(u_a < prob_a[n, j])
            spread_sum[p] += spread[n, j]
            spread_n[p] += quoted[n, j]
            qi = qi + fill_b - fill_a
            wealth = pnl[p] + fill_b * gain_b[n, j]
            wealth = wealth + fill_a * gain_a[n, j]
            n_bid[p] += fill_b
            n_ask[p] += fill_a
            pnl[p] = wealth + qi * d_price
            price[p] += d_price
            q[p] = qi
            max_abs_q[p] = max(max_abs_q[p], abs(qi))


@numba.njit(cache=True, nogil=True, parallel=True)
def table_paths(prob_b, prob_a, gain_b, gain_a, spread, quoted, n_steps, seed, scale, drift, binomial,
                Q, q, pnl, price, n_bid, n_ask, max_abs_q, spread_sum, spread_n):  # pragma: no cover
    """Advance every path by ``n_steps`` steps from its state, in place. Tables are ``[step, q + Q]``."""
    n_paths = q.shape[0]
    key = seed_key(seed)
    n_blocks = (n_paths + PATHS_PER_BLOCK - 1) // PATHS_PER_BLOCK
    for b in numba.prange(n_blocks):
        _advance_block(b * PATHS_PER_BLOCK, min((b + 1) * PATHS_PER_BLOCK, n_paths), key, prob_b, prob_a, gain_b,
                       gain_a, spread, quoted, n_steps, scale, drift, binomial, Q, q, pnl, price, n_bid, n_ask,
                       max_abs_q, spread_sum, spread_n)


@numba.njit(cache=True, nogil=True)
def table_paths_serial(prob_b, prob_a, gain_b, gain_a, spread, quoted, n_steps, seed, scale, drift, binomial,
                       Q, q, pnl, price, n_bid, n_ask, max_abs_q, spread_sum, spread_n):  # pragma: no cover
    """:func:`table_paths` block after block on one thread (the same output; numba compiles no parallel
    variant for it: a pipeline job has one thread unless its rule says otherwise)."""
    n_paths = q.shape[0]
    key = seed_key(seed)
    for first in range(0, n_paths, PATHS_PER_BLOCK):
        _advance_block(first, min(first + PATHS_PER_BLOCK, n_paths), key, prob_b, prob_a, gain_b, gain_a, spread,
                       quoted, n_steps, scale, drift, binomial, Q, q, pnl, price, n_bid, n_ask, max_abs_q,
                       spread_sum, spread_n)
