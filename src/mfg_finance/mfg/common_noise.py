r"""MFG with common noise: the backward parabolic system in ``(t, Q)`` and its monotone solver.

Model (time in trading days, inventory in inventory units; docs/mfg.md, section 8)::

    dq = alpha dt + sigma dW + sigma0 dW0          (W0 shared by every agent),
    cost  E[ int_0^T (eta_t alpha^2 + phi q^2) dt + gamma_T q_T^2 ],   eta_t = eta0 + eta1 |m_t|,
    m_t = E[alpha_t | W0],   Q_t = E[q_t | W0],   dQ = m dt + sigma0 dW0 .

The crowd's state is ``Q``; costs are quadratic in ``q``, so ``V(t, q, Q) = a q^2 + b q + c`` with
``a, b, c`` functions of ``(t, Q)``. The agent's HJB, with generator
``alpha d_q + m d_Q + (sigma^2 + sigma0^2)/2 d_qq + sigma0^2 d_qQ + sigma0^2/2 d_QQ``, gives,
coefficient by coefficient of ``q^2, q, 1``::

    -a_t = phi - a^2/eta + m a_Q + (sigma0^2/2) a_QQ,                               a(T) = gamma_T,
    -b_t = -a b/eta + 2 sigma0^2 a_Q + m b_Q + (sigma0^2/2) b_QQ,                   b(T) = 0,
    -c_t = -b^2/(4 eta) + (sigma^2 + sigma0^2) a + sigma0^2 b_Q + m c_Q + (sigma0^2/2) c_QQ,  c(T) = 0,

feedback ``alpha(t, q, Q) = -(2 a q + b) / (2 eta)``, and consistency ``m = E[alpha | W0] =
-(2 a Q + b)/(2 eta)`` with ``eta = eta0 + eta1 |m|``, i.e. pointwise (the fixed point is local
in ``(t, Q)``: no global iteration)::

    eta = (eta0 + sqrt(eta0^2 + 2 eta1 |2 a Q + b|)) / 2 .

Scheme (first order, monotone). Time nodes of :func:`mfg_finance.mfg.grid.time_mesh` (graded
towards ``T`` as the deterministic solver), ``Q`` nodes uniform on ``[-L, L]``. On the step
``[t_n, t_{n+1}]`` the policy ``alpha = -k q - l`` with ``k = a^{n+1}/eta^n``, ``l = b^{n+1}/(2 eta^n)``
and ``eta^n`` from ``(a^{n+1}, b^{n+1})`` is held fixed and the quadratic value of that policy is
computed implicitly (policy evaluation, the time scheme of the deterministic solver)::

    ((1 + 2 k dt) I - dt A_m) a^n = a^{n+1} + dt (phi + eta k^2),
    ((1 +   k dt) I - dt A_m) b^n = b^{n+1} + dt (2 eta k l - 2 l a^n + 2 sigma0^2 D_Q a^n),
    (              I - dt A_m) c^n = c^{n+1} + dt (eta l^2 - l b^n + (sigma^2 + sigma0^2) a^n + sigma0^2 D_Q b^n),

``A_m`` the upwind generator in ``Q`` (drift ``m = -k Q - l``, diffusion ``sigma0``, reflecting ends:
:func:`mfg_finance.mfg.hjb.generator_offdiagonals`) and ``D_Q`` the centred difference (one-sided at
the ends). Each matrix is an M-matrix (``k >= 0``), solved by
:func:`mfg_finance.mfg.killed_tridiag.solve_killed`; ``sigma0 = 0`` (pure upwind transport) is allowed.
With ``a^{n+1}, b^{n+1}`` substituted the right-hand sides are the HJB's ``phi - a^2/eta``,
``-a b/eta`` and ``-b^2/(4 eta)``: consistent, first order in ``dt`` and ``dQ``.

Error estimate: :func:`solve_with_estimate` solves again on the companion grids with every other
and every fourth ``Q`` and time node (the graded mesh keeps its law when ``nt`` halves) and
reports the error bound ``1.25 |f_h - f_2h| / (2^p - 1)`` with the observed order ``p`` (Richardson
with the safety factor of Roache's grid convergence index).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.grid import layer_scale, time_mesh
from mfg_finance.mfg.hjb import generator_offdiagonals
from mfg_finance.mfg.killed_tridiag import solve_killed

#: Defaults of ``mfg.common_noise`` (the (t, Q) grid and the simulated common-noise paths).
DEFAULTS = {"nQ": 201, "Q_halfwidth": None, "n_paths": 2000, "seed": 16,
            "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95]}
#: Safety factor of the error bounds (Roache's grid convergence index for a three-grid study): the
#: Richardson estimate is asymptotically exact, so it falls a little short as often as not.
SAFETY = 1.25
#: Observed orders are clipped to [MIN_ORDER, FORMAL_ORDER] (the scheme is first order).
MIN_ORDER, FORMAL_ORDER = 0.5, 1.0
#: Half-width of the default Q domain: this many common-noise standard deviations sigma0 sqrt(T)
#: beyond 1.5 |m0_mean| (reflecting ends; the paths start at m0_mean and decay towards 0).
DOMAIN_SDS = 5.0


def coupled_eta(z: np.ndarray, eta0: float, eta1: float) -> np.ndarray:
    """``eta`` solving ``eta = eta0 + eta1 |z| / (2 eta)`` with ``z = 2 a Q + b`` (i.e. ``m = -z/(2 eta)``)."""
    return 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 2.0 * eta1 * np.abs(z)))


def centred_gradient(f: np.ndarray, dQ: float) -> np.ndarray:
    """``D_Q f``: centred differences inside, one-sided at the two ends."""
    g = np.empty_like(f)
    g[1:-1] = (f[2:] - f[:-2]) / (2.0 * dQ)
    g[0] = (f[1] - f[0]) / dQ
    g[-1] = (f[-1] - f[-2]) / dQ
    return g


@dataclass(frozen=True, eq=False)
class CommonNoiseSolution:
    """Solution of the ``(t, Q)`` system on the grid.

    ``t`` (nt+1,) time nodes (trading days), ``Q`` (nQ,) conditional-mean inventory nodes
    (inventory units); ``a, b, c`` (nt+1, nQ) value coefficients (cost / inv.^2, cost / inv.,
    cost); ``k, l, eta`` (nt+1, nQ) the policy ``alpha = -k q - l`` in force on ``[t_n, t_{n+1})``
    (1/day, inv./day) and its cost coefficient (``k[nt], l[nt]``: terminal feedback); ``params``
    the model parameters.
    """

    t: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    k: np.ndarray
    l: np.ndarray
    eta: np.ndarray
    params: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dts(self) -> np.ndarray:
        return np.diff(self.t)

    @property
    def dQ(self) -> float:
        return float(self.Q[1] - self.Q[0])

    @property
    def mean_flow(self) -> np.ndarray:
        """``m(t_n, Q_j) = -k Q - l`` (inventory units / day), (nt+1, nQ)."""
        return -(self.k * self.Q[None, :] + self.l)

    def feedback(self, n: int, q: np.ndarray, Q: float) -> np.ndarray:
        """``alpha(t_n, q, Q) = -k q - l`` (inv. units / day) at the time node ``n``, ``Q`` interpolated."""
        k = np.interp(Q, self.Q, self.k[n])
        l_ = np.interp(Q, self.Q, self.l[n])
        return -(k * np.asarray(q) + l_)

    def value(self, q: float, Q: float, n: int = 0) -> float:
        """``V(t_n, q, Q) = a q^2 + b q + c`` (cost units), linear interpolation in ``Q``."""
        a, b, c = (float(np.interp(Q, self.Q, f[n])) for f in (self.a, self.b, self.c))
        return a * q * q + b * q + c

    @property
    def expected_cost(self) -> float:
        """Representative agent's expected cost ``E[V(0, q_0, Q_0)]``, ``q_0 ~ N(m0_mean, m0_std^2)``,
        ``Q_0 = m0_mean``: ``a (m0^2 + s0^2) + b m0 + c`` at ``(0, m0)`` (cost units)."""
        p = self.params
        m0, s0 = p["m0_mean"], p["m0_std"]
        a, b, c = (float(np.interp(m0, self.Q, f[0])) for f in (self.a, self.b, self.c))
        return a * (m0 * m0 + s0 * s0) + b * m0 + c


def default_halfwidth(params: Mapping[str, float], T: float) -> float:
    """``L = 1.5 |m0_mean| + 5 sigma0 sqrt(T)`` (inventory units), at least ``|m0_mean| + 1e-3``."""
    return max(1.5 * abs(params["m0_mean"]) + DOMAIN_SDS * params["sigma0"] * math.sqrt(T),
               abs(params["m0_mean"]) + 1e-3)


def solve_system(params: Mapping[str, float], *, T: float, nt: int, nQ: int, halfwidth: float,
                 time_kind: str = "graded", max_step_ratio: float = 1.5) -> CommonNoiseSolution:
    """March the ``(a, b, c)`` system backward from ``T`` on ``nQ`` nodes of ``[-halfwidth, halfwidth]``.

    ``params``: ``sigma, sigma0, eta0, eta1, phi, gamma_T, m0_mean, m0_std`` (units of
    :mod:`mfg_finance.mfg.config`; ``sigma0`` in inventory units / sqrt(trading day)).
    """
    if nQ < 3 or nt < 1:
        raise ConfigError(f"mfg.common_noise: need nQ >= 3 and nt >= 1, got nQ={nQ}, nt={nt}")
    if not halfwidth > abs(params["m0_mean"]):
        raise ConfigError(f"mfg.common_noise.Q_halfwidth: must exceed |m0_mean| = {abs(params['m0_mean'])!r}, "
                          f"got {halfwidth!r}")
    sigma, sigma0 = params["sigma"], params["sigma0"]
    eta0, eta1, phi, gamma_T = params["eta0"], params["eta1"], params["phi"], params["gamma_T"]
    t, dts = time_mesh(T, nt, time_kind, layer=layer_scale(eta0, gamma_T), max_step_ratio=max_step_ratio)
    Q = np.linspace(-halfwidth, halfwidth, nQ)
    dQ = float(Q[1] - Q[0])
    shape = (nt + 1, nQ)
    a, b, c, k, l_, eta = (np.empty(shape) for _ in range(6))
    a[nt], b[nt], c[nt] = gamma_T, 0.0, 0.0

    def policy(n_next: int, n: int) -> None:
        eta[n] = coupled_eta(2.0 * a[n_next] * Q + b[n_next], eta0, eta1)
        k[n] = a[n_next] / eta[n]
        l_[n] = b[n_next] / (2.0 * eta[n])

    policy(nt, nt)
    noise = sigma * sigma + sigma0 * sigma0
    for n in range(nt - 1, -1, -1):
        policy(n + 1, n)
        kn, ln, en = k[n], l_[n], eta[n]
        up, down = generator_offdiagonals(-(kn * Q + ln), sigma0, dQ)
        h = float(dts[n])
        a[n] = solve_killed(up, down, 2.0 * kn, h, a[n + 1] + h * (phi + en * kn * kn))
        b[n] = solve_killed(up, down, kn, h,
                            b[n + 1] + h * (2.0 * en * kn * ln - 2.0 * ln * a[n]
                                            + 2.0 * sigma0 * sigma0 * centred_gradient(a[n], dQ)))
        c[n] = solve_killed(up, down, np.zeros(nQ), h,
                            c[n + 1] + h * (en * ln * ln - ln * b[n] + noise * a[n]
                                            + sigma0 * sigma0 * centred_gradient(b[n], dQ)))
    return CommonNoiseSolution(t=t, Q=Q, a=a, b=b, c=c, k=k, l=l_, eta=eta, params=dict(params))


@dataclass(frozen=True, eq=False)
class SolutionWithEstimate:
    """A fine solve with its two companions (every other node in ``t`` and ``Q``, then every fourth)
    and the Richardson error estimates of the fine solution.

    With the observed order ``p = log2(||f_2h - f_4h|| / ||f_h - f_2h||)`` (time-integrated sup
    norm, clipped to ``[0.5, 1]``: never above the scheme's formal order 1, since a faster observed
    decay is pre-asymptotic and would shrink the bound; 1 if undefined) the error of ``f_h`` at a shared node is estimated
    by ``|f_h - f_2h| / (2^p - 1)``: on the stiff baseline the scheme is pre-asymptotic
    (``p ~ 0.8``) and assuming ``p = 1`` would under-estimate the error by ~30%. Bounds carry the
    safety factor ``SAFETY = 1.25`` of the grid convergence index.
    """

    fine: CommonNoiseSolution
    coarse: CommonNoiseSolution
    coarser: CommonNoiseSolution

    def _norm(self, diff: np.ndarray, t: np.ndarray) -> float:
        w = np.append(np.diff(t), np.diff(t)[-1:])
        return float(w @ np.max(np.abs(diff), axis=1))

    def order(self, name: str) -> float:
        """Observed order of ``name`` over the three grids (see the class docstring)."""
        f, c, cc = (getattr(s, name) for s in (self.fine, self.coarse, self.coarser))
        d_fine = self._norm(f[::4, ::4] - c[::2, ::2], self.coarser.t)
        d_coarse = self._norm(c[::2, ::2] - cc, self.coarser.t)
        if not (d_fine > 0.0 and d_coarse > 0.0):
            return 1.0
        return float(np.clip(math.log2(d_coarse / d_fine), MIN_ORDER, FORMAL_ORDER))

    def estimate(self, name: str) -> np.ndarray:
        """(nt/2+1, (nQ+1)/2) estimate of the error of ``fine.<name>`` at the nodes shared with ``coarse``."""
        diff = np.abs(getattr(self.fine, name)[::2, ::2] - getattr(self.coarse, name))
        return SAFETY * diff / (2.0 ** self.order(name) - 1.0)

    def along_path(self, name: str, Q_path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``fine.<name>(t_n, Q_path[n])`` at the coarse time nodes and its error bound there.

        ``Q_path``: (nt+1,) path on the fine time nodes. The order is observed along the path
        (time-integrated norm over the coarsest nodes), then clipped as in :meth:`order`.
        """
        vals = []
        for s, r in ((self.fine, 1), (self.coarse, 2), (self.coarser, 4)):
            f = getattr(s, name)
            vals.append(np.array([np.interp(Q_path[n * r], s.Q, f[n]) for n in range(s.t.size)]))
        fine, coarse, coarser = vals[0][::2], vals[1], vals[2]
        d_fine = self._norm((fine[::2] - coarse[::2])[:, None], self.coarser.t)
        d_coarse = self._norm((coarse[::2] - coarser)[:, None], self.coarser.t)
        p = (float(np.clip(math.log2(d_coarse / d_fine), MIN_ORDER, FORMAL_ORDER))
             if d_fine > 0.0 and d_coarse > 0.0 else 1.0)
        return fine, SAFETY * np.abs(fine - coarse) / (2.0 ** p - 1.0)

    def order_at(self, name: str, n: int, Q: float) -> float:
        """Observed order of ``name`` at the time node ``n`` of the coarsest grid and ``Q`` (interpolated)."""
        f, c, cc = (np.interp(Q, s.Q, getattr(s, name)[n * r])
                    for s, r in ((self.fine, 4), (self.coarse, 2), (self.coarser, 1)))
        d_fine, d_coarse = abs(f - c), abs(c - cc)
        if not (d_fine > 0.0 and d_coarse > 0.0):
            return 1.0
        return float(np.clip(math.log2(d_coarse / d_fine), MIN_ORDER, FORMAL_ORDER))

    @property
    def cost_error(self) -> float:
        """Estimate of the error of ``fine.expected_cost`` (cost units).

        ``J = a (m0^2 + s0^2) + b m0 + c`` at ``(0, m0)``: the errors of ``a`` and ``c`` have opposite
        signs on coarse grids and cancel in ``J_h - J_2h``, so each coefficient is extrapolated on
        its own (order observed at that point) and the absolute estimates are added.
        """
        p = self.fine.params
        m0, s0 = p["m0_mean"], p["m0_std"]
        total = 0.0
        for name, weight in (("a", m0 * m0 + s0 * s0), ("b", abs(m0)), ("c", 1.0)):
            f, c = (float(np.interp(m0, s.Q, getattr(s, name)[0])) for s in (self.fine, self.coarse))
            total += weight * abs(f - c) / (2.0 ** self.order_at(name, 0, m0) - 1.0)
        return SAFETY * total


def solve_with_estimate(params: Mapping[str, float], *, T: float, nt: int, nQ: int, halfwidth: float,
                        time_kind: str = "graded", max_step_ratio: float = 1.5) -> SolutionWithEstimate:
    """Fine solve on ``(nt, nQ)`` and companions on ``(nt/2, (nQ+1)/2)`` and ``(nt/4, (nQ+3)/4)``:
    ``nt`` a multiple of 4 and ``nQ - 1`` a multiple of 4 (the graded mesh keeps its law)."""
    if nt % 4 or (nQ - 1) % 4:
        raise ConfigError(f"mfg.common_noise: the error estimate needs nt and nQ - 1 multiples of 4, "
                          f"got nt={nt}, nQ={nQ}")
    kw = dict(T=T, halfwidth=halfwidth, time_kind=time_kind, max_step_ratio=max_step_ratio)
    return SolutionWithEstimate(*(solve_system(params, nt=nt // r, nQ=(nQ - 1) // r + 1, **kw)
                                  for r in (1, 2, 4)))
