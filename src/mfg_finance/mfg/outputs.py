"""Artefacts of one MFG solve: ``solution.npz``, ``metrics.json`` and the figures.

Determinism: the same config gives the same bytes in ``solution.npz`` and in ``metrics.json`` when the
wall time is left out (``wall_time=False``). The CLI records it (``wall_time_s``, seconds); the pipeline
does not, since Snakemake's ``benchmark:`` file measures the job and equal runs must give equal bytes.
``solution.npz`` holds the arrays ``t, q, u, density, alpha, eta, mean_flow`` and ``price`` only
when the price is enabled (the key is omitted, not NaN-filled, otherwise).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.io import write_json, write_npz
from mfg_finance.mfg.solution import MfgSolution

FIGURES = ("value_function", "feedback", "density", "flow_eta_price", "convergence")


def grid_summary(solution: MfgSolution) -> dict[str, Any]:
    """``metrics.json["grid"]``: sizes, node spacings (inventory units) and time steps (trading days).

    ``dx`` / ``dt`` are the largest spacing / step (those of uniform meshes, as before graded meshes
    existed); ``dx_min``, ``dt_min`` / ``dt_max`` bound them and ``inventory_mesh`` / ``time_mesh`` name
    the meshes (``uniform`` / ``graded``).
    """
    dts = solution.time_steps
    g = solution.config["grid"]
    return {"nx": int(solution.q.size), "nt": int(solution.t.size - 1), "dx": solution.dx,
            "dx_min": solution.dx_min, "dt": solution.dt, "dt_min": float(dts.min()), "dt_max": float(dts.max()),
            "inventory_mesh": g.get("inventory_mesh", "uniform"), "time_mesh": g.get("time_mesh", "uniform")}


def solution_metrics(solution: MfgSolution, *, wall_time: bool = True) -> dict[str, Any]:
    """Content of ``metrics.json``: convergence, discrete-measure checks, outcomes, config, and the
    solve's wall time in seconds (``wall_time_s``) unless ``wall_time`` is False."""
    metrics = {
        "converged": bool(solution.converged),
        "method": solution.config["solver"]["method"],
        "iterations": int(solution.iterations),
        "residual": solution.final_residual,
        "residuals": [float(r) for r in solution.residuals],
        "tol": solution.config["solver"]["tol"],
        "mass_error": solution.mass_error,
        "min_density": solution.min_density,
        # max_n |alpha^n| dt_n / h: how stiff the advection is (the implicit scheme does not need it < 1).
        "max_cfl": solution.max_cfl,
        # terminal std over the spacing where the terminal law sits; < 1: narrower than a cell there
        "terminal_std_over_dx": solution.terminal_dispersion / solution.spacing_at(solution.mean_inventory[-1]),
        "grid": grid_summary(solution),
        # inventory range and the law's leak to its ends (mfg_finance.mfg.domain); the solve fails above tolerance
        "domain": solution.domain,
        "outcomes": solution.outcomes(),
        # estimated discretisation error of each outcome (same keys; None where not estimated) and how
        # it was estimated (mfg_finance.mfg.accuracy: time extrapolation and companion solves)
        "outcome_errors": outcome_errors(solution),
        "accuracy": accuracy_summary(solution),
        "config": solution.config,
    }
    if wall_time:
        metrics["wall_time_s"] = float(solution.wall_time_s)
    return metrics


def outcome_errors(solution: MfgSolution) -> dict[str, float | None]:
    """``metrics.json["outcome_errors"]``: the keys of ``outcomes``, each the estimated error or None."""
    keys = solution.outcomes().keys()
    errors = (solution.accuracy or {}).get("outcome_errors") or {}
    return {k: errors.get(k) for k in keys}


def accuracy_summary(solution: MfgSolution) -> dict[str, Any] | None:
    """``metrics.json["accuracy"]``: method, companion grid, ratio, unresolved outcomes, companion outcomes."""
    if solution.accuracy is None:
        return None
    return {k: v for k, v in solution.accuracy.items() if k != "outcome_errors"}


def _check_good(solution: MfgSolution) -> None:
    """Never write a solution that is not a converged, finite probability flow."""
    tol = solution.config["solver"]["tol"]
    if not solution.converged or not solution.final_residual <= tol:
        raise MfgConvergenceError("refusing to write a non-converged MFG solution", solution.residuals)
    arrays = solution.arrays()
    bad = [name for name, a in arrays.items() if not np.all(np.isfinite(a))]
    if bad:
        raise MfgConvergenceError(f"refusing to write an MFG solution with NaN/inf in {bad}",
                                  solution.residuals)
    if not solution.mass_error < 1e-8 or solution.min_density < 0.0 or not math.isfinite(solution.mass_error):
        raise MfgConvergenceError(f"refusing to write an MFG solution that is not a probability flow "
                                  f"(mass error {solution.mass_error:.3e}, min density "
                                  f"{solution.min_density:.3e})", solution.residuals)


def write_solution(solution: MfgSolution, out_dir: str | Path, *, figures: bool = True,
                   wall_time: bool = True) -> None:
    """Write ``solution.npz``, ``metrics.json`` and the five figures into ``out_dir``.

    ``wall_time=False`` leaves the measured wall time out of ``metrics.json`` (byte-identical reruns).

    Figures (fixed names): ``value_function.png``, ``feedback.png``, ``density.png``,
    ``flow_eta_price.png``, ``convergence.png``. Raises :class:`MfgConvergenceError` (and writes
    nothing) if the solution is not converged or not finite.
    """
    _check_good(solution)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if figures:
        from mfg_finance.report.figures import mfg as figs

        figs.plot_value_function(solution, out / "value_function.png")
        figs.plot_feedback(solution, out / "feedback.png")
        figs.plot_density(solution, out / "density.png")
        figs.plot_flow_eta_price(solution, out / "flow_eta_price.png")
        figs.plot_convergence(solution.residuals, out / "convergence.png",
                              tol=solution.config["solver"]["tol"],
                              method=solution.config["solver"]["method"])
    write_npz(out / "solution.npz", **solution.arrays())
    write_json(out / "metrics.json", solution_metrics(solution, wall_time=wall_time))   # last: its presence means done
