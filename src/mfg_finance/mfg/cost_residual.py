r"""The expected cost's spatial error, read off the solve itself: the upwind cells' added variance at its price.

Why (docs/mfg.md, section 11, *The cost's spatial error*). Where the scheme is central the chain reproduces the
quadratic value and the law's first two moments exactly (:mod:`mfg_finance.mfg.hjb`); the only first-order
spatial defect it has is the extra diffusion of its upwind cells, ``D_a - D`` with ``D_a = max(D, a h+ / 2,
-a h- / 2)`` and ``D = sigma^2 / 2``. Splitting each step's generator ``A = A_c + A_x`` into the central
chain's and that excess (``(A_x u)_i = (D_{a,i} - D) (d2 u)_i``, ``d2`` the three-point second difference on the
graded nodes), the implicit step ``(I - dt_n A^n) u^n = u^{n+1} + dt_n c^n`` and its Fokker-Planck adjoint
``p^{n+1} (I - dt_n A^n) = p^n`` give the expected cost ``J = <p^0, u^0>`` the first-order representation
(a dual-weighted residual)::

    J_h - J  ~  R = sum_n dt_n sum_i p^{n+1}_i (D_{a,i}^n - D) (d2 u^n)_i        (cost units),

the variance the upwind cells add where the law is, priced at the value's curvature (``d2 u = 2 h2`` for the
quadratic value of the LQ model). The policy's own error enters only at second order (the cost is stationary
in the agent's control); the crowd's cost path ``eta``, whose spatial error is first order too, is not in ``R``
(where ``eta1 > 0`` it is part of the error, and ``R`` 0.74-1.52 times it, against 0.98-0.99 where
``eta1 = 0``). ``R`` needs no companion solve.

Measured (true spatial error = the cost on the fine nodes less the one on 4 times as many cells, same steps):
``R`` is 0.74-1.52 times it on the stiff baselines, the corners of the default ``phi_gamma`` sweep and the
graded ``gamma_T`` ladder, 0.95-2.44 on the small config's 61 x 40 and
0.77-1.07 on uniform nodes; the companions' order fit was 0.79-3.9 times it where it is above 0.01 % and 9-19
times below. At the corner ``phi = 0.5``, ``gamma_T = 0.05`` the error vanishes between 201 and 301 nodes
(every cell where the law is turns central: +2.07, +0.80, +0.28, +0.05, +0.001 % on 101, 151, 201, 251, 301
nodes) and no power law of the spacing fits the companions' sequence; ``R`` vanishes with it (1.13, 1.23, 1.47,
2.6 times the error on 101 ... 251 nodes).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.mfg.hjb import upwind_excess


def excess_generator_residual(u: np.ndarray, alpha: np.ndarray, masses: np.ndarray, q: np.ndarray,
                              dts: np.ndarray, sigma: float) -> float:
    """``R = sum_n dt_n sum_i p^{n+1}_i (D_{a,i}^n - D) (d2 u^n)_i`` over the inner nodes (module docstring).

    ``u``, ``alpha``, ``masses``: (nt+1, nx) value (cost units), feedback in force on each step (inventory
    units / day) and node probabilities; ``q`` (nx,) nodes (inventory units); ``dts`` the steps to sum over
    (trading days; the first ``dts.size`` steps); ``sigma`` the inventory volatility. Returns cost units, signed
    (positive: the upwind cells make the cost too high for a convex value).
    """
    nt = np.asarray(dts, dtype=float).size
    h = np.diff(q)
    hm, hp = h[:-1], h[1:]
    excess = upwind_excess(alpha[:nt, 1:-1], q, sigma)
    v = u[:nt]
    second = 2.0 * ((v[:, 2:] - v[:, 1:-1]) / hp - (v[:, 1:-1] - v[:, :-2]) / hm) / (hm + hp)
    return float(np.asarray(dts, dtype=float) @ np.sum(masses[1:nt + 1, 1:-1] * excess * second, axis=1))


def cost_spatial_error(solution) -> float:
    """The solve's cost residual ``R`` (cost units, signed; module docstring). With an exact last interval that
    interval is left out (on a uniform time mesh the last ``exact_steps``): its law is carried by its closed-form
    kernel, not by the chain."""
    steps = solution.time_steps
    if solution.exact_steps:
        steps = steps[:-solution.exact_steps]
    return excess_generator_residual(np.asarray(solution.u), np.asarray(solution.alpha), solution.masses,
                                     np.asarray(solution.q, dtype=float), steps,
                                     float(solution.config["params"]["sigma"]))
