"""Numba kernels of the time-varying market-maker solver: uniformization on the inventory lattice.

Both propagations are sums of non-negative terms (no cancellation), so every entry keeps its relative
precision whatever its size: the backward one is the GLFT linear system ``dv/dt = M v`` (``K = c I - M >= 0``),
the forward one the Kolmogorov equation of a birth-death chain (``P = I + G^T / c`` stochastic).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: a term below this fraction of the running sum ends a series (double precision)
SERIES_TOL = 1.0e-17


@njit(cache=True, inline="always")
def _copy(src, dst):
    """``dst[:] = src`` as a loop: numba's slice assignment brings in its broadcasting checks and their
    error-message formatting, about 2 CPU-seconds of compilation on an empty cache for a plain copy."""
    for i in range(src.size):
        dst[i] = src[i]


@njit(cache=True)
def _apply_k(w, diag, up, down, out):
    """``out = K w`` with ``K`` tridiagonal: ``diag`` on the diagonal, ``up`` above, ``down`` below."""
    n = w.size
    for i in range(n):
        s = diag[i] * w[i]
        if i + 1 < n:
            s += up[i] * w[i + 1]
        if i > 0:
            s += down[i] * w[i - 1]
        out[i] = s


@njit(cache=True)
def backward_step(log_v, alpha_q2, eta_b, eta_a, h):
    """``ln(exp(-M h) v)`` for ``M = diag(alpha q^2) - eta_b S_+ - eta_a S_-`` (``S_+ v_q = v_{q+1}``).

    Uniformization with ``c = max(alpha q^2) + eta_b + eta_a``: ``exp(-M h) = e^{-ch} sum_n (ch)^n/n! B^n``,
    ``B = I - M/c >= 0``; split into pieces of ``c h <= 20`` so that no Poisson weight underflows.
    ``log_v`` is the log of the vector at the later time; returns the log at ``h`` earlier.
    """
    n = log_v.size
    c = alpha_q2.max() + eta_b + eta_a
    shift = log_v.max()
    w = np.exp(log_v - shift)
    log_scale = shift
    diag = 1.0 - alpha_q2 / c
    up = np.full(n, eta_b / c)          # row q picks v_{q+1}
    down = np.full(n, eta_a / c)        # row q picks v_{q-1}
    up[n - 1] = 0.0
    down[0] = 0.0
    pieces = max(1, int(math.ceil(c * h / 20.0)))
    hp = h / pieces
    term = np.empty(n)
    nxt = np.empty(n)
    total = np.empty(n)
    for _ in range(pieces):
        lam = c * hp
        _copy(w, total)
        _copy(w, term)
        k = 0
        while True:
            k += 1
            _apply_k(term, diag, up, down, nxt)
            for i in range(n):
                term[i] = nxt[i] * (lam / k)
            done = True
            for i in range(n):
                total[i] += term[i]
                if term[i] > SERIES_TOL * total[i]:
                    done = False
            if done and k > lam:
                break
        top = total.max()
        for i in range(n):
            w[i] = total[i] / top
        log_scale += math.log(top) - lam
    out = np.empty(n)
    for i in range(n):
        out[i] = math.log(w[i]) + log_scale if w[i] > 0.0 else -np.inf
    return out


@njit(cache=True)
def forward_step(p, up_rate, down_rate, h):
    """Law and its time integral after ``h`` under the generator with rates ``up_rate`` (q -> q+1) and
    ``down_rate`` (q -> q-1), constant on the step.

    Returns ``(p(h), int_0^h p(s) ds)``: ``p(h) = sum_n Pois(n; ch) P^n p`` and
    ``int = (1/c) sum_n P(N > n) P^n p`` with ``P = I + G^T/c``, ``c = max_q(up + down)``.
    """
    n = p.size
    c = 0.0
    for i in range(n):
        c = max(c, up_rate[i] + down_rate[i])
    if c == 0.0:
        return p.copy(), p * h
    # P^T acting on a column law: p'_q = (1 - out_q/c) p_q + up_{q-1}/c p_{q-1} + down_{q+1}/c p_{q+1}
    diag = 1.0 - (up_rate + down_rate) / c
    from_below = np.zeros(n)            # coefficient of p_{q-1}
    from_above = np.zeros(n)            # coefficient of p_{q+1}
    for i in range(1, n):
        from_below[i] = up_rate[i - 1] / c
    for i in range(n - 1):
        from_above[i] = down_rate[i + 1] / c
    pieces = max(1, int(math.ceil(c * h / 20.0)))
    hp = h / pieces
    cur = p.copy()
    integral = np.zeros(n)
    term = np.empty(n)
    nxt = np.empty(n)
    total = np.empty(n)
    acc = np.empty(n)
    for _ in range(pieces):
        lam = c * hp
        weight = math.exp(-lam)        # Poisson(lam) probability of n
        tail = 1.0 - weight            # P(N > n)
        _copy(cur, term)
        for i in range(n):
            total[i] = weight * cur[i]
            acc[i] = tail * cur[i]
        k = 0
        while True:
            k += 1
            for i in range(n):
                s = diag[i] * term[i]
                if i > 0:
                    s += from_below[i] * term[i - 1]
                if i + 1 < n:
                    s += from_above[i] * term[i + 1]
                nxt[i] = s
            _copy(nxt, term)
            weight *= lam / k
            tail -= weight
            if tail < 0.0:
                tail = 0.0
            for i in range(n):
                total[i] += weight * term[i]
                acc[i] += tail * term[i]
            if k > lam and weight <= SERIES_TOL:   # the Poisson tail beyond is below weight
                break
        for i in range(n):
            integral[i] += acc[i] / c
        _copy(total, cur)
    return cur, integral
