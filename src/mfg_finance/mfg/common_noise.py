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

Scheme (first order in time, monotone). Time nodes of :func:`mfg_finance.mfg.grid.time_mesh` (graded
towards ``T`` as the deterministic solver); ``Q`` nodes graded towards ``Q = 0`` (:func:`q_nodes`), where
the crowd's flow changes sign. On the step ``[t_n, t_{n+1}]`` the policy ``alpha = -k q - l`` with
``k = a^{n+1}/eta^n``, ``l = b^{n+1}/(2 eta^n)`` and ``eta^n`` from ``(a^{n+1}, b^{n+1})`` is held fixed and
the quadratic value of that policy is computed implicitly (policy evaluation, the time scheme of the
deterministic solver)::

    ((1 + 2 k dt) I - dt A_m) a^n = a^{n+1} + dt (phi + eta k^2),
    ((1 +   k dt) I - dt A_m) b^n = b^{n+1} + dt (2 eta k l - 2 l a^n + 2 sigma0^2 D_Q a^n),
    (              I - dt A_m) c^n = c^{n+1} + dt (eta l^2 - l b^n + (sigma^2 + sigma0^2) a^n + sigma0^2 D_Q b^n),

``A_m`` the generator in ``Q`` of the deterministic solver's hybrid scheme (drift ``m = -k Q - l``,
diffusion ``sigma0``: central where the cell Peclet number allows, upwind beyond, reflecting ends;
:func:`mfg_finance.mfg.hjb.hybrid_offdiagonals`) and ``D_Q`` the three-point centred difference on the
graded nodes (one-sided at the ends). Each matrix is an M-matrix (``k >= 0``), solved by
:func:`mfg_finance.mfg.killed_tridiag.solve_killed`; ``sigma0 = 0`` (pure upwind transport) is allowed.
With ``a^{n+1}, b^{n+1}`` substituted the right-hand sides are the HJB's ``phi - a^2/eta``,
``-a b/eta`` and ``-b^2/(4 eta)``: consistent, first order in ``dt``.

Why graded ``Q`` nodes. The kink of ``eta = eta0 + eta1 |m|`` where the flow changes sign
(``2 a Q + b = 0``, i.e. ``Q = 0`` by symmetry) has the width ``eta0^2 / (4 eta1 a)`` in ``Q``, smallest at
``T`` (:func:`core_width`), and near ``T`` the paths of ``Q`` sit on it. On the real-data calibration
(B3, January 2021) it is 0.003 inventory units and the terminal law of ``Q`` 0.03, against a domain of
+-5: uniform nodes left a 1.6% error in the expected cost at 201 nodes and needed 800 to reach 0.05%;
the graded nodes reach 0.01% with 101.

Error estimate (:func:`solve_with_estimate`): time and space are refined *separately*, each with two
companions (``nt/2`` and ``nt/4`` steps on the same ``Q`` nodes; every other and every fourth ``Q`` node
on the same time nodes). Refining both at once let errors of opposite signs (time +2.3%, space -1.6% on
the real-data calibration) cancel in the companions' difference, which gave a bound ten times too
small. The expected cost is extrapolated in time (Richardson, as the deterministic solver's outcomes,
:class:`SolutionWithEstimate`), bounded by the sum of its time and space parts and estimated by their signed sum
(within a factor 3 of the true error on the exact checks, :func:`combined_estimate`); each field gets
``1.25 (|f_h - f_2h| / (2^p - 1) + |2 f_h - 3 f_2h + f_4h| / 3)`` per direction, ``p`` the observed order
clipped to ``[0.5, 1]`` (1.25: the safety factor of Roache's grid convergence index; the second term, the first
one's own error, keeps the bound where ``f_h - f_2h`` changes sign: :func:`field_estimate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.accuracy import UNRESOLVED_RELATIVE
from mfg_finance.mfg.grid import layer_scale, time_mesh
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
#: Largest spacing of the graded Q nodes away from their core, relative to |Q| (:func:`core_width`):
#: with 41 nodes a finer core (outer spacing 50% of |Q|) put the sigma0 = 0 liquidation speed 21% off the
#: deterministic solver's, 8% with this cap; with the default 201 nodes it does not bind on the calibrations.
MAX_OUTER_SPACING = 0.08
#: Relative size (of the expected cost) below which a coefficient's contribution is round-off.
ROUNDOFF = 1.0e-10
#: Share of the absolute sum of the expected cost's time and space estimates its error estimate keeps where they
#: cancel (:func:`combined_estimate`; docs/mfg.md section 8, *The expected cost's error estimate*).
CANCELLATION_SHARE = 1.0 / 3.0


def coupled_eta(z: np.ndarray, eta0: float, eta1: float) -> np.ndarray:
    """``eta`` solving ``eta = eta0 + eta1 |z| / (2 eta)`` with ``z = 2 a Q + b`` (i.e. ``m = -z/(2 eta)``)."""
    return 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 2.0 * eta1 * np.abs(z)))


def centred_gradient(f: np.ndarray, dQ: float) -> np.ndarray:
    """``D_Q f`` on uniform nodes: centred differences inside, one-sided at the two ends."""
    g = np.empty_like(f)
    g[1:-1] = (f[2:] - f[:-2]) / (2.0 * dQ)
    g[0] = (f[1] - f[0]) / dQ
    g[-1] = (f[-1] - f[-2]) / dQ
    return g


def graded_gradient(f: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``D_Q f`` along the last axis on any nodes ``Q``: the three-point centred difference (second order),
    one-sided at the ends."""
    h = np.diff(Q)
    hm, hp = h[:-1], h[1:]
    g = np.empty_like(f)
    g[..., 1:-1] = (hm * hm * (f[..., 2:] - f[..., 1:-1]) + hp * hp * (f[..., 1:-1] - f[..., :-2])) / (hm * hp * (hm + hp))
    g[..., 0] = (f[..., 1] - f[..., 0]) / h[0]
    g[..., -1] = (f[..., -1] - f[..., -2]) / h[-1]
    return g


def core_width(params: Mapping[str, float], halfwidth: float, nQ: int) -> float:
    """Width ``delta`` (inventory units) of the fine core of ``nQ`` graded ``Q`` nodes around 0.

    The width of the kink of ``eta`` where the crowd's flow changes sign, at its narrowest (at ``T``,
    ``a = gamma_T``): ``eta0^2 / (4 eta1 gamma_T)``, widened if needed so that the outer spacing stays
    below :data:`MAX_OUTER_SPACING` of ``|Q|`` (the stretch ``asinh(L / delta)`` at most
    ``MAX_OUTER_SPACING (nQ - 1) / 2``: the paths start at ``m0_mean``, far from the core), and at most
    ``L`` (nearly uniform). Without coupling (``eta1 = 0``) ``a`` and ``c`` do not depend on ``Q`` and
    ``b = 0``: ``delta = L``. The terminal law of ``Q`` (width ``sigma0 sqrt(eta0 / gamma_T)``) needs no
    finer nodes than the kink: the coefficients are smooth on either side of it. Continuous in ``sigma0``
    (the limit ``sigma0 -> 0`` is solved on the same nodes).
    """
    eta0, eta1, gamma_T = params["eta0"], params["eta1"], params["gamma_T"]
    kink = eta0 * eta0 / (4.0 * eta1 * gamma_T) if eta1 > 0.0 and gamma_T > 0.0 else math.inf
    widest_stretch = 0.5 * MAX_OUTER_SPACING * (nQ - 1)
    return float(min(max(kink, halfwidth / math.sinh(widest_stretch)), halfwidth))


def q_nodes(halfwidth: float, nQ: int, core: float) -> np.ndarray:
    """``nQ`` nodes on ``[-L, L]`` graded towards 0: ``Q = delta sinh(beta xi)``, ``xi`` uniform on
    ``[-1, 1]``, ``beta = asinh(L / delta)`` (``delta = core``, inventory units).

    The spacing is ``~ 2 beta sqrt(delta^2 + Q^2) / (nQ - 1)``: uniform in the core, a fixed fraction of
    ``|Q|`` outside. Mirror-symmetric, ``Q = 0`` a node (``nQ`` odd), and nested: the nodes for
    ``(nQ + 1) / 2`` are every other node (the error estimate's companions).
    """
    if nQ % 2 == 0:
        raise ConfigError(f"mfg.common_noise.nQ: must be odd (Q = 0 a node), got {nQ}")
    beta = math.asinh(halfwidth / core)
    side = core * np.sinh(beta * np.linspace(0.0, 1.0, (nQ + 1) // 2))
    side[0], side[-1] = 0.0, halfwidth
    return np.concatenate([-side[:0:-1], side])


@dataclass(frozen=True, eq=False)
class CommonNoiseSolution:
    """Solution of the ``(t, Q)`` system on the grid.

    ``t`` (nt+1,) time nodes (trading days), ``Q`` (nQ,) conditional-mean inventory nodes
    (inventory units, graded towards 0); ``a, b, c`` (nt+1, nQ) value coefficients (cost / inv.^2,
    cost / inv., cost); ``k, l, eta`` (nt+1, nQ) the policy ``alpha = -k q - l`` in force on
    ``[t_n, t_{n+1})`` (1/day, inv./day) and its cost coefficient (``k[nt], l[nt]``: terminal feedback);
    ``params`` the model parameters.
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
        """Smallest ``Q`` spacing (inventory units), at ``Q = 0``."""
        return float(np.min(np.diff(self.Q)))

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

    def initial_coefficients(self) -> dict[str, float]:
        """``a, b, c`` at ``(t = 0, Q = m0_mean)`` (linear interpolation in ``Q``)."""
        m0 = self.params["m0_mean"]
        return {name: float(np.interp(m0, self.Q, getattr(self, name)[0])) for name in ("a", "b", "c")}

    @property
    def expected_cost(self) -> float:
        """Representative agent's expected cost on this grid ``E[V(0, q_0, Q_0)]``,
        ``q_0 ~ N(m0_mean, m0_std^2)``, ``Q_0 = m0_mean``: ``a (m0^2 + s0^2) + b m0 + c`` at ``(0, m0)``
        (cost units). :attr:`SolutionWithEstimate.expected_cost` is the time-extrapolated value."""
        return cost_from_coefficients(self.initial_coefficients(), self.params)


def cost_weights(params: Mapping[str, float]) -> dict[str, float]:
    """Weights of ``a, b, c`` in the expected cost: ``m0^2 + s0^2``, ``m0``, ``1``."""
    m0, s0 = params["m0_mean"], params["m0_std"]
    return {"a": m0 * m0 + s0 * s0, "b": m0, "c": 1.0}


def cost_from_coefficients(coeffs: Mapping[str, float], params: Mapping[str, float]) -> float:
    return float(sum(w * coeffs[name] for name, w in cost_weights(params).items()))


def default_halfwidth(params: Mapping[str, float], T: float) -> float:
    """``L = 1.5 |m0_mean| + 5 sigma0 sqrt(T)`` (inventory units), at least ``|m0_mean| + 1e-3``."""
    return max(1.5 * abs(params["m0_mean"]) + DOMAIN_SDS * params["sigma0"] * math.sqrt(T),
               abs(params["m0_mean"]) + 1e-3)


def hybrid_rates(m: np.ndarray, Q: np.ndarray, sigma0: float) -> tuple[np.ndarray, np.ndarray]:
    """Rates ``up[..., i] = A[i, i+1]``, ``down[..., i] = A[i+1, i]`` of the hybrid generator along the last
    axis (drift ``m``, diffusion ``sigma0``; :func:`mfg_finance.mfg.hjb.hybrid_offdiagonals`, the same formula
    vectorised, for a stack of rows): inner node ``i`` with spacings ``h-``, ``h+``, ``W = h- + h+`` jumps up
    at ``(2 D_m + m h-)/(h+ W)`` and down at ``(2 D_m - m h+)/(h- W)``, ``D_m = max(D, m h+/2, -m h-/2)``,
    ``D = sigma0^2/2``; the end nodes jump inwards only (upwind drift plus ``D / h^2``). With ``sigma0 = 0``
    this is the upwind transport."""
    D = 0.5 * sigma0 * sigma0
    h = np.diff(Q)
    hm, hp, mi = h[:-1], h[1:], m[..., 1:-1]
    W = hm + hp
    De = np.maximum(np.maximum(D, 0.5 * mi * hp), -0.5 * mi * hm)
    up, down = np.empty(m.shape[:-1] + (Q.size - 1,)), np.empty(m.shape[:-1] + (Q.size - 1,))
    up[..., 1:] = np.maximum((2.0 * De + mi * hm) / (hp * W), 0.0)
    down[..., :-1] = np.maximum((2.0 * De - mi * hp) / (hm * W), 0.0)
    up[..., 0] = D / (h[0] * h[0]) + np.maximum(m[..., 0], 0.0) / h[0]
    down[..., -1] = D / (h[-1] * h[-1]) + np.maximum(-m[..., -1], 0.0) / h[-1]
    return up, down


def upwind_rates(m: np.ndarray, Q: np.ndarray, sigma0: float) -> tuple[np.ndarray, np.ndarray]:
    """Rates of the upwind generator on uniform nodes (``nodes="uniform"`` of :func:`solve_system`)."""
    h = float(Q[1] - Q[0])
    D = 0.5 * sigma0 * sigma0 / (h * h)
    return D + np.maximum(m[:-1], 0.0) / h, D + np.maximum(-m[1:], 0.0) / h


def _march(Q, dts, sigma, sigma0, eta0, eta1, phi, gamma_T, rates):
    """The backward steps of the module docstring: ``(a, b, c, k, l, eta)``, each (nt+1, nQ); ``rates`` the
    generator (:func:`hybrid_rates` or :func:`upwind_rates`). NumPy over ``Q``, the compiled tridiagonal
    solves of :mod:`mfg_finance.mfg.killed_tridiag` (no kernel of its own to compile in a cold run)."""
    nt, nQ = dts.size, Q.size
    a, b, c, k, l_, eta = (np.empty((nt + 1, nQ)) for _ in range(6))
    a[nt], b[nt], c[nt] = gamma_T, 0.0, 0.0
    zeros = np.zeros(nQ)
    noise, s02 = sigma * sigma + sigma0 * sigma0, sigma0 * sigma0

    def policy(n_next, n):
        eta[n] = coupled_eta(2.0 * a[n_next] * Q + b[n_next], eta0, eta1)
        k[n] = a[n_next] / eta[n]
        l_[n] = b[n_next] / (2.0 * eta[n])

    policy(nt, nt)
    for n in range(nt - 1, -1, -1):
        policy(n + 1, n)
        kn, ln, en = k[n], l_[n], eta[n]
        up, down = rates(-(kn * Q + ln), Q, sigma0)
        h = float(dts[n])
        a[n] = solve_killed(up, down, 2.0 * kn, h, a[n + 1] + h * (phi + en * kn * kn))
        b[n] = solve_killed(up, down, kn, h, b[n + 1] + h * (2.0 * en * kn * ln - 2.0 * ln * a[n]
                                                             + 2.0 * s02 * graded_gradient(a[n], Q)))
        c[n] = solve_killed(up, down, zeros, h, c[n + 1] + h * (en * ln * ln - ln * b[n] + noise * a[n]
                                                                + s02 * graded_gradient(b[n], Q)))
    return a, b, c, k, l_, eta


def solve_system(params: Mapping[str, float], *, T: float, nt: int, nQ: int, halfwidth: float,
                 core: float | None = None, nodes: str = "graded", time_kind: str = "graded",
                 max_step_ratio: float = 1.5) -> CommonNoiseSolution:
    """March the ``(a, b, c)`` system backward from ``T`` on ``nQ`` nodes of ``[-halfwidth, halfwidth]``.

    ``params``: ``sigma, sigma0, eta0, eta1, phi, gamma_T, m0_mean, m0_std`` (units of
    :mod:`mfg_finance.mfg.config`; ``sigma0`` in inventory units / sqrt(trading day)). ``nodes``:
    ``graded`` (:func:`q_nodes`, hybrid generator; ``core`` the width of the fine core around ``Q = 0``,
    default :func:`core_width`) or ``uniform`` (``linspace`` nodes and the upwind generator: the former
    scheme, kept for the comparison of docs/mfg.md, section 8).
    """
    if nQ < 3 or nt < 1:
        raise ConfigError(f"mfg.common_noise: need nQ >= 3 and nt >= 1, got nQ={nQ}, nt={nt}")
    if not halfwidth > abs(params["m0_mean"]):
        raise ConfigError(f"mfg.common_noise.Q_halfwidth: must exceed |m0_mean| = {abs(params['m0_mean'])!r}, "
                          f"got {halfwidth!r}")
    if nodes not in ("graded", "uniform"):
        raise ConfigError(f"mfg.common_noise: nodes must be 'graded' or 'uniform', got {nodes!r}")
    eta0, gamma_T = params["eta0"], params["gamma_T"]
    t, dts = time_mesh(T, nt, time_kind, layer=layer_scale(eta0, gamma_T), max_step_ratio=max_step_ratio)
    delta = core_width(params, halfwidth, nQ) if core is None else float(core)
    Q = q_nodes(halfwidth, nQ, delta) if nodes == "graded" else np.linspace(-halfwidth, halfwidth, nQ)
    a, b, c, k, l_, eta = _march(Q, np.asarray(dts, dtype=float), *(float(params[name]) for name in (
        "sigma", "sigma0", "eta0", "eta1", "phi", "gamma_T")), upwind_rates if nodes == "uniform" else hybrid_rates)
    return CommonNoiseSolution(t=t, Q=Q, a=a, b=b, c=c, k=k, l=l_, eta=eta, params=dict(params),
                               extra={"core": delta if nodes == "graded" else None, "nodes": nodes})


def _order(d_fine: float, d_coarse: float) -> float:
    """Observed order ``log2(d_coarse / d_fine)`` clipped to ``[MIN_ORDER, FORMAL_ORDER]`` (1 if undefined)."""
    if not (d_fine > 0.0 and d_coarse > 0.0):
        return FORMAL_ORDER
    return float(np.clip(math.log2(d_coarse / d_fine), MIN_ORDER, FORMAL_ORDER))


def _time_norm(diff: np.ndarray, t: np.ndarray) -> float:
    """Time-integrated sup norm over the space axes of a (len(t), ...) array."""
    w = np.append(np.diff(t), np.diff(t)[-1:])
    return float(w @ np.max(np.abs(diff.reshape(diff.shape[0], -1)), axis=1))


def _every(step: int, ndim: int) -> tuple[slice, ...]:
    """Every ``step``-th node along each space axis of a (time, space...) array (all time nodes)."""
    return (slice(None),) + (slice(None, None, step),) * (ndim - 1)


# The estimate's rules, shared with the two-type solver (mfg.types_common_noise): a field is a (nt+1, ...)
# array on the fine grid; ``coarse``/``coarser`` the time companions (same space nodes), ``space``/``spacer`` the
# space companions (every other / every fourth node along each space axis, same time nodes).

def time_order_of(fine: np.ndarray, coarse: np.ndarray, coarser: np.ndarray, t_coarser: np.ndarray) -> float:
    """Observed order in time, the three grids compared on the coarser's time nodes."""
    return _order(_time_norm(fine[::4] - coarse[::2], t_coarser), _time_norm(coarse[::2] - coarser, t_coarser))


def space_order_of(fine: np.ndarray, space: np.ndarray, spacer: np.ndarray, t: np.ndarray) -> float:
    """Observed order in space, the three grids compared on the spacer's nodes."""
    n = fine.ndim
    return _order(_time_norm(fine[_every(4, n)] - space[_every(2, n)], t), _time_norm(space[_every(2, n)] - spacer, t))


def _refine_by_max(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` given on every other node along ``axis``, on every node: a node between two takes their larger value."""
    x = np.moveaxis(x, axis, 0)
    out = np.empty((2 * x.shape[0] - 1,) + x.shape[1:])
    out[::2] = x
    out[1::2] = np.maximum(x[:-1], x[1:])
    return np.moveaxis(out, 0, axis)


def remainder_estimate(fine: np.ndarray, mid: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Size of the error of a first-order Richardson estimate, from three grids ``h, 2h, 4h`` at ``coarse``'s nodes
    (all three arrays there): with ``f_h = f + C h + D h^2``, the estimate ``-(f_h - f_2h)`` of ``f_h - f`` is off
    by ``-2 D h^2``, and ``|2 f_h - 3 f_2h + f_4h| / 3 = 2 |D| h^2``. Where ``C`` changes sign (the companions'
    difference crosses zero) this term is what is left of the error. Beside a first-order term at a clipped order
    ``p <= 1`` the sum bounds ``|C h + D h^2|`` (docs/mfg.md section 8); for an expansion in ``h^p, h^2p`` with
    ``p < 1`` it does not isolate ``D``."""
    return np.abs(2.0 * fine - 3.0 * mid + coarse) / 3.0


def field_estimate(fine: np.ndarray, coarse: np.ndarray, coarser: np.ndarray, space: np.ndarray,
                   spacer: np.ndarray, p_time: float, p_space: float) -> np.ndarray:
    """Error estimate of ``fine`` at the nodes shared by every companion (every other node in time and along
    each space axis): per direction the first-order term ``|f_h - f_2h| / (2^p - 1)`` plus the next-order term
    (:func:`remainder_estimate`, from the companions' companions on every fourth node, carried to the nodes between
    by the larger neighbour), the sum times 1.25. The second term keeps the estimate from vanishing where the
    first-order difference changes sign while the true error does not (docs/mfg.md section 8)."""
    n = fine.ndim
    shared = (slice(None, None, 2),) * n
    time_part = np.abs(fine[shared] - coarse[_every(2, n)]) / (2.0 ** p_time - 1.0)
    space_part = np.abs(fine[shared] - space[::2]) / (2.0 ** p_space - 1.0)
    # time companions on every fourth fine time node, space companions on every fourth fine node along each axis
    time_rest = _refine_by_max(remainder_estimate(fine[::4][_every(2, n)], coarse[shared], coarser[_every(2, n)]), 0)
    space_rest = remainder_estimate(fine[::2][_every(4, n)], space[shared], spacer[::2])
    for axis in range(1, n):
        space_rest = _refine_by_max(space_rest, axis)
    return SAFETY * (time_part + space_part + time_rest + space_rest)


def path_estimate(fine: np.ndarray, coarse: np.ndarray, coarser: np.ndarray, space: np.ndarray,
                  spacer: np.ndarray, t_fine: np.ndarray, t_coarser: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A field along one path of the state, evaluated on each grid at its own time nodes (``fine``, ``space``,
    ``spacer`` on the fine time nodes, ``coarse`` every other, ``coarser`` every fourth): the fine values at the
    coarse time nodes and their bound there (orders observed along the path, clipped as the fields'; first-order
    and next-order terms per direction as in :func:`field_estimate`)."""
    p_t = _order(_time_norm(fine[::4] - coarse[::2], t_coarser), _time_norm(coarse[::2] - coarser, t_coarser))
    p_x = _order(_time_norm(fine - space, t_fine), _time_norm(space - spacer, t_fine))
    bound = np.abs(fine[::2] - coarse) / (2.0 ** p_t - 1.0) + np.abs(fine[::2] - space[::2]) / (2.0 ** p_x - 1.0)
    rest = (_refine_by_max(remainder_estimate(fine[::4], coarse[::2], coarser), 0)
            + remainder_estimate(fine, space, spacer)[::2])
    return fine[::2], SAFETY * (bound + rest)


def combined_estimate(time_error: float, space_error: float) -> float:
    """The cost's error estimate from its signed time and space estimates (cost units):
    ``max(|e_t + e_x|, (|e_t| + |e_x|) / 3)``. The two errors add, with their signs; where they cancel, each
    part is only good to tens of percent (the observed order clipped to ``[0.5, 1]``, the Richardson remainder's
    own third order), so their sum is not, and the estimate keeps :data:`CANCELLATION_SHARE` of their sizes."""
    return max(abs(time_error + space_error), CANCELLATION_SHARE * (abs(time_error) + abs(space_error)))


def extrapolated_cost(coeffs: Sequence[Mapping[str, float]], weights: Mapping[str, float]) -> dict[str, Any]:
    """An expected cost ``J = sum_f w_f f`` of value coefficients at the start, from the five grids' ``coeffs``
    (fine, coarse, coarser, space, spacer): extrapolated in time (Richardson per coefficient) when every
    coefficient's time sequence is asymptotic, bounded by the time part plus the space part (see
    :class:`SolutionWithEstimate`). Returns ``value``, ``error_bound``, ``extrapolated``, ``time_part``,
    ``space_part`` (the bound's parts) and ``grid_values`` (the five grids' ``J``), and the error *estimate*:
    ``time_error``, ``space_error`` (signed estimates of the value's error, value minus exact, summed with their
    signs over the coefficients, no safety factor), ``error`` (:func:`combined_estimate`) and ``unresolved``
    (the time sequence is not asymptotic, so the estimate is not held to a factor 3 -- the bound stays -- or
    the estimate is at least half the value)."""
    def cost(x):
        return float(sum(w * x[n] for n, w in weights.items()))

    f, c, cc, s, ss = coeffs
    rich = {n: 2.0 * f[n] - c[n] for n in weights}
    rich2 = {n: 2.0 * c[n] - cc[n] for n in weights}
    # a coefficient whose weighted differences are round-off (b = 0 without coupling) cannot fail the test
    noise = ROUNDOFF * abs(cost(f))
    asymptotic = all(abs(rich[n] - rich2[n]) <= abs(f[n] - c[n]) or abs(w * (rich[n] - rich2[n])) <= noise
                     for n, w in weights.items())
    # per coefficient, the signed error of the reported value in each direction (value minus exact): Richardson's
    # remainder (R2 - R)/3, or a first-order (c - f)/(2^p - 1); the bound adds their absolute values
    if asymptotic:
        value = cost(rich)
        time_signed = {n: (rich2[n] - rich[n]) / 3.0 for n in weights}
    else:
        value = cost(f)
        time_signed = {n: (c[n] - f[n]) / (2.0 ** _order(abs(f[n] - c[n]), abs(c[n] - cc[n])) - 1.0) for n in weights}
    space_signed = {n: (s[n] - f[n]) / (2.0 ** _order(abs(f[n] - s[n]), abs(s[n] - ss[n])) - 1.0) for n in weights}
    time_part = sum(abs(w * time_signed[n]) for n, w in weights.items())
    space_part = sum(abs(w * space_signed[n]) for n, w in weights.items())
    time_error, space_error = cost(time_signed), cost(space_signed)
    error = combined_estimate(time_error, space_error)
    grids = {key: cost(x) for key, x in zip(("fine", "coarse", "coarser", "space", "spacer"), coeffs)}
    return {"value": value, "error_bound": SAFETY * (time_part + space_part), "extrapolated": asymptotic,
            "time_part": SAFETY * time_part, "space_part": SAFETY * space_part, "grid_values": grids,
            "error": error, "time_error": time_error, "space_error": space_error,
            "unresolved": bool(not asymptotic or error >= UNRESOLVED_RELATIVE * abs(value))}


@dataclass(frozen=True, eq=False)
class SolutionWithEstimate:
    """A fine solve, its time companions (``coarse``: every other time node, ``coarser``: every fourth;
    same ``Q`` nodes) and its space companions (``space``: every other ``Q`` node, ``spacer``: every
    fourth; same time nodes), and the error estimates of the fine solution.

    Per direction, with the observed order ``p = log2(||f_2h - f_4h|| / ||f_h - f_2h||)`` (time-integrated
    sup norm, clipped to ``[0.5, 1]``: never above the scheme's formal order 1, since a faster observed
    decay is pre-asymptotic and would shrink the bound; 1 if undefined), the error of ``f_h`` is
    estimated by ``1.25 (|f_h - f_2h| / (2^p - 1) + |2 f_h - 3 f_2h + f_4h| / 3)`` (the second term the next
    order, :func:`remainder_estimate`: the bound holds at every time node, also where ``f_h - f_2h`` changes
    sign); a field's estimate is the sum of its time and space parts (they may have opposite signs, so neither
    companion alone sees both).

    The expected cost (:attr:`expected_cost`) is extrapolated in time as the deterministic solver's
    outcomes (docs/mfg.md, section 11): per coefficient ``f`` of ``J = a (m0^2 + s0^2) + b m0 + c`` at
    ``(0, m0)``, ``R = 2 f_h - f_2h`` and ``R2 = 2 f_2h - f_4h``; the time part of the bound is
    ``1.25 |R - R2| / 3`` (the extrapolated error is second order). When any coefficient's time sequence
    is not asymptotic (``|R - R2| > |f_h - f_2h|``, contributions below 1e-10 of ``J`` being round-off) the
    fine grid's ``J`` is reported with the first-order
    time bound instead. The space part is the first-order estimate from the space companions. Absolute
    parts are added over coefficients (their errors may cancel in ``J``). Next to that bound the cost carries an
    error *estimate* (:attr:`cost_estimate`): the same parts with their signs, summed over coefficients and
    directions, no safety factor, at least a third of their absolute sum (:func:`combined_estimate`); it is
    ``unresolved`` where the time sequence is not asymptotic. The rules are the module-level
    :func:`time_order_of`, :func:`space_order_of`, :func:`field_estimate`, :func:`path_estimate` and
    :func:`extrapolated_cost`, which the two-type solver shares.
    """

    fine: CommonNoiseSolution
    coarse: CommonNoiseSolution
    coarser: CommonNoiseSolution
    space: CommonNoiseSolution
    spacer: CommonNoiseSolution

    @property
    def grids(self) -> tuple[CommonNoiseSolution, ...]:
        return self.fine, self.coarse, self.coarser, self.space, self.spacer

    # ---- fields -------------------------------------------------------------------------------------------
    def time_order(self, name: str) -> float:
        """Observed order in time of ``name`` (fine, coarse, coarser on the coarser's time nodes)."""
        f, c, cc = (getattr(s, name) for s in (self.fine, self.coarse, self.coarser))
        return time_order_of(f, c, cc, self.coarser.t)

    def space_order(self, name: str) -> float:
        """Observed order in ``Q`` of ``name`` (fine, space, spacer at the spacer's nodes)."""
        f, s, ss = (getattr(g, name) for g in (self.fine, self.space, self.spacer))
        return space_order_of(f, s, ss, self.fine.t)

    def order(self, name: str) -> float:
        """The smaller of the two observed orders (the slower direction)."""
        return min(self.time_order(name), self.space_order(name))

    def estimate(self, name: str) -> np.ndarray:
        """(nt/2+1, (nQ+1)/2) estimate of the error of ``fine.<name>`` at the nodes shared by all companions
        (every other time and ``Q`` node): time part + space part, each with its next-order term
        (:func:`field_estimate`)."""
        return field_estimate(*(getattr(g, name) for g in self.grids), self.time_order(name), self.space_order(name))

    def along_path(self, name: str, Q_path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``fine.<name>(t_n, Q_path[n])`` at the coarse time nodes and its error bound there.

        ``Q_path``: (nt+1,) path on the fine time nodes. The orders are observed along the path
        (time-integrated, on the coarser time nodes), then clipped as in :meth:`time_order`.
        """
        def path(sol, every):
            f = getattr(sol, name)
            return np.array([np.interp(Q_path[n * every], sol.Q, f[n]) for n in range(sol.t.size)])

        return path_estimate(path(self.fine, 1), path(self.coarse, 2), path(self.coarser, 4), path(self.space, 1),
                             path(self.spacer, 1), self.fine.t, self.coarser.t)

    # ---- expected cost ------------------------------------------------------------------------------------
    @property
    def cost_detail(self) -> dict[str, Any]:
        """The expected cost's extrapolation: grid values, parts of the bound, whether extrapolated."""
        return extrapolated_cost([s.initial_coefficients() for s in self.grids], cost_weights(self.fine.params))

    @property
    def expected_cost(self) -> float:
        """Expected cost (cost units), extrapolated in time when the companions are asymptotic."""
        return self.cost_detail["value"]

    @property
    def cost_error(self) -> float:
        """Bound on the error of :attr:`expected_cost` (cost units): time part + space part."""
        return self.cost_detail["error_bound"]

    @property
    def cost_estimate(self) -> float:
        """Estimate of the error of :attr:`expected_cost` (cost units, :func:`combined_estimate`): within a factor
        3 of the true error wherever that exceeds 0.2% of the cost, unless ``cost_detail["unresolved"]``."""
        return self.cost_detail["error"]


def solve_with_estimate(params: Mapping[str, float], *, T: float, nt: int, nQ: int, halfwidth: float,
                        core: float | None = None, nodes: str = "graded", time_kind: str = "graded",
                        max_step_ratio: float = 1.5) -> SolutionWithEstimate:
    """Fine solve on ``(nt, nQ)``, time companions ``(nt/2, nQ)``, ``(nt/4, nQ)`` and space companions
    ``(nt, (nQ+1)/2)``, ``(nt, (nQ+3)/4)`` on the same graded map (nested nodes): ``nt`` a multiple of 4
    (the graded time mesh keeps its law) and ``nQ - 1`` of 8 (``Q = 0`` a node of every grid)."""
    if nt % 4 or (nQ - 1) % 8:
        raise ConfigError(f"systemic.common_noise: the error estimate needs nt a multiple of 4 and nQ - 1 a multiple "
                          f"of 8 (nested grids with Q = 0 a node), got nt={nt}, nQ={nQ}")
    delta = core_width(params, halfwidth, nQ) if core is None else float(core)
    kw = dict(T=T, halfwidth=halfwidth, core=delta, nodes=nodes, time_kind=time_kind, max_step_ratio=max_step_ratio)
    grids = ((nt, nQ), (nt // 2, nQ), (nt // 4, nQ), (nt, (nQ - 1) // 2 + 1), (nt, (nQ - 1) // 4 + 1))
    return SolutionWithEstimate(*(solve_system(params, nt=n, nQ=m, **kw) for n, m in grids))
