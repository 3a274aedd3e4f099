r"""Terminal dispersion of two agent types under common noise (docs/mfg.md, section 8c, applied to section 8b).

Type ``k``'s feedback ``alpha_k = -(k_k q + l_k)`` is affine in ``q`` given ``W0``, with ``(k_k, l_k)`` functions of
``(t, X_t, D_t)``, so its conditional variance obeys ``V_k' = -2 k_k V_k + sigma_k^2`` along each common-noise path,
stepped as the paths of :mod:`mfg_finance.mfg.types_common_noise_paths` (same seed, same normals, same bytes of
``Q_k``): ``V_k,n+1 = (V_k,n + sigma_k^2 dt)/(1 + k_k,n dt)^2``. Per type, ``Var(q_T) = E[V_k,T] + Var(Q_k,T)``; for
the crowd (an agent drawn with the weights ``w_k``) the conditional law given ``W0`` is the mixture, with mean
``X_T = sum_k w_k Q_k,T`` and variance ``sum_k w_k (V_k,T + Q_k,T^2) - X_T^2``: its common part is ``Var(X_T)``,
its idiosyncratic part the mean of that variance. Monte Carlo SEs, value and discretisation estimate (the same
Brownian path on the five grids, time-extrapolated where asymptotic) as in
:mod:`mfg_finance.mfg.common_noise_dispersion`.
"""

from __future__ import annotations

import numpy as np

from mfg_finance.mfg.common_noise import coupled_eta
from mfg_finance.mfg.common_noise_dispersion import (TerminalDispersion, dispersion_moments, estimated_dispersion,
                                                     terminal_states)


def conditional_paths(sol, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Q_k,T`` and ``V_k,T``, each (2, n_paths), from the (nt, n_paths) normals ``z`` (module docstring)."""
    p = sol.params
    w = sol.weights
    nt = sol.t.size - 1
    if z.shape[0] != nt:
        raise ValueError(f"conditional_paths: {z.shape[0]} rows of normals for {nt} steps")
    Q = np.repeat(np.array([ty.m0_mean for ty in sol.types])[:, None], z.shape[1], axis=1)
    V = np.repeat(np.array([ty.m0_std ** 2 for ty in sol.types])[:, None], z.shape[1], axis=1)
    sigma2 = np.array([ty.sigma ** 2 for ty in sol.types])[:, None]
    for n in range(nt):
        X, D = w @ Q, Q[1] - Q[0]
        a = np.array([sol.interpolate(sol.a[j, n + 1], X, D) for j in range(2)])
        b = np.array([sol.interpolate(sol.b[j, n + 1], X, D) for j in range(2)])
        eta = coupled_eta(w @ (2.0 * a * Q + b), p["eta0"], p["eta1"])
        k, l_ = a / eta, b / (2.0 * eta)
        h = sol.dts[n]
        step = 1.0 + k * h
        Q = (Q - l_ * h + p["sigma0"] * np.sqrt(h) * z[n]) / step       # as types_common_noise_paths
        V = (V + sigma2 * h) / (step * step)
    return Q, V


def _groups(sol, Q: np.ndarray, V: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """Moments of each type and of the crowd's mixture (:func:`dispersion_moments`)."""
    w = sol.weights
    X = w @ Q
    out = {"crowd": dispersion_moments(X, w @ (V + Q * Q) - X * X)}
    for k, ty in enumerate(sol.types):
        out[ty.name] = dispersion_moments(Q[k], V[k])
    return out


def types_terminal_dispersion(estimate, *, n_paths: int, seed: int,
                              terminal: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                              ) -> dict[str, TerminalDispersion]:
    """``{"crowd": ..., <type name>: ...}`` terminal dispersions of a
    :class:`~mfg_finance.mfg.types_common_noise.TypesCommonNoiseEstimate` (see the module docstring); ``terminal``
    as in :func:`mfg_finance.mfg.common_noise_dispersion.terminal_dispersion`."""
    states = terminal_states(estimate, conditional_paths, n_paths=n_paths, seed=seed, terminal=terminal)
    moments = [_groups(estimate.fine, Q, V) for Q, V in states]
    return {group: estimated_dispersion([m[group] for m in moments], n_paths=n_paths, seed=seed)
            for group in moments[0]}
