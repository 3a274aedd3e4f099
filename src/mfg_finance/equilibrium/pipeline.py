"""One equilibrium run from the pipeline's pieces: the crowd's solver config (calibrated values merged), the
two calibration documents and the ``equilibrium`` run settings (:mod:`.config`)."""

from __future__ import annotations

from typing import Any, Mapping

from mfg_finance.equilibrium.config import build_problem
from mfg_finance.equilibrium.fixed_point import EquilibriumSolution, solve_equilibrium


def solve_run(mfg_config: Mapping[str, Any], mfg_doc: Mapping[str, Any], mm_doc: Mapping[str, Any],
              run: Mapping[str, Any], *, estimate_errors: bool = True,
              reference: Mapping[str, Any] | None = None) -> tuple[EquilibriumSolution, dict]:
    """Solve one run; returns the solution and the record of derived constants for ``metrics.json``
    (``reference``: see :func:`~mfg_finance.equilibrium.config.build_problem`)."""
    cfg, ticker, mm, coupling, record = build_problem(mfg_config, mfg_doc, mm_doc, run, reference=reference)
    solver = record["run"]["solver"]
    solution = solve_equilibrium(cfg, mm, coupling, method=solver["method"], tol=solver["tol"],
                                 max_iter=solver["max_iter"], damping=solver["damping"],
                                 estimate_errors=estimate_errors)
    return solution, record
