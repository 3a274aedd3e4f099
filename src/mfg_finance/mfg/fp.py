r"""Forward Fokker-Planck equation as the exact discrete adjoint of the linearised HJB.

Continuous problem::

    mu_t = (sigma^2/2) mu_qq - d(alpha* mu)/dq,   mu(0) = N(m0_mean, m0_std^2),   no flux at the ends.

Discretisation: with ``M_n = I - dt_n A_{alpha^n}`` the matrix of the HJB step ``n`` (step length
``dt_n``, uniform or graded) (:mod:`mfg_finance.mfg.hjb`), the node masses ``p_i = mu_i w_i`` (``w``: the
cell widths, :func:`mfg_finance.mfg.grid.cell_widths`; ``w = dx`` on a uniform grid) move by::

    M_n^T p^{n+1} = p^n .

Below, ``mu`` stands for the masses; the density is ``p / w``.

Hence, exactly in exact arithmetic:

* mass is conserved: ``1^T mu^{n+1} = 1^T M_n^T mu^{n+1} = 1^T mu^n`` because ``A 1 = 0``;
* positivity holds: ``M_n^T`` is an M-matrix, its inverse is entrywise ``>= 0`` (``> 0`` when
  ``sigma > 0``), so no clipping is ever needed; the GTH-pivoted substitutions
  (:mod:`mfg_finance.mfg.tridiag`) only add non-negative terms, so this also holds in floating point;
* duality: ``<mu^n, u^n> = <mu^{n+1}, u^{n+1}> + dt_n <mu^{n+1}, c^n>`` with ``c^n`` the running cost,
  so the expected cost computed forward equals ``<mu^0, u^0>``.

In the finite-volume reading, ``p^{n+1}_i - p^n_i = -(F_{i+1/2} - F_{i-1/2}) dt`` with the net probability
flux ``F_{i+1/2} = up_i p_i - down_i p_{i+1}`` through each inner face and zero flux through the outer
faces (reflecting boundary, the adjoint of the HJB Neumann condition). Since the chain's mean jump is
the control at every node and its mean squared jump ``sigma^2`` wherever the scheme is central, the
mean moves exactly by ``<alpha, p>`` and the variance as in the continuous model there.
"""

from __future__ import annotations

import numpy as np

from mfg_finance.mfg import tridiag
from mfg_finance.mfg.hjb import step_sizes


def solve_fp(mu0: np.ndarray, up: np.ndarray, down: np.ndarray, dt, weights=None) -> np.ndarray:
    """Propagate the density forward with the transposed HJB step matrices.

    Parameters
    ----------
    mu0 : (nx,) initial density (1 / inventory units), ``sum(mu0 w) = 1``.
    up, down : (nt, nx-1) jump rates of each step's generator (per trading day), as returned by
        :func:`mfg_finance.mfg.hjb.solve_hjb`.
    dt : (nt,) time steps, the same as the HJB sweep's, or one scalar for a uniform mesh (trading days).
    weights : (nx,) cell widths ``w`` (inventory units), or one scalar ``dx`` for a uniform grid
        (``None``: the density is handled as masses, which is the same on a uniform grid).

    Returns
    -------
    (nt+1, nx) density at every time node.
    """
    # Same GTH factors as the HJB step (a deterministic function of the same rates), solved with
    # their transpose: the exact discrete adjoint, on the node masses.
    w = 1.0 if weights is None else np.asarray(weights, dtype=float)
    masses = tridiag.forward_sweep(np.ascontiguousarray(mu0 * w, dtype=float), np.ascontiguousarray(up),
                                   np.ascontiguousarray(down), step_sizes(dt, up.shape[0]))
    return masses / w


def mean_flow(alpha: np.ndarray, density: np.ndarray, weights) -> np.ndarray:
    """Crowd's mean flow ``m^n`` (inventory units / day): ``<alpha^n, mu^{n+1} w>`` on each step, ``<alpha^N, mu^N w>`` at ``T``.

    ``weights``: the (nx,) cell widths, or one scalar ``dx`` for a uniform grid (inventory units).
    The implicit step moves the law with the policy acting on ``mu^{n+1}``, so this is the flow
    that carries the mean over the step: ``Q^{n+1} - Q^n = dt_n m^n`` wherever the law stays off
    the boundary nodes (``metrics.json['domain']`` measures what the boundary adds).
    """
    w = np.asarray(weights, dtype=float)
    p = density * w
    m = np.empty(alpha.shape[0])
    m[:-1] = np.einsum("ni,ni->n", alpha[:-1], p[1:])
    m[-1] = float(alpha[-1] @ p[-1])
    return m
