r"""The solve path's compiled kernels, numba build: one HJB/FP sweep and the LQ moment recursions.

The scheme is that of :mod:`mfg_finance.mfg.hjb` (rates, exact minimiser, implicit steps by policy iteration,
twisted GTH factors of :mod:`mfg_finance.mfg.tridiag`) and :mod:`mfg_finance.mfg.moments`. The same two entry
points, :func:`sweep_into` and :func:`moment_recursions_into`, with the same arguments and the same arithmetic
operation for operation, are compiled ahead of time from ``_solve_kernels.c`` when the package is installed
with a C compiler (:mod:`mfg_finance.mfg.kernels` picks that build when it is there: a fresh process then
needs no numba). A change to the scheme here must be made there too; ``tests/mfg/test_mfg_kernels_c.py``
checks that both builds give the same bits.

The per-node constants of the generator are reciprocals built once a sweep (:func:`_geometry`), so the node
loops never divide, and ``_max``/``_min``/conditional expressions instead of branches let the compiler
vectorise them (SIMD). :func:`_rates` is the one definition of the jump rates, used by the minimiser, the
generator and the Python helpers of :mod:`mfg_finance.mfg.hjb` alike.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mfg_finance.mfg import tridiag

#: Rows of the per-node geometry table of :func:`_geometry`.
G_HM, G_HP, G_CU, G_CD, G_GP, G_GM, G_LO, G_HI, G_IHM, G_IHP = range(10)
GEOMETRY_ROWS = 10


@numba.njit(cache=True)
def _geometry(q: np.ndarray, D: float) -> np.ndarray:
    """(GEOMETRY_ROWS, nx) constants of the hybrid generator on the nodes ``q`` (``D = sigma^2 / 2``).

    Inner node ``i`` (``h- = q_i - q_{i-1}``, ``h+ = q_{i+1} - q_i``, ``W = h- + h+``): ``h-``, ``h+``,
    ``1 / (h+ W)``, ``1 / (h- W)`` (the rates' denominators), ``h- / (h+ W)``, ``h+ / (h- W)`` (the
    centred gradient ``g = dp h- / (h+ W) - dm h+ / (h- W)``), the central range ``[-2D / h-, 2D / h+]``
    and ``1 / h-``, ``1 / h+``. Node 0 holds ``1 / h+`` and node ``nx-1`` ``1 / h-`` (the end nodes'
    one-sided spacings); their other entries are unused.
    """
    n = q.size
    geo = np.zeros((GEOMETRY_ROWS, n))
    geo[G_IHP, 0] = 1.0 / (q[1] - q[0])
    geo[G_IHM, n - 1] = 1.0 / (q[n - 1] - q[n - 2])
    for i in range(1, n - 1):
        hm = q[i] - q[i - 1]
        hp = q[i + 1] - q[i]
        W = hm + hp
        geo[G_HM, i] = hm
        geo[G_HP, i] = hp
        geo[G_CU, i] = 1.0 / (hp * W)
        geo[G_CD, i] = 1.0 / (hm * W)
        geo[G_GP, i] = hm / (hp * W)
        geo[G_GM, i] = hp / (hm * W)
        geo[G_LO, i] = -2.0 * D / hm
        geo[G_HI, i] = 2.0 * D / hp
        geo[G_IHM, i] = 1.0 / hm
        geo[G_IHP, i] = 1.0 / hp
    return geo


@numba.njit(cache=True, inline="always")
def _max(x: float, y: float) -> float:
    return x if x > y else y


@numba.njit(cache=True, inline="always")
def _min(x: float, y: float) -> float:
    return x if x < y else y


@numba.njit(cache=True, inline="always")
def _rates(a: float, geo: np.ndarray, i: int, D: float) -> tuple[float, float]:
    """Jump rates ``(up, down)`` of the inner node ``i`` under the control ``a``:
    ``up = (2 D_a + a h-) / (h+ W)``, ``down = (2 D_a - a h+) / (h- W)``, ``D_a = max(D, a h+ / 2, -a h- / 2)``."""
    hm = geo[G_HM, i]
    hp = geo[G_HP, i]
    De = _max(_max(D, 0.5 * a * hp), -0.5 * a * hm)
    return _max((2.0 * De + a * hm) * geo[G_CU, i], 0.0), _max((2.0 * De - a * hp) * geo[G_CD, i], 0.0)


@numba.njit(cache=True)
def _policy(u: np.ndarray, eta: float, geo: np.ndarray, D: float, out: np.ndarray) -> None:
    """Minimiser of the discrete Hamiltonian at every node, written into ``out`` (:func:`mfg_finance.mfg.hjb.hybrid_policy`).

    At an inner node, the best of three clipped closed-form candidates, one a piece of ``D_a``: central
    ``-g / (2 eta)`` in ``[lo, hi]``; upwind buying ``-D^+u / (2 eta) >= hi``; upwind selling
    ``-D^-u / (2 eta) <= lo`` (first one wins a tie). The end nodes move inwards only.
    """
    n = u.size
    half = 0.5 / eta
    for i in range(1, n - 1):
        dp = u[i + 1] - u[i]
        dm = u[i - 1] - u[i]
        lo = geo[G_LO, i]
        hi = geo[G_HI, i]
        a = _min(_max(-(dp * geo[G_GP, i] - dm * geo[G_GM, i]) * half, lo), hi)     # central piece
        r_up, r_down = _rates(a, geo, i, D)
        best = a
        lowest = r_up * dp + r_down * dm + eta * a * a
        a = _max(-dp * geo[G_IHP, i] * half, hi)                                    # upwind, buying
        r_up, r_down = _rates(a, geo, i, D)
        value = r_up * dp + r_down * dm + eta * a * a
        better = value < lowest
        best = a if better else best
        lowest = value if better else lowest
        a = _min(dm * geo[G_IHM, i] * half, lo)                                     # upwind, selling
        r_up, r_down = _rates(a, geo, i, D)
        value = r_up * dp + r_down * dm + eta * a * a
        out[i] = a if value < lowest else best
    out[0] = _max((u[0] - u[1]) * geo[G_IHP, 0], 0.0) * half
    out[n - 1] = _min((u[n - 2] - u[n - 1]) * geo[G_IHM, n - 1], 0.0) * half


@numba.njit(cache=True)
def _fill_rates(a: np.ndarray, geo: np.ndarray, D: float, up: np.ndarray, down: np.ndarray) -> None:
    """Rates of the generator ``A_a`` into ``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]`` (:func:`mfg_finance.mfg.hjb.hybrid_offdiagonals`).

    The end nodes jump inwards only: upwind drift plus ``D / h^2`` (reflecting chain)."""
    n = a.size
    for i in range(1, n - 1):
        r_up, r_down = _rates(a[i], geo, i, D)
        up[i] = r_up
        down[i - 1] = r_down
    ih = geo[G_IHP, 0]
    up[0] = D * ih * ih + _max(a[0], 0.0) * ih
    ih = geo[G_IHM, n - 1]
    down[n - 2] = D * ih * ih + _max(-a[n - 1], 0.0) * ih


@numba.njit(cache=True)
def sweep_into(eta, q, dts, sigma, phi, gamma_T, tol, max_iter, mass0, weights, shift, start, start_piv, start_mult,
               start_outer, u, alpha, density, flow, iters, up, down, piv, mult, outer, last_mass):
    """One HJB/FP sweep into preallocated arrays (:func:`mfg_finance.mfg.hjb.run_sweep` allocates them).

    HJB: ``u[nt] = gamma_T q^2``, then each implicit step's policy iteration (:func:`mfg_finance.mfg.hjb.solve_hjb`),
    from ``start[n]`` when ``start`` has at least ``nt`` rows, else from the policy of ``u^{n+1}``; when
    ``start_piv`` also has at least ``nt`` rows, ``start_piv/mult/outer[n]`` are the twisted GTH factors of the matrix
    of ``start[n]`` (the previous sweep's, :class:`mfg_finance.mfg.hjb.WarmStart`: the matrix depends on the policy,
    not on the cost path) and the first iteration uses them instead of factorising again. Every step keeps the
    twisted factors ``piv``, ``outer`` (nt, nx), ``mult`` (nt, nx-1) of the policy in force ``alpha[n]``
    (``iters[n]`` linear solves), and its rates in ``up``, ``down`` (nt, nx-1) if they have ``nt`` rows (else
    they may have none). FP: ``M_n^T p^{n+1} = p^n`` from ``p^0 = mass0`` with
    those factors, ``density[n] = p^n / weights``, the mean flow ``flow[n] = <alpha^n, p^{n+1}>``,
    ``flow[nt] = <alpha^nt, p^nt>``, ``last_mass = p^nt``. Finally ``shift`` is added to every ``u[n]`` (the exact
    last interval's constant, :mod:`mfg_finance.mfg.terminal_interval`). Returns whether ``u`` and ``density``
    are finite everywhere.
    """
    nt = eta.size - 1
    nx = q.size
    D = 0.5 * sigma * sigma
    geo = _geometry(q, D)
    warm = start.shape[0] >= nt
    reuse = warm and start_piv.shape[0] >= nt
    keep_rates = up.shape[0] >= nt
    up_n = np.empty(nx - 1)
    down_n = np.empty(nx - 1)
    rhs = np.empty(nx)
    new = np.empty(nx)
    a = np.empty(nx)
    cost = np.empty(nx)
    for i in range(nx):
        u[nt, i] = gamma_T * q[i] * q[i]
        cost[i] = phi * q[i] * q[i]
    _policy(u[nt], eta[nt], geo, D, alpha[nt])
    for n in range(nt - 1, -1, -1):
        h = dts[n]
        e = eta[n]
        if warm:
            a[:] = start[n]                          # first guess: the given policy (a previous sweep's) ...
        else:
            _policy(u[n + 1], e, geo, D, a)          # ... or the policy of the later value
        for k in range(max_iter):
            if k == 0 and reuse:                     # the given policy's matrix, already factorised
                piv[n] = start_piv[n]
                mult[n] = start_mult[n]
                outer[n] = start_outer[n]
            else:
                _fill_rates(a, geo, D, up_n, down_n)
                tridiag.twisted_factor_into(up_n, down_n, h, piv[n], mult[n], outer[n])
                if keep_rates:
                    up[n] = up_n
                    down[n] = down_n
            for i in range(nx):
                rhs[i] = u[n + 1, i] + h * (cost[i] + e * a[i] * a[i])
            tridiag.twisted_solve_into(piv[n], mult[n], outer[n], rhs, new)
            change = 0.0
            if k > 0:
                for i in range(nx):
                    d = abs(new[i] - u[n, i]) / (abs(new[i]) + 1e-300)
                    if d > change:
                        change = d
            u[n] = new
            alpha[n] = a                             # the policy whose value u[n] is
            iters[n] = k + 1
            if k > 0 and change <= tol:
                break
            _policy(new, e, geo, D, a)               # improvement step (Howard = Newton on the step)
    mass = np.empty(nx)
    later = np.empty(nx)
    finite = True
    for i in range(nx):
        mass[i] = mass0[i]
        density[0, i] = mass0[i] / weights[i]
    for n in range(nt):
        tridiag.twisted_solve_transpose_into(piv[n], mult[n], outer[n], mass, later)
        m = 0.0
        for i in range(nx):
            m += alpha[n, i] * later[i]
            density[n + 1, i] = later[i] / weights[i]
        flow[n] = m
        mass, later = later, mass
    m = 0.0
    for i in range(nx):
        m += alpha[nt, i] * mass[i]
        last_mass[i] = mass[i]
    flow[nt] = m
    for n in range(nt + 1):
        for i in range(nx):
            u[n, i] = u[n, i] + shift
            if not (math.isfinite(u[n, i]) and math.isfinite(density[n, i])):
                finite = False
    return finite


@numba.njit(cache=True)
def moment_recursions_into(eta, dts, phi, gamma_T, mean0, var0, sigma, h, rate, mean, var):
    """The recursions of :func:`mfg_finance.mfg.moments.moment_recursions` into ``h``, ``rate``, ``mean``, ``var`` (nt+1,)."""
    nt = eta.size - 1
    h[nt] = gamma_T
    for n in range(nt - 1, -1, -1):
        r = dts[n] / eta[n]
        c = h[n + 1] + dts[n] * phi
        h[n] = 2.0 * c / (1.0 + math.sqrt(1.0 + 4.0 * r * c))
    for n in range(nt + 1):
        rate[n] = h[n] / eta[n]
    mean[0] = mean0
    var[0] = var0
    for n in range(nt):
        mean[n + 1] = mean[n] / (1.0 + dts[n] * rate[n])
        var[n + 1] = (var[n] + sigma * sigma * dts[n]) / (1.0 + 2.0 * dts[n] * rate[n])
