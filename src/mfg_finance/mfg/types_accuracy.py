r"""Estimated discretisation error of every outcome of the multi-type solver, per type and for the crowd.

The method of :mod:`mfg_finance.mfg.accuracy` (docs/mfg.md, section 11) applied to
:func:`mfg_finance.mfg.agent_types_solver.solve_types`: four companion solves warm-started from the fine
cost path ``eta``,

* ``time_half``: the same inventory nodes, ``nt / 2`` steps of the same time-mesh law;
* ``time_quarter``: the same nodes, ``nt / 4`` steps;
* ``space``: every other node, ``nt / 2`` steps;
* ``space_coarse``: every fourth node, ``nt / 2`` steps (only for the spatial extrapolation),

and per outcome ``O`` (a type's or the crowd's) :func:`mfg_finance.mfg.accuracy.combine`: Richardson in time,
``R = O_h + (O_h - O_T)/(r - 1)`` with the estimate ``|R - R2|/(r^2 - 1)`` when the time sequence is
asymptotic (else the fine value and ``|O_h - O_T|/(r - 1)``), plus the spatial part of
:func:`mfg_finance.mfg.accuracy.space_extrapolation` from the numerical diffusions ``E``
(:func:`mfg_finance.mfg.hjb.excess_diffusion`) of the fine solve and the companions: a type's own ``E`` for its
outcomes, and for the crowd's (its flow, ``eta`` and price mix every type's) those of the type with the largest
fine-grid share ``E_h / (E_X - E_T)`` (the population average of ``E`` let the patient type's central law
dilute the urgent type's upwind error: crowd ``m_0`` estimate 0.4 of the true error on the urgent/patient set).

On a graded inventory mesh two more solves, the one-type estimate's graded space companions (``nt / 2`` steps on
meshes of 3/4 and 1/2 of the fine cells built by the same rule, :func:`mfg_finance.mfg.accuracy.companion_plan`),
give each outcome a second estimate by the order fit (:func:`mfg_finance.mfg.accuracy.order_fit_error`), and the
reported one is the larger of the nested estimate and the graded one plus the distance between the two values
(:func:`widen_by_graded`). Neither family alone sees every spatial error (docs/mfg.md, section 9): the nested
companions put the half-life's estimate at 0.13-0.76 of its true error on the test sets (0.23 for the urgent type
of the ``two_types`` scenario), the graded ones the crowd's ``eta_max`` at 0.28 on that set; with both, 0.30-2.9
and 0.69. Cost: 0.10 -> 0.14 CPU-s at ``201 x 150`` (measured under load).

``unresolved`` (:func:`mfg_finance.mfg.accuracy.flag_unresolved`): a type's terminal
std spanning fewer than 2 cells where its terminal law sits (the crowd's terminal std: when any type's
does), an outcome whose estimate is at least half its size, the speed with its terminal mean, every
outcome when the narrowest terminal layer ``eta0 / max_k gamma_T,k`` is shorter than the last step, and an
outcome a companion cannot compute (a speed whose terminal mean overshoots zero there), its estimate then its
own size. When the fine grid's own terminal mean overshoots zero (``Q_T / Q_0 <= 0``: an urgent type liquidated
to ``e^-30`` of its position), the speed ``-ln(Q_T / Q_0) / T`` is undefined on the grid; the true mean keeps
its sign (``Q' = -k Q``), so the speed is at least the one of the largest terminal mean the estimate allows,
``Q_hi = Q_T + est(Q_T)`` (in the direction of ``Q_0``; ``est(Q_T)`` if that is not past zero either), and it is
reported as that lower bound, unresolved, with an estimate of its own size (:func:`speed_past_zero`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np

from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError
from mfg_finance.mfg.mean_path import terminal_mean_from_speed
from mfg_finance.mfg.accuracy import (RESOLVED_CELLS, SpaceRules, combine, companion_config, companion_plan,
                                      flag_unresolved, spacing_ratios)

METHOD = "richardson-time+space-companion"


def _companion(config: dict, *, nt_divisor: int, halve_nx: bool, nx: int | None = None) -> dict:
    """:func:`~mfg_finance.mfg.accuracy.companion_config`; a supply path it cannot subsample leaves the
    companion without a price (the multi-type price needs only ``kappa`` and ``p_ref``)."""
    cfg = companion_config(config, nt_divisor=nt_divisor, halve_nx=halve_nx, nx=nx)
    if isinstance((config.get("price") or {}).get("supply"), (list, tuple)) and \
            not isinstance(cfg["price"].get("supply"), (list, tuple)):
        cfg["price"]["kappa"] = None
    return cfg


def _excess(solution, k: int) -> float:
    from mfg_finance.mfg.hjb import excess_diffusion

    from mfg_finance.mfg.terminal_interval import needs_exact_end

    if needs_exact_end(solution.grid.dts, solution.config["params"]["eta0"], solution.types[k].gamma_T):
        # the implicit steps: the exact last interval's kernel adds no numerical diffusion
        return excess_diffusion(solution.alpha[k][:-1], solution.masses[k][:-1], solution.grid.q,
                                solution.grid.dts[:-1], solution.types[k].sigma)
    return excess_diffusion(solution.alpha[k], solution.masses[k], solution.grid.q, solution.grid.dts,
                            solution.types[k].sigma)


def _share(excess: dict[str, float]) -> float:
    """The fine grid's share ``E_h / (E_X - E_T)`` of the space companion's difference (inf where ``E_X <= E_T``)."""
    return excess["fine"] / (excess["space"] - excess["time_half"]) if excess["space"] > excess["time_half"] \
        else math.inf


def _spacing_at(q: np.ndarray, x: float) -> float:
    j = int(np.clip(np.searchsorted(q, x, side="right") - 1, 0, q.size - 2))
    return float(q[j + 1] - q[j])


def widen_by_graded(values: dict, errors: dict, graded: dict) -> None:
    """Each error in place: the larger of the nested companions' estimate and the graded ones' (``graded``: the
    :func:`~mfg_finance.mfg.accuracy.combine` record of the same outcomes with the graded space companions and the
    order fit) plus the distance between the two reported values (the graded estimate bounds the error of its own
    value). An outcome either estimate cannot compute keeps the other's."""
    for key, g in graded.items():
        est, value = errors.get(key), values.get(key)
        if g["error"] is None or value is None or not math.isfinite(value) or not math.isfinite(g["value"]):
            continue
        widened = g["error"] + abs(value - g["value"])
        errors[key] = widened if est is None or not math.isfinite(est) else max(est, widened)


def speed_past_zero(values: dict, errors: dict, unresolved: list, horizon: float) -> None:
    """Where the terminal mean overshoots zero (``Q_T / Q_0 <= 0``) the grid's speed is NaN: replace it in place by
    the lower bound of the module docstring, unresolved, its estimate its own size. No position (``Q_0 = 0``) or
    a finite speed: nothing changes."""
    speed, q0, qt = (values.get(k) for k in ("liquidation_speed", "mean_inventory_initial", "mean_inventory_terminal"))
    if speed is None or math.isfinite(speed) or not q0 or qt is None or not math.isfinite(qt) or qt / q0 > 0.0:
        return
    est = errors.get("mean_inventory_terminal")
    est = est / abs(q0) if est is not None and math.isfinite(est) else 0.0
    ratio = qt / q0 + est                         # the largest Q_T / Q_0 within the estimate
    if not ratio > 0.0:
        ratio = est if est > 0.0 else abs(qt / q0)
    if not ratio > 0.0:                           # Q_T exactly 0 and no estimate: nothing bounds the speed
        return
    bound = max(-math.log(ratio) / horizon, 0.0)
    values["liquidation_speed"], errors["liquidation_speed"] = bound, bound
    for key in ("liquidation_speed", "mean_inventory_terminal"):
        if key not in unresolved:
            unresolved.append(key)


def accuracy_of_types(solution, solve: Callable[..., Any]) -> dict[str, Any]:
    """Solve the companions of ``solution`` (a :class:`~mfg_finance.mfg.agent_types_solver.TypesSolution`)
    with ``solve(config, types, estimate_errors=False, nodes=..., eta_start=...)`` and return its record.

    ``{"method", "companions", "ratio", "outcomes", "outcome_errors", "extrapolated", "unresolved",
    "terminal_std_cells", "terminal_layer_resolved", "excess_diffusion", "grid_outcomes", "error"}``; outcome
    entries have the shape ``{"crowd": {key: ...}, "types": {name: {key: ...}}}`` (``extrapolated`` and
    ``unresolved`` hold lists of keys in that shape). When a companion cannot be solved every error is
    ``None``, the outcomes are the fine solve's and ``error`` says why.
    """
    fine = solution.grid_outcomes()
    grid = solution.grid
    names = [ty.name for ty in solution.types]
    types = [dataclasses.asdict(ty) for ty in solution.types]
    # nested space companions (every other and every fourth node) for several types: the graded companions'
    # order fit is measured for one type only (docs/mfg.md, section 11)
    nested = True
    configs, nodes, coarse_config, coarse_nodes = companion_plan(solution.config, grid.q, _companion, nested=nested)
    # ... and, where the mesh is graded, the one-type estimate's graded space companions as well (3/4 and 1/2 of the
    # cells by the same rule, order fit): the nested ones miss the half-life's spatial error (estimate 0.13-0.76 of
    # it), the graded ones eta_max's on the two_types set (0.28); each outcome takes the larger (module docstring)
    graded, graded_nodes, graded_coarse, _ = companion_plan(solution.config, grid.q, _companion, nested=False)
    graded_plan = None if graded_nodes["space"] is not None else {"space": graded["space"],
                                                                   "space_coarse": graded_coarse}
    from mfg_finance.mfg.agent_types_solver import types_layer

    # the fine grid's time-mesh layer: every companion mesh keeps its grading law (nested steps)
    mesh = types_layer(solution.config["params"], solution.types, float(grid.t[-1]), grid.q)
    Q, V = solution.mean_inventory, solution.variance
    cells = {name: math.sqrt(max(V[k, -1], 0.0)) / _spacing_at(grid.q, float(Q[k, -1]))
             for k, name in enumerate(names)}
    record: dict[str, Any] = {
        "method": METHOD,
        "companions": {k: {"nx": c["grid"]["nx"], "nt": c["grid"]["nt"]} for k, c in configs.items()},
        "terminal_std_cells": {"crowd": min(cells.values()), "types": cells},
        # a last step longer than a type's layer is solved exactly (mfg.terminal_interval): always resolved
        "terminal_layer_resolved": True,
        "grid_outcomes": fine}
    record["companions"]["space_coarse"] = {"nx": coarse_config["grid"]["nx"], "nt": coarse_config["grid"]["nt"]}
    spacing = spacing_ratios(grid.q.size, configs["space"]["grid"]["nx"], coarse_config["grid"]["nx"])
    record["spacing"] = list(spacing)

    def start(t_c, _s=solution):
        return np.interp(t_c, _s.grid.t, _s.eta)

    companions = {}
    try:
        for name, cfg in configs.items():
            companions[name] = solve(cfg, types, estimate_errors=False, nodes=nodes[name], time_layer=mesh,
                                     eta_start=start)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        def unresolved_dispersion(n_cells):
            return ["terminal_dispersion"] if n_cells < RESOLVED_CELLS else []
        record.update(
            ratio=None, outcomes=fine,
            outcome_errors={"crowd": {k: None for k in fine["crowd"]},
                            "types": {n: {k: None for k in fine["types"][n]} for n in names}},
            extrapolated={"crowd": [], "types": {n: [] for n in names}},
            unresolved={"crowd": unresolved_dispersion(min(cells.values())),
                        "types": {n: unresolved_dispersion(cells[n]) for n in names}},
            space_extrapolated={"crowd": [], "types": {n: [] for n in names}},
            error=f"no companion solve ({name}): {exc}", companion_outcomes=None)
        return record
    coarse_error = None
    try:      # every fourth node: only for the spatial extrapolation, which is skipped without it
        companions["space_coarse"] = solve(coarse_config, types, estimate_errors=False, nodes=coarse_nodes,
                                           time_layer=mesh, eta_start=start)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        coarse_error = f"no companion solve (space_coarse): {exc}"
    graded_outs, graded_error = {}, None
    if graded_plan is not None:
        try:
            graded_outs = {name: solve(cfg, types, estimate_errors=False, nodes=None, time_layer=mesh,
                                       eta_start=start).grid_outcomes() for name, cfg in graded_plan.items()}
        except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
            graded_outs, graded_error = {}, f"no graded space companion: {exc}"
        record["companions"]["graded_space"] = {k: c["grid"]["nx"] for k, c in graded_plan.items()}
    graded_spacing = None if graded_plan is None else spacing_ratios(
        grid.q.size, graded_plan["space"]["grid"]["nx"], graded_plan["space_coarse"]["grid"]["nx"])
    excess = {n: {"fine": _excess(solution, k), **{c: _excess(s, k) for c, s in companions.items()
                                                   if c != "time_quarter"}}
              for k, n in enumerate(names)}
    nt = grid.nt
    ratio = nt / companions["time_half"].grid.nt
    ratio2 = companions["time_half"].grid.nt / companions["time_quarter"].grid.nt
    outs = {name: s.grid_outcomes() for name, s in companions.items()}
    horizon = float(grid.t[-1] - grid.t[0])
    layer_ok = record["terminal_layer_resolved"]

    def one(group: dict, pick: Callable[[dict], dict], diffusions: dict[str, float], n_cells: float):
        coarse = pick(outs["space_coarse"]) if "space_coarse" in outs else None
        combined = combine(group, pick(outs["time_half"]), pick(outs["time_quarter"]), pick(outs["space"]),
                           ratio=ratio, ratio2=ratio2,
                           rules=SpaceRules(spacing=spacing, space_coarse=coarse, excess=diffusions, share=True))
        values = {k: c["value"] for k, c in combined.items()}
        errors = {k: c["error"] for k, c in combined.items()}
        if len(graded_outs) == 2:
            graded = SpaceRules(spacing=graded_spacing, space_coarse=pick(graded_outs["space_coarse"]))
            widen_by_graded(values, errors, combine(group, pick(outs["time_half"]), pick(outs["time_quarter"]),
                                                    pick(graded_outs["space"]), ratio=ratio, ratio2=ratio2,
                                                    rules=graded))
        # (a value a companion cannot compute is marked there too, its estimate its own size)
        unresolved = flag_unresolved({**values, "_horizon": horizon}, errors, terminal_std_cells=n_cells,
                                     layer_resolved=layer_ok)
        speed_past_zero(values, errors, unresolved, horizon)
        if group is not fine["crowd"]:
            # a type's Q_T from its mean path (mfg.mean_path), as one type's (mfg.accuracy): its error is linear in
            # ln Q_T, i.e. in the speed, whose extrapolation and estimate it takes
            terminal_mean_from_speed(values, errors, horizon)
        return (values, errors, [k for k, c in combined.items() if c["extrapolated"]], unresolved,
                [k for k, c in combined.items() if c["space_extrapolated"]])

    widest = max(names, key=lambda n: _share(excess[n]))
    crowd = one(fine["crowd"], lambda o: o["crowd"], excess[widest], min(cells.values()))
    per_type = {n: one(fine["types"][n], lambda o, _n=n: o["types"][_n], excess[n], cells[n]) for n in names}
    record.update(
        ratio=ratio, excess_diffusion=excess, crowd_space_from=widest,
        outcomes={"crowd": crowd[0], "types": {n: v[0] for n, v in per_type.items()}},
        outcome_errors={"crowd": crowd[1], "types": {n: v[1] for n, v in per_type.items()}},
        extrapolated={"crowd": crowd[2], "types": {n: v[2] for n, v in per_type.items()}},
        space_extrapolated={"crowd": crowd[4], "types": {n: v[4] for n, v in per_type.items()}},
        unresolved={"crowd": crowd[3], "types": {n: v[3] for n, v in per_type.items()}},
        error=None, space_coarse_error=coarse_error, graded_space_error=graded_error, companion_outcomes=outs,
        graded_space_outcomes=graded_outs or None)
    return record
