r"""Outcomes extrapolated in time, and the estimated discretisation error of every outcome, from companion solves.

What limits the accuracy (docs/mfg.md, section 11, has the measurements). On the graded inventory mesh the
central/upwind scheme (:mod:`mfg_finance.mfg.hjb`) reproduces a quadratic value and the law's first two
moments exactly wherever it is central, so on the calibrated problems the error left is that of backward
Euler in time: first order in every ``dt_n`` and cleanly asymptotic at the default grid (stiff baseline,
``nt`` = 75 / 150 / 300 / 600 at fixed nodes: cost error 1.01 / 0.49 / 0.24 / 0.12 %, while ``nx`` = 201 / 401 / 801
at ``nt = 150`` changes nothing). Where the drift dominates the noise (cell Peclet number above 2 where
the mass is, e.g. ``sigma = 0.02``: no affordable mesh keeps it central) the scheme is upwind there and
first order in space as well.

Four companion solves, each warm-started from the fine cost path:

* ``T``: the same nodes, ``nt_T = nt / 2`` steps of the same mesh law (a graded mesh is the image of a
  fixed map of ``k / nt``, so every step scales by ``r = nt / nt_T``);
* ``T2``: the same nodes, ``nt_T2 = nt / 4`` steps;
* ``X``: every other node (:func:`companion_nodes`), ``nt_T`` steps;
* ``XX``: every fourth node, ``nt_T`` steps (``space_coarse``; only for the spatial extrapolation).

For each outcome ``O`` with fine value ``O_h`` (``O_h = O + C dt + D dt^2 + e_x``)::

    time-extrapolated  R  = O_h + (O_h - O_T) / (r - 1)          (Richardson: second order in time)
    the same one level down  R2 = O_T + (O_T - O_T2) / (r2 - 1)
    its time remainder  e_R = |R - R2| / (r^2 - 1)                (the next, second-order, term)

*Space*. ``E`` is the numerical diffusion the scheme added where it is upwind, integrated over the law
(:func:`mfg_finance.mfg.hjb.excess_diffusion`): the spatial error is that of the upwind cells, first
order and proportional to ``E`` (zero where the scheme is central, where it reproduces the quadratic value
and the law's moments exactly), so ``O_X - O_T ~ c1 (E_X - E_T)`` and the fine grid's spatial error is
``c1 E_h``. Where the law is upwind wherever it is (transport-dominated, ``sigma = 0.02``), ``E`` doubles
with the spacing and the sequence ``O_T, O_X, O_XX`` is first order (measured: differences in the ratio
1.96-2.06 on the check set's transport-dominated problems); there the spatial error is extrapolated away
(:func:`space_extrapolation`: reported ``R - c1 E_h``, space error ``e_x`` = the remainder of that linear
extrapolation from the slope ``c2`` of the next level). Elsewhere (part of the law on central cells, where
the upwind share changes with the spacing) nothing is extrapolated in space and
``e_x = |O_X - O_T| min(1, E_h / (E_X - E_T))``. The terminal std uses ``E`` weighted by what of each step's
variance the law keeps to ``T`` (:func:`surviving_fraction`): it feels the terminal layer's cells, not the
transport the law has forgotten.

The reported outcome is ``R`` (less the spatial correction) with the error estimate ``e_R + e_x`` when the
time sequence is asymptotic (``|R - R2| <= |O_h - O_T|``: the second-order term smaller than the first),
else the fine value ``O_h`` (less the spatial correction) with the estimate ``|O_h - O_T| / (r - 1) + e_x``
(``extrapolated`` and ``space_extrapolated`` list the outcomes that were).

``unresolved``: outcomes the grid cannot resolve, with the estimate widened to what they may be:

* ``terminal_dispersion`` when the terminal std spans fewer than 2 cells where the terminal law sits
  (estimate ``max(|est|, value)``);
* ``mean_inventory_terminal`` when the terminal law is narrower than one cell and its mean is less than a cell
  from 0, or the law narrower than 2 cells and the mean less than ``MEAN_CELL_FRACTION`` = 1 % of a cell from 0
  (estimate ``max(|est|, |Q_T|)``): where in its cell the mean sits is the grid's doing (the ``gamma_T`` ladder's
  ``Q_T``, ``1e-6 ... 1e-16`` of ``Q_0``, was off by -17 ... +41 % with estimates 0.07 ... 8 of that);
* any outcome whose estimate is at least half its magnitude (e.g. a terminal mean ``e^-16`` times the
  initial one: its relative error is the error of the decay exponent times 16), and then the speed
  ``-ln(Q_T / Q_0) / T`` with it (estimate widened to ``ln(1 + est(Q_T) / |Q_T|) / T``, or to the speed
  itself when ``est(Q_T) > |Q_T|``: not even the order of magnitude of ``Q_T`` is known);
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
#: A terminal mean this fraction of a cell from 0, with a terminal law narrower than ``RESOLVED_CELLS``, is unresolved
#: (as is one within a cell of 0 with a law narrower than a cell): :func:`flag_unresolved`.
MEAN_CELL_FRACTION = 0.01
#: An outcome whose estimated error is at least this fraction of its magnitude is unresolved.
UNRESOLVED_RELATIVE = 0.5
#: The spatial error is extrapolated only where it is in its asymptotic first-order regime: the law upwind
#: wherever it is, so that the numerical diffusion doubles with the spacing, ``E_X / E_T`` and ``E_XX / E_X``
#: within this relative distance of 2. Where part of the law is on central cells the upwind share changes
#: with the spacing and the error is not linear in it (measured: docs/mfg.md, section 11).
DOUBLING_TOLERANCE = 0.1


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


def _doubles(e_fine: float, e_coarse: float) -> bool:
    return e_fine > 0.0 and abs(e_coarse / e_fine - 2.0) <= 2.0 * DOUBLING_TOLERANCE


def space_extrapolation(o_t, o_x, o_xx, *, excess: Mapping[str, float],
                        reaching: Mapping[str, float] | None = None) -> tuple[float, float, bool]:
    """``(correction, error, extrapolated)`` of one outcome's spatial error (module docstring, *space*).

    ``o_t``, ``o_x``, ``o_xx``: the outcome on the fine nodes, every other and every fourth node, all at ``nt_T``
    steps; ``excess``: their numerical diffusions ``time_half``, ``space``, ``space_coarse`` and the fine
    solve's ``fine`` (:func:`mfg_finance.mfg.hjb.excess_diffusion`). The fine value's spatial error is
    ``c1 E_h`` with ``c1 = (O_X - O_T) / (E_X - E_T)``; the next level's slope ``c2`` gives its remainder
    ``|c2 - c1| E_h (E_X + E_T - E_h) / (E_XX - E_T)`` (a quadratic in ``E``). Extrapolated (``O_h - c1 E_h``) when
    the law is upwind wherever it is (``E`` doubles with the spacing at both levels, ``DOUBLING_TOLERANCE``) and
    that remainder is below the correction itself; else no correction and the error
    ``|O_X - O_T| min(1, E_h / (E_X - E_T))`` (``|O_X - O_T|`` where nothing is upwind).

    ``reaching`` (the terminal std): the same diffusions weighted by what of them reaches ``T``
    (:func:`surviving_fraction`); they must double too, and give the share of the unextrapolated error.
    """
    e_h, e_t, e_x = excess["fine"], excess["time_half"], excess["space"]
    e_xx = excess.get("space_coarse")
    gate = reaching or excess
    if not e_x > e_t:
        return 0.0, abs(o_x - o_t), False
    slope = (o_x - o_t) / (e_x - e_t)
    first = slope * e_h
    if _finite(o_xx, e_xx) and _doubles(e_t, e_x) and _doubles(e_x, e_xx) and \
            _doubles(gate["time_half"], gate["space"]) and _doubles(gate["space"], gate["space_coarse"]):
        slope2 = (o_xx - o_x) / (e_xx - e_x)
        remainder = abs(slope2 - slope) * e_h * (e_x + e_t - e_h) / (e_xx - e_t)
        if remainder <= abs(first):
            return first, remainder, True
    if not gate["space"] > gate["time_half"]:
        return 0.0, abs(o_x - o_t), False
    return 0.0, abs(o_x - o_t) * min(1.0, gate["fine"] / (gate["space"] - gate["time_half"])), False


def combine(fine: Mapping[str, float | None], time_half: Mapping[str, float | None],
            time_quarter: Mapping[str, float | None], space: Mapping[str, float | None], *,
            ratio: float, ratio2: float, space_share: float = 1.0,
            space_coarse: Mapping[str, float | None] | None = None,
            excess: Mapping[str, float] | None = None,
            reaching: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, dict[str, Any]]:
    """Per outcome: ``{"value", "error", "extrapolated", "space_extrapolated"}`` from the companion solves.

    ``ratio = nt / nt_T``, ``ratio2 = nt_T / nt_T2``. Space: with ``excess`` (the four numerical diffusions of
    :func:`space_extrapolation`) and ``space_coarse`` the spatial error is extrapolated away where the sequence
    is asymptotic; without them ``space_share`` (``E_h / (E_X - E_h)``) scales the space companion's difference
    to the fine grid's spatial error, which is only estimated. ``reaching`` gives an outcome the diffusions
    that reach it (the terminal std: weighted by what reaches ``T``, :func:`space_extrapolation`). An outcome missing (None/NaN) in the
    fine solve keeps its value with no error; missing in a companion, it is reported unextrapolated with
    no error.
    """
    out: dict[str, dict[str, Any]] = {}
    coarse = space_coarse or {}
    for key, o_h in fine.items():
        o_t, o_t2, o_x = time_half.get(key), time_quarter.get(key), space.get(key)
        if not _finite(o_h, o_t):
            out[key] = {"value": o_h, "error": None, "extrapolated": False, "space_extrapolated": False}
            continue
        first = (o_h - o_t) / (ratio - 1.0)              # the fine value's first-order time error
        correction, e_x, in_space = 0.0, None, False
        if _finite(o_x):
            if excess is None:
                e_x = abs(o_x - o_t) * space_share
            else:
                correction, e_x, in_space = space_extrapolation(o_t, o_x, coarse.get(key), excess=excess,
                                                                reaching=(reaching or {}).get(key))
        value, err, in_time = o_h, (None if e_x is None else abs(first) + e_x), False
        if _finite(o_t2):
            r = o_h + first
            r2 = o_t + (o_t - o_t2) / (ratio2 - 1.0)
            if abs(r - r2) <= abs(o_h - o_t):
                value, in_time = r, True
                err = None if e_x is None else abs(r - r2) / (ratio * ratio - 1.0) + e_x
        out[key] = {"value": value - correction, "error": err, "extrapolated": in_time,
                    "space_extrapolated": in_space}
    return out


def flag_unresolved(values: Mapping[str, float | None], errors: dict[str, float | None], *,
                    terminal_std_cells: float, layer_resolved: bool,
                    terminal_mean_cells: float = math.inf) -> list[str]:
    """Keys of the outcomes the grid does not resolve (module docstring); widens their ``errors`` in place.

    ``terminal_mean_cells``: ``|Q_T|`` over the spacing where it sits (default: not checked; ``terminal_std_cells``
    likewise the terminal std)."""
    if not layer_resolved:
        return [k for k, v in errors.items() if v is not None]
    unresolved = []
    inside_a_cell = (terminal_std_cells < 1.0 and terminal_mean_cells < 1.0) or \
        (terminal_std_cells < RESOLVED_CELLS and terminal_mean_cells < MEAN_CELL_FRACTION)
    for key, est in errors.items():
        value = values.get(key)
        if key == "terminal_dispersion" and terminal_std_cells < RESOLVED_CELLS:
            unresolved.append(key)
            if est is not None and _finite(value):
                errors[key] = max(est, abs(value))
        elif key == "mean_inventory_terminal" and inside_a_cell and est is not None and _finite(value):
            # where in its cell the mean of an unresolved law sits is the split of the mass between the nodes
            # around it, the grid's doing (gamma_T ladder, Q_T 1e-3 ... 1e-15 of a cell: -17 ... +41 %, estimates
            # 0.07 ... 8 of that; stiff baseline on uniform nodes, law 0.63 cells, Q_T 0.025 cells: +11 %)
            unresolved.append(key)
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
            if est_q > abs(q_t) and _finite(speed):
                # not even the order of magnitude of Q_T is known (e.g. below round-off): nor the speed
                errors["liquidation_speed"] = max(errors["liquidation_speed"], abs(speed))
            else:
                spread = math.log1p(est_q / abs(q_t)) / horizon
                errors["liquidation_speed"] = max(errors["liquidation_speed"], spread)
    return unresolved


def _excess(solution, *, terminal: bool = False) -> float:
    """The fine or companion solve's numerical diffusion ``E``; with ``terminal``, each step's share weighted by
    what of its variance survives to ``T`` (:func:`surviving_fraction`): the ``E`` of the terminal std."""
    from mfg_finance.mfg.hjb import excess_diffusion

    weights = surviving_fraction(solution) if terminal else None
    if solution.exact_last_interval:     # the last interval is crossed by its exact kernel, not by the chain
        return excess_diffusion(solution.alpha[:-1], solution.masses[:-1], solution.q, solution.time_steps[:-1],
                                solution.config["params"]["sigma"], None if weights is None else weights[:-1])
    return excess_diffusion(solution.alpha, solution.masses, solution.q, solution.time_steps,
                            solution.config["params"]["sigma"], weights)


def surviving_fraction(solution) -> np.ndarray:
    r"""(nt,) the fraction of the variance added on each step that is left at ``T``.

    The law contracts at the rate ``k^n = -cov(q, alpha^n) / var(q)`` under ``p^{n+1}`` (the feedback's slope
    where the mass is; ``alpha = -k q`` in the LQ model), and the implicit step divides the variance by
    ``1 + 2 dt_n k^n``: ``w_n = prod_{m >= n} 1 / (1 + 2 dt_m k^m)``. The terminal std feels the numerical
    diffusion of the terminal layer, not that of the transport long before, which the law forgets.
    """
    p, q, a = solution.masses[1:], solution.q, solution.alpha[:-1]
    mean = p @ q
    centred = q[None, :] - mean[:, None]
    var = np.maximum(np.einsum("ni,ni->n", p, centred * centred), 1e-300)
    slope = np.maximum(-np.einsum("ni,ni->n", p, centred * a) / var, 0.0)
    factor = 1.0 / (1.0 + 2.0 * solution.time_steps * slope)
    return np.cumprod(factor[::-1])[::-1]


def companion_plan(config: Mapping[str, Any], q: np.ndarray, make: Callable[..., dict] = companion_config
                   ) -> tuple[dict[str, dict], dict[str, np.ndarray], dict, np.ndarray]:
    """The companions' configs and nodes: ``time_half`` (nt/2) and ``time_quarter`` (nt/4) on the fine nodes,
    ``space`` (nt/2, every other node), and ``space_coarse`` (every fourth node, nt/2), returned apart as it is
    optional; ``make`` builds a companion config (``companion_config`` or a multi-type equivalent)."""
    configs = {"time_half": make(config, nt_divisor=2, halve_nx=False),
               "time_quarter": make(config, nt_divisor=4, halve_nx=False),
               "space": make(config, nt_divisor=2, halve_nx=True)}
    nodes = {"time_half": q, "time_quarter": q, "space": companion_nodes(q)}
    return configs, nodes, make(configs["space"], nt_divisor=1, halve_nx=True), companion_nodes(nodes["space"])


def accuracy_of(solution, solve: Callable[..., Any]) -> dict[str, Any]:
    """Solve the companions and return the ``accuracy`` record of ``solution``.

    ``{"method": "richardson-time+space-companion", "companions": {...}, "ratio", "outcomes" (reported),
    "outcome_errors", "extrapolated" (in time), "space_extrapolated", "unresolved", "terminal_std_cells",
    "terminal_layer_resolved", "grid_outcomes" (the fine solve's own)}``; when a companion of the first three
    cannot be solved (e.g. the initial law is narrower than its cells), ``outcome_errors`` holds ``None`` for
    every key, the outcomes are the fine solve's and ``error`` says why; when only ``space_coarse`` cannot,
    nothing is extrapolated in space (``space_coarse_error`` says why).
    """
    fine = solution.grid_outcomes()
    nt = solution.t.size - 1
    configs, nodes, coarse_config, coarse_nodes = companion_plan(solution.config, solution.q)
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
    record["companions"]["space_coarse"] = {"nx": int(coarse_nodes.size), "nt": coarse_config["grid"]["nt"]}

    def start(t_c, _s=solution):
        return np.interp(t_c, _s.t, _s.eta)

    companions = {}
    # the fine grid's time-mesh layer: every companion mesh keeps its grading law (nested steps)
    layer = mesh_layer(p, float(solution.t[-1]), solution.q)
    try:
        for name, cfg in configs.items():
            companions[name] = solve(cfg, estimate_errors=False, nodes=nodes[name], time_layer=layer,
                                     eta_start=start)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        unresolved = ["terminal_dispersion"] if record["terminal_std_cells"] < RESOLVED_CELLS else []
        record.update(ratio=None, outcomes=dict(fine), outcome_errors={k: None for k in fine}, extrapolated=[],
                      space_extrapolated=[], unresolved=unresolved, error=f"no companion solve ({name}): {exc}",
                      companion_outcomes=None)
        return record
    coarse_error = None
    try:      # every fourth node: only for the spatial extrapolation, which is skipped without it
        companions["space_coarse"] = solve(coarse_config, estimate_errors=False, nodes=coarse_nodes, time_layer=layer,
                                           eta_start=start)
    except (ConfigError, MfgConvergenceError, MfgDomainError) as exc:
        coarse_error = f"no companion solve (space_coarse): {exc}"
    spatial = {"fine": solution, **{name: c for name, c in companions.items() if name != "time_quarter"}}
    excess = {name: _excess(c) for name, c in spatial.items()}
    terminal_excess = {name: _excess(c, terminal=True) for name, c in spatial.items()}
    ratio = nt / (companions["time_half"].t.size - 1)
    ratio2 = (companions["time_half"].t.size - 1) / (companions["time_quarter"].t.size - 1)
    outs = {name: s.grid_outcomes() for name, s in companions.items()}
    combined = combine(fine, outs["time_half"], outs["time_quarter"], outs["space"], ratio=ratio, ratio2=ratio2,
                       space_coarse=outs.get("space_coarse"), excess=excess,
                       reaching={"terminal_dispersion": terminal_excess})
    values = {k: c["value"] for k, c in combined.items()}
    errors = {k: c["error"] for k, c in combined.items()}
    unresolved = flag_unresolved({**values, "_horizon": float(solution.t[-1] - solution.t[0])}, errors,
                                 terminal_std_cells=record["terminal_std_cells"],
                                 layer_resolved=record["terminal_layer_resolved"],
                                 terminal_mean_cells=abs(float(solution.mean_inventory[-1])) / at_end)
    record.update(ratio=ratio, excess_diffusion={**excess, "terminal": terminal_excess}, outcomes=values, outcome_errors=errors,
                  extrapolated=[k for k, c in combined.items() if c["extrapolated"]],
                  space_extrapolated=[k for k, c in combined.items() if c["space_extrapolated"]],
                  unresolved=unresolved, error=None, space_coarse_error=coarse_error, companion_outcomes=outs)
    return record
