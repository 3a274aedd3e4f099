r"""Common-noise paths of two agent types, simulated from the ``(t, Y, D)`` solution (``Y = X - s D``), and their bands.

Given a :class:`~mfg_finance.mfg.types_common_noise.TypesCommonNoiseSolution`, each type's conditional
mean inventory follows ``dQ_k = m_k dt + sigma0 dW0`` (one ``W0``), stepped on the solver's time nodes
linearly implicitly, as the one-type paths of :mod:`mfg_finance.mfg.common_noise_paths`::

    Q_k,n+1 = (Q_k,n - l_k,n dt_n + sigma0 sqrt(dt_n) Z_n) / (1 + k_k,n dt_n),     Z_n ~ N(0, 1) i.i.d.,

with ``k_k = a_k^{n+1}/eta``, ``l_k = b_k^{n+1}/(2 eta)``, the coefficients interpolated bilinearly at
``(X_n, D_n) = (w_1 Q_1 + w_2 Q_2, Q_2 - Q_1)`` and ``eta`` by the pointwise coupling of the grid.
Along a path the crowd's flow is ``m = sum_k w_k m_k``, ``m_k = -(k_k Q_k + l_k)`` and, with the
endogenous price, ``p = p_ref - (m + s)/kappa``. Seeded with ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.mfg.common_noise import coupled_eta
from mfg_finance.mfg.types_common_noise import TypesCommonNoiseSolution


@dataclass(frozen=True)
class TypesCommonNoisePaths:
    """Simulated paths: ``Q_by_type`` and ``m_by_type`` (2, n_paths, nt+1) conditional means and flows of each
    type and, each (n_paths, nt+1), the crowd's mean ``Q`` (inventory units), flow ``m`` (inventory units / day),
    ``eta``, ``price`` (BRL) or ``None``; ``V_T_by_type`` (2, n_paths) each type's conditional variance of
    ``q_T`` given each path (inventory units^2; :mod:`mfg_finance.mfg.types_common_noise_dispersion`); ``outside`` the share of (path, step) pairs whose ``(X, D)`` left
    the grid's box (there the coefficients are clamped to the edge)."""

    t: np.ndarray
    Q_by_type: np.ndarray
    m_by_type: np.ndarray
    Q: np.ndarray
    m: np.ndarray
    eta: np.ndarray
    price: np.ndarray | None
    outside: float
    V_T_by_type: np.ndarray | None = None

    def quantiles(self, probs) -> dict[str, np.ndarray]:
        """Bands ``{name: (len(probs), nt+1)}`` of ``Q``, ``m``, ``eta``, ``price`` and ``Q_type<k>``."""
        out = {name: np.quantile(getattr(self, name), probs, axis=0) for name in ("Q", "m", "eta")}
        if self.price is not None:
            out["price"] = np.quantile(self.price, probs, axis=0)
        for k in range(self.Q_by_type.shape[0]):
            out[f"Q_type{k}"] = np.quantile(self.Q_by_type[k], probs, axis=0)
        return out


def simulate_paths(sol: TypesCommonNoiseSolution, *, n_paths: int, seed: int,
                   price: dict | None = None, normals: np.ndarray | None = None) -> TypesCommonNoisePaths:
    """Simulate ``n_paths`` common-noise paths from ``Q_k(0) = m0_mean,k``.

    ``price``: ``{kappa, p_ref, supply}`` to add the clearing price; ``None`` for none. ``normals``: the
    (nt, n_paths) normals of the steps instead of those drawn from ``seed`` (the companion grids of the error
    estimate, :mod:`mfg_finance.mfg.common_noise_outcomes`).
    """
    from mfg_finance.mfg.price import clearing_price, supply_path

    nt = sol.t.size - 1
    p = sol.params
    w = sol.weights
    z = np.random.default_rng(seed).standard_normal((nt, n_paths)) if normals is None else np.asarray(normals)
    if z.shape != (nt, n_paths):
        raise ValueError(f"simulate_paths: normals of shape {z.shape} for {nt} steps and {n_paths} paths")
    Q = np.empty((2, nt + 1, n_paths))
    m_type = np.empty((2, nt + 1, n_paths))
    eta = np.empty((nt + 1, n_paths))
    Q[:, 0] = np.array([ty.m0_mean for ty in sol.types])[:, None]
    V = np.repeat(np.array([ty.m0_std ** 2 for ty in sol.types])[:, None], n_paths, axis=1)
    sigma2 = np.array([ty.sigma ** 2 for ty in sol.types])[:, None]
    outside = 0
    for n in range(nt + 1):
        nxt = min(n + 1, nt)
        X, D = w @ Q[:, n], Q[1, n] - Q[0, n]
        outside += int(np.count_nonzero(sol.outside(X, D)))
        a = np.array([sol.interpolate(sol.a[j, nxt], X, D) for j in range(2)])
        b = np.array([sol.interpolate(sol.b[j, nxt], X, D) for j in range(2)])
        eta[n] = coupled_eta(w @ (2.0 * a * Q[:, n] + b), p["eta0"], p["eta1"])
        k, l_ = a / eta[n], b / (2.0 * eta[n])
        m_type[:, n] = -(k * Q[:, n] + l_)
        if n < nt:
            h = sol.dts[n]
            step = 1.0 + k * h
            Q[:, n + 1] = (Q[:, n] - l_ * h + p["sigma0"] * np.sqrt(h) * z[n]) / step
            V = (V + sigma2 * h) / (step * step)
    m = w @ m_type.reshape(2, -1)
    m = m.reshape(nt + 1, n_paths)
    price_paths = None
    if price is not None:
        price_paths = clearing_price(m, supply_path(price["supply"], nt + 1)[:, None], kappa=price["kappa"],
                                     p_ref=price["p_ref"]).T
    return TypesCommonNoisePaths(t=sol.t, Q_by_type=Q.transpose(0, 2, 1).copy(),
                                 m_by_type=m_type.transpose(0, 2, 1).copy(), Q=(w @ Q.reshape(2, -1)).reshape(
        nt + 1, n_paths).T.copy(), m=m.T.copy(), eta=eta.T.copy(), price=price_paths,
        outside=outside / float((nt + 1) * n_paths), V_T_by_type=V)
