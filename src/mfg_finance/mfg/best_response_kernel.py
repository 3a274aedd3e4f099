r"""Compiled march of :mod:`mfg_finance.mfg.best_response`: the residual ``U = W - V`` of one deviator on the
``(t, Q, x)`` grid, backwards from ``U(T) = 0``, one split implicit step per time step.

Per step ``n`` (length ``h``) the deviator's flow ``beta`` is fixed at every node (the minimiser of
:func:`minimise`: against ``V`` alone for the greedy deviation, against ``V + U`` for the best response), and

    (I - h A_x^beta) Y = U^{n+1} - h [H_V(alpha) - H_V(beta)],      (I - h A_Q^beta) U^n = Y,

with ``A_x`` (each ``Q`` row) and ``A_Q`` (each ``x`` column) the hybrid generators of
:mod:`mfg_finance.mfg.sweep_kernel` (centred where the diffusion dominates the drift, upwind elsewhere;
reflecting ends): both matrices are M-matrices with unit row sums, so the step is the value of ``beta`` for a
Markov chain on the grid (Lie splitting: the ``x`` move, then the ``Q`` move) and the scheme is monotone.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mfg_finance.mfg import tridiag
from mfg_finance.mfg.sweep_kernel import _fill_rates, _geometry

#: Rows of the coefficient stack: ``a, b`` of ``V = a q^2 + b q + c`` and ``a_Q, b_Q, c_Q``.
A, B, A_Q, B_Q, C_Q = range(5)


@numba.njit(cache=True)
def _h(beta, alpha, m, p, r, eta0, eta1, inv_N):
    shift = (beta - alpha) * inv_N
    return (eta0 + eta1 * abs(m + shift)) * beta * beta + p * beta + r * shift


@numba.njit(cache=True)
def minimise(alpha, m, p, r, eta0, eta1, inv_N):
    """``(min H, argmin)`` of ``H(beta) = (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + p beta
    + r (beta - alpha)/N`` (scalar; the arithmetic of :func:`mfg_finance.mfg.deviation.hamiltonian_gap`):
    ``alpha``, the roots of ``H'`` on either side of the kink, and the kink ``alpha - N m``."""
    best = _h(alpha, alpha, m, p, r, eta0, eta1, inv_N)
    arg = alpha
    P = p + r * inv_N
    for s in (1.0, -1.0):
        E = eta0 + s * eta1 * (m - alpha * inv_N)
        c3 = 3.0 * s * eta1 * inv_N
        disc = E * E - c3 * P
        if disc < 0.0:
            continue
        root = math.sqrt(disc)
        w = -(E + (root if E >= 0.0 else -root))
        for j in range(2):
            if j == 0:
                if w == 0.0:
                    continue
                beta = P / w
            else:
                if c3 == 0.0:
                    continue
                beta = w / c3
            if not math.isfinite(beta) or s * (m + (beta - alpha) * inv_N) < 0.0:
                continue
            h = _h(beta, alpha, m, p, r, eta0, eta1, inv_N)
            if h < best:
                best, arg = h, beta
    if inv_N > 0.0:
        beta = alpha - m / inv_N
        h = _h(beta, alpha, m, p, r, eta0, eta1, inv_N)
        if h < best:
            best, arg = h, beta
    return best, arg


@numba.njit(cache=True)
def _gradient(fm, f0, fp, zm, z0, zp, first, last):
    """Three-point derivative on graded nodes (:func:`mfg_finance.mfg.common_noise.graded_gradient`)."""
    if first:
        return (fp - f0) / (zp - z0)
    if last:
        return (f0 - fm) / (z0 - zm)
    hm, hp = z0 - zm, zp - z0
    return (hm * hm * (fp - f0) + hp * hp * (f0 - fm)) / (hm * hp * (hm + hp))


@numba.njit(cache=True)
def _coefficients(coef, n, j, w):
    """``V``'s coefficients ``a, b, a_Q, b_Q, c_Q`` at ``Q`` node ``j``, a fraction ``w`` into step ``n``."""
    return ((1.0 - w) * coef[A, n, j] + w * coef[A, n + 1, j], (1.0 - w) * coef[B, n, j] + w * coef[B, n + 1, j],
            (1.0 - w) * coef[A_Q, n, j] + w * coef[A_Q, n + 1, j],
            (1.0 - w) * coef[B_Q, n, j] + w * coef[B_Q, n + 1, j],
            (1.0 - w) * coef[C_Q, n, j] + w * coef[C_Q, n + 1, j])


@numba.njit(cache=True)
def _fix_policy(x, Q, coef, k, l, n, w, eta0, eta1, inv_N, base, later, h, beta, rhs, drift_x, drift_Q):
    """The policy of one implicit step at every node, greedy against ``V + base`` (``beta[n]``), and what the step
    needs of it: ``rhs = later - h [H_V(alpha) - H_V(beta)]`` and the drifts of ``x`` and ``Q`` (module
    docstring of :mod:`mfg_finance.mfg.best_response`)."""
    nQ, nx = Q.size, x.size
    for j in range(nQ):
        kn, ln = k[n, j], l[n, j]
        a, b, aQ, bQ, cQ = _coefficients(coef, n, j, w)
        m = -(kn * Q[j] + ln)
        jm, jp = max(j - 1, 0), min(j + 1, nQ - 1)
        for i in range(nx):
            q = x[i] + Q[j]
            alpha = -(kn * q + ln)
            vq = 2.0 * a * q + b
            vQ = (aQ * q + bQ) * q + cQ
            im, ip = max(i - 1, 0), min(i + 1, nx - 1)
            ux = _gradient(base[j, im], base[j, i], base[j, ip], x[im], x[i], x[ip], i == 0, i == nx - 1)
            uQ = _gradient(base[jm, i], base[j, i], base[jp, i], Q[jm], Q[j], Q[jp], j == 0, j == nQ - 1)
            _, bt = minimise(alpha, m, vq + ux, vQ + uQ - ux, eta0, eta1, inv_N)
            gap = (_h(alpha, alpha, m, vq, vQ, eta0, eta1, inv_N)
                   - _h(bt, alpha, m, vq, vQ, eta0, eta1, inv_N))
            beta[n, j, i] = bt
            shift = (bt - alpha) * inv_N
            rhs[j, i] = later[j, i] - h * gap
            drift_x[j, i] = bt - m - shift
            drift_Q[i, j] = m + shift


@numba.njit(cache=True)
def _split_step(h, var_x, var_Q, geo_x, geo_Q, drift_x, drift_Q, rhs, cur, work):
    """``(I - h A_x) Y = rhs`` per ``Q`` row (``rhs`` overwritten by ``Y``), then ``(I - h A_Q) cur = Y`` per ``x``
    column; ``work``: (up_x, down_x, piv_x, mult_x, up_Q, down_Q, piv_Q, mult_Q, column, out) scratch."""
    up_x, down_x, piv_x, mult_x, up_Q, down_Q, piv_Q, mult_Q, column, out = work
    nQ, nx = rhs.shape
    for j in range(nQ):
        _fill_rates(drift_x[j], geo_x, 0.5 * var_x, up_x, down_x)
        tridiag.factor_into(up_x, down_x, h, piv_x, mult_x)
        tridiag.solve_into(piv_x, mult_x, up_x, h, rhs[j], rhs[j])
    for i in range(nx):
        _fill_rates(drift_Q[i], geo_Q, 0.5 * var_Q, up_Q, down_Q)
        tridiag.factor_into(up_Q, down_Q, h, piv_Q, mult_Q)
        for j in range(nQ):
            column[j] = rhs[j, i]
        tridiag.solve_into(piv_Q, mult_Q, up_Q, h, column, out)
        for j in range(nQ):
            cur[j, i] = out[j]


@numba.njit(cache=True)
def march(x, Q, dts, coef, k, l, eta0, eta1, inv_N, var_x, var_Q, reference, iterations, substeps, U, beta):
    """Fill ``U`` (nt+1, nQ, nx; ``U[nt] = 0``) and the policy ``beta`` (nt, nQ, nx) (module docstring).

    ``coef`` (5, nt+1, nQ): ``V``'s coefficients (:data:`A` ...) at the time nodes, linear in time between them
    (taken at each implicit step's midpoint); ``k, l`` (nt, nQ): the players' feedback on each solver step, held
    over its ``substeps`` equal implicit steps. ``beta`` minimises ``H`` with ``p = V_q + R_x``,
    ``r = V_Q + R_Q - R_x`` (three-point derivatives). ``reference`` with ``nt + 1`` rows: ``R`` is that table
    at the implicit step's later time (linear in time between the nodes), one pass: the policy greedy against
    ``V + reference`` (zeros: the greedy deviation; the previous iterate: a step of policy iteration). With no
    rows: ``R`` is the march's own ``U`` at the later time on the first of ``iterations`` passes and the step's
    previous pass after (the best response; more passes: policy iteration on the step).
    ``beta[n]``: the policy of the first sub-step of step ``n``.
    """
    nt = dts.size
    nQ, nx = Q.size, x.size
    geo_x = _geometry(x, 0.5 * var_x)
    geo_Q = _geometry(Q, 0.5 * var_Q)
    drift_x = np.empty((nQ, nx))
    drift_Q = np.empty((nx, nQ))
    rhs = np.empty((nQ, nx))
    later = np.zeros((nQ, nx))
    cur = np.zeros((nQ, nx))
    work = (np.empty(nx - 1), np.empty(nx - 1), np.empty(nx), np.empty(nx - 1),
            np.empty(nQ - 1), np.empty(nQ - 1), np.empty(nQ), np.empty(nQ - 1), np.empty(nQ), np.empty(nQ))
    U[nt] = 0.0
    tabulated = reference.shape[0] == nt + 1
    passes = 1 if tabulated else iterations
    for n in range(nt - 1, -1, -1):
        h = dts[n] / substeps
        for sub in range(substeps - 1, -1, -1):
            w = (sub + 0.5) / substeps
            later[:, :] = cur
            if tabulated:
                wl = (sub + 1.0) / substeps
                base = (1.0 - wl) * reference[n] + wl * reference[n + 1]
            for it in range(passes):
                if not tabulated:
                    base = later if it == 0 else cur
                _fix_policy(x, Q, coef, k, l, n, w, eta0, eta1, inv_N, base, later, h, beta, rhs, drift_x, drift_Q)
                _split_step(h, var_x, var_Q, geo_x, geo_Q, drift_x, drift_Q, rhs, cur, work)
        U[n] = cur
