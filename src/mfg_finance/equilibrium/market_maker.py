r"""GLFT market maker with time-varying, side-dependent fill intensities: exact backward solve and
forward Kolmogorov law of its inventory.

Model (time in seconds, price in BRL per share, inventory in lots on ``{-Q_max, ..., Q_max}``)::

    dS = sigma dW,   bid fills at rate  Lambda_b(t) exp(-k delta_b),   ask fills at  Lambda_a(t) exp(-k delta_a),
    maximise E[-exp(-gamma (X_T + q_T S_T - phi q_T^2))].

With ``u = -exp(-gamma (x + q s)) v_q(t)^{-gamma/k}`` the HJB equation is the *linear* system

    dv/dt = M(t) v,   M_qq = alpha q^2,   M_{q,q+1} = -eta_b(t),   M_{q,q-1} = -eta_a(t),
    alpha = k gamma sigma^2 / 2,   eta_s(t) = Lambda_s(t) (1 + gamma/k)^-(1 + k/gamma),   v_q(T) = exp(-k phi q^2)

(no bid at ``Q_max``, no ask at ``-Q_max``). With ``Lambda_b = Lambda_a = A`` it is the system of
:mod:`mfg_finance.market_making.glft`. The quotes are those of GLFT with the current ``v``::

    delta_b(t, q) = (1/k) ln(v_q / v_{q+1}) + (1/gamma) ln(1 + gamma/k),   (and ``q - 1`` for the ask)

and the controlled fill rates are ``Lambda_b e^{-k delta_b} = Lambda_b (1 + gamma/k)^{-k/gamma} v_{q+1}/v_q``.

**Exact backward solve.** The intensities are piecewise constant on the crowd's time steps (the crowd's
flow is, docs/mfg.md section 2), so on each step ``v(t) = exp(-M_n (t_{n+1} - t)) v(t_{n+1})``: evaluated
by uniformization (a series of non-negative terms, :mod:`._kernels`) to double precision, at every node
of a sub-grid (each crowd step cut into pieces of at most ``substep_s`` seconds) and at every sub-step
midpoint.

**Forward Kolmogorov law.** The inventory is a birth-death chain with the rates above; on each
sub-step they are frozen at the sub-step's midpoint (exact ``v`` there) and the law propagated exactly
(uniformization of the frozen generator, which keeps it a probability vector). This exponential
midpoint rule is second order in the sub-step; :func:`solve_market_maker` reports the Richardson estimate
``|X_h - X_2h| / 3`` of its error on every output, from a second solve at twice the sub-step.

Outputs per crowd step ``n`` (time averages over the step, from the exact time integral of the law):
the expected quoted spread ``S^n = int E[(delta_b + delta_a) 1{|q| < Q_max}] dt / int P(|q| < Q_max) dt``
(BRL: the spread when both sides are quoted), the skew ``K^n`` (the same average of ``delta_b - delta_a``: how
far the bid sits below the mid compared with the ask above it), the mass at the limits, and the expected spread capture
(PnL rate). A limit mass above ``max_limit_mass`` means the spread path leaves the lattice: the
market maker stops quoting one side too often for a spread to describe it, and the solve fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mfg_finance.errors import ConfigError, MfgFinanceError
from mfg_finance.equilibrium._kernels import backward_step, forward_step


class EquilibriumError(MfgFinanceError, RuntimeError):
    """The equilibrium cannot be computed as posed (the message says what and what to change)."""


@dataclass(frozen=True)
class MarketMakerParams:
    """GLFT parameters of the market maker (seconds, BRL per share, lots).

    sigma : mid volatility (BRL / sqrt(s)). A : base fill intensity at the mid (1/s). k : decay of the
    intensity with the distance (1/BRL). gamma : CARA risk aversion (1/BRL). phi : terminal penalty
    (BRL / lot^2). Q_max : inventory limit (lots).
    """

    sigma: float
    A: float
    k: float
    gamma: float
    Q_max: int
    phi: float = 0.0

    def __post_init__(self):
        for name in ("A", "k", "gamma"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"market maker {name}: expected a finite number > 0, got {value!r}")
        for name in ("sigma", "phi"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"market maker {name}: expected a finite number >= 0, got {value!r}")
        if isinstance(self.Q_max, bool) or int(self.Q_max) != self.Q_max or not 1 <= int(self.Q_max) <= 10_000:
            raise ConfigError(f"market maker Q_max: expected an integer in [1, 10000] lots, got {self.Q_max!r}")
        object.__setattr__(self, "Q_max", int(self.Q_max))

    @property
    def alpha(self) -> float:
        """``k gamma sigma^2 / 2`` (1/s per lot^2)."""
        return 0.5 * self.k * self.gamma * self.sigma ** 2

    @property
    def value_factor(self) -> float:
        """``(1 + gamma/k)^-(1 + k/gamma)``: ``eta_s = Lambda_s x`` this."""
        r = self.gamma / self.k
        return math.exp(-(1.0 + 1.0 / r) * math.log1p(r))

    @property
    def fill_factor(self) -> float:
        """``(1 + gamma/k)^(-k/gamma)``: controlled fill rate ``= Lambda_s x`` this ``x v_{q+-1}/v_q``."""
        r = self.gamma / self.k
        return math.exp(-math.log1p(r) / r)

    @property
    def static_half_spread(self) -> float:
        """``(1/gamma) ln(1 + gamma/k)`` (BRL)."""
        return math.log1p(self.gamma / self.k) / self.gamma

    @property
    def inventories(self) -> np.ndarray:
        return np.arange(-self.Q_max, self.Q_max + 1)


@dataclass(frozen=True)
class MarketMakerSolution:
    """The market maker's value, quotes and inventory law.

    Sub-grid arrays (``J`` sub-steps): ``t_sub (J+1,)`` seconds, ``log_v (J+1, 2Q+1)``, ``law (J+1, 2Q+1)``
    (probabilities), ``delta_b/delta_a (J, 2Q+1)`` quotes on each sub-step (BRL, ``inf`` = not quoted),
    ``up_rate/down_rate (J, 2Q+1)`` controlled fill rates (1/s), ``step_of (J,)`` crowd step of each sub-step.
    Crowd-step arrays (``nt`` steps, time averages): ``spread`` and ``skew`` (``delta_b - delta_a``) when both
    sides are quoted (BRL), ``limit_mass``, ``pnl_rate``
    (BRL per share-lot per second), ``mean_inventory``, ``second_moment`` (lots^2), ``fill_rate_bid/ask`` (1/s).
    """

    params: MarketMakerParams
    t_nodes: np.ndarray
    lambda_b: np.ndarray
    lambda_a: np.ndarray
    t_sub: np.ndarray
    step_of: np.ndarray
    log_v: np.ndarray
    law: np.ndarray
    delta_b: np.ndarray
    delta_a: np.ndarray
    up_rate: np.ndarray
    down_rate: np.ndarray
    spread: np.ndarray
    skew: np.ndarray
    limit_mass: np.ndarray
    pnl_rate: np.ndarray
    mean_inventory: np.ndarray
    second_moment: np.ndarray
    fill_rate_bid: np.ndarray
    fill_rate_ask: np.ndarray
    max_limit_mass: float

    @property
    def horizon_s(self) -> float:
        return float(self.t_nodes[-1] - self.t_nodes[0])

    def totals(self) -> dict[str, float]:
        """Scalars over the horizon (per share-lot): expected spread capture ``pnl`` (BRL; the mid is a
        martingale, so it is the expected PnL marked to the mid), ``inventory_risk`` =
        ``sigma sqrt(int E[q^2] dt)`` (BRL: std of the mark-to-market inventory PnL ``int q dS``),
        ``mean_spread`` (time average, BRL), ``terminal_inventory_std`` (lots), ``max_limit_mass``."""
        dt = np.diff(self.t_nodes)
        qs = self.params.inventories.astype(float)
        law_T = self.law[-1]
        mean_T = float(law_T @ qs)
        return {
            "pnl": float(np.sum(self.pnl_rate * dt)),
            "inventory_risk": float(self.params.sigma * math.sqrt(max(np.sum(self.second_moment * dt), 0.0))),
            "mean_spread": float(np.sum(self.spread * dt) / np.sum(dt)),
            "mean_abs_inventory_T": float(law_T @ np.abs(qs)),
            "terminal_inventory_std": float(math.sqrt(max(law_T @ qs ** 2 - mean_T ** 2, 0.0))),
            "max_limit_mass": float(self.max_limit_mass),
            "fills_bid": float(np.sum(self.fill_rate_bid * dt)),
            "fills_ask": float(np.sum(self.fill_rate_ask * dt)),
        }


def sub_grid(t_nodes: np.ndarray, substep_s: float, *, coarse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Cut every step ``[t_n, t_{n+1}]`` into ``c_n = ceil(dt_n / substep_s)`` equal pieces
    (``ceil(c_n / 2)`` with ``coarse``: the companion of the Richardson estimate, pieces twice as long).

    Returns the sub-grid nodes ``(J+1,)`` and the crowd step of each piece ``(J,)``.
    """
    dts = np.diff(t_nodes)
    counts = np.maximum(1, np.ceil(dts / substep_s - 1e-9).astype(np.int64))
    if coarse:
        counts = (counts + 1) // 2
    nodes = [t_nodes[:1]]
    for n, (t0, h, c) in enumerate(zip(t_nodes[:-1], dts, counts)):
        nodes.append(t0 + h * np.arange(1, c + 1) / c)
    t_sub = np.concatenate(nodes)
    t_sub[np.cumsum(counts)] = t_nodes[1:]          # exact crowd nodes, no rounding drift
    return t_sub, np.repeat(np.arange(dts.size), counts)


def _check_paths(t_nodes, lambda_b, lambda_a):
    t_nodes = np.asarray(t_nodes, dtype=float)
    nt = t_nodes.size - 1
    if nt < 1 or not np.all(np.isfinite(t_nodes)) or np.any(np.diff(t_nodes) <= 0):
        raise ConfigError("market maker time nodes: expected at least 2 increasing finite times (s)")
    out = []
    for name, lam in (("lambda_b", lambda_b), ("lambda_a", lambda_a)):
        lam = np.broadcast_to(np.asarray(lam, dtype=float), (nt,)).copy()
        if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
            raise ConfigError(f"market maker {name}: expected {nt} finite intensities > 0 (1/s), "
                              f"got min {np.min(lam)!r}")
        out.append(lam)
    return t_nodes, out[0], out[1]


def solve_market_maker(params: MarketMakerParams, t_nodes, lambda_b, lambda_a, *, substep_s: float,
                       max_limit_mass: float = 0.1, check_limits: bool = True,
                       coarse: bool = False) -> MarketMakerSolution:
    """Solve the market maker on the crowd's time nodes ``t_nodes`` (seconds, ``nt + 1``) with base
    intensities ``lambda_b[n], lambda_a[n]`` (1/s) in force on ``[t_n, t_{n+1})``.

    ``coarse``: sub-steps twice as long (the companion solve of :func:`richardson_errors`).

    Raises :class:`EquilibriumError` when the mass at an inventory limit exceeds ``max_limit_mass``
    (``check_limits``), :class:`ConfigError` on bad inputs.
    """
    if not (math.isfinite(substep_s) and substep_s > 0):
        raise ConfigError(f"market maker substep_s: expected a finite number > 0 (s), got {substep_s!r}")
    t_nodes, lambda_b, lambda_a = _check_paths(t_nodes, lambda_b, lambda_a)
    p = params
    qs = p.inventories.astype(float)
    nq = qs.size
    alpha_q2 = p.alpha * qs ** 2
    t_sub, step_of = sub_grid(t_nodes, substep_s, coarse=coarse)
    J = step_of.size
    hs = np.diff(t_sub)
    eta_b = lambda_b * p.value_factor
    eta_a = lambda_a * p.value_factor

    # backward: exact ln v at the sub-nodes and the sub-step midpoints
    log_v = np.empty((J + 1, nq))
    log_v_mid = np.empty((J, nq))
    log_v[J] = -p.k * p.phi * qs ** 2
    for j in range(J - 1, -1, -1):
        n = step_of[j]
        log_v_mid[j] = backward_step(log_v[j + 1], alpha_q2, eta_b[n], eta_a[n], 0.5 * hs[j])
        log_v[j] = backward_step(log_v_mid[j], alpha_q2, eta_b[n], eta_a[n], 0.5 * hs[j])
    if not np.all(np.isfinite(log_v)) or not np.all(np.isfinite(log_v_mid)):
        raise EquilibriumError("market maker: the value function left the double range (an entry of v "
                               "underflowed); lower sigma, gamma, phi or Q_max")

    # quotes and controlled rates on each sub-step, from v at its midpoint
    step = log_v_mid[:, :-1] - log_v_mid[:, 1:]                 # ln(v_q / v_{q+1})
    delta_b = np.full((J, nq), np.inf)
    delta_a = np.full((J, nq), np.inf)
    delta_b[:, :-1] = step / p.k + p.static_half_spread
    delta_a[:, 1:] = -step / p.k + p.static_half_spread
    up_rate = np.zeros((J, nq))
    down_rate = np.zeros((J, nq))
    up_rate[:, :-1] = (lambda_b[step_of] * p.fill_factor)[:, None] * np.exp(-step)
    down_rate[:, 1:] = (lambda_a[step_of] * p.fill_factor)[:, None] * np.exp(step)

    # forward Kolmogorov law from q_0 = 0, and the time integral of the law on each sub-step
    law = np.empty((J + 1, nq))
    law[0] = 0.0
    law[0, p.Q_max] = 1.0
    occupation = np.empty((J, nq))
    for j in range(J):
        law[j + 1], occupation[j] = forward_step(law[j], up_rate[j], down_rate[j], hs[j])

    both = np.ones(nq, dtype=bool)
    both[[0, -1]] = False
    # an unquoted side (delta = inf) has rate 0 and earns nothing
    capture = up_rate * np.where(np.isfinite(delta_b), delta_b, 0.0) + \
        down_rate * np.where(np.isfinite(delta_a), delta_a, 0.0)
    spread_sub = np.where(both, delta_b + delta_a, 0.0)
    skew_sub = np.where(both, delta_b - delta_a, 0.0)
    nt = t_nodes.size - 1
    dt = np.diff(t_nodes)

    def per_step(values):                                       # int over each crowd step / dt_n
        return np.bincount(step_of, weights=values, minlength=nt) / dt

    quoted = per_step(occupation[:, both].sum(axis=1))
    spread = per_step(np.sum(occupation * spread_sub, axis=1)) / quoted
    limit_mass = 1.0 - quoted
    max_mass = float(max(np.max(law[:, 0] + law[:, -1]), np.max(limit_mass)))
    if check_limits and max_mass > max_limit_mass:
        worst = int(np.argmax(law[:, 0] + law[:, -1]))
        raise EquilibriumError(
            f"market maker: the spread path leaves the inventory lattice: P(|q| = Q_max = {p.Q_max}) reaches "
            f"{max_mass:.3g} (at t = {t_sub[worst]:.6g} s) > max_limit_mass = {max_limit_mass:g}, where one side "
            "is not quoted and the spread is undefined; raise Q_max, gamma or lower the crowd's flow (beta, size)")
    return MarketMakerSolution(
        params=p, t_nodes=t_nodes, lambda_b=lambda_b, lambda_a=lambda_a, t_sub=t_sub, step_of=step_of,
        log_v=log_v, law=law, delta_b=delta_b, delta_a=delta_a, up_rate=up_rate, down_rate=down_rate,
        spread=spread, skew=per_step(np.sum(occupation * skew_sub, axis=1)) / quoted, limit_mass=limit_mass, pnl_rate=per_step(np.sum(occupation * capture, axis=1)),
        mean_inventory=per_step(occupation @ qs), second_moment=per_step(occupation @ qs ** 2),
        fill_rate_bid=per_step(np.sum(occupation * up_rate, axis=1)),
        fill_rate_ask=per_step(np.sum(occupation * down_rate, axis=1)), max_limit_mass=max_mass)


def richardson_errors(fine: MarketMakerSolution, coarse: MarketMakerSolution) -> dict[str, float]:
    """Estimated error of the fine solve's outputs: ``|X_h - X_2h| / (2^2 - 1)`` (second-order midpoint rule).

    ``spread`` is the largest error over the crowd steps (BRL), ``law_T`` the largest of a probability of the
    terminal law; the totals are those of
    :meth:`MarketMakerSolution.totals`.
    """
    out = {"spread": float(np.max(np.abs(fine.spread - coarse.spread)) / 3.0),
           "skew": float(np.max(np.abs(fine.skew - coarse.skew)) / 3.0),
           "law_T": float(np.max(np.abs(fine.law[-1] - coarse.law[-1])) / 3.0)}
    f, c = fine.totals(), coarse.totals()
    out.update({key: abs(f[key] - c[key]) / 3.0 for key in f})
    return out
