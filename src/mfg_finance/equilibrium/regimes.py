"""Liquidity regimes: the equilibrium over a grid of market makers and crowds, and the plain-language comparison.

Axes (``equilibrium.regimes``): the market maker's risk aversion ``gamma`` (1/BRL) and inventory limit ``Q_max``
(lots), the crowd's size (agents) and initial mean position ``m0_mean`` (inventory units: > 0 net sellers, 0
balanced). Every point is one equilibrium solve on the (coarser) ``grid`` of the block; all points run in one job
(a point costs well under a second). A point that does not converge, or whose spread path leaves the lattice, is a
row with ``converged = False`` and its ``error`` message; its outcome columns are empty (NaN), never a number.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError
from mfg_finance.equilibrium.market_maker import EquilibriumError
from mfg_finance.equilibrium.pipeline import solve_run

AXES = ("gamma", "Q_max", "crowd_size", "m0_mean")
#: outcome columns of the table, with their error-estimate columns ``<name>_error``
COLUMNS = ("crowd_liquidation_speed", "crowd_half_life", "crowd_cost", "price_impact_bps", "crowd_paid_spread_brl",
           "mm_mean_skew_brl", "mm_pnl_brl",
           "mm_inventory_risk_brl", "mm_mean_spread_brl", "mm_terminal_inventory_std_lots", "mm_max_limit_mass")


def regime_points(spec: Mapping[str, Any]) -> list[dict[str, float]]:
    """Every combination of the axes' values, in the order ``gamma, Q_max, crowd_size, m0_mean``."""
    missing = [a for a in AXES if not spec.get(a)]
    if missing:
        raise ConfigError(f"equilibrium.regimes: no values for {missing} (each axis needs at least one)")
    return [dict(zip(AXES, (float(g), int(q), float(s), float(m))))
            for g, q, s, m in itertools.product(*(spec[a] for a in AXES))]


def solve_regimes(mfg_config: Mapping[str, Any], mfg_doc: Mapping[str, Any], mm_doc: Mapping[str, Any],
                  run: Mapping[str, Any], spec: Mapping[str, Any], *, log=None) -> pd.DataFrame:
    """One row per regime point: the axes, ``converged``, ``error``, ``iterations``, the outcomes and their
    estimated errors (``<outcome>_error``)."""
    rows = []
    for point in regime_points(spec):
        cfg = copy.deepcopy(dict(mfg_config))
        cfg["grid"].update({k: v for k, v in (spec.get("grid") or {}).items()})
        cfg["params"]["m0_mean"] = point["m0_mean"]
        point_run = {**run, "gamma": point["gamma"], "Q_max": point["Q_max"], "crowd_size": point["crowd_size"]}
        row: dict[str, Any] = dict(point)
        try:
            # theta from the base run's market maker: the same cost per BRL of spread at every point
            solution, _ = solve_run(cfg, mfg_doc, mm_doc, point_run, reference=run)
        except (MfgConvergenceError, EquilibriumError, MfgDomainError) as exc:
            row.update(converged=False, error=str(exc), iterations=None)
            row.update({c: math.nan for c in COLUMNS})
            row.update({f"{c}_error": math.nan for c in COLUMNS})
            if log:
                log.warning("regime %s: %s", point, exc)
        else:
            outcomes, errors = solution.outcomes(), solution.outcome_errors()
            row.update(converged=True, error="", iterations=int(solution.iterations))
            row.update({c: _float(outcomes.get(c)) for c in COLUMNS})
            row.update({f"{c}_error": _float(errors.get(c)) for c in COLUMNS})
            if log:
                log.info("regime %s: %d rounds, spread %.4g BRL", point, solution.iterations,
                         outcomes["mm_mean_spread_brl"])
        rows.append(row)
    return pd.DataFrame(rows)


def _float(value) -> float:
    return math.nan if value is None else float(value)


def _pct(new: float, old: float) -> str:
    if not (math.isfinite(new) and math.isfinite(old)) or old == 0:
        return "n/a"
    return f"{100.0 * (new - old) / abs(old):+.1f}%"


def _unseen(old: float, new: float) -> bool:
    """A change too small to show at the 4 significant digits the sentences print: it is not called a widening,
    a narrowing, a slowing or a speeding up."""
    return f"{old:.4g}" == f"{new:.4g}"


def _unchanged(what: str, old: float, new: float, unit: str) -> str:
    """Words for a change :func:`_unseen`, with its relative size to two significant digits (``_pct``'s one
    decimal would say 0.0%)."""
    relative = f"{100.0 * (new - old) / abs(old):+.2g}%" if old else "n/a"
    return f"leaves {what} unchanged at the digits shown ({old:.4g} {unit}; {relative})"


def _row(table: pd.DataFrame, point: Mapping[str, float]):
    mask = np.ones(len(table), dtype=bool)
    for axis, value in point.items():
        mask &= np.isclose(table[axis].to_numpy(dtype=float), value)
    hit = table[mask]
    return hit.iloc[0] if len(hit) and bool(hit.iloc[0]["converged"]) else None


def comparison(table: pd.DataFrame) -> list[str]:
    """Plain-language sentences, one per axis with two values or more: the first and last value of that
    axis, the others at their first value (the crowd's first ``m0_mean`` should be the net sellers). Every
    number comes from ``table``."""
    base = {a: float(table[a].iloc[0]) for a in AXES}
    sentences = []
    templates = {
        "gamma": ("A more risk-averse market maker (gamma {a:g} → {b:g} 1/BRL)", "risk aversion"),
        "Q_max": ("A market maker with a larger inventory limit (Q_max {a:g} → {b:g} lots)", "limit"),
        "crowd_size": ("A larger crowd ({a:g} → {b:g} agents)", "size"),
        "m0_mean": ("A crowd starting at m0 = {b:g} instead of {a:g} inventory units", "position"),
    }
    for axis in AXES:
        values = list(dict.fromkeys(table[axis].tolist()))
        if len(values) < 2:
            continue
        lo, hi = float(values[0]), float(values[-1])
        r0, r1 = _row(table, {**base, axis: lo}), _row(table, {**base, axis: hi})
        head = templates[axis][0].format(a=lo, b=hi)
        if r0 is None or r1 is None:
            sentences.append(f"{head}: not compared (a point did not converge; see the table).")
            continue
        s0, s1 = r0["mm_mean_spread_brl"], r1["mm_mean_spread_brl"]
        p0, p1 = r0["crowd_paid_spread_brl"], r1["crowd_paid_spread_brl"]
        sp0, sp1 = r0["crowd_liquidation_speed"], r1["crowd_liquidation_speed"]
        c0, c1 = r0["crowd_cost"], r1["crowd_cost"]
        if not (math.isfinite(sp0) and math.isfinite(sp1)):
            speed = "with no liquidation to slow (the crowd is balanced)"
        elif _unseen(sp0, sp1):
            speed = "which " + _unchanged("the crowd's liquidation speed", sp0, sp1, "per trading day")
        else:
            speed = (f"which {'slows' if sp1 < sp0 else 'speeds up'} the crowd's liquidation by "
                     f"{abs(100.0 * (sp1 - sp0) / sp0):.2f}% ({sp0:.4g} → {sp1:.4g} per trading day)")
        spread = (_unchanged("the average quoted spread", s0, s1, "BRL") if _unseen(s0, s1) else
                  f"{'widens' if s1 > s0 else 'narrows'} the average quoted spread by {abs(s1 - s0):.4g} BRL "
                  f"({s0:.4g} → {s1:.4g}, {_pct(s1, s0)})")
        sentences.append(
            f"{head} {spread} "
            f"and moves the spread the crowd pays {p0:.4g} → {p1:.4g} BRL ({_pct(p1, p0)}), "
            f"{speed} and changes its cost by {_pct(c1, c0)} ({c0:.4g} → {c1:.4g} cost units); the market maker's "
            f"expected PnL goes {r0['mm_pnl_brl']:.4g} → {r1['mm_pnl_brl']:.4g} BRL ({_pct(r1['mm_pnl_brl'], r0['mm_pnl_brl'])}) "
            f"and its inventory risk {r0['mm_inventory_risk_brl']:.4g} → {r1['mm_inventory_risk_brl']:.4g} BRL.")
    return sentences
