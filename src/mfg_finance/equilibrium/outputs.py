"""Artefacts of one equilibrium solve: ``solution.npz``, ``metrics.json`` and two figures.

``solution.npz`` (crowd's time nodes ``t``, trading days): ``spread`` (the spread the crowd pays, BRL),
``quoted_spread``, ``skew`` (the market maker's expected ``delta_b + delta_a`` and ``delta_b - delta_a``, BRL), ``mean_flow`` (inventory units / day),
``crowd_flow`` (lots / s), ``eta``, ``crowd_mean_inventory`` (inventory units), ``lambda_b``/``lambda_a``
(1/s, one a step), ``mm_law`` (the market maker's inventory law at the nodes, lots ``-Q_max..Q_max``),
``mm_mean_inventory``, ``mm_inventory_std`` (lots). ``metrics.json`` is written last: its presence means the
solve converged and everything else is in place. Nothing is written for a solution that is not converged,
not finite or whose inventory law is not a probability vector.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.equilibrium.fixed_point import EquilibriumSolution
from mfg_finance.io import write_json, write_npz
from mfg_finance.mfg.outputs import accuracy_summary

FIGURES = ("paths", "convergence")


def solution_arrays(solution: EquilibriumSolution) -> dict[str, np.ndarray]:
    crowd, mm = solution.crowd, solution.mm
    at_nodes = np.searchsorted(mm.t_sub, mm.t_nodes)
    law = mm.law[at_nodes]
    qs = mm.params.inventories.astype(float)
    mean = law @ qs
    return {
        "t": crowd.t, "spread": solution.spread, "quoted_spread": np.append(mm.spread, mm.spread[-1]),
        "skew": np.append(mm.skew, mm.skew[-1]), "mean_flow": crowd.mean_flow, "crowd_flow": solution.crowd_flow,
        "eta": crowd.eta, "crowd_mean_inventory": crowd.mean_inventory, "lambda_b": mm.lambda_b,
        "lambda_a": mm.lambda_a, "mm_law": law, "mm_mean_inventory": mean,
        "mm_inventory_std": np.sqrt(np.maximum(law @ qs ** 2 - mean ** 2, 0.0)),
    }


def law_mass_error(solution: EquilibriumSolution) -> float:
    return float(np.max(np.abs(solution.mm.law.sum(axis=1) - 1.0)))


def solution_metrics(solution: EquilibriumSolution, record: Mapping[str, Any]) -> dict[str, Any]:
    crowd = solution.crowd
    out = {
        "converged": True,
        "method": solution.method,
        "iterations": int(solution.iterations),
        "residual": float(solution.residuals[-1]),
        "residuals": [float(r) for r in solution.residuals],
        "tol": float(solution.tol),
        "outcomes": solution.outcomes(),
        "outcome_errors": solution.outcome_errors(),
        "crowd": {"iterations": int(crowd.iterations), "residual": float(crowd.residuals[-1]),
                  "mass_error": crowd.mass_error, "domain": crowd.domain, "accuracy": accuracy_summary(crowd)},
        "market_maker": {"law_mass_error": law_mass_error(solution), "min_probability": float(solution.mm.law.min()),
                         "max_limit_mass": float(solution.mm.max_limit_mass),
                         "substeps": int(solution.mm.step_of.size), "substep_errors": solution.mm_errors,
                         "lattice": solution.lattice},
        **{k: v for k, v in record.items()},
        "crowd_config": crowd.config,
    }
    if "market_maker_params" in out:   # the lattice solved on (``Q_max: auto`` may have enlarged the given one)
        out["market_maker_params"] = {**out["market_maker_params"], "Q_max": int(solution.mm.params.Q_max)}
    return out


def _check_good(solution: EquilibriumSolution) -> None:
    if not solution.residuals or not solution.residuals[-1] <= solution.tol:
        raise MfgConvergenceError("refusing to write a non-converged equilibrium", solution.residuals)
    bad = [k for k, a in solution_arrays(solution).items() if not np.all(np.isfinite(a))]
    if bad:
        raise MfgConvergenceError(f"refusing to write an equilibrium with NaN/inf in {bad}", solution.residuals)
    error = law_mass_error(solution)
    if not (math.isfinite(error) and error < 1e-9 and solution.mm.law.min() >= 0.0):
        raise MfgConvergenceError(f"refusing to write an equilibrium whose market-maker law is not a probability "
                                  f"vector (mass error {error:.3e})", solution.residuals)


def write_equilibrium(solution: EquilibriumSolution, out_dir: str | Path, record: Mapping[str, Any], *,
                      figures: bool = True, title: str = "Equilibrium") -> None:
    """Write ``solution.npz``, the figures ``paths.png`` and ``convergence.png``, then ``metrics.json``."""
    _check_good(solution)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays = solution_arrays(solution)
    if figures:
        from mfg_finance.report.figures import equilibrium as figs

        figs.plot_paths(arrays, out / "paths.png", title=title)
        figs.plot_convergence(solution.residuals, out / "convergence.png", tol=solution.tol, method=solution.method)
    write_npz(out / "solution.npz", **arrays)
    write_json(out / "metrics.json", solution_metrics(solution, record))   # last: its presence means done
