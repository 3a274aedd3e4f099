r"""The equilibrium of the crowd and the market maker: a fixed point on the spread path.

One evaluation of the map ``S -> S'`` (a *round*):

1. the crowd's best response to the spread path ``S``: the MFG with ``eta = eta0 + eta1 |m| + theta S``
   (:func:`.crowd.best_response`), giving its mean flow ``m^n``;
2. the market maker's best response to that flow: intensities ``A + beta max(-+F^n, 0)``,
   ``F = units.crowd_flow_lots_per_s(m)`` (:mod:`.units`), the exact time-varying GLFT solve and its
   inventory law (:mod:`.market_maker`), giving the expected spread path ``S'^n``.

The flow path is a function of the spread path, so ``S = S'`` makes both paths best responses to each
other. Residual (dimensionless): ``r(S) = max_n |S'^n - S^n| / max_n S^n``. The iteration is the project's
Anderson acceleration (``method: anderson``) or damped Picard (``method: picard``) of
:mod:`mfg_finance.mfg.coupling`, started from the spread of the market maker facing no crowd; it raises
:class:`~mfg_finance.errors.MfgConvergenceError` with the residual history when it does not converge
(``max_iter`` rounds, stagnation, NaN, blow-up). The spread at ``T`` (node ``nt``, used only by the crowd's
terminal feedback) is the last step's.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import ConfigError, MfgConvergenceError
from mfg_finance.equilibrium.crowd import best_response, with_error_estimates
from mfg_finance.equilibrium.market_maker import (EquilibriumError, MarketMakerParams, MarketMakerSolution,
                                                  richardson_errors, solve_market_maker)
from mfg_finance.equilibrium.units import Units, intensities
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.coupling import Evaluation, anderson, picard
from mfg_finance.mfg.solution import MfgSolution


#: what the crowd pays: twice the distance of the side it hits, or the quoted spread
CROWD_PAYS = ("side", "quoted")


@dataclass(frozen=True)
class Coupling:
    """How the two sides meet: ``theta`` (cost units x day / units^2 per BRL), ``beta`` (dimensionless share
    of the crowd's flow reaching the market maker), the units, the market maker's sub-step (s), limit mass, and
    whether the market maker's inventory lattice follows the problem (``auto_lattice``, :func:`fit_lattice`), and
    which spread the crowd pays: ``crowd_pays = "side"`` (twice the distance of the quote it hits: the bid for
    a selling crowd, ``S + K``; the ask for a buying one, ``S - K``; ``S`` when its flow is 0) or ``"quoted"``
    (the quoted spread ``S`` whatever the side)."""

    theta: float
    beta: float
    units: Units
    substep_s: float
    max_limit_mass: float = 0.1
    crowd_pays: str = "side"
    auto_lattice: bool = False

    def __post_init__(self):
        if self.crowd_pays not in CROWD_PAYS:
            raise ConfigError(f"equilibrium.crowd_pays: expected one of {list(CROWD_PAYS)}, got {self.crowd_pays!r}")


@dataclass(frozen=True)
class EquilibriumSolution:
    """The crowd's MFG solution, the market maker's solution and the fixed point's record.

    ``spread`` (nt+1,) BRL: the spread the crowd pays (``coupling.crowd_pays``); ``crowd_flow`` (nt+1,) lots / s (``crowd_size x m``); ``residuals`` after each
    round; ``mm_errors`` the Richardson estimates of the market maker's sub-step error (BRL, lots); ``lattice`` how
    its inventory lattice was chosen (``rule`` fixed | auto, ``Q_max_given``, ``Q_max`` used, and for an automatic
    lattice the ``[Q_max, mass at the limits]`` ``tried`` for the market maker alone and facing the crowd).
    """

    crowd: MfgSolution
    mm: MarketMakerSolution
    coupling: Coupling
    spread: np.ndarray
    crowd_flow: np.ndarray
    residuals: list[float]
    iterations: int
    tol: float
    method: str
    mm_errors: dict[str, float] = field(default_factory=dict)
    lattice: dict[str, Any] = field(default_factory=dict)

    def outcomes(self) -> dict[str, float]:
        """Headline numbers of a regime (units in docs/equilibrium.md, section 5)."""
        c = self.crowd
        co = c.outcomes()
        dt = np.diff(c.t)
        m = c.mean_flow[:-1]
        traded = float(np.sum(np.abs(m) * dt))
        impact = float(np.sum(c.eta[:-1] * m * m * dt) / traded) if traded > 0 else 0.0
        mm = self.mm.totals()
        lot = self.coupling.units.lot_shares
        return {
            "crowd_liquidation_speed": co.get("liquidation_speed"),
            "crowd_half_life": co.get("liquidation_half_life"),
            "crowd_cost": co.get("total_cost"),
            "crowd_mean_inventory_terminal": co.get("mean_inventory_terminal"),
            "crowd_eta_mean": co.get("eta_mean"),
            "price_impact_bps": 1e4 * impact,
            "crowd_peak_flow_lots_per_s": float(np.max(np.abs(self.crowd_flow))),
            "mm_pnl_brl": mm["pnl"] * lot,
            "mm_inventory_risk_brl": mm["inventory_risk"] * lot,
            "mm_mean_spread_brl": mm["mean_spread"],
            "mm_max_spread_brl": float(np.max(self.mm.spread)),
            "crowd_paid_spread_brl": float(np.sum(self.spread[:-1] * dt) / np.sum(dt)),
            "mm_mean_skew_brl": float(np.sum(self.mm.skew * dt) / np.sum(dt)),
            "mm_terminal_inventory_std_lots": mm["terminal_inventory_std"],
            "mm_max_limit_mass": mm["max_limit_mass"],
            "mm_fills_bid": mm["fills_bid"],
            "mm_fills_ask": mm["fills_ask"],
        }

    def outcome_errors(self) -> dict[str, float | None]:
        """Estimated discretisation error of each outcome: the crowd's two-grid estimate (docs/mfg.md,
        section 11) for the crowd's outcomes, the sub-step Richardson estimate for the market maker's."""
        acc = (self.crowd.accuracy or {}).get("outcome_errors") or {}
        lot = self.coupling.units.lot_shares
        e = self.mm_errors
        return {
            "crowd_liquidation_speed": acc.get("liquidation_speed"),
            "crowd_half_life": acc.get("liquidation_half_life"),
            "crowd_cost": acc.get("total_cost"),
            "crowd_mean_inventory_terminal": acc.get("mean_inventory_terminal"),
            "crowd_eta_mean": acc.get("eta_mean"),
            "mm_pnl_brl": e.get("pnl", math.nan) * lot if e else None,
            "mm_inventory_risk_brl": e.get("inventory_risk", math.nan) * lot if e else None,
            "mm_mean_spread_brl": e.get("mean_spread") if e else None,
            "mm_max_spread_brl": e.get("spread") if e else None,
            "crowd_paid_spread_brl": e.get("spread") + e.get("skew") if e else None,
            "mm_mean_skew_brl": e.get("skew") if e else None,
            "mm_terminal_inventory_std_lots": e.get("terminal_inventory_std") if e else None,
        }


def reference_spread(params: MarketMakerParams) -> float:
    """The standalone market maker's stationary spread at ``q = 0`` (BRL): ``delta_b + delta_a`` as ``T - t -> inf``."""
    hjb = InventoryHJB(HJBParameters(sigma=params.sigma, A=params.A, k=params.k, gamma=params.gamma,
                                     phi=params.phi, Q_max=params.Q_max, T=1.0))
    delta_b, delta_a = hjb.stationary_spreads()
    return float(delta_b[params.Q_max] + delta_a[params.Q_max])


def market_maker_response(mm: MarketMakerParams, coupling: Coupling, t_days: np.ndarray, mean_flow: np.ndarray, *,
                          coarse: bool = False, check_limits: bool = True) -> MarketMakerSolution:
    """The market maker's best response to the crowd's mean flow path (inventory units / day on ``t_days``)."""
    flow = coupling.units.crowd_flow_lots_per_s(mean_flow[:-1])
    lam_b, lam_a = intensities(flow, A=mm.A, beta=coupling.beta)
    return solve_market_maker(mm, coupling.units.seconds(t_days), lam_b, lam_a,
                              substep_s=coupling.substep_s, max_limit_mass=coupling.max_limit_mass, coarse=coarse,
                              check_limits=check_limits)


#: Largest probability at an inventory limit that an automatic lattice leaves (a hundredth of the default
#: ``max_limit_mass``: the limit then barely binds, and the fixed point's rounds, which move the flow little,
#: stay far from the ``max_limit_mass`` error).
AUTO_LIMIT_MASS = 1.0e-3
#: Largest lattice (lots), the bound of :class:`MarketMakerParams`.
MAX_LATTICE = 10_000


def paid_spread(mm_solution: MarketMakerSolution, mean_flow: np.ndarray, crowd_pays: str = "side") -> np.ndarray:
    """The spread the crowd pays on its nodes (BRL): per step ``S + sign(-m) K`` (``side``: twice the distance of
    the quote it hits) or ``S`` (``quoted``); the last step's value repeated at ``T``."""
    paid = mm_solution.spread.copy()
    if crowd_pays == "side":
        paid += np.sign(-np.asarray(mean_flow, dtype=float)[:-1]) * mm_solution.skew
    return np.append(paid, paid[-1])


def node_spread(mm_solution: MarketMakerSolution) -> np.ndarray:
    """The quoted spread on the crowd's nodes: step averages, the last step's value repeated at ``T``."""
    return np.append(mm_solution.spread, mm_solution.spread[-1])


def solve_equilibrium(mfg_config: Mapping[str, Any], mm: MarketMakerParams, coupling: Coupling, *,
                      method: str = "anderson", tol: float = 1e-8, max_iter: int = 30, damping: float = 0.5,
                      estimate_errors: bool = True) -> EquilibriumSolution:
    """Solve the equilibrium (see the module docstring).

    ``mfg_config``: the crowd's ``mfg`` block (validated here); ``mm``: the market maker;
    ``coupling``: ``theta``, ``beta`` and the units. ``estimate_errors``: attach the crowd's two-grid and the
    market maker's sub-step error estimates (one more solve of each side at the fixed point).

    With ``coupling.auto_lattice`` the market maker's lattice follows the problem, as the crowd's automatic
    inventory domain does (docs/mfg.md): when the equilibrium's inventory law puts more than
    :data:`AUTO_LIMIT_MASS` at the limits ``+-Q_max`` (a crowd trading a large share of the ticker's volume
    pushes the inventory further than the given limit), ``Q_max`` is doubled and the fixed point solved again
    from the spread path just found, up to :data:`MAX_LATTICE` lots.

    Raises ``MfgConvergenceError`` (no fixed point: residual history in the message),
    :class:`~mfg_finance.equilibrium.market_maker.EquilibriumError` (the spread path leaves the market
    maker's lattice), ``ConfigError``/``MfgDomainError`` from the two sides.
    """
    cfg = validate_config(mfg_config)
    t = np.asarray(_time_nodes(cfg), dtype=float)
    auto = coupling.auto_lattice
    start = node_spread(market_maker_response(mm, coupling, t, np.zeros(t.size), check_limits=not auto))
    lattice: dict[str, Any] = {"rule": "auto" if auto else "fixed", "Q_max_given": mm.Q_max}
    tried: list[list[float]] = []
    last: list = []     # the previous round's (crowd, spread): its cost path starts the next crowd solve
    while True:
        result = _fixed_point(cfg, t, mm, coupling, start, last, method=method, tol=tol, max_iter=max_iter,
                              damping=damping)
        crowd, mm_solution = result.evaluation.state
        tried.append([mm.Q_max, float(mm_solution.max_limit_mass)])
        if not auto or mm_solution.max_limit_mass <= AUTO_LIMIT_MASS:
            break
        if mm.Q_max >= MAX_LATTICE:
            raise EquilibriumError(f"market maker: no lattice up to Q_max = {MAX_LATTICE} lots keeps the mass at "
                                   f"the limits below {AUTO_LIMIT_MASS:g} (tried [Q_max, mass] {tried}); lower the "
                                   "crowd's flow (beta, size) or raise gamma")
        mm = dataclasses.replace(mm, Q_max=min(2 * mm.Q_max, MAX_LATTICE))
        start = np.asarray(result.evaluation.x, dtype=float)
    lattice.update(Q_max=mm.Q_max, tried=tried)
    spread = np.asarray(result.evaluation.x, dtype=float)
    mm_errors: dict[str, float] = {}
    if estimate_errors:
        crowd = with_error_estimates(crowd, t, spread, coupling.theta)   # the crowd at ``spread``: companions only
        coarse = market_maker_response(mm, coupling, crowd.t, crowd.mean_flow, coarse=True, check_limits=False)
        mm_errors = richardson_errors(mm_solution, coarse)
    return EquilibriumSolution(crowd=crowd, mm=mm_solution, coupling=coupling, spread=spread,
                               crowd_flow=coupling.units.crowd_flow_lots_per_s(crowd.mean_flow),
                               residuals=[float(r) for r in result.residuals], iterations=result.iterations,
                               tol=tol, method=method, mm_errors=mm_errors, lattice=lattice)


def _fixed_point(cfg, t, mm, coupling, start, last, *, method, tol, max_iter, damping):
    """The fixed point on the spread path for one lattice (limits checked in every round unless the lattice is
    automatic: then the caller checks the equilibrium's law)."""
    check = not coupling.auto_lattice

    def evaluate(spread: np.ndarray) -> Evaluation:
        crowd = best_response(cfg, t, spread, coupling.theta, near=last[-1] if last else None)
        last[:] = [(crowd, np.array(spread, dtype=float))]
        mm_solution = market_maker_response(mm, coupling, crowd.t, crowd.mean_flow, check_limits=check)
        new = paid_spread(mm_solution, crowd.mean_flow, coupling.crowd_pays)
        residual = float(np.max(np.abs(new - spread)) / np.max(np.abs(spread)))
        return Evaluation(spread, new, residual, (crowd, mm_solution))

    opts = dict(tol=tol, max_iter=max_iter, damping=damping)
    if method == "picard":
        result = picard(evaluate, start, name="equilibrium (picard)", **opts)
    else:
        result = anderson(evaluate, start, lower=0.0, name="equilibrium (anderson)", **opts)
    if not result.evaluation.residual <= tol:          # defensive: the iterations raise before this
        raise MfgConvergenceError("equilibrium: returned a residual above tol", result.residuals)
    return result


def _time_nodes(cfg: Mapping[str, Any]) -> np.ndarray:
    from mfg_finance.mfg.grid import grid_from_config

    return grid_from_config(cfg).t
