r"""Outcomes extrapolated in time, and the estimated discretisation error of every outcome, from companion solves.

What limits the accuracy (docs/mfg.md, section 11, has the measurements). On the graded inventory mesh the
central/upwind scheme (:mod:`mfg_finance.mfg.hjb`) reproduces a quadratic value and the law's first two
moments exactly wherever it is central, so on the calibrated problems the error left is that of backward
Euler in time: first order in every ``dt_n`` and cleanly asymptotic at the default grid (stiff baseline,
``nt`` = 75 / 150 / 300 / 600 at fixed nodes: cost error 1.01 / 0.49 / 0.24 / 0.12 %, while ``nx`` = 201 / 401 / 801
at ``nt = 150`` changes nothing). Where the drift dominates the noise (cell Peclet number above 2 where
the mass is, e.g. ``sigma = 0.02``) the scheme is upwind there and first order in space as well.

Three companion solves, each warm-started from the fine cost path:

* ``T``: the same nodes, ``nt_T = nt / 2`` steps of the same mesh law (a graded mesh is the image of a
  fixed map of ``k / nt``, so every step scales by ``r = nt / nt_T``);
* ``T2``: the same nodes, ``nt_T2 = nt / 4`` steps;
* ``X``: every other node (:func:`companion_nodes`), ``nt_T`` steps.

For each outcome ``O`` with fine value ``O_h`` (``O_h = O + C dt + D dt^2 + e_x``)::

    time-extrapolated  R  = O_h + (O_h - O_T) / (r - 1)          (Richardson: second order in time)
    the same one level down  R2 = O_T + (O_T - O_T2) / (r2 - 1)
    its time remainder  e_R = |R - R2| / (r^2 - 1)                (the next, second-order, term)
    space error         e_x = |O_X - O_T| E_h / (E_X - E_h)       (capped at |O_X - O_T|)

where ``E`` is the numerical diffusion the scheme added where it is upwind, integrated over the law
(:func:`mfg_finance.mfg.hjb.excess_diffusion`): the spatial error is that of the upwind cells, first
order and proportional to ``E`` (zero where the scheme is central, where it reproduces the quadratic value
and the law's moments exactly), so ``O_X - O_T ~ c (E_X - E_h)`` and the fine grid's share is ``c E_h``.
Where the whole law is upwind ``E_X = 2 E_h`` and this is the first-order ``|O_X - O_T|``.

The reported outcome is ``R`` with the error estimate ``e_R + e_x`` when the sequence is asymptotic
(``|R - R2| <= |O_h - O_T|``: the second-order term smaller than the first), else the fine value ``O_h``
with the estimate ``|O_h - O_T| / (r - 1) + e_x`` (``extrapolated`` lists the outcomes that were).

``unresolved``: outcomes the grid cannot resolve, with the estimate widened to what they may be:

* ``terminal_dispersion`` when the terminal std spans fewer than 2 cells where the terminal law sits
  (estimate ``max(|est|, value)``);
* any outcome whose estimate is at least half its magnitude (e.g. a terminal mean ``e^-16`` times the
  initial one: its relative error is the error of the decay exponent times 16), and then the speed
  ``-ln(Q_T / Q_0) / T`` with it (estimate widened to ``ln(1 + est(Q_T) / |Q_T|) / T``, or to the speed
  itself when ``est(Q_T) >= |Q_T|``: not even the order of magnitude of ``Q_T`` is known);
* every outcome when the terminal layer ``eta0 / gamma_T`` is shorter than the last time step and that step is
  an implicit one (a solution without the exact last interval of :mod:`mfg_finance.mfg.terminal_interval`,
  which holds such a layer): every grid is then pre-asymptotic.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Mapping

import numpy as np

from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError
from mfg_finance.mfg.grid import mesh_layer

#: Terminal std below this many cells: ``terminal_dispersion`` is unresolved.
RESOLVED_CELLS = 2.0
#: An outcome whose estimated error is at least this fraction of its magnitude is unresolved.
UNRESOLVED_RELATIVE = 0.5


def companion_config(config: Mapping[str, Any], *, nt_divisor: int = 2, halve_nx: bool = True) -> dict:
    """The validated config with ``nt_c = max(1, round(nt / nt_divisor))`` and, with ``halve_nx``, ``nx_c = (nx - 1)//2 + 1``.

    A supply path (``price.supply``, one value a time node) is taken at every ``nt_divisor``-th node when
    the companion's nodes are a subset of the fine ones, else the companion has no price.
    """
    cfg = copy.deepcopy(dict(config))
    g = cfg["grid"]
    nt = g["nt"]
    if halve_nx:
        g["nx"] = max(3, (g["nx"] - 1) // 2 + 1)
    g["nt"] = max(1, int(round(nt / nt_divisor)))
    supply = (cfg.get("price") or {}).get("supply")
    if isinstance(supply, (list, tuple)):
        if nt_divisor * g["nt"] == nt:
            cfg["price"]["supply"] = list(supply[::nt_divisor])
        else:
            cfg["price"] = {**cfg["price"], "enabled": False, "supply": 0.0}
    return cfg


def companion_nodes(q: np.ndarray) -> np.ndarray:
    """Every other node of ``q`` (and the last one when ``nx`` is even): the space companion's nested grid."""
    coarse = q[::2]
    return coarse if coarse[-1] == q[-1] else np.append(coarse, q[-1])


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def combine(fine: Mapping[str, float | None], time_half: Mapping[str, float | None],
            time_quarter: Mapping[str, float | None], space: Mapping[str, float | None], *,
            ratio: float, ratio2: float, space_share: float = 1.0) -> dict[str, dict[str, Any]]:
    """Per outcome: ``{"value", "error", "extrapolated"}`` from the four solves (see the module docstring).

    ``ratio = nt / nt_T``, ``ratio2 = nt_T / nt_T2``; ``space_share`` = ``E_h / (E_X - E_h)`` scales the
    space companion's difference to the fine grid's spatial error. An outcome missing (None/NaN) in the
    fine solve keeps its value with no error; missing in a companion, it is reported unextrapolated with
    no error.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, o_h in fine.items():
        o_t, o_t2, o_x = time_half.get(key), time_quarter.get(key), space.get(key)
        if not _finite(o_h, o_t):
            out[key] = {"value": o_h, "error": None, "extrapolated": False}
            continue
        first = (o_h - o_t) / (ratio - 1.0)              # the fine value's first-order time error
        e_x = abs(o_x - o_t) * space_share if _finite(o_x) else None
        if _finite(o_t2):
            r = o_h + first
            r2 = o_t + (o_t - o_t2) / (ratio2 - 1.0)
            if abs(r - r2) <= abs(o_h - o_t):
                err = None if e_x is None else abs(r - r2) / (ratio * ratio - 1.0) + e_x
                out[key] = {"value": r, "error": err, "extrapolated": True}
                continue
        err = None if e_x is None else abs(first) + e_x
        out[key] = {"value": o_h, "error": err, "extrapolated": False}
    return out


def flag_unresolved(values: Mapping[str, float | None], errors: dict[str, float | None], *,
                    terminal_std_cells: float, layer_resolved: bool) -> list[str]:
    """Keys of the outcomes the grid does not resolve (module docstring); widens their ``errors`` in place."""
    if not layer_resolved:
        return [k for k, v in errors.items() if v is not None]
    unresolved = []
    for key, est in errors.items():
        value = values.get(key)
        if key == "terminal_dispersion" and terminal_std_cells < RESOLVED_CELLS:
            unresolved.append(key)
            if est is not None and _finite(value):
                errors[key] = max(est, abs(value))
        elif est is not None and _finite(value) and est >= UNRESOLVED_RELATIVE * abs(value) > 0.0:
            unresolved.append(key)
    # the speed is -ln(Q_T / Q_0) / T: unresolved with Q_T, and as uncertain as ln Q_T
    if "mean_inventory_terminal" in unresolved and "liquidation_speed" in errors and \
            "liquidation_speed" not in unresolved and errors["liquidation_speed"] is not None:
        unresolved.append("liquidation_speed")
        q_t, horizon = values.get("mean_inventory_terminal"), values.get("_horizon")
        est_q, speed = errors["mean_inventory_terminal"], values.get("liquidation_speed")
        if _finite(q_t, horizon, est_q) and q_t != 0.0:
            if est_q >= abs(q_t) and _finite(speed):
                # not even the order of magnitude of Q_T is known (e.g. below round-off): nor the speed
                errors["liquidation_speed"] = max(errors["liquidation_speed"], abs(speed))
            else:
                spread = math.log1p(est_q / abs(q_t)) / horizon
                errors["liquidation_speed"] = max(errors["liquidation_speed"], spread)
    return unresolved


def _excess(solution) -> float:
    from mfg_finance.mfg.hjb import excess_diffusion

    if solution.exact_last_interval:     # the last interval is crossed by its exact kernel, not by the chain
        return excess_diffusion(solution.alpha[:-1], solution.masses[:-1], solution.q, solution.time_steps[:-1],
                                solution.config["params"]["sigma"])
    return excess_diffusion(solution.alpha, solution.masses, solution.q, solution.time_steps,
                            solution.config["params"]["sigma"])


def accuracy_of(solution, solve: Callable[..., Any]) -> dict[str, Any]:
    """Solve the companions and return the ``accuracy`` record of ``solution``.

    ``{"method": "richardson-time+space-companion", "companions": {...}, "ratio", "outcomes" (reported),
    "outcome_errors", "extrapolated", "unresolved", "terminal_std_cells", "terminal_layer_resolved",
    "grid_outcomes" (the fine solve's own)}``; when a companion cannot be solved (e.g. the initial law is
    narrower than its cells), ``outcome_errors`` holds ``None`` for every key, the outcomes are the fine
    solve's and ``error`` says why.
    """
    fine = solution.grid_outcomes()
    nt = solution.t.size - 1
    configs = {"time_half": companion_config(solution.config, nt_divisor=2, halve_nx=False),
               "time_quarter": companion_config(solution.config, nt_divisor=4, halve_nx=False),
               "space": companion_config(solution.config, nt_divisor=2, halve_nx=True)}
    nodes = {"time_half": solution.q, "time_quarter": solution.q, "space": companion_nodes(solution.q)}
    p = solution.config["params"]
    layer = p["eta0"] / p["gamma_T"] if p["gamma_T"] > 0 else math.inf
    at_end = solution.spacing_at(solution.mean_inventory[-1])
    record: dict[str, Any] = {
        "method": "richardson-time+space-companion",
        "companions": {k: {"nx": int(nodes[k].size), "nt": c["grid"]["nt"]} for k, c in configs.items()},
        "terminal_std_cells": solution.terminal_dispersion / at_end,
        # an exact last interval holds the whole layer below its step (mfg.terminal_interval)
        "terminal_layer_resolved": bool(solution.exact_last_interval or float(solution.time_steps[-1]) <= layer),
        "grid_outcomes": fine}
    companions = {}
    # the fine grid's time-mesh layer: every companion mesh keeps its grading law (nested steps)
    layer = mesh_layer(p, float(solution.t[-1]), solution.q)
    try:
        for name, cfg in configs.items():
            companions[name] = solve(cfg, estimate_errors=False, nodes=nodes[name], time_layer=layer,
                                     eta_start=lambda t_c, _s=solution: np.interp(t_c, _s.t, _s.eta))
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        unresolved = ["terminal_dispersion"] if record["terminal_std_cells"] < RESOLVED_CELLS else []
        record.update(ratio=None, outcomes=dict(fine), outcome_errors={k: None for k in fine}, extrapolated=[],
                      unresolved=unresolved, error=f"no companion solve ({name}): {exc}", companion_outcomes=None)
        return record
    e_fine = _excess(solution)
    e_space = _excess(companions["space"])
    # the fine grid's share of the companions' difference (capped at the first-order share, 1)
    share = min(1.0, e_fine / (e_space - e_fine)) if e_space > e_fine else 1.0
    ratio = nt / (companions["time_half"].t.size - 1)
    ratio2 = (companions["time_half"].t.size - 1) / (companions["time_quarter"].t.size - 1)
    outs = {name: s.grid_outcomes() for name, s in companions.items()}
    combined = combine(fine, outs["time_half"], outs["time_quarter"], outs["space"], ratio=ratio, ratio2=ratio2,
                       space_share=share)
    values = {k: c["value"] for k, c in combined.items()}
    errors = {k: c["error"] for k, c in combined.items()}
    unresolved = flag_unresolved({**values, "_horizon": float(solution.t[-1] - solution.t[0])}, errors,
                                 terminal_std_cells=record["terminal_std_cells"],
                                 layer_resolved=record["terminal_layer_resolved"])
    record.update(ratio=ratio, excess_diffusion={"fine": e_fine, "space": e_space, "share": share},
                  outcomes=values, outcome_errors=errors,
                  extrapolated=[k for k, c in combined.items() if c["extrapolated"]], unresolved=unresolved,
                  error=None, companion_outcomes=outs)
    return record
