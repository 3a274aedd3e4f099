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
``X``; ``D`` is transported. The grid's axis is the sheared ``Y = X - s D`` (``s`` constant; ``S = d_Y`` at
fixed ``D``, ``dY = (m - s (m_2 - m_1)) dt + sigma0 dW0``), so the system is the one-type system of
:mod:`mfg_finance.mfg.common_noise` in ``Y`` (drift ``m - s (m_2 - m_1)``, diffusion ``sigma0``) plus an upwind
transport in ``D`` (drift ``m_2 - m_1``); ``Q_1 = Y + (s - w_2) D``, ``Q_2 = Y + (s + w_1) D``.

Why the shear and graded ``Y`` nodes. As in the one-type solver the cost ``eta`` has a kink where the crowd's
flow changes sign, ``z = sum_k w_k (2 a_k Q_k + b_k) = 0``, of width ``eta0^2 / (4 eta1 G)`` in ``Y``
(``G = sum_k w_k a_k``), narrowest at ``T`` where ``a_k = gamma_T,k``, ``b_k = 0`` and the paths sit on it.
There ``z = 2 (G X - w_1 w_2 (gamma_T,1 - gamma_T,2) D)``: for types of different ``gamma_T`` the kink is the
line ``X = s D``, ``s = w_1 w_2 (gamma_T,1 - gamma_T,2) / G`` (:func:`terminal_shear`), not ``X = 0``; with that
``s`` it is ``Y = 0`` at every ``D``, and the ``Y`` nodes are the one-type solver's graded nodes
(:func:`mfg_finance.mfg.common_noise.q_nodes`, core :func:`mfg_finance.mfg.common_noise.core_width` with
``gamma_T = G``). Identical types: ``s = 0``, ``Y = X``.

Scheme (first order, monotone). Time nodes of :func:`mfg_finance.mfg.grid.time_mesh` (graded with the
narrowest layer ``eta0 / max_k gamma_T,k``), ``Y`` graded on ``[-L_Y, L_Y]`` (``L_Y = L + |s| L_D`` holds the
``X`` box ``[-L, L]`` at every ``D``), ``D`` graded on ``[-L_D, L_D]`` with the same core (``D = 0`` a node;
below). On ``[t_n, t_{n+1}]`` each type's policy ``alpha = -k_k q - l_k``, ``k_k = a_k^{n+1}/eta^n``,
``l_k = b_k^{n+1}/(2 eta^n)``, is held and its quadratic value computed implicitly, as in the one-type solver,
with the operator split in the two directions (Lie splitting)::

    M_r = ((1 + r dt) I - dt A_Y)   per D-row (hybrid in Y, drift m - s (m_2 - m_1), diffusion sigma0, killing r),
    N   = (I - dt A_D)              per Y-column (upwind in D, drift m_2 - m_1),
    a_k^n = M_{2 k_k}^{-1} N^{-1} [a_k^{n+1} + dt (phi_k + eta k_k^2)],
    b_k^n = M_{k_k}^{-1}   N^{-1} [b_k^{n+1} + dt (2 eta k_k l_k - 2 l_k a_k^n + 2 sigma0^2 D_Y a_k^n)],
    c_k^n = M_0^{-1}       N^{-1} [c_k^{n+1} + dt (eta l_k^2 - l_k b_k^n + (sigma_k^2 + sigma0^2) a_k^n
                                                  + sigma0^2 D_Y b_k^n)],

``A_Y`` the one-type solver's hybrid generator (:func:`mfg_finance.mfg.common_noise.hybrid_rates`) and ``D_Y``
its centred difference on the graded nodes. ``M_r`` and ``N`` are tridiagonal M-matrices (row sums ``>= 1``),
solved by :func:`mfg_finance.mfg.killed_tridiag.solve_killed`; their inverses are non-negative, so the product
is monotone, and the splitting error is ``O(dt)``: the scheme stays first order. Three exact
properties follow and are tested: ``eta1 = 0`` keeps ``a_k`` constant in ``(Y, D)`` and ``b_k = 0``
(constants are transported exactly); on the row ``D = 0`` of two identical types the drift of ``D``
vanishes, ``N`` is the identity there and the row *is* the one-type solver's step; ``sigma0 = 0``
gives ``b_k = 0``.

Why graded ``D`` nodes. ``D`` is transported, never diffused (``dD = (m_2 - m_1) dt``), and along the
equilibrium it shrinks towards 0 as both types liquidate (from ``D_0 = 0.3`` to about ``3e-3`` on the stiff
test case): on uniform nodes (spacing ``2 L_D / (nD - 1)``, 0.075 at 33 nodes) the paths spend the end of the
horizon inside one cell, where the coefficients, which vary on the scale of ``|D|`` (the kink
``z = 0`` is the line ``G Y + (s G - w_1 w_2 (a_1 - a_2)) D = 0``, its slope moving with ``t``), are
interpolated across it; the upwind error then converged at order 0.1-0.35 (the stiff patient speed -9.0%,
-6.8%, -4.9% off at 33, 65, 129 nodes). Graded with the ``Y`` core (:func:`mfg_finance.mfg.common_noise.q_nodes`,
spacing a fixed fraction of ``|D|`` away from the core) the same upwind transport converges at its formal order 1
(docs/mfg.md, section 8b): the scheme, its monotonicity and its exact properties are unchanged; only the nodes
are. ``D_nodes="uniform"`` keeps the former nodes for the comparison.

``K > 2`` is not implemented and refused (:class:`ConfigError`): the common state then has ``K``
dimensions and the cost of a grid solve grows like ``n^K`` (``K = 3`` at the default resolution: 41 times
the two-type grid, about a minute with the companions).

Error estimate (:func:`solve_with_estimate`): the one-type solver's, time and space refined separately
(time companions ``nt/2``, ``nt/4`` on the same nodes; space companions every other and every fourth node in
``Y`` and ``D`` on the same time nodes), bound = time part + space part, the expected cost of each type
extrapolated in time; the rules are shared (:func:`mfg_finance.mfg.common_noise.extrapolated_cost` and the
other estimate functions there).

Memory: :func:`solve_system` keeps every time layer of ``a, b, c, k, l`` (five ``(2, nt+1, nD, nY)`` arrays: 3.3 GB
at ``(1280, 201, 161)``); the march itself (:func:`_march`) holds two, and :func:`initial_costs` keeps only the
costs at ``t = 0`` (reference solves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numba
import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.agent_types import AgentType
from mfg_finance.mfg.common_noise import (combined_estimate, core_width, coupled_eta, default_halfwidth,
                                          extrapolated_cost, field_estimate, graded_gradient, hybrid_rates,
                                          path_estimate, q_nodes, space_order_of, time_order_of)
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
    """Solution on the ``(t, D, Y)`` grid.

    ``t`` (nt+1,) trading days; ``Y`` (nY,) the sheared crowd mean ``X - shear D`` (graded towards 0) and
    ``D`` (nD,) ``Q_2 - Q_1`` (inventory units; ``X = w_1 Q_1 + w_2 Q_2``); ``a, b, c`` (2, nt+1, nD, nY) value
    coefficients of each type; ``k, l`` (2, nt+1, nD, nY) each type's policy ``alpha = -k q - l`` on
    ``[t_n, t_{n+1})``; ``eta`` (nt+1, nD, nY); ``types`` the two :class:`AgentType`; ``params``
    ``eta0, eta1, sigma0``; ``shear`` the ``s`` of ``Y = X - s D``; ``extra`` the grid's core width and box.
    """

    t: np.ndarray
    Y: np.ndarray
    D: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    k: np.ndarray
    l: np.ndarray
    eta: np.ndarray
    types: list[AgentType]
    params: dict[str, float]
    shear: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> np.ndarray:
        return np.array([ty.weight for ty in self.types])

    @property
    def dts(self) -> np.ndarray:
        return np.diff(self.t)

    @property
    def start(self) -> tuple[float, float]:
        """``(X_0, D_0)`` of the initial laws (inventory units)."""
        return start_of(self.types)

    def coefficient(self, name: str, k: int | None = None) -> np.ndarray:
        """``a, b, c, k, l`` of type ``k`` or ``eta``: (nt+1, nD, nY)."""
        f = getattr(self, name)
        return f if name == "eta" else f[k]

    def interpolate(self, f: np.ndarray, X: np.ndarray | float, D: np.ndarray | float) -> np.ndarray:
        """Bilinear interpolation in ``(Y, D)`` of a (nD, nY) field at ``(X, D)`` (clamped to the box)."""
        D = np.asarray(D, dtype=float)
        return bilinear(f, self.Y, self.D, np.asarray(X, dtype=float) - self.shear * D, D)

    def outside(self, X: np.ndarray, D: np.ndarray) -> np.ndarray:
        """Mask of the states ``(X, D)`` outside the grid's box."""
        Y = X - self.shear * D
        return (D < self.D[0]) | (D > self.D[-1]) | (Y < self.Y[0]) | (Y > self.Y[-1])

    def initial_coefficients(self, k: int) -> dict[str, float]:
        """Type ``k``'s ``a, b, c`` at ``(t = 0, X_0, D_0)``."""
        X0, D0 = self.start
        return {name: float(self.interpolate(getattr(self, name)[k, 0], X0, D0)) for name in ("a", "b", "c")}

    def cost_weights(self, k: int) -> dict[str, float]:
        """Weights of type ``k``'s ``a, b, c`` in its expected cost: ``m0^2 + s0^2``, ``m0``, ``1``."""
        return cost_weights_of(self.types[k])

    def expected_cost(self, k: int) -> float:
        """Type ``k``'s ``E[V_k(0, q0, Q0)] = a (m0^2 + s0^2) + b m0 + c`` at ``(X_0, D_0)`` on this grid
        (cost units; :meth:`TypesCommonNoiseEstimate.expected_cost` is the time-extrapolated value)."""
        return cost_of(self.types[k], self.initial_coefficients(k))

    @property
    def total_cost(self) -> float:
        """Crowd's ``sum_k w_k E[V_k]`` on this grid (cost units)."""
        return float(sum(ty.weight * self.expected_cost(k) for k, ty in enumerate(self.types)))


def start_of(types: Sequence[AgentType]) -> tuple[float, float]:
    """``(X_0, D_0)`` of the types' initial laws (inventory units)."""
    w, m0 = np.array([ty.weight for ty in types]), [ty.m0_mean for ty in types]
    return float(w @ m0), float(m0[1] - m0[0])


def cost_weights_of(ty: AgentType) -> dict[str, float]:
    """Weights of a type's ``a, b, c`` in its expected cost: ``m0^2 + s0^2``, ``m0``, ``1``."""
    return {"a": ty.m0_mean ** 2 + ty.m0_std ** 2, "b": ty.m0_mean, "c": 1.0}


def cost_of(ty: AgentType, coeffs: Mapping[str, float]) -> float:
    """A type's ``E[V(0, q0, Q0)] = a (m0^2 + s0^2) + b m0 + c`` from its coefficients at the start (cost units)."""
    return float(sum(w * coeffs[n] for n, w in cost_weights_of(ty).items()))


def bilinear(f: np.ndarray, Y: np.ndarray, D: np.ndarray, y, d) -> np.ndarray:
    """Bilinear interpolation of ``f`` (nD, nY) on the nodes ``Y``, ``D`` (any increasing nodes) at ``(y, d)``,
    clamped to the box."""
    y = np.clip(np.asarray(y, dtype=float), Y[0], Y[-1])
    d = np.clip(np.asarray(d, dtype=float), D[0], D[-1])
    iy = np.clip(np.searchsorted(Y, y, side="right") - 1, 0, Y.size - 2)
    jd = np.clip(np.searchsorted(D, d, side="right") - 1, 0, D.size - 2)
    fy = (y - Y[iy]) / (Y[iy + 1] - Y[iy])
    fd = (d - D[jd]) / (D[jd + 1] - D[jd])
    return ((1 - fd) * ((1 - fy) * f[jd, iy] + fy * f[jd, iy + 1])
            + fd * ((1 - fy) * f[jd + 1, iy] + fy * f[jd + 1, iy + 1]))


def default_halfwidths(types: Sequence[AgentType], sigma0: float, T: float) -> tuple[float, float]:
    """``(L, L_D)``: ``L`` the one-type default of the widest type (the box of ``X``), ``L_D = 1.5 max(|m0_1|,
    |m0_2|)`` (``D`` is transported between ``D_0`` and the spread the types' speeds open; inventory units)."""
    L = max(default_halfwidth({"m0_mean": ty.m0_mean, "sigma0": sigma0}, T) for ty in types)
    return L, 1.5 * max(max(abs(ty.m0_mean) for ty in types), 1e-3)


def terminal_shear(types: Sequence[AgentType]) -> float:
    """``s = w_1 w_2 (gamma_T,1 - gamma_T,2) / G``, ``G = w_1 gamma_T,1 + w_2 gamma_T,2``: at ``T`` the kink of
    ``eta`` is the line ``X = s D`` (module docstring); 0 when ``G = 0``."""
    w1, w2 = (ty.weight for ty in types)
    G = w1 * types[0].gamma_T + w2 * types[1].gamma_T
    return float(w1 * w2 * (types[0].gamma_T - types[1].gamma_T) / G) if G > 0.0 else 0.0


def y_core_width(types: Sequence[AgentType], params: Mapping[str, float], halfwidth: float, nY: int) -> float:
    """Core of the graded ``Y`` nodes: :func:`mfg_finance.mfg.common_noise.core_width` of the crowd's
    ``G = sum_k w_k gamma_T,k`` (the kink ``eta0^2 / (4 eta1 G)`` at ``T``)."""
    G = float(sum(ty.weight * ty.gamma_T for ty in types))
    return core_width({"eta0": params["eta0"], "eta1": params["eta1"], "gamma_T": G}, halfwidth, nY)


@dataclass(frozen=True)
class _Grid:
    """Nodes of one ``(t, D, Y)`` grid: time nodes and steps, ``Y`` and ``D`` nodes, each type's ``Q_k`` at the
    nodes (nD, nY), the shear, the ``Y`` core and half-widths."""

    t: np.ndarray
    dts: np.ndarray
    Y: np.ndarray
    D: np.ndarray
    Q: tuple[np.ndarray, np.ndarray]
    shear: float
    core: float
    Y_halfwidth: float
    X_halfwidth: float


def _grid(types: Sequence[AgentType], params: Mapping[str, float], *, T: float, nt: int, nX: int, nD: int,
          halfwidth: float, D_halfwidth: float, core: float | None, shear: float | None, time_kind: str,
          max_step_ratio: float, D_nodes: str = "graded") -> _Grid:
    """The grid of :func:`solve_system` (its arguments), after checking them."""
    check_type_count(types)
    if D_nodes not in ("graded", "uniform"):
        raise ConfigError(f"systemic.common_noise: D_nodes must be 'graded' or 'uniform', got {D_nodes!r}")
    if nX < 3 or nD < 3 or nt < 1 or nD % 2 == 0 or nX % 2 == 0:
        raise ConfigError(f"systemic.common_noise: need odd nQ >= 3 and nD >= 3 (Y = 0 and D = 0 nodes) and nt >= 1, "
                          f"got nQ={nX}, nD={nD}, nt={nt}")
    w1, w2 = (ty.weight for ty in types)
    X0, D0 = w1 * types[0].m0_mean + w2 * types[1].m0_mean, types[1].m0_mean - types[0].m0_mean
    if not halfwidth > abs(X0) or not D_halfwidth > abs(D0):
        raise ConfigError(f"systemic.common_noise: the (X, D) box [+-{halfwidth!r}] x [+-{D_halfwidth!r}] must "
                          f"contain the start ({X0!r}, {D0!r}) inside")
    s = terminal_shear(types) if shear is None else float(shear)
    LY = halfwidth + abs(s) * D_halfwidth
    delta = y_core_width(types, params, LY, nX) if core is None else float(core)
    t, dts = time_mesh(T, nt, time_kind, layer=layer_scale(params["eta0"], max(ty.gamma_T for ty in types)),
                       max_step_ratio=max_step_ratio)
    Y = q_nodes(LY, nX, delta)
    # D graded with the Y nodes' core (the kink's width in inventory units; D_nodes="uniform" the former nodes)
    D = (q_nodes(D_halfwidth, nD, min(delta, D_halfwidth)) if D_nodes == "graded"
         else np.linspace(-D_halfwidth, D_halfwidth, nD))
    Q = (Y[None, :] + (s - w2) * D[:, None], Y[None, :] + (s + w1) * D[:, None])
    return _Grid(t=t, dts=dts, Y=Y, D=D, Q=Q, shear=s, core=delta, Y_halfwidth=LY, X_halfwidth=float(halfwidth))


def _march(types: Sequence[AgentType], params: Mapping[str, float], g: _Grid):
    """Backward march of the module docstring's scheme, one time layer at a time: yields ``(n, a, b, c, k, l, eta)``
    for ``n = nt, nt-1, ..., 0`` (``a, b, c, k, l`` (2, nD, nY), ``eta`` (nD, nY); the policy of layer ``n`` is
    the one held on ``[t_n, t_{n+1})``, from layer ``n+1``). Only two layers are alive at a time, so a caller that
    needs the value at ``t = 0`` alone (:func:`initial_costs`) keeps ``O(nD nY)`` memory instead of ``O(nt nD nY)``."""
    eta0, eta1, sigma0 = params["eta0"], params["eta1"], params["sigma0"]
    w1, w2 = (ty.weight for ty in types)
    Y, D, Q, s = g.Y, g.D, g.Q, g.shear
    nD, nX, nt = D.size, Y.size, g.dts.size

    def policy(a_next: np.ndarray, b_next: np.ndarray):
        z = w1 * (2.0 * a_next[0] * Q[0] + b_next[0]) + w2 * (2.0 * a_next[1] * Q[1] + b_next[1])
        eta = coupled_eta(z, eta0, eta1)
        return eta, a_next / eta, b_next / (2.0 * eta)

    a = np.empty((2, nD, nX))
    b, c = np.zeros_like(a), np.zeros_like(a)
    for j, ty in enumerate(types):
        a[j] = ty.gamma_T
    eta, k, l_ = policy(a, b)
    yield nt, a, b, c, k, l_, eta
    zero_y, zero_d = np.zeros((nD, nX)), np.zeros((nX, nD))
    s02 = sigma0 * sigma0
    for n in range(nt - 1, -1, -1):
        eta, k, l_ = policy(a, b)
        h, en = float(g.dts[n]), eta
        m = [-(k[j] * Q[j] + l_[j]) for j in range(2)]
        spread = m[1] - m[0]
        upY, downY = (np.ascontiguousarray(r) for r in hybrid_rates(w1 * m[0] + w2 * m[1] - s * spread, Y, sigma0))
        upD, downD = (np.ascontiguousarray(r) for r in hybrid_rates(np.ascontiguousarray(spread.T), D, 0.0))

        def step(rhs: np.ndarray, rate: np.ndarray) -> np.ndarray:
            moved = solve_killed_rows(upD, downD, zero_d, h, np.ascontiguousarray(rhs.T)).T
            return solve_killed_rows(upY, downY, np.ascontiguousarray(rate), h, np.ascontiguousarray(moved))

        a_n, b_n, c_n = np.empty_like(a), np.empty_like(a), np.empty_like(a)
        for j, ty in enumerate(types):
            kj, lj = k[j], l_[j]
            a_n[j] = step(a[j] + h * (ty.phi + en * kj * kj), 2.0 * kj)
            b_n[j] = step(b[j] + h * (2.0 * en * kj * lj - 2.0 * lj * a_n[j]
                                      + 2.0 * s02 * graded_gradient(a_n[j], Y)), kj)
            c_n[j] = step(c[j] + h * (en * lj * lj - lj * b_n[j] + (ty.sigma ** 2 + s02) * a_n[j]
                                      + s02 * graded_gradient(b_n[j], Y)), zero_y)
        a, b, c = a_n, b_n, c_n
        yield n, a, b, c, k, l_, eta


def solve_system(types: Sequence[AgentType], params: Mapping[str, float], *, T: float, nt: int, nX: int, nD: int,
                 halfwidth: float, D_halfwidth: float, core: float | None = None, shear: float | None = None,
                 time_kind: str = "graded", max_step_ratio: float = 1.5,
                 D_nodes: str = "graded") -> TypesCommonNoiseSolution:
    """March the two types' ``(a_k, b_k, c_k)`` backward from ``T`` (see the module docstring), keeping every time
    layer (:func:`initial_costs` keeps the first only).

    ``params``: ``eta0, eta1, sigma0`` (units of :mod:`mfg_finance.mfg.config`). ``nX`` nodes in ``Y`` on
    ``[-L_Y, L_Y]``, ``L_Y = halfwidth + |shear| D_halfwidth`` (the ``X`` box ``[-halfwidth, halfwidth]`` at every
    ``D``), graded with the core ``core`` (default :func:`y_core_width`); ``nD`` nodes of ``D`` on
    ``[-D_halfwidth, D_halfwidth]``, graded with the same core (at most ``D_halfwidth``;
    ``D_nodes="uniform"``: ``linspace``, the former nodes, kept for the comparison of docs/mfg.md, section 8b);
    ``shear`` default :func:`terminal_shear`.
    """
    g = _grid(types, params, T=T, nt=nt, nX=nX, nD=nD, halfwidth=halfwidth, D_halfwidth=D_halfwidth, core=core,
              shear=shear, time_kind=time_kind, max_step_ratio=max_step_ratio, D_nodes=D_nodes)
    shape = (2, nt + 1, nD, nX)
    a, b, c, k, l_ = (np.empty(shape) for _ in range(5))
    eta = np.empty(shape[1:])
    for n, *layer in _march(types, params, g):
        for full, part in zip((a, b, c, k, l_), layer):
            full[:, n] = part
        eta[n] = layer[-1]
    return TypesCommonNoiseSolution(t=g.t, Y=g.Y, D=g.D, a=a, b=b, c=c, k=k, l=l_, eta=eta, types=list(types),
                                    params={"eta0": params["eta0"], "eta1": params["eta1"], "sigma0": params["sigma0"]},
                                    shear=g.shear, extra={"core": g.core, "Y_halfwidth": g.Y_halfwidth,
                                                          "X_halfwidth": g.X_halfwidth, "D_nodes": D_nodes})


def initial_costs(types: Sequence[AgentType], params: Mapping[str, float], **grid: Any) -> np.ndarray:
    """Each type's expected cost ``E[V_k(0, q0, Q0)]`` on the grid of :func:`solve_system` (same arguments; cost
    units, the same floats as ``solve_system(...).expected_cost(k)``), marching with two time layers alive instead
    of all of them: for reference solves on fine grids (a ``(1280, 201, 161)`` grid keeps 3.6 GB of layers)."""
    g = _grid(types, params, **{"core": None, "shear": None, "time_kind": "graded", "max_step_ratio": 1.5,
                                "D_nodes": "graded", **grid})
    for n, a, b, c, *_ in _march(types, params, g):
        if n == 0:
            X0, D0 = start_of(types)
            at = dict(y=X0 - g.shear * D0, d=D0)
            return np.array([cost_of(ty, {name: float(bilinear(f[k], g.Y, g.D, **at)) for name, f in
                                          (("a", a), ("b", b), ("c", c))}) for k, ty in enumerate(types)])
    raise AssertionError("unreachable: the march ends at n = 0")


@dataclass(frozen=True, eq=False)
class TypesCommonNoiseEstimate:
    """A fine solve, its time companions (``coarse``, ``coarser``: every other and every fourth time node, same
    ``(Y, D)`` nodes), its space companions (``space``, ``spacer``: every other and every fourth node in ``Y``
    and ``D``, same time nodes) and the error estimates of the fine solution, by the rules of
    :class:`mfg_finance.mfg.common_noise.SolutionWithEstimate` (time part + space part; each type's expected
    cost extrapolated in time)."""

    fine: TypesCommonNoiseSolution
    coarse: TypesCommonNoiseSolution
    coarser: TypesCommonNoiseSolution
    space: TypesCommonNoiseSolution
    spacer: TypesCommonNoiseSolution

    @property
    def grids(self) -> tuple[TypesCommonNoiseSolution, ...]:
        return self.fine, self.coarse, self.coarser, self.space, self.spacer

    def _fields(self, name: str, k: int | None) -> list[np.ndarray]:
        return [s.coefficient(name, k) for s in self.grids]

    def time_order(self, name: str, k: int | None = None) -> float:
        f, c, cc, _, _ = self._fields(name, k)
        return time_order_of(f, c, cc, self.coarser.t)

    def space_order(self, name: str, k: int | None = None) -> float:
        f, _, _, s, ss = self._fields(name, k)
        return space_order_of(f, s, ss, self.fine.t)

    def order(self, name: str, k: int | None = None) -> float:
        """The smaller of the observed orders in time and in space of ``name`` (of type ``k``)."""
        return min(self.time_order(name, k), self.space_order(name, k))

    def estimate(self, name: str, k: int | None = None) -> np.ndarray:
        """Error estimate of ``fine.<name>`` at the nodes shared by every companion (every other node in ``t``,
        ``D`` and ``Y``): (nt/2+1, (nD+1)/2, (nY+1)/2), time part + space part."""
        return field_estimate(*self._fields(name, k), self.time_order(name, k), self.space_order(name, k))

    def along_path(self, name: str, k: int | None, X_path: np.ndarray, D_path: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``fine.<name>(t_n, X_path[n], D_path[n])`` at the coarse time nodes and its error bound there
        (paths on the fine time nodes; orders observed along the path)."""
        def path(sol, every):
            f = sol.coefficient(name, k)
            return np.array([sol.interpolate(f[n], X_path[n * every], D_path[n * every]) for n in range(sol.t.size)])

        return path_estimate(path(self.fine, 1), path(self.coarse, 2), path(self.coarser, 4), path(self.space, 1),
                             path(self.spacer, 1), self.fine.t, self.coarser.t)

    def cost_detail(self, k: int) -> dict[str, Any]:
        """Type ``k``'s expected cost: value (extrapolated in time when asymptotic), bound, its parts, grids."""
        return extrapolated_cost([s.initial_coefficients(k) for s in self.grids], self.fine.cost_weights(k))

    def expected_cost(self, k: int) -> float:
        return self.cost_detail(k)["value"]

    def cost_error(self, k: int) -> float:
        """Bound on the error of :meth:`expected_cost` (cost units): time part + space part."""
        return self.cost_detail(k)["error_bound"]

    def cost_estimate(self, k: int) -> float:
        """Estimate of the error of :meth:`expected_cost` (cost units; ``cost_detail(k)["unresolved"]`` says
        whether it is held): :func:`mfg_finance.mfg.common_noise.combined_estimate` of its signed parts."""
        return self.cost_detail(k)["error"]

    @property
    def total_cost(self) -> float:
        """Crowd's ``sum_k w_k J_k`` of the extrapolated costs (cost units)."""
        return float(sum(ty.weight * self.expected_cost(k) for k, ty in enumerate(self.fine.types)))

    @property
    def total_cost_error(self) -> float:
        """Bound on the error of :attr:`total_cost`: the weighted sum of the types' bounds."""
        return float(sum(ty.weight * self.cost_error(k) for k, ty in enumerate(self.fine.types)))

    @property
    def total_cost_detail(self) -> dict[str, Any]:
        """The crowd's cost ``sum_k w_k J_k``: ``value``, ``error_bound`` (:attr:`total_cost_error`), the signed
        ``time_error`` and ``space_error`` (weighted sums of the types'), ``error`` (their
        :func:`~mfg_finance.mfg.common_noise.combined_estimate`) and ``unresolved`` (a type's is)."""
        details = [(ty.weight, self.cost_detail(k)) for k, ty in enumerate(self.fine.types)]
        time_error = float(sum(w * d["time_error"] for w, d in details))
        space_error = float(sum(w * d["space_error"] for w, d in details))
        return {"value": self.total_cost, "error_bound": self.total_cost_error, "time_error": time_error,
                "space_error": space_error, "error": combined_estimate(time_error, space_error),
                "unresolved": any(d["unresolved"] for _, d in details)}


def solve_with_estimate(types: Sequence[AgentType], params: Mapping[str, float], *, T: float, nt: int, nX: int,
                        nD: int, halfwidth: float, D_halfwidth: float, core: float | None = None,
                        shear: float | None = None, time_kind: str = "graded",
                        max_step_ratio: float = 1.5, D_nodes: str = "graded") -> TypesCommonNoiseEstimate:
    """Fine solve on ``(nt, nX, nD)``, time companions ``(nt/2, nX, nD)``, ``(nt/4, nX, nD)`` and space
    companions with every other and every fourth node in ``Y`` and ``D`` (nested: one core and one shear):
    ``nt`` a multiple of 4, ``nX - 1`` and ``nD - 1`` of 8 (``Y = 0`` and ``D = 0`` nodes of every grid);
    ``D_nodes`` as :func:`solve_system` (graded ``D`` nodes nest: one core for the five grids)."""
    if nt % 4 or (nX - 1) % 8 or (nD - 1) % 8:
        raise ConfigError(f"systemic.common_noise: the error estimate needs nt a multiple of 4 and nQ - 1 and nD - 1 "
                          f"multiples of 8 (Y = 0 and D = 0 nodes of every grid), got nt={nt}, nQ={nX}, nD={nD}")
    s = terminal_shear(types) if shear is None else float(shear)
    delta = y_core_width(types, params, halfwidth + abs(s) * D_halfwidth, nX) if core is None else float(core)
    kw = dict(T=T, halfwidth=halfwidth, D_halfwidth=D_halfwidth, core=delta, shear=s, time_kind=time_kind,
              max_step_ratio=max_step_ratio, D_nodes=D_nodes)
    grids = ((nt, nX, nD), (nt // 2, nX, nD), (nt // 4, nX, nD), (nt, (nX - 1) // 2 + 1, (nD - 1) // 2 + 1),
             (nt, (nX - 1) // 4 + 1, (nD - 1) // 4 + 1))
    return TypesCommonNoiseEstimate(*(solve_system(types, params, nt=n, nX=x, nD=d, **kw) for n, x, d in grids))
