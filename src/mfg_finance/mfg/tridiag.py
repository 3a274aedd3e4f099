r"""Componentwise-accurate tridiagonal solves with ``M = I - dt A`` for a Markov generator ``A``.

``A`` has jump rates ``up[i] = A[i, i+1] >= 0`` and ``down[i] = A[i+1, i] >= 0`` and rows summing
to zero, so ``M`` is an M-matrix whose rows sum to exactly 1. Its LU factorisation ``M = L U``
is computed with the GTH (Grassmann-Taksar-Heyman) form of the pivots::

    s_0 = 1,   s_i = 1 + a_i s_{i-1} / p_{i-1},   p_i = s_i + c_i,
    a_i = dt down[i-1] = |M[i, i-1]|,   c_i = dt up[i] = |M[i, i+1]|,   l_i = a_i / p_{i-1},

where ``s_i`` is the row sum of the reduced matrix. Every operation of the factorisation and of
both substitutions is a sum of non-negative terms (for a right-hand side ``>= 0``), so:

* the solution is accurate *componentwise* (relative error O(n eps) at every node), not only
  relative to the largest entry. This matters: the value function spans 1e-4 (near ``q = 0``,
  where the density lives) to 1e2 (at the edges); a pivoting LAPACK solve (``gbsv``, ``gtsv``)
  has errors of order ``eps * max|u|``, which pollute the differences ``D u`` near 0 and put a
  round-off floor of ~1e-10 under the coupling residual on stiff cases. With these pivots the
  floor is ~1e-14;
* positivity holds in floating point, not only in exact arithmetic: the density stays ``>= 0``
  with no clipping and no tolerance;
* the Fokker-Planck step solves with ``M^T = U^T L^T`` using the *same* factors as the HJB step,
  so it is the exact discrete adjoint of the factored operator.

The factors keep the reciprocals ``1 / p_i`` (computed once each), so both substitutions multiply:
a division's latency would otherwise sit on their sequential critical path (it was half the time of
the HJB sweep). Each reciprocal adds one rounding, so every property above holds as before.

The kernels are compiled with numba (``cache=True``); the first call in a fresh environment
compiles them (about a second). numba's on-disk cache of a function is refreshed when *its own*
source file changes, not when a kernel it calls (from another module) does: after editing this
module, delete the ``*.nbi``/``*.nbc`` files of the MFG package (``__pycache__`` or
``NUMBA_CACHE_DIR``) so that the sweep of :mod:`mfg_finance.mfg.sweep_kernel` is recompiled with it (the
workflow's cache is keyed by the kernels' source, :mod:`mfg_finance.numba_cache`). The C build of the sweep
(``_solve_kernels.c``) has its own copy of the twisted factorisation below: change both.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def factor_into(up: np.ndarray, down: np.ndarray, dt: float, piv: np.ndarray, mult: np.ndarray) -> None:
    """GTH LU factors of ``I - dt A`` written into ``piv`` (n,) and ``mult`` (n-1,) (see :func:`factor`)."""
    n = up.size + 1
    excess = 1.0                    # row sums of I - dt A are exactly 1 (A 1 = 0)
    piv[0] = 1.0 / (excess + (dt * up[0] if n > 1 else 0.0))
    for i in range(1, n):
        a = dt * down[i - 1]
        inverse = piv[i - 1]
        mult[i - 1] = a * inverse
        excess = 1.0 + a * (excess * inverse)
        piv[i] = 1.0 / (excess + (dt * up[i] if i < n - 1 else 0.0))


@numba.njit(cache=True)
def factor(up: np.ndarray, down: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """GTH LU factors of ``I - dt A``: reciprocal pivots ``1 / p`` (n,) and multipliers ``l`` (n-1,).

    ``L`` is unit lower bidiagonal with ``L[i+1, i] = -l[i]``; ``U`` is upper bidiagonal with
    diagonal ``p`` and ``U[i, i+1] = -dt up[i]``. The reciprocals are stored so that the
    substitutions multiply: a division's latency would sit on their critical path.
    """
    piv = np.empty(up.size + 1)
    mult = np.empty(up.size)
    factor_into(up, down, dt, piv, mult)
    return piv, mult


@numba.njit(cache=True)
def solve_into(piv: np.ndarray, mult: np.ndarray, up: np.ndarray, dt: float, b: np.ndarray, x: np.ndarray) -> None:
    """Solve ``(I - dt A) x = b`` into ``x`` (which may be ``b``) with the factors of :func:`factor` (HJB step)."""
    n = b.size
    x[0] = b[0]
    for i in range(1, n):               # L y = b
        x[i] = b[i] + mult[i - 1] * x[i - 1]
    x[n - 1] = x[n - 1] * piv[n - 1]
    for i in range(n - 2, -1, -1):      # U x = y
        x[i] = (x[i] + dt * up[i] * x[i + 1]) * piv[i]


@numba.njit(cache=True)
def solve(piv: np.ndarray, mult: np.ndarray, up: np.ndarray, dt: float, b: np.ndarray) -> np.ndarray:
    """Solve ``(I - dt A) x = b`` with the factors of :func:`factor` (HJB step)."""
    x = np.empty(b.size)
    solve_into(piv, mult, up, dt, b, x)
    return x


@numba.njit(cache=True)
def solve_transpose_into(piv: np.ndarray, mult: np.ndarray, up: np.ndarray, dt: float, b: np.ndarray,
                         x: np.ndarray) -> None:
    """Solve ``(I - dt A)^T x = b`` into ``x`` (which may be ``b``) with the same factors: ``U^T L^T x = b``."""
    n = b.size
    x[0] = b[0] * piv[0]
    for i in range(1, n):               # U^T y = b
        x[i] = (b[i] + dt * up[i - 1] * x[i - 1]) * piv[i]
    for i in range(n - 2, -1, -1):      # L^T x = y
        x[i] = x[i] + mult[i] * x[i + 1]


@numba.njit(cache=True)
def solve_transpose(piv: np.ndarray, mult: np.ndarray, up: np.ndarray, dt: float,
                    b: np.ndarray) -> np.ndarray:
    """Solve ``(I - dt A)^T x = b`` with the same factors (Fokker-Planck step): ``U^T L^T x = b``."""
    x = np.empty(b.size)
    solve_transpose_into(piv, mult, up, dt, b, x)
    return x


# ---- twisted (two-ended) factorisation: the HJB and FP sweeps ---------------------------------------
#
# The plain factorisation is one sequential chain of n dependent steps (each waits for the previous
# pivot). Eliminating from both ends at once (a twisted factorisation, "burn at both ends") gives two
# independent chains of n/2 steps that the processor runs side by side: the same work in half the
# latency. It is GTH too: from the bottom the reduced rows also sum to 1, so with the ratios
# ``r = s / p`` in (0, 1]
#
#     top     s_0 = 1,        s_i = 1 + a_i r_{i-1},    p_i = s_i + c_i     (i < k),
#     bottom  s'_{n-1} = 1,   s'_i = 1 + c_i r'_{i+1},  p'_i = s'_i + a_i   (i > k),
#     twist   p_k = 1 + a_k r_{k-1} + c_k r'_{k+1},
#
# (``a_i = dt down[i-1]``, ``c_i = dt up[i]``), every term non-negative: the componentwise accuracy,
# the positivity of the solves and the exact adjoint (the FP step solves with the transpose of the very
# same factors) are those of the plain factorisation. Each chain step is one fused multiply-add, one
# addition and one division (``r_i = s_i / p_i``); the reciprocal pivots and the normalised
# off-diagonals are computed beside it. Storage: ``piv`` (n,) the reciprocal pivots; ``mult`` (n-1,)
# the elimination multipliers, ``mult[j] = a_{j+1} / p_j`` for ``j < k`` (from the top) and
# ``mult[j] = c_j / p'_{j+1}`` for ``j >= k`` (from the bottom); ``outer`` (n,) the outward
# off-diagonals over their pivot, ``c_i / p_i`` for ``i < k`` and ``a_i / p'_i`` for ``i > k``, so
# that every substitution step is one fused multiply-add. The twist is ``k = (n - 1) // 2``.


@numba.njit(cache=True)
def twisted_factor_into(up: np.ndarray, down: np.ndarray, dt: float, piv: np.ndarray, mult: np.ndarray,
                        outer: np.ndarray) -> None:
    """Twisted GTH factors of ``I - dt A`` into ``piv`` (n,), ``mult`` (n-1,) and ``outer`` (n,) (see above)."""
    n = up.size + 1
    k = (n - 1) // 2
    outer[k] = 0.0
    if n == 1:
        piv[0] = 1.0
        return
    r_top = 0.0
    if k > 0:
        c = dt * up[0]
        p = 1.0 + c
        r_top = 1.0 / p
        piv[0] = r_top
        outer[0] = c * r_top
    a = dt * down[n - 2]
    p = 1.0 + a
    r_bottom = 1.0 / p
    piv[n - 1] = r_bottom
    outer[n - 1] = a * r_bottom
    # rows 1..k-1 from the top and n-2..n-k from the bottom, side by side (n - 1 - k >= k rows below)
    for j in range(1, k):
        a = dt * down[j - 1]
        c = dt * up[j]
        mult[j - 1] = a * piv[j - 1]
        s_top = 1.0 + a * r_top
        p = s_top + c
        r_top = s_top / p
        piv[j] = 1.0 / p
        outer[j] = c * piv[j]
        i = n - 1 - j
        a = dt * down[i - 1]
        c = dt * up[i]
        mult[i] = c * piv[i + 1]
        s_bottom = 1.0 + c * r_bottom
        p = s_bottom + a
        r_bottom = s_bottom / p
        piv[i] = 1.0 / p
        outer[i] = a * piv[i]
    for i in range(min(n - 1 - k, n - 2), k, -1):       # one row left below when n is even
        a = dt * down[i - 1]
        c = dt * up[i]
        mult[i] = c * piv[i + 1]
        s_bottom = 1.0 + c * r_bottom
        p = s_bottom + a
        r_bottom = s_bottom / p
        piv[i] = 1.0 / p
        outer[i] = a * piv[i]
    twist = 1.0
    if k > 0:
        a = dt * down[k - 1]
        mult[k - 1] = a * piv[k - 1]
        twist += a * r_top
    c = dt * up[k]
    mult[k] = c * piv[k + 1]
    twist += c * r_bottom
    piv[k] = 1.0 / twist


@numba.njit(cache=True)
def twisted_solve_into(piv: np.ndarray, mult: np.ndarray, outer: np.ndarray, b: np.ndarray, x: np.ndarray) -> None:
    """Solve ``(I - dt A) x = b`` into ``x`` (which may be ``b``) with the factors of :func:`twisted_factor_into`.

    The two chains carry their last value in a local variable: read back from ``x`` (which may alias
    ``b``), each step would wait for the store of the other side's."""
    n = b.size
    k = (n - 1) // 2
    if n == 1:
        x[0] = b[0] * piv[0]
        return
    top = b[0]
    bottom = b[n - 1]
    x[0] = top
    x[n - 1] = bottom
    for j in range(1, k):                   # eliminate towards the twist from both ends
        i = n - 1 - j
        top = b[j] + mult[j - 1] * top
        bottom = b[i] + mult[i] * bottom
        x[j] = top
        x[i] = bottom
    for i in range(min(n - 1 - k, n - 2), k, -1):
        bottom = b[i] + mult[i] * bottom
        x[i] = bottom
    y = b[k] + mult[k] * bottom
    if k > 0:
        y += mult[k - 1] * top
    top = bottom = x[k] = y * piv[k]
    for j in range(1, k + 1):               # substitute outwards on both sides
        i = k - j
        m = k + j
        top = x[i] * piv[i] + outer[i] * top
        bottom = x[m] * piv[m] + outer[m] * bottom
        x[i] = top
        x[m] = bottom
    for i in range(2 * k + 1, n):
        bottom = x[i] * piv[i] + outer[i] * bottom
        x[i] = bottom


@numba.njit(cache=True)
def twisted_solve_transpose_into(piv: np.ndarray, mult: np.ndarray, outer: np.ndarray, b: np.ndarray,
                                 x: np.ndarray) -> None:
    """Solve ``(I - dt A)^T x = b`` into ``x`` (which may be ``b``) with the same twisted factors (the FP step)."""
    n = b.size
    k = (n - 1) // 2
    if n == 1:
        x[0] = b[0] * piv[0]
        return
    top = b[0]
    bottom = b[n - 1]
    x[0] = top
    x[n - 1] = bottom
    for j in range(1, k):
        i = n - 1 - j
        top = b[j] + outer[j - 1] * top
        bottom = b[i] + outer[i + 1] * bottom
        x[j] = top
        x[i] = bottom
    for i in range(min(n - 1 - k, n - 2), k, -1):
        bottom = b[i] + outer[i + 1] * bottom
        x[i] = bottom
    y = b[k] + outer[k + 1] * bottom
    if k > 0:
        y += outer[k - 1] * top
    top = bottom = x[k] = y * piv[k]
    for j in range(1, k + 1):
        i = k - j
        m = k + j
        top = x[i] * piv[i] + mult[i] * top
        bottom = x[m] * piv[m] + mult[m - 1] * bottom
        x[i] = top
        x[m] = bottom
    for i in range(2 * k + 1, n):
        bottom = x[i] * piv[i] + mult[i - 1] * bottom
        x[i] = bottom


@numba.njit(cache=True)
def forward_sweep(mu0: np.ndarray, up: np.ndarray, down: np.ndarray, dts: np.ndarray) -> np.ndarray:
    """All Fokker-Planck steps ``(I - dt_n A_n)^T mu^{n+1} = mu^n``, ``n = 0..nt-1`` -> (nt+1, nx).

    ``dts`` (nt,) holds the step of each ``[t_n, t_{n+1}]``: the same scalar the HJB step ``n`` used.
    """
    nt = up.shape[0]
    nx = mu0.size
    mu = np.empty((nt + 1, nx))
    mu[0] = mu0
    piv = np.empty(nx)
    mult = np.empty(nx - 1)
    outer = np.empty(nx)
    for n in range(nt):       # the twisted factors, as the HJB sweep's (mfg_finance.mfg.hjb)
        twisted_factor_into(up[n], down[n], dts[n], piv, mult, outer)
        twisted_solve_transpose_into(piv, mult, outer, mu[n], mu[n + 1])
    return mu
