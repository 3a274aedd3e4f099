"""Artefacts of one MFG solve: ``solution.npz``, ``metrics.json`` and the figures.

Determinism: the same config gives the same bytes in ``solution.npz`` and in ``metrics.json``
except for the single key ``wall_time_s`` (seconds, measured), which comparisons must drop.
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


def solution_metrics(solution: MfgSolution) -> dict[str, Any]:
    """Content of ``metrics.json``: convergence, discrete-measure checks, outcomes, config."""
    return {
        "converged": bool(solution.converged),
        "method": solution.config["solver"]["method"],
        "iterations": int(solution.iterations),
        "residual": solution.final_residual,
        "residuals": [float(r) for r in solution.residuals],
        "tol": solution.config["solver"]["tol"],
        "mass_error": solution.mass_error,
        "min_density": solution.min_density,
        # |alpha| dt / dx: how stiff the advection is (the implicit scheme does not need it < 1).
        "max_cfl": float(np.max(np.abs(solution.alpha[:-1])) * solution.dt / solution.dx),
        # < 1: the terminal law is narrower than a cell, so terminal flows are resolution-limited.
        "terminal_std_over_dx": solution.terminal_dispersion / solution.dx,
        "grid": {"nx": int(solution.q.size), "nt": int(solution.t.size - 1), "dx": solution.dx,
                 "dt": solution.dt},
        "outcomes": solution.outcomes(),
        "config": solution.config,
        "wall_time_s": float(solution.wall_time_s),
    }


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


def write_solution(solution: MfgSolution, out_dir: str | Path, *, figures: bool = True) -> None:
    """Write ``solution.npz``, ``metrics.json`` and the five figures into ``out_dir``.

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
    write_json(out / "metrics.json", solution_metrics(solution))   # last: its presence means done
