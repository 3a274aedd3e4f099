r"""Estimated discretisation error of every outcome, from a coarser companion solve.

The scheme is first order in ``dx`` and in every ``dt_n`` (docs/mfg.md, sections 2 and 6). The
companion solve halves the resolution in both, on the same domain and with the same time-mesh law
(a graded mesh keeps its grading: every step doubles), ``nx_c = (nx - 1)/2 + 1``, ``nt_c = nt/2``.
With ``O_h = O + C h + o(h)`` and the resolution ratio ``r = dx_c / dx`` (2 when ``nx`` is odd)::

    error(O_h) ~= (O_h - O_{h_c}) / (r - 1)            (Richardson's estimate of the fine value's error)

The outcomes reported are the fine solve's; the estimate is their error bar. Why not report the
extrapolated ``O_h + (O_h - O_{h_c}) / (r - 1)`` (second order in the asymptotic regime)? At the default
grid several outcomes are not yet asymptotic: the terminal law is narrower than a cell on the
calibrated problems (its std is then dx-limited: upwinding adds at least ``|alpha| dx`` of variance a
unit of time), and the mean and speed errors change sign between the grids; extrapolating made the
liquidation speed error worse (-0.7% -> -5%) and left the cost 3.6% off on the stiff baseline
(docs/mfg.md, section 11, has the measured orders and the comparison with the exact errors).

``unresolved``: outcomes whose grid cannot resolve them, with the estimate widened to what it may be:

* ``terminal_dispersion`` when the terminal std spans fewer than 2 cells: upwinding only widens the
  law, so its error may be as large as the value itself (estimate ``max(|est|, value)``);
* every outcome when the terminal layer ``eta0 / gamma_T`` is shorter than the last time step
  (uniform mesh with a stiff penalty): the two grids are then both pre-asymptotic.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Mapping

from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError

#: Terminal std below this many cells: ``terminal_dispersion`` is unresolved.
RESOLVED_CELLS = 2.0


def companion_config(config: Mapping[str, Any]) -> dict:
    """The validated config with half the resolution: ``nx_c = (nx - 1)//2 + 1``, ``nt_c = max(1, round(nt/2))``.

    A supply path (``price.supply``, one value a time node) is taken at every other node.
    """
    cfg = copy.deepcopy(dict(config))
    g = cfg["grid"]
    nt = g["nt"]
    g["nx"] = max(3, (g["nx"] - 1) // 2 + 1)
    g["nt"] = max(1, int(round(nt / 2)))
    supply = (cfg.get("price") or {}).get("supply")
    if isinstance(supply, (list, tuple)):
        # a supply path lives on the time nodes: every other one when the companion's are a subset of them,
        # else no price on the companion (the price outcomes then have no estimate)
        if 2 * g["nt"] == nt:
            cfg["price"]["supply"] = list(supply[::2])
        else:
            cfg["price"] = {**cfg["price"], "enabled": False, "supply": 0.0}
    return cfg


def estimate_errors(fine: Mapping[str, float | None], coarse: Mapping[str, float | None], *, ratio: float,
                    terminal_std_cells: float, layer_resolved: bool) -> dict[str, Any]:
    """``{"outcome_errors": {key: float | None}, "unresolved": [keys]}`` from the fine and companion outcomes.

    ``ratio``: ``dx_c / dx``; ``terminal_std_cells``: fine terminal std / dx; ``layer_resolved``: the
    last time step is shorter than the terminal layer.
    """
    errors: dict[str, float | None] = {}
    for key, value in fine.items():
        other = coarse.get(key)
        if value is None or other is None or not (math.isfinite(value) and math.isfinite(other)):
            errors[key] = None
            continue
        errors[key] = abs(value - other) / (ratio - 1.0)
    unresolved = []
    if not layer_resolved:
        unresolved = [k for k, v in errors.items() if v is not None]
    elif terminal_std_cells < RESOLVED_CELLS:
        unresolved = ["terminal_dispersion"]
    if "terminal_dispersion" in unresolved and errors.get("terminal_dispersion") is not None:
        errors["terminal_dispersion"] = max(errors["terminal_dispersion"], fine["terminal_dispersion"])
    return {"outcome_errors": errors, "unresolved": unresolved}


def accuracy_of(solution, solve: Callable[..., Any]) -> dict[str, Any]:
    """Solve the companion and return the ``accuracy`` record of ``solution``.

    ``{"method": "two-grid", "companion": {nx, nt}, "ratio", "outcome_errors", "unresolved",
    "terminal_std_cells", "terminal_layer_resolved", "companion_outcomes"}``; when the companion
    cannot be solved (e.g. the initial law is narrower than its cells), ``outcome_errors`` holds
    ``None`` for every key and ``error`` says why.
    """
    cfg = companion_config(solution.config)
    fine = solution.outcomes()
    p = solution.config["params"]
    layer = p["eta0"] / p["gamma_T"] if p["gamma_T"] > 0 else math.inf
    record: dict[str, Any] = {"method": "two-grid", "companion": {"nx": cfg["grid"]["nx"], "nt": cfg["grid"]["nt"]},
                              "terminal_std_cells": solution.terminal_dispersion / solution.dx,
                              "terminal_layer_resolved": bool(float(solution.time_steps[-1]) <= layer)}
    try:
        coarse_solution = solve(cfg, estimate_errors=False)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        unresolved = ["terminal_dispersion"] if record["terminal_std_cells"] < RESOLVED_CELLS else []
        record.update(ratio=None, outcome_errors={k: None for k in fine}, unresolved=unresolved,
                      error=f"no companion solve: {exc}", companion_outcomes=None)
        return record
    coarse = coarse_solution.outcomes()
    ratio = coarse_solution.dx / solution.dx
    record.update(ratio=ratio, companion_outcomes=coarse, error=None,
                  **estimate_errors(fine, coarse, ratio=ratio, terminal_std_cells=record["terminal_std_cells"],
                                    layer_resolved=record["terminal_layer_resolved"]))
    return record
