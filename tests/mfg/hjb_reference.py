"""Plain NumPy reference of one HJB/FP sweep of the hybrid scheme (docs/mfg.md, section 2), for the tests only.

Written from the formulas, with divisions where the formulas divide and Python loops for the GTH
factorisation, so that the compiled kernel (:func:`mfg_finance.mfg.hjb.solve_sweep`, reciprocals computed
once, vectorised node loops) can be checked against it to round-off. Slow; never used by the library.
"""

from __future__ import annotations

import numpy as np


def rates(a, hm, hp, D):
    """Inner-node jump rates ``up = (2 D_a + a h-)/(h+ W)``, ``down = (2 D_a - a h+)/(h- W)``."""
    W = hm + hp
    De = np.maximum(np.maximum(D, 0.5 * a * hp), -0.5 * a * hm)
    return np.maximum((2.0 * De + a * hm) / (hp * W), 0.0), np.maximum((2.0 * De - a * hp) / (hm * W), 0.0)


def policy(u, eta, q, D):
    """Exact minimiser of the discrete Hamiltonian: the best of the three pieces' clipped candidates."""
    hm, hp = np.diff(q)[:-1], np.diff(q)[1:]
    dp, dm = u[2:] - u[1:-1], u[:-2] - u[1:-1]
    g = (hm * dp / hp - hp * dm / hm) / (hm + hp)
    lo, hi = -2.0 * D / hm, 2.0 * D / hp
    candidates = [np.clip(-g / (2.0 * eta), lo, hi), np.maximum(-dp / (2.0 * eta * hp), hi),
                  np.minimum(dm / (2.0 * eta * hm), lo)]
    values = []
    for a in candidates:
        r_up, r_down = rates(a, hm, hp, D)
        values.append(r_up * dp + r_down * dm + eta * a * a)
    best = np.argmin(np.array(values), axis=0)          # first one wins a tie
    out = np.empty_like(u)
    out[1:-1] = np.choose(best, candidates)
    out[0] = max((u[0] - u[1]) / (q[1] - q[0]), 0.0) / (2.0 * eta)
    out[-1] = min((u[-2] - u[-1]) / (q[-1] - q[-2]), 0.0) / (2.0 * eta)
    return out


def generator(a, q, D):
    """``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]`` of the policy ``a`` (reflecting ends)."""
    h = np.diff(q)
    r_up, r_down = rates(a[1:-1], h[:-1], h[1:], D)
    up = np.concatenate([[D / h[0] ** 2 + max(a[0], 0.0) / h[0]], r_up])
    down = np.concatenate([r_down, [D / h[-1] ** 2 + max(-a[-1], 0.0) / h[-1]]])
    return up, down


def gth_factor(up, down, dt):
    """GTH pivots ``p`` and multipliers ``l`` of ``I - dt A`` (docs of :mod:`mfg_finance.mfg.tridiag`)."""
    n = up.size + 1
    piv, mult = np.empty(n), np.empty(n - 1)
    s = 1.0
    piv[0] = s + dt * up[0]
    for i in range(1, n):
        a = dt * down[i - 1]
        mult[i - 1] = a / piv[i - 1]
        s = 1.0 + a * s / piv[i - 1]
        piv[i] = s + (dt * up[i] if i < n - 1 else 0.0)
    return piv, mult


def gth_solve(piv, mult, up, dt, b, transpose=False):
    n = b.size
    x = np.empty(n)
    if not transpose:
        x[0] = b[0]
        for i in range(1, n):
            x[i] = b[i] + mult[i - 1] * x[i - 1]
        x[n - 1] /= piv[n - 1]
        for i in range(n - 2, -1, -1):
            x[i] = (x[i] + dt * up[i] * x[i + 1]) / piv[i]
        return x
    x[0] = b[0] / piv[0]
    for i in range(1, n):
        x[i] = (b[i] + dt * up[i - 1] * x[i - 1]) / piv[i]
    for i in range(n - 2, -1, -1):
        x[i] += mult[i] * x[i + 1]
    return x


def sweep(eta, q, dts, mass0, *, sigma, phi, gamma_T, tol=1e-12, max_iter=60):
    """``(u, alpha, masses, mean_flow)`` of one sweep: Howard's algorithm on every implicit step from the
    policy of the later value, until no node's value changes by more than ``tol`` (relative)."""
    D = 0.5 * sigma * sigma
    nt = eta.size - 1
    u = np.empty((nt + 1, q.size))
    alpha = np.empty_like(u)
    factors = [None] * nt
    u[nt] = gamma_T * q * q
    alpha[nt] = policy(u[nt], eta[nt], q, D)
    for n in range(nt - 1, -1, -1):
        h = dts[n]
        a = policy(u[n + 1], eta[n], q, D)
        old = None
        for k in range(max_iter):
            up, down = generator(a, q, D)
            piv, mult = gth_factor(up, down, h)
            new = gth_solve(piv, mult, up, h, u[n + 1] + h * (phi * q * q + eta[n] * a * a))
            u[n], alpha[n], factors[n] = new, a, (piv, mult, up)
            if old is not None and np.max(np.abs(new - old) / (np.abs(new) + 1e-300)) <= tol:
                break
            old = new
            a = policy(new, eta[n], q, D)
        else:
            raise RuntimeError("policy iteration did not converge")
    masses = np.empty_like(u)
    masses[0] = mass0
    for n in range(nt):
        piv, mult, up = factors[n]
        masses[n + 1] = gth_solve(piv, mult, up, dts[n], masses[n], transpose=True)
    flow = np.append(np.sum(alpha[:-1] * masses[1:], axis=1), alpha[-1] @ masses[-1])
    return u, alpha, masses, flow
