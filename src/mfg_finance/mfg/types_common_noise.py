r"""Two agent types under common noise: the backward system in ``(t, Q_1, Q_2)`` and its monotone solver.

Model (time in trading days, inventory in inventory units; docs/mfg.md, section 8b). Type ``k``
(weight ``w_k``, parameters ``phi_k, gamma_T,k, sigma_k, m0_mean,k, m0_std,k`` of
:mod:`mfg_finance.mfg.agent_types`)::

    dq = alpha dt + sigma_k dW + sigma0 dW0,        cost  E[ int (eta alpha^2 + phi_k q^2) dt + gamma_T,k q_T^2 ],

one ``W0`` for everybody, ``eta = eta0 + eta1 |m|`` with the crowd's flow ``m = sum_k w_k m_k``,
``m_k = E[alpha | W0, type k]``. The common state is the vector of conditional means
``Q_k = E[q | W0, type k]``, ``dQ_k = m_k dt + sigma0 dW0`` (the same ``dW0`` in every component).
With ``V_k(t, q, Q) = a_k q^2 + b_k q + c_k`` (``a_k, b_k, c_k`` functions of ``(t, Q_1..Q_K)``) and
``S = sum_j d_{Q_j}`` (all components move together under ``W0``), the HJB of type ``k`` with generator
``alpha d_q + sum_j m_j d_{Q_j} + (sigma_k^2 + sigma0^2)/2 d_qq + sigma0^2 d_q S + (sigma0^2/2) S^2``
gives, coefficient by coefficient::

    -a_k,t = phi_k - a_k^2/eta + sum_j m_j d_j a_k + (sigma0^2/2) S^2 a_k,                        a_k(T) = gamma_T,k,
    -b_k,t = -a_k b_k/eta + 2 sigma0^2 S a_k + sum_j m_j d_j b_k + (sigma0^2/2) S^2 b_k,          b_k(T) = 0,
    -c_k,t = -b_k^2/(4 eta) + (sigma_k^2 + sigma0^2) a_k + sigma0^2 S b_k
             + sum_j m_j d_j c_k + (sigma0^2/2) S^2 c_k,                                            c_k(T) = 0,

``m_k = -(2 a_k Q_k + b_k)/(2 eta)`` and, pointwise in ``(t, Q)``, with ``z = sum_k w_k (2 a_k Q_k + b_k)``,
``eta = (eta0 + sqrt(eta0^2 + 2 eta1 |z|))/2``.

Coordinates (``K = 2``). ``X = w_1 Q_1 + w_2 Q_2`` (the crowd's mean inventory) and ``D = Q_2 - Q_1``:
``dX = m dt + sigma0 dW0`` and ``dD = (m_2 - m_1) dt``, ``S = d_X``. The common noise only diffuses
``X``; ``D`` is transported. So the system is the one-type system of
:mod:`mfg_finance.mfg.common_noise` in ``X`` (drift ``m``, diffusion ``sigma0``) plus an upwind
transport in ``D`` (drift ``m_2 - m_1``); ``Q_1 = X - w_2 D``, ``Q_2 = X + w_1 D``.

Scheme (first order, monotone). Time nodes of :func:`mfg_finance.mfg.grid.time_mesh` (graded with the
narrowest layer ``eta0 / max_k gamma_T,k``), ``X`` uniform on ``[-L, L]``, ``D`` uniform on
``[-L_D, L_D]`` (``D = 0`` a node). On ``[t_n, t_{n+1}]`` each type's policy ``alpha = -k_k q - l_k``,
``k_k = a_k^{n+1}/eta^n``, ``l_k = b_k^{n+1}/(2 eta^n)``, is held and its quadratic value computed
implicitly, as in the one-type solver, with the operator split in the two directions (Lie splitting)::

    M_r = ((1 + r dt) I - dt A_X)   per D-row (upwind in X, drift m, diffusion sigma0, killing r),
    N   = (I - dt A_D)              per X-column (upwind in D, drift m_2 - m_1),
    a_k^n = M_{2 k_k}^{-1} N^{-1} [a_k^{n+1} + dt (phi_k + eta k_k^2)],
    b_k^n = M_{k_k}^{-1}   N^{-1} [b_k^{n+1} + dt (2 eta k_k l_k - 2 l_k a_k^n + 2 sigma0^2 D_X a_k^n)],
    c_k^n = M_0^{-1}       N^{-1} [c_k^{n+1} + dt (eta l_k^2 - l_k b_k^n + (sigma_k^2 + sigma0^2) a_k^n
                                                  + sigma0^2 D_X b_k^n)].

``M_r`` and ``N`` are tridiagonal M-matrices (row sums ``>= 1``), solved by
:func:`mfg_finance.mfg.killed_tridiag.solve_killed`; their inverses are non-negative, so the product
is monotone, and the splitting error is ``O(dt)``: the scheme stays first order. Three exact
properties follow and are tested: ``eta1 = 0`` keeps ``a_k`` constant in ``(X, D)`` and ``b_k = 0``
(constants are transported exactly); on the row ``D = 0`` of two identical types the drift of ``D``
vanishes, ``N`` is the identity there and the row *is* the one-type solver's step; ``sigma0 = 0``
gives ``b_k = 0``.

``K > 2`` is not implemented and refused (:class:`ConfigError`): the common state then has ``K``
dimensions and the cost of a grid solve grows like ``n^K`` (``K = 3`` at the default resolution: 41 times
the two-type grid, about a minute with the companions).

Error estimate: as the one-type solver, three nested grids (every other and every fourth node in
``t``, ``X`` and ``D``), Richardson with the observed order clipped to ``[0.5, 1]`` and the safety
factor 1.25.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numba
import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.agent_types import AgentType
from mfg_finance.mfg.common_noise import (FORMAL_ORDER, MIN_ORDER, SAFETY, centred_gradient, coupled_eta,
                                          default_halfwidth)
from mfg_finance.mfg.grid import layer_scale, time_mesh
from mfg_finance.mfg.killed_tridiag import solve_killed

#: Number of types this solver handles (the common state has one dimension per type).
MAX_TYPES = 2


@numba.njit(cache=True)
def solve_killed_rows(up: np.ndarray, down: np.ndarray, rate: np.ndarray, dt: float, b: np.ndarray) -> np.ndarray:
    """Row by row :func:`solve_killed`: ``((1 + dt rate_r) I - dt A_r) x_r = b_r`` for each row ``r``."""
    out = np.empty_like(b)
    for r in range(b.shape[0]):
        out[r] = solve_killed(up[r], down[r], rate[r], dt, b[r])
    return out


def offdiagonals(drift: np.ndarray, sigma: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Upwind jump rates along the last axis (:func:`mfg_finance.mfg.hjb.generator_offdiagonals` on stacks)."""
    diffusion = 0.5 * sigma * sigma / (h * h)
    up = diffusion + np.maximum(drift[..., :-1], 0.0) / h
    down = diffusion + np.maximum(-drift[..., 1:], 0.0) / h
    return np.ascontiguousarray(up), np.ascontiguousarray(down)


def check_type_count(types: Sequence[Any], key: str = "mfg.types") -> None:
    """Refuse ``K > 2`` types with common noise, naming ``key``."""
    if len(types) > MAX_TYPES:
        raise ConfigError(f"{key}: {len(types)} types with common noise (sigma0 > 0) are not supported: the "
                          f"common state (Q_1..Q_K) has K dimensions and a grid solve costs n^K (at most "
                          f"{MAX_TYPES} types; docs/mfg.md, section 8b). Use at most {MAX_TYPES} types or sigma0: 0.0")
    if len(types) < MAX_TYPES:
        raise ConfigError(f"{key}: the two-type common-noise solver needs exactly {MAX_TYPES} types, got "
                          f"{len(types)}; for one type with common noise leave the types list empty and put "
                          "its values in mfg.params")


@dataclass(frozen=True, eq=False)
class TypesCommonNoiseSolution:
    """Solution on the ``(t, D, X)`` grid.

    ``t`` (nt+1,) trading days; ``X`` (nX,) crowd mean inventory ``w_1 Q_1 + w_2 Q_2`` and ``D`` (nD,)
    ``Q_2 - Q_1`` (inventory units); ``a, b, c`` (2, nt+1, nD, nX) value coefficients of each type;
    ``k, l`` (2, nt+1, nD, nX) each type's policy ``alpha = -k q - l`` on ``[t_n, t_{n+1})``;
    ``eta`` (nt+1, nD, nX); ``types`` the two :class:`AgentType`; ``params`` ``eta0, eta1, sigma0``.
    """

    t: np.ndarray
    X: np.ndarray
    D: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    k: np.ndarray
    l: np.ndarray
    eta: np.ndarray
    types: list[AgentType]
    params: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> np.ndarray:
        return np.array([ty.weight for ty in self.types])

    @property
    def dts(self) -> np.ndarray:
        return np.diff(self.t)

    @property
    def dX(self) -> float:
        return float(self.X[1] - self.X[0])

    @property
    def dD(self) -> float:
        return float(self.D[1] - self.D[0])

    @property
    def start(self) -> tuple[float, float]:
        """``(X_0, D_0)`` of the initial laws (inventory units)."""
        w, m0 = self.weights, [ty.m0_mean for ty in self.types]
        return float(w @ m0), float(m0[1] - m0[0])

    def coefficient(self, name: str, k: int | None = None) -> np.ndarray:
        """``a, b, c, k, l`` of type ``k`` or ``eta``: (nt+1, nD, nX)."""
        f = getattr(self, name)
        return f if name == "eta" else f[k]

    def interpolate(self, f: np.ndarray, X: np.ndarray | float, D: np.ndarray | float) -> np.ndarray:
        """Bilinear interpolation of a (nD, nX) field at ``(X, D)`` (clamped to the box)."""
        return bilinear(f, self.X, self.D, X, D)

    def expected_cost(self, k: int) -> float:
        """Type ``k``'s ``E[V_k(0, q0, Q0)] = a (m0^2 + s0^2) + b m0 + c`` at ``(X_0, D_0)`` (cost units)."""
        ty = self.types[k]
        X0, D0 = self.start
        a, b, c = (float(self.interpolate(f[k, 0], X0, D0)) for f in (self.a, self.b, self.c))
        return a * (ty.m0_mean ** 2 + ty.m0_std ** 2) + b * ty.m0_mean + c

    @property
    def total_cost(self) -> float:
        """Crowd's ``sum_k w_k E[V_k]`` (cost units)."""
        return float(sum(ty.weight * self.expected_cost(k) for k, ty in enumerate(self.types)))


def bilinear(f: np.ndarray, X: np.ndarray, D: np.ndarray, x, d) -> np.ndarray:
    """Bilinear interpolation of ``f`` (nD, nX) on the uniform nodes ``X``, ``D`` at ``(x, d)``, clamped."""
    x, d = np.asarray(x, dtype=float), np.asarray(d, dtype=float)
    hx, hd = X[1] - X[0], D[1] - D[0]
    sx = np.clip((x - X[0]) / hx, 0.0, X.size - 1.0)
    sd = np.clip((d - D[0]) / hd, 0.0, D.size - 1.0)
    ix = np.minimum(sx.astype(np.int64), X.size - 2)
    jd = np.minimum(sd.astype(np.int64), D.size - 2)
    fx, fd = sx - ix, sd - jd
    return ((1 - fd) * ((1 - fx) * f[jd, ix] + fx * f[jd, ix + 1])
            + fd * ((1 - fx) * f[jd + 1, ix] + fx * f[jd + 1, ix + 1]))


def default_halfwidths(types: Sequence[AgentType], sigma0: float, T: float) -> tuple[float, float]:
    """``(L, L_D)``: ``L`` the one-type default of the widest type, ``L_D = 1.5 max(|m0_1|, |m0_2|)``
    (``D`` is transported between ``D_0`` and the spread the types' speeds open; inventory units)."""
    L = max(default_halfwidth({"m0_mean": ty.m0_mean, "sigma0": sigma0}, T) for ty in types)
    return L, 1.5 * max(max(abs(ty.m0_mean) for ty in types), 1e-3)


def solve_system(types: Sequence[AgentType], params: Mapping[str, float], *, T: float, nt: int, nX: int, nD: int,
                 halfwidth: float, D_halfwidth: float, time_kind: str = "graded",
                 max_step_ratio: float = 1.5) -> TypesCommonNoiseSolution:
    """March the two types' ``(a_k, b_k, c_k)`` backward from ``T`` (see the module docstring).

    ``params``: ``eta0, eta1, sigma0`` (units of :mod:`mfg_finance.mfg.config`).
    """
    check_type_count(types)
    if nX < 3 or nD < 3 or nt < 1 or nD % 2 == 0:
        raise ConfigError(f"systemic.common_noise: need nX >= 3, an odd nD >= 3 (D = 0 a node) and nt >= 1, "
                          f"got nX={nX}, nD={nD}, nt={nt}")
    w1, w2 = (ty.weight for ty in types)
    X0, D0 = w1 * types[0].m0_mean + w2 * types[1].m0_mean, types[1].m0_mean - types[0].m0_mean
    if not halfwidth > abs(X0) or not D_halfwidth > abs(D0):
        raise ConfigError(f"systemic.common_noise: the (X, D) box [+-{halfwidth!r}] x [+-{D_halfwidth!r}] must "
                          f"contain the start ({X0!r}, {D0!r}) inside")
    eta0, eta1, sigma0 = params["eta0"], params["eta1"], params["sigma0"]
    t, dts = time_mesh(T, nt, time_kind, layer=layer_scale(eta0, max(ty.gamma_T for ty in types)),
                       max_step_ratio=max_step_ratio)
    X = np.linspace(-halfwidth, halfwidth, nX)
    D = np.linspace(-D_halfwidth, D_halfwidth, nD)
    dX, dD = float(X[1] - X[0]), float(D[1] - D[0])
    Q = (X[None, :] - w2 * D[:, None], X[None, :] + w1 * D[:, None])
    shape = (2, nt + 1, nD, nX)
    a, b, c, k, l_ = (np.empty(shape) for _ in range(5))
    eta = np.empty(shape[1:])
    for j, ty in enumerate(types):
        a[j, nt], b[j, nt], c[j, nt] = ty.gamma_T, 0.0, 0.0

    def policy(n_next: int, n: int) -> None:
        z = w1 * (2.0 * a[0, n_next] * Q[0] + b[0, n_next]) + w2 * (2.0 * a[1, n_next] * Q[1] + b[1, n_next])
        eta[n] = coupled_eta(z, eta0, eta1)
        k[:, n] = a[:, n_next] / eta[n]
        l_[:, n] = b[:, n_next] / (2.0 * eta[n])

    policy(nt, nt)
    zero_x, zero_d = np.zeros((nD, nX)), np.zeros((nX, nD))
    for n in range(nt - 1, -1, -1):
        policy(n + 1, n)
        h, en = float(dts[n]), eta[n]
        m = [-(k[j, n] * Q[j] + l_[j, n]) for j in range(2)]
        upX, downX = offdiagonals(w1 * m[0] + w2 * m[1], sigma0, dX)
        upD, downD = offdiagonals(np.ascontiguousarray((m[1] - m[0]).T), 0.0, dD)

        def step(rhs: np.ndarray, rate: np.ndarray) -> np.ndarray:
            moved = solve_killed_rows(upD, downD, zero_d, h, np.ascontiguousarray(rhs.T)).T
            return solve_killed_rows(upX, downX, np.ascontiguousarray(rate), h, np.ascontiguousarray(moved))

        for j, ty in enumerate(types):
            kj, lj = k[j, n], l_[j, n]
            a[j, n] = step(a[j, n + 1] + h * (ty.phi + en * kj * kj), 2.0 * kj)
            b[j, n] = step(b[j, n + 1] + h * (2.0 * en * kj * lj - 2.0 * lj * a[j, n]
                                              + 2.0 * sigma0 * sigma0 * gradient_x(a[j, n], dX)), kj)
            c[j, n] = step(c[j, n + 1] + h * (en * lj * lj - lj * b[j, n]
                                              + (ty.sigma ** 2 + sigma0 * sigma0) * a[j, n]
                                              + sigma0 * sigma0 * gradient_x(b[j, n], dX)), zero_x)
    return TypesCommonNoiseSolution(t=t, X=X, D=D, a=a, b=b, c=c, k=k, l=l_, eta=eta, types=list(types),
                                    params={"eta0": eta0, "eta1": eta1, "sigma0": sigma0})


def gradient_x(f: np.ndarray, dX: float) -> np.ndarray:
    """``D_X f`` row by row (centred inside, one-sided at the ends), as the one-type solver's ``D_Q``."""
    return centred_gradient(f.T, dX).T


def _order(d_fine: float, d_coarse: float) -> float:
    if not (d_fine > 0.0 and d_coarse > 0.0):
        return 1.0
    return float(np.clip(math.log2(d_coarse / d_fine), MIN_ORDER, FORMAL_ORDER))


def _time_norm(diff: np.ndarray, t: np.ndarray) -> float:
    """Time-integrated sup norm of (nt+1, ...) differences."""
    w = np.append(np.diff(t), np.diff(t)[-1:])
    return float(w @ np.max(np.abs(diff.reshape(diff.shape[0], -1)), axis=1))


@dataclass(frozen=True, eq=False)
class TypesCommonNoiseEstimate:
    """A fine solve, its two companions (every other, every fourth node in ``t``, ``X``, ``D``) and the
    Richardson error estimates of the fine solution (the rules of
    :class:`mfg_finance.mfg.common_noise.SolutionWithEstimate`)."""

    fine: TypesCommonNoiseSolution
    coarse: TypesCommonNoiseSolution
    coarser: TypesCommonNoiseSolution

    def _fields(self, name: str, k: int | None):
        return [s.coefficient(name, k) for s in (self.fine, self.coarse, self.coarser)]

    def order(self, name: str, k: int | None = None) -> float:
        """Observed order of ``name`` (of type ``k``) over the three grids."""
        f, c, cc = self._fields(name, k)
        return _order(_time_norm(f[::4, ::4, ::4] - c[::2, ::2, ::2], self.coarser.t),
                      _time_norm(c[::2, ::2, ::2] - cc, self.coarser.t))

    def estimate(self, name: str, k: int | None = None) -> np.ndarray:
        """Error estimate of ``fine.<name>`` at the nodes shared with ``coarse``: (nt/2+1, (nD+1)/2, (nX+1)/2)."""
        f, c, _ = self._fields(name, k)
        return SAFETY * np.abs(f[::2, ::2, ::2] - c) / (2.0 ** self.order(name, k) - 1.0)

    def along_path(self, name: str, k: int | None, X_path: np.ndarray, D_path: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``fine.<name>(t_n, X_path[n], D_path[n])`` at the coarse time nodes and its error bound there
        (paths on the fine time nodes; order observed along the path)."""
        vals = []
        for s, r in ((self.fine, 1), (self.coarse, 2), (self.coarser, 4)):
            f = s.coefficient(name, k)
            vals.append(np.array([s.interpolate(f[n], X_path[n * r], D_path[n * r]) for n in range(s.t.size)]))
        fine, coarse, coarser = vals[0][::2], vals[1], vals[2]
        p = _order(_time_norm(fine[::2] - coarse[::2], self.coarser.t), _time_norm(coarse[::2] - coarser,
                                                                                    self.coarser.t))
        return fine, SAFETY * np.abs(fine - coarse) / (2.0 ** p - 1.0)

    def cost_error(self, k: int) -> float:
        """Estimate of the error of ``fine.expected_cost(k)``: each coefficient extrapolated on its own at
        the start (order observed there), absolute estimates added (cost units)."""
        ty = self.fine.types[k]
        X0, D0 = self.fine.start
        total = 0.0
        for name, weight in (("a", ty.m0_mean ** 2 + ty.m0_std ** 2), ("b", abs(ty.m0_mean)), ("c", 1.0)):
            f, c, cc = (float(s.interpolate(s.coefficient(name, k)[0], X0, D0))
                        for s in (self.fine, self.coarse, self.coarser))
            total += weight * abs(f - c) / (2.0 ** _order(abs(f - c), abs(c - cc)) - 1.0)
        return SAFETY * total

    @property
    def total_cost_error(self) -> float:
        return float(sum(ty.weight * self.cost_error(k) for k, ty in enumerate(self.fine.types)))


def solve_with_estimate(types: Sequence[AgentType], params: Mapping[str, float], *, T: float, nt: int, nX: int,
                        nD: int, halfwidth: float, D_halfwidth: float, time_kind: str = "graded",
                        max_step_ratio: float = 1.5) -> TypesCommonNoiseEstimate:
    """Fine solve on ``(nt, nX, nD)`` and companions with every other and every fourth node:
    ``nt`` and ``nX - 1`` multiples of 4, ``nD - 1`` of 8."""
    if nt % 4 or (nX - 1) % 4 or (nD - 1) % 8:
        raise ConfigError(f"systemic.common_noise: the error estimate needs nt and nQ - 1 multiples of 4 and nD - 1 "
                          f"a multiple of 8 (D = 0 a node of every grid), got nt={nt}, nQ={nX}, nD={nD}")
    kw = dict(T=T, halfwidth=halfwidth, D_halfwidth=D_halfwidth, time_kind=time_kind, max_step_ratio=max_step_ratio)
    return TypesCommonNoiseEstimate(*(solve_system(types, params, nt=nt // r, nX=(nX - 1) // r + 1,
                                                   nD=(nD - 1) // r + 1, **kw) for r in (1, 2, 4)))
