r"""Does the inventory domain hold the law? Boundary mass and the mean change the boundary made.

The end nodes are reflecting (:mod:`mfg_finance.mfg.hjb`): no mass is lost, but a law that reaches
them is pushed back, and an equilibrium computed that way is the boundary's, not the model's. Two
measures (inventory units, trading days):

* ``boundary_mass = max_n (mu^n_0 w_0 + mu^n_{nx-1} w_{nx-1})``: the largest probability ever held by the
  two end cells (``w``: cell widths, the end spacings);
* ``boundary_mean_change``: the part of ``Q_T - Q_0`` that the crowd's flow does not explain. Over an
  implicit step ``Q^{n+1} - Q^n = dt_n <mu^{n+1} w, A_{alpha^n} q>`` and ``(A_a q)_i = a_i`` except at
  the ends, where the reflected diffusion jump adds ``+- sigma^2 / (2 h)`` (``h = w`` there: the end
  spacing); hence, exactly::

      Q_T - Q_0 - sum_n dt_n m^n = sum_n dt_n (sigma^2 / 2) (mu^{n+1}_0 - mu^{n+1}_{nx-1}).

:func:`check_domain` raises :class:`~mfg_finance.errors.MfgDomainError` when either exceeds its
tolerance (``LEAK_MASS`` = 1e-6; ``LEAK_MEAN`` = 1e-5 of the initial scale ``max(|Q_0|, std_0)``),
naming the range and the one :func:`mfg_finance.mfg.grid.auto_domain` would use.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import MfgDomainError
from mfg_finance.mfg.grid import auto_domain, cell_widths

LEAK_MASS = 1.0e-6
LEAK_MEAN = 1.0e-5


def domain_diagnostics(q: np.ndarray, dts: np.ndarray, density: np.ndarray, sigma: float,
                       last_interval: tuple[float, float] | None = None) -> dict[str, float]:
    """``boundary_mass``, ``boundary_mean_change`` (inventory units) and its ``relative`` size (to ``max(|Q_0|, std_0)``).

    ``dts``: the implicit steps. ``last_interval = (d, m)``: the exact last interval (:mod:`mfg_finance.mfg.terminal_interval`)
    of length ``d`` and average flow ``m`` after them, or the exact steps' lengths and flows (arrays of ``K``), whose
    kernels move the mean by ``sum d m`` except where the ends cut their targets off: that defect,
    ``Q_T - Q_{N-K} - sum d m``, is added.
    """
    w = cell_widths(q)
    ends = density[:, 0] * w[0] + density[:, -1] * w[-1]
    after = density[1:dts.size + 1]
    drift = float(np.sum(dts * 0.5 * sigma * sigma * (after[:, 0] - after[:, -1])))
    if last_interval is not None:
        d, m = (np.atleast_1d(np.asarray(x, dtype=float)) for x in last_interval)
        drift += float((density[-1] - density[-1 - d.size]) * w @ q) - float(d @ m)
    mass0 = density[0] * w
    mean0 = float(mass0 @ q)
    std0 = float(np.sqrt(max(float(mass0 @ (q * q)) - mean0 * mean0, 0.0)))
    scale = max(abs(mean0), std0)
    return {"boundary_mass": float(ends.max()), "boundary_mean_change": drift,
            "boundary_mean_change_relative": abs(drift) / scale if scale > 0 else abs(drift)}


def check_domain(diagnostics: Mapping[str, float], config: Mapping[str, Any]) -> None:
    """Raise :class:`MfgDomainError` when the law leaked to the ends (see module docstring)."""
    mass = diagnostics["boundary_mass"]
    drift = diagnostics["boundary_mean_change"]
    rel = diagnostics["boundary_mean_change_relative"]
    if mass <= LEAK_MASS and rel <= LEAK_MEAN:
        return
    g, p = config["grid"], config["params"]
    low, high = auto_domain(m0_mean=p["m0_mean"], m0_std=p["m0_std"], sigma=p["sigma"], T=g["T"], eta0=p["eta0"],
                            eta1=p["eta1"], phi=p["phi"], gamma_T=p["gamma_T"])
    raise MfgDomainError(
        f"mfg.grid.x_min, mfg.grid.x_max: the inventory law reaches the ends of [{g['x_min']:.6g}, {g['x_max']:.6g}]: "
        f"up to {mass:.3g} of the mass sits in the end cells (tolerance {LEAK_MASS:g}) and the reflection there "
        f"moved the mean inventory by {drift:+.3g} inventory units ({100 * rel:.3g}% of the initial scale; "
        f"tolerance {100 * LEAK_MEAN:g}%), which the crowd's trading does not explain. The equilibrium would be "
        f"the boundary's. A range that holds this law is [{low:.6g}, {high:.6g}] (6 std around the exact LQ "
        f"law's mean at every time; the noise over the horizon is sigma sqrt(T) = {p['sigma'] * g['T'] ** 0.5:.3g}): "
        f"set x_min and x_max to 'auto'",
        diagnostics)
