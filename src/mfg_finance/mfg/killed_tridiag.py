r"""Tridiagonal solves with ``M = (1 + dt r) I - dt A`` for a Markov generator ``A`` and a rate ``r >= 0``.

The common-noise and multi-type systems are linear parabolic equations with a *killing* (discount)
rate ``r_i >= 0`` on top of the upwind generator of :mod:`mfg_finance.mfg.hjb` (jump rates
``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]``, rows of ``A`` summing to zero). Then ``M`` is an
M-matrix whose row ``i`` sums to ``1 + dt r_i >= 1``, and the GTH pivots of
:mod:`mfg_finance.mfg.tridiag` carry over with the row sums changed::

    s_0 = 1 + dt r_0,   s_i = 1 + dt r_i + a_i s_{i-1} / p_{i-1},   p_i = s_i + c_i,

``a_i = dt down[i-1]``, ``c_i = dt up[i]``, multipliers ``l_i = a_i / p_{i-1}``. Every operation adds
non-negative numbers, so the solve is stable for any ``dt`` and keeps a non-negative right-hand side
non-negative (the discrete maximum principle of the monotone scheme).
"""

from __future__ import annotations

import numba
import numpy as np

from mfg_finance.mfg.tridiag import solve


@numba.njit(cache=True)
def solve_killed(up: np.ndarray, down: np.ndarray, rate: np.ndarray, dt: float, b: np.ndarray) -> np.ndarray:
    """Solve ``((1 + dt rate) I - dt A) x = b`` (one factorisation, two substitutions)."""
    n = b.size
    piv = np.empty(n)
    mult = np.empty(n - 1)
    excess = 1.0 + dt * rate[0]
    piv[0] = 1.0 / (excess + (dt * up[0] if n > 1 else 0.0))     # reciprocal pivots, as tridiag.factor
    for i in range(1, n):
        a = dt * down[i - 1]
        inverse = piv[i - 1]
        mult[i - 1] = a * inverse
        excess = 1.0 + dt * rate[i] + a * (excess * inverse)
        piv[i] = 1.0 / (excess + (dt * up[i] if i < n - 1 else 0.0))
    return solve(piv, mult, up, dt, b)      # the substitutions are those of the plain step
