"""Numba kernel of the table-driven Monte Carlo step (imported lazily: numba costs ~0.3 s to import).

It performs exactly the operations of ``simulator._State.step`` in the same order, so both
engines give bit-identical paths for the same random numbers. The body is branch-free (fills as
0/1 integers, gains of unquoted sides stored as 0) because fills are random and a mispredicted
branch per side costs more than the arithmetic.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def table_block(prob_b, prob_a, gain_b, gain_a, spread, quoted, step0, z, u_b, u_a, scale, drift, binomial,
                Q, q, pnl, price, n_bid, n_ask, max_abs_q, spread_sum, spread_n):  # pragma: no cover
    """Advance every path by ``z.shape[0]`` steps, in place. Tables are indexed ``[step, q + Q]``."""
    n_block, n_paths = z.shape
    for i in range(n_block):
        n = step0 + i
        for p in range(n_paths):
            qi = q[p]
            j = qi + Q
            fill_b = np.int64(u_b[i, p] < prob_b[n, j])
            fill_a = np.int64(u_a[i, p] < prob_a[n, j])
            spread_sum[p] += spread[n, j]
            spread_n[p] += quoted[n, j]
            qi = qi + fill_b - fill_a
            wealth = pnl[p] + fill_b * gain_b[n, j]
            wealth = wealth + fill_a * gain_a[n, j]
            n_bid[p] += fill_b
            n_ask[p] += fill_a
            if binomial:
                d_price = drift + (scale if z[i, p] >= 0.0 else -scale)
            else:
                d_price = drift + scale * z[i, p]
            pnl[p] = wealth + qi * d_price
            price[p] += d_price
            q[p] = qi
            max_abs_q[p] = max(max_abs_q[p], abs(qi))
