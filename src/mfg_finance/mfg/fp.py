r"""Forward Fokker-Planck equation as the exact discrete adjoint of the linearised HJB.

Continuous problem::

    mu_t = (sigma^2/2) mu_qq - d(alpha* mu)/dq,   mu(0) = N(m0_mean, m0_std^2),   no flux at the ends.

Discretisation: with ``M_n = I - dt_n A_{alpha^n}`` the matrix of the HJB step ``n`` (step length
``dt_n``, uniform or graded)
(:mod:`mfg_finance.mfg.hjb`), the density moves by::

    M_n^T mu^{n+1} = mu^n .

Hence, exactly in exact arithmetic:

* mass is conserved: ``1^T mu^{n+1} = 1^T M_n^T mu^{n+1} = 1^T mu^n`` because ``A 1 = 0``;
* positivity holds: ``M_n^T`` is an M-matrix, its inverse is entrywise ``>= 0`` (``> 0`` when
  ``sigma > 0``), so no clipping is ever needed; the GTH-pivoted substitutions
  (:mod:`mfg_finance.mfg.tridiag`) only add non-negative terms, so this also holds in floating point;
* duality: ``<mu^n, u^n> = <mu^{n+1}, u^{n+1}> + dt_n <mu^{n+1}, c^n>`` with ``c^n`` the running cost,
  so the expected cost computed forward equals ``<mu^0, u^0>``.

In the finite-volume reading, ``mu^{n+1}_i - mu^n_i = -(F_{i+1/2} - F_{i-1/2}) dt/dx + diffusion``
with upwind fluxes ``F_{i+1/2} = alpha_i^+ mu_i + alpha_{i+1}^- mu_{i+1}`` and zero flux through
the outer faces (reflecting boundary, the adjoint of the HJB Neumann condition).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.mfg import tridiag
from mfg_finance.mfg.hjb import step_sizes


def solve_fp(mu0: np.ndarray, up: np.ndarray, down: np.ndarray, dt) -> np.ndarray:
    """Propagate the density forward with the transposed HJB step matrices.

    Parameters
    ----------
    mu0 : (nx,) initial density (1 / inventory units), ``sum(mu0) dx = 1``.
    up, down : (nt, nx-1) jump rates of each step's generator (per trading day), as returned by
        :func:`mfg_finance.mfg.hjb.solve_hjb`.
    dt : (nt,) time steps, the same as the HJB sweep's, or one scalar for a uniform mesh (trading days).

    Returns
    -------
    (nt+1, nx) density at every time node.
    """
    # Same GTH factors as the HJB step (a deterministic function of the same rates), solved with
    # their transpose: the exact discrete adjoint.
    return tridiag.forward_sweep(np.ascontiguousarray(mu0, dtype=float), np.ascontiguousarray(up),
                                 np.ascontiguousarray(down), step_sizes(dt, up.shape[0]))


def mean_flow(alpha: np.ndarray, density: np.ndarray, dx: float) -> np.ndarray:
    """Crowd's mean flow ``m^n`` (inventory units / day): ``<alpha^n, mu^{n+1}> dx`` on each step, ``<alpha^N, mu^N> dx`` at ``T``.

    The implicit step moves the law with the policy acting on ``mu^{n+1}``, so this is the flow
    that carries the mean over the step: ``Q^{n+1} - Q^n = dt_n m^n`` wherever the law stays off
    the boundary nodes (``metrics.json['domain']`` measures what the boundary adds).
    """
    m = np.empty(alpha.shape[0])
    m[:-1] = np.einsum("ni,ni->n", alpha[:-1], density[1:]) * dx
    m[-1] = float(alpha[-1] @ density[-1]) * dx
    return m

