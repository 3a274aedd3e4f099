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
them tens of times per solve inside a fixed-point iteration; compiled, one evaluation costs microseconds
(:mod:`mfg_finance.mfg.kernels`: the C build if installed, else :mod:`mfg_finance.mfg.sweep_kernel`'s numba one).
"""

from __future__ import annotations

import numpy as np


def moment_recursions(eta: np.ndarray, dts: np.ndarray, phi: float, gamma_T: float, mean0: float,
                      var0: float, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(h, rate, Q, V)``, each (nt+1,), of the recursions above for the (nt+1,) path ``eta`` and the (nt,) steps ``dts``."""
    from mfg_finance.mfg.kernels import backend

    eta = np.ascontiguousarray(eta, dtype=float)
    h, rate, mean, var = (np.empty(eta.size) for _ in range(4))
    backend().moment_recursions_into(eta, np.ascontiguousarray(dts, dtype=float), float(phi), float(gamma_T),
                                     float(mean0), float(var0), float(sigma), h, rate, mean, var)
    return h, rate, mean, var
