r"""The implicit time scheme on the Gaussian (LQ moment) model, compiled.

For a cost path ``eta`` the linear-quadratic model has the value ``h q^2 + k`` and a Gaussian law whose
mean ``Q`` and variance ``V`` obey closed equations (docs/mfg.md, section 6). On the steps ``dt_n`` of a
mesh, with the policy of each step implicit (the policy of the value it produces), backward Euler gives
(time in trading days, ``h`` in cost units / inventory units^2)::

    h^n = h^{n+1} + dt_n phi - dt_n (h^n)^2 / eta^n,   h^N = gamma_T     (the positive root, cancellation-free),
    rate^n = h^n / eta^n,
    Q^{n+1} (1 + dt_n rate^n) = Q^n,   V^{n+1} (1 + 2 dt_n rate^n) = V^n + sigma^2 dt_n .

These recursions serve the coupling's first guess (:func:`mfg_finance.mfg.coupling.lq_moment_map`) and the
law's envelope that sizes and grades the grid (:func:`mfg_finance.mfg.grid.law_envelope`). Both evaluate
them tens of times per solve inside a fixed-point iteration; compiled, one evaluation costs microseconds.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def moment_recursions(eta: np.ndarray, dts: np.ndarray, phi: float, gamma_T: float, mean0: float,
                      var0: float, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(h, rate, Q, V)``, each (nt+1,), of the recursions above for the (nt+1,) path ``eta`` and the (nt,) steps ``dts``."""
    nt = eta.size - 1
    h = np.empty(nt + 1)
    h[nt] = gamma_T
    for n in range(nt - 1, -1, -1):
        r = dts[n] / eta[n]
        c = h[n + 1] + dts[n] * phi
        h[n] = 2.0 * c / (1.0 + math.sqrt(1.0 + 4.0 * r * c))
    rate = np.empty(nt + 1)
    for n in range(nt + 1):
        rate[n] = h[n] / eta[n]
    mean = np.empty(nt + 1)
    var = np.empty(nt + 1)
    mean[0] = mean0
    var[0] = var0
    for n in range(nt):
        mean[n + 1] = mean[n] / (1.0 + dts[n] * rate[n])
        var[n + 1] = (var[n] + sigma * sigma * dts[n]) / (1.0 + 2.0 * dts[n] * rate[n])
    return h, rate, mean, var
