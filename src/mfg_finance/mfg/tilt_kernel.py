"""The exponential tilt of the exact steps' wide kernel rows, compiled (numba): one row at a time on its own nodes.

Used by :func:`mfg_finance.mfg.terminal_interval.transition_kernel` for a target wider than its cell: the
probabilities ``p_j ~ w_j exp(a z_j + b z_j^2)``, ``z_j = (q_j - target) / s``, on the nodes within ``9 s`` of the
target, with ``(a, b)`` found by Newton's method from the sampled Gaussian ``(0, -1/2)`` so that the mean is the target
and the variance ``s^2`` (``b`` kept below ``-1e-3``: a proper, Gaussian-like tilt). Why compiled: a uniform time mesh
builds one kernel for each of its exact steps in every coupling sweep (:func:`mfg_finance.mfg.terminal_interval.exact_steps`),
and on graded nodes the rows whose target sits where the cells are fine span a hundred nodes or more; vectorised in
numpy, padded to a common width, that was 1.4-4 ms of CPU a kernel. Imported only when a kernel has wide rows (a fresh
solve on the default graded time mesh never loads numba for it).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def tilt_rows(q, logw, target, s, lo, hi, iterations, tol, out):
    """Fill ``out[r, :hi[r] - lo[r]]`` with row ``r``'s tilted probabilities on the nodes ``lo[r] .. hi[r] - 1``.

    ``q`` (nx,) nodes, ``logw`` (nx,) log cell widths, ``target`` (rows,) means, ``s`` the common std, ``lo``/``hi``
    (rows,) node windows, ``iterations`` Newton's limit, ``tol`` the moments' tolerance (mean in units of ``s``,
    variance relative), ``out`` (rows, K) zeros with ``K >= max(hi - lo)``.
    """
    for r in range(target.size):
        n = hi[r] - lo[r]
        a, b = 0.0, -0.5
        for _ in range(iterations):
            top = -math.inf
            for j in range(n):
                z = (q[lo[r] + j] - target[r]) / s
                x = logw[lo[r] + j] + a * z + b * z * z
                out[r, j] = x
                if x > top:
                    top = x
            total = 0.0
            for j in range(n):
                out[r, j] = math.exp(out[r, j] - top)
                total += out[r, j]
            m1 = m2 = m3 = m4 = 0.0
            for j in range(n):
                out[r, j] /= total
                z = (q[lo[r] + j] - target[r]) / s
                z2 = z * z
                m1 += out[r, j] * z
                m2 += out[r, j] * z2
                m3 += out[r, j] * z2 * z
                m4 += out[r, j] * z2 * z2
            g1, g2 = m1, m2 - 1.0
            if abs(g1) <= tol and abs(g2) <= tol:
                break
            c11, c12, c22 = m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2
            det = c11 * c22 - c12 * c12
            if not det > 1e-300:
                break
            a -= (c22 * g1 - c12 * g2) / det
            b = min(b - (c11 * g2 - c12 * g1) / det, -1e-3)


def tilted_rows(q: np.ndarray, w: np.ndarray, target: np.ndarray, s: float, lo: np.ndarray, hi: np.ndarray,
                iterations: int, tol: float = 1e-13) -> np.ndarray:
    """(rows, K) probabilities of :func:`tilt_rows` (``K = max(hi - lo, 4)``; zeros beyond a row's window)."""
    out = np.zeros((target.size, int(max(np.max(hi - lo), 4))))
    tilt_rows(np.ascontiguousarray(q, dtype=float), np.log(np.ascontiguousarray(w, dtype=float)),
              np.ascontiguousarray(target, dtype=float), float(s), np.ascontiguousarray(lo, dtype=np.int64),
              np.ascontiguousarray(hi, dtype=np.int64), int(iterations), float(tol), out)
    return out
