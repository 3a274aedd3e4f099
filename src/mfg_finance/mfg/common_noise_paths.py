r"""Common-noise paths simulated from the ``(t, Q)`` solution, and their fan-chart quantiles.

Given a :class:`~mfg_finance.mfg.common_noise.CommonNoiseSolution`, the crowd's conditional mean
inventory follows ``dQ = m(t, Q) dt + sigma0 dW0`` with ``m = -k Q - l``. On the solver's time
nodes the step is linearly implicit in ``Q`` (the moment of the solver's implicit step, stable for
the stiff terminal layer)::

    Q_{n+1} = (Q_n - l_n dt_n + sigma0 sqrt(dt_n) Z_n) / (1 + k_n dt_n),   Z_n ~ N(0, 1) i.i.d.,

with ``(k_n, l_n, eta_n)`` the policy of step ``n`` at ``Q_n``: ``a^{n+1}, b^{n+1}`` interpolated
linearly at ``Q_n`` and ``eta_n = (eta0 + sqrt(eta0^2 + 2 eta1 |2 a Q_n + b|))/2``, the same
pointwise coupling as the grid. Along a path ``m_n = -(k_n Q_n + l_n)`` and, with the endogenous
price, ``p_n = p_ref - (m_n + s_n) / kappa`` (:mod:`mfg_finance.mfg.price`). Seeded with
``numpy.random.default_rng(seed)``; the same seed gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution, coupled_eta


def policy_at(sol: CommonNoiseSolution, n: int, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(k, l, eta)`` of the policy in force on ``[t_n, t_{n+1})`` at conditional means ``Q``."""
    p = sol.params
    nxt = min(n + 1, sol.t.size - 1)
    a = np.interp(Q, sol.Q, sol.a[nxt])
    b = np.interp(Q, sol.Q, sol.b[nxt])
    eta = coupled_eta(2.0 * a * Q + b, p["eta0"], p["eta1"])
    return a / eta, b / (2.0 * eta), eta


@dataclass(frozen=True)
class CommonNoisePaths:
    """Simulated paths, each (n_paths, nt+1): ``Q`` conditional mean inventory (inventory units),
    ``m`` mean flow (inventory units / day), ``eta`` execution cost, ``price`` (BRL) or ``None``; ``V_T``
    (n_paths,) one agent's conditional variance of ``q_T`` given each path (inventory units^2; the recursion of
    :mod:`mfg_finance.mfg.common_noise_dispersion`, stepped along)."""

    t: np.ndarray
    Q: np.ndarray
    m: np.ndarray
    eta: np.ndarray
    price: np.ndarray | None
    V_T: np.ndarray | None = None

    def quantiles(self, probs) -> dict[str, np.ndarray]:
        """Fan-chart bands: ``{name: (len(probs), nt+1)}`` for each simulated quantity."""
        out = {name: np.quantile(getattr(self, name), probs, axis=0) for name in ("Q", "m", "eta")}
        if self.price is not None:
            out["price"] = np.quantile(self.price, probs, axis=0)
        return out


def simulate_paths(sol: CommonNoiseSolution, *, n_paths: int, seed: int, Q0: float | None = None,
                   price: dict | None = None, normals: np.ndarray | None = None) -> CommonNoisePaths:
    """Simulate ``n_paths`` common-noise paths from ``Q0`` (default ``m0_mean``).

    ``price``: ``{kappa, p_ref, supply}`` (supply a number or a list of nt+1 numbers) to add the
    clearing price; ``None`` for no price. ``normals``: the (nt, n_paths) standard normals ``Z_n`` of the
    steps instead of those drawn from ``seed`` (the error estimate drives the companion grids with the same
    Brownian path, :func:`mfg_finance.mfg.common_noise_dispersion.coarse_normals`).
    """
    from mfg_finance.mfg.price import clearing_price, supply_path

    nt = sol.t.size - 1
    sigma0 = sol.params["sigma0"]
    dts = sol.dts
    z = np.random.default_rng(seed).standard_normal((nt, n_paths)) if normals is None else np.asarray(normals)
    if z.shape != (nt, n_paths):
        raise ValueError(f"simulate_paths: normals of shape {z.shape} for {nt} steps and {n_paths} paths")
    Q = np.empty((nt + 1, n_paths))
    m = np.empty_like(Q)
    eta = np.empty_like(Q)
    Q[0] = sol.params["m0_mean"] if Q0 is None else Q0
    V = np.full(n_paths, float(sol.params["m0_std"]) ** 2)
    sigma2 = float(sol.params["sigma"]) ** 2
    for n in range(nt + 1):
        k, l_, eta[n] = policy_at(sol, n, Q[n])
        m[n] = -(k * Q[n] + l_)
        if n < nt:
            h = dts[n]
            step = 1.0 + k * h
            Q[n + 1] = (Q[n] - l_ * h + sigma0 * np.sqrt(h) * z[n]) / step
            V = (V + sigma2 * h) / (step * step)
    p = None
    if price is not None:
        p = clearing_price(m, supply_path(price["supply"], nt + 1)[:, None], kappa=price["kappa"],
                           p_ref=price["p_ref"]).T
    return CommonNoisePaths(t=sol.t, Q=Q.T.copy(), m=m.T.copy(), eta=eta.T.copy(), price=p, V_T=V)


#: Fewest paths for a band's Monte Carlo SE (:func:`band_with_se`): below, the 5% quantile has less than one
#: path below it and its spacings say nothing of the density.
BAND_MIN_PATHS = 20


def band_with_se(values, probs) -> tuple[list[float], list[float | None]]:
    """The ``probs`` quantiles ``x_p`` of i.i.d. path outcomes ``values`` and their Monte Carlo SEs.

    The SE is the asymptotic ``sqrt(p (1 - p) / n) / f(x_p)`` with the density from the quantiles themselves
    (Siddiqui, Bloch-Gastwirth): ``1 / f(x_p) ~ (x_{p+d} - x_{p-d}) / (2 d)``, ``d = sqrt(p (1 - p) / n)``, so
    ``SE = (x_{p+d} - x_{p-d}) / 2`` (``p +- d`` clipped to [0, 1]). Measured over 2000 seeds (normal and
    exponential outcomes, 5% and 95%): the mean stated SE is 0.93-1.02 of the quantile's spread over seeds for
    100 to 2000 paths, 0.82-1.07 for 40 (batch means of 10-path blocks were 0.67-1.41 off). Below
    :data:`BAND_MIN_PATHS` paths the SEs are ``None``. Same unit as ``values``; deterministic (no resampling).
    """
    x = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    band = [float(v) for v in np.quantile(x, p)]
    if x.size < BAND_MIN_PATHS:
        return band, [None] * len(band)
    d = np.sqrt(p * (1.0 - p) / x.size)
    spread = np.quantile(x, np.minimum(p + d, 1.0)) - np.quantile(x, np.maximum(p - d, 0.0))
    return band, [float(v) for v in spread / 2.0]
