"""Parameter sweeps of the MFG equilibrium: expansion into points, one solve per point, aggregation.

A sweep is a grid over some of ``phi, gamma_T, eta0, eta1, sigma`` and the systemic keys ``sigma0``,
``market_share``, ``urgent_share``, ``type_weights`` (:data:`mfg_finance.config.SYSTEMIC_SWEEP_KEYS`) laid on
top of a scenario (``scenario:``, default ``baseline``) and the calibration. Each point writes
``results/sweeps/{sweep}/points/{batch}/{point_id}.json``; the points run in
batches, one Snakemake job per batch (:mod:`mfg_finance.batching`: ``batching.jobs_per_sweep`` jobs, a
point's batch fixed by its id; one job per point with ``null``). The ``point_id`` is a hash of the point's
own parameter values only (a ``type_weights`` value is the whole weight vector), so adding values to a sweep
creates new ids and leaves existing ones (and their results, and the batches that gain no point) untouched.
A point's file is the same byte for byte whichever batch computed it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Any, Mapping

import numpy as np

from mfg_finance.config import SWEEP_KEYS, SYSTEMIC_SWEEP_KEYS, canonical, mfg_run_overrides, with_swept_values
from mfg_finance.errors import ConfigError, MfgConvergenceError, MfgDomainError, MissingOutputError

# Lower bounds of each swept parameter (eta0 must stay positive: it is the cost at zero flow).
_LOWER_BOUND = {"phi": 0.0, "gamma_T": 0.0, "eta0": None, "eta1": 0.0, "sigma": 0.0, "sigma0": 0.0,
                "market_share": 0.0, "urgent_share": None}
# Upper bounds (exclusive): a share of the noise or of the population below 1.
_UPPER_BOUND = {"market_share": 1.0, "urgent_share": 1.0}


def axis_values(spec: Any, *, key: str) -> list[float]:
    """Values of one sweep axis: a list, or ``{start, stop, num, scale: linear|log}``."""
    if isinstance(spec, Mapping):
        start, stop, num = float(spec["start"]), float(spec["stop"]), int(spec["num"])
        scale = spec.get("scale", "linear")
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise ConfigError(f"{key}: a log-scale range needs start and stop > 0, got {start}, {stop}")
            values = np.geomspace(start, stop, num)
        elif scale == "linear":
            values = np.linspace(start, stop, num)
        else:
            raise ConfigError(f"{key}.scale: {scale!r} is not one of ['linear', 'log']")
    else:
        values = np.asarray(spec, dtype=float)
    # Round to 12 significant digits so ids do not depend on the last bit of linspace/geomspace.
    out = [float(f"{v:.12g}") for v in values]
    name = key.rsplit(".", 1)[-1]
    low, high = _LOWER_BOUND[name], _UPPER_BOUND.get(name)
    for v in out:
        if (not math.isfinite(v) or (low is not None and v < low) or (low is None and v <= 0)
                or (high is not None and v >= high)):
            bound = f">= {low}" if low is not None else "> 0"
            raise ConfigError(f"{key}: value {v} out of range (expected a finite number {bound}"
                              + (f" and < {high})" if high is not None else ")"))
    return out


#: Axes whose values are vectors: ``type_weights``, each value the population weights of all the scenario's
#: types in the order of its ``types`` list (the scenario-dependent checks: :func:`mfg_finance.config_systemic.
#: check_sweep_types`).
VECTOR_AXES = ("type_weights",)


def weight_vectors(spec: Any, *, key: str) -> list[list[float]]:
    """Values of a ``type_weights`` axis: a list of weight vectors, each of at least two entries > 0 summing
    to 1 (within :data:`mfg_finance.mfg.agent_types.WEIGHT_TOL`), rounded like :func:`axis_values`."""
    from mfg_finance.mfg.agent_types import WEIGHT_TOL

    if not isinstance(spec, (list, tuple)) or not spec:
        raise ConfigError(f"{key}: expected a non-empty list of weight vectors, e.g. [[0.2, 0.3, 0.5], "
                          f"[0.5, 0.3, 0.2]] (one weight per type of the scenario, in its order), got {spec!r}")
    out = []
    for i, vector in enumerate(spec):
        where = f"{key}[{i}]"
        if (not isinstance(vector, (list, tuple)) or len(vector) < 2
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in vector)):
            raise ConfigError(f"{where}: expected a list of at least two numbers (one weight per type), got {vector!r}")
        weights = [float(f"{float(w):.12g}") for w in vector]
        if not all(math.isfinite(w) and w > 0.0 for w in weights):
            raise ConfigError(f"{where}: every weight must be a finite number > 0 (a population fraction), "
                              f"got {weights}")
        if abs(math.fsum(weights) - 1.0) > WEIGHT_TOL:
            raise ConfigError(f"{where}: the weights must sum to 1 (within {WEIGHT_TOL:g}), "
                              f"got {math.fsum(weights)!r} ({weights})")
        out.append(weights)
    return out


def axis_label(value: Any) -> Any:
    """A point's value of one axis as a table cell: a number as is, a weight vector as ``"0.2 / 0.3 / 0.5"``
    (in the order of the scenario's types; each weight as its shortest repr, so vectors that differ anywhere,
    e.g. in the 5th digit, keep different labels in the table, the figure and the report)."""
    if isinstance(value, (list, tuple)):
        return " / ".join(repr(float(w)) for w in value)
    return value


def point_id(params: Mapping[str, Any]) -> str:
    """Stable identifier of a sweep point: a short hash of its sorted parameter values (a vector axis hashed
    as its list of values; scalar points keep the ids they had before vector axes existed)."""
    canonical = json.dumps({k: [float(w) for w in params[k]] if isinstance(params[k], (list, tuple))
                            else float(params[k]) for k in sorted(params)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def sweep_points(spec: Mapping[str, Any], *, name: str = "sweep") -> list[dict]:
    """Expand a sweep spec into its points: ``[{"point_id": str, "params": {name: value}}, ...]``.

    ``spec``: ``{parameter: axis}`` plus an optional ``scenario`` (not an axis)."""
    axes_spec = {k: v for k, v in spec.items() if k != "scenario"}
    unknown = sorted(set(axes_spec) - set(SWEEP_KEYS))
    if unknown:
        raise ConfigError(f"sweeps.{name}: cannot sweep {unknown}; allowed: {list(SWEEP_KEYS)}")
    if not axes_spec:
        raise ConfigError(f"sweeps.{name}: declares no parameter")
    if "urgent_share" in axes_spec and "type_weights" in axes_spec:
        raise ConfigError(f"sweeps.{name}: sweep urgent_share or type_weights (both set the type weights), not both")
    if "sigma0" in axes_spec and "market_share" in axes_spec:
        raise ConfigError(f"sweeps.{name}: sweep sigma0 or market_share (which sets sigma0 from the total "
                          "noise), not both")
    spec = axes_spec
    keys = list(spec)
    axes = [(weight_vectors if k in VECTOR_AXES else axis_values)(spec[k], key=f"sweeps.{name}.{k}") for k in keys]
    for key, values in zip(keys, axes):
        labels = [axis_label(v) for v in values]
        repeated = sorted({label for label in labels if labels.count(label) > 1}, key=labels.index)
        if repeated:
            raise ConfigError(f"sweeps.{name}.{key}: repeated value(s) {repeated} would be the same points twice "
                              "(values equal to 12 significant digits); give each value once")
    return [{"point_id": point_id(params), "params": params}
            for params in (dict(zip(keys, combo)) for combo in itertools.product(*axes))]


def corner_point(points: list[dict]) -> dict[str, float]:
    """The point of a sweep with every swept parameter at its largest value (``{}`` for no point)."""
    if not points:
        return {}
    keys = list(points[0]["params"])
    return {k: max(float(p["params"][k]) for p in points) for k in keys}


def is_systemic_sweep(run: Mapping[str, Any], swept_keys) -> bool:
    """True when a sweep's points are solved by :mod:`mfg_finance.mfg.systemic`: the scenario is systemic
    (common noise or types) or the sweep varies a key of :data:`mfg_finance.config.SYSTEMIC_SWEEP_KEYS`."""
    from mfg_finance.mfg.systemic import is_systemic

    return is_systemic(run) or bool(set(swept_keys) & set(SYSTEMIC_SWEEP_KEYS))


def solve_point(calibrated: Mapping[str, float], run: Mapping[str, Any], swept: Mapping[str, float], *,
                systemic_doc: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None) -> dict:
    """Solve one sweep point: ``run`` from :func:`mfg_finance.config.sweep_run_overrides`, ``calibrated``
    the calibrated parameter values, ``systemic_doc`` the ``systemic_params.yaml`` document (needed by a
    calibrated ``sigma0``) and ``settings`` the ``systemic`` config block. Systemic sweeps go to
    :func:`mfg_finance.mfg.systemic.run_sweep_point`, the others to :func:`run_point`; both return the
    same record shape."""
    from mfg_finance.config import solver_config

    if is_systemic_sweep(run, swept):
        from mfg_finance.mfg.systemic import run_sweep_point, systemic_config

        return run_sweep_point(systemic_config(calibrated, systemic_doc, run), swept, settings)
    return run_point(solver_config(calibrated, run), swept)


def batch_overrides(mfg_config: Mapping[str, Any], spec) -> dict:
    """Config side shared by the points of one sweep batch: the sweep's scenario (``spec["scenario"]``,
    default ``baseline``) without the swept parameters (each point sets those itself). A batch reruns when
    this or its points change: a baseline value that every point overrides does not rerun it, as it would
    not rerun a point job."""
    scenario = spec.get("scenario", "baseline") if isinstance(spec, Mapping) else "baseline"
    overrides = mfg_run_overrides(mfg_config, scenario)
    for key in spec:
        if key != "scenario":
            overrides["params"].pop(key, None)
    return canonical(overrides)


def point_overrides(batch_run: Mapping[str, Any], swept: Mapping[str, float]) -> dict:
    """Config side of one point of a batch: :func:`batch_overrides` with the point's values on top (equal
    to :func:`mfg_finance.config.sweep_run_overrides` of the same point)."""
    return with_swept_values(batch_run, swept)


def batch_point_files(folders, point_ids) -> list:
    """The point files of a sweep, one per expected id, from its batch folders (sorted by id).

    A point missing from every folder, or found twice, is a :class:`MissingOutputError` naming it: the aggregate
    never silently drops a point or counts one twice. Files of other ids (a folder left from an earlier
    batching) are ignored.
    """
    from pathlib import Path

    found: dict[str, list] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")):
            found.setdefault(path.stem, []).append(path)
    missing = [pid for pid in point_ids if pid not in found]
    twice = [pid for pid in point_ids if len(found.get(pid, [])) > 1]
    if missing or twice:
        raise MissingOutputError(f"sweep batches {[str(f) for f in folders]}: "
                          + (f"no file for point(s) {missing[:5]}" if missing else "")
                          + ("; " if missing and twice else "")
                          + (f"point(s) {twice[:5]} in more than one batch" if twice else ""))
    return [found[pid][0] for pid in sorted(point_ids)]


def run_point(solver_config: Mapping[str, Any], swept: Mapping[str, float]) -> dict:
    """Solve one sweep point and summarise it. Non-convergence is recorded, not raised.

    Returns a JSON-able dict: ``params`` (the swept values), ``model`` (all model parameters
    used), ``converged``, ``iterations``, ``residual`` and, when converged, ``outcomes``.
    A point that does not converge, or whose law reaches the ends of the inventory range
    (:class:`~mfg_finance.errors.MfgDomainError`), keeps ``outcomes`` null and ``converged`` false,
    with the reason in ``error``, so the aggregate shows it as such.
    """
    from mfg_finance.mfg import solve

    record: dict[str, Any] = {
        "params": dict(swept),
        "model": dict(solver_config["params"]),
        "price_enabled": bool(solver_config.get("price", {}).get("enabled", False)),
    }
    try:
        solution = solve(dict(solver_config))
    except MfgConvergenceError as exc:
        record.update(converged=False, iterations=len(exc.residuals),
                      residual=exc.residuals[-1] if exc.residuals else None,
                      error=str(exc), outcomes=None)
        return record
    except MfgDomainError as exc:   # an equilibrium the boundary made: no outcome to report
        record.update(converged=False, iterations=0, residual=None, error=str(exc), outcomes=None)
        return record
    record.update(converged=True, iterations=int(solution.iterations),
                  residual=float(solution.residuals[-1]) if len(solution.residuals) else 0.0,
                  error=None, outcomes=solution_outcomes(solution),
                  outcome_errors=solution_outcome_errors(solution),
                  unresolved=list((solution.accuracy or {}).get("unresolved", [])))
    return record


#: Outcome columns of a sweep table: ``MfgSolution.outcomes()`` plus a summary of the flow path. Each has
#: a ``<name>_error`` column: its estimated discretisation error (:mod:`mfg_finance.mfg.accuracy`; NaN
#: where not estimated).
OUTCOME_COLUMNS = ("liquidation_speed", "liquidation_half_life", "terminal_dispersion", "total_cost",
                   "mean_inventory_initial", "mean_inventory_terminal", "mean_flow_initial", "mean_flow_terminal",
                   "mean_flow_abs_max", "eta_min", "eta_max", "eta_mean", "price_initial", "price_terminal",
                   "price_impact")


def solution_outcomes(solution) -> dict[str, float | None]:
    """The scalar outcomes a sweep reports for one equilibrium."""
    outcomes = dict(solution.outcomes())
    outcomes["mean_flow_abs_max"] = float(np.max(np.abs(solution.mean_flow)))
    return {key: outcomes[key] for key in OUTCOME_COLUMNS}


def solution_outcome_errors(solution) -> dict[str, float | None]:
    """Estimated error of each sweep outcome (None where the solve has no estimate for it)."""
    errors = (solution.accuracy or {}).get("outcome_errors") or {}
    return {key: errors.get(key) for key in OUTCOME_COLUMNS}


def aggregate_points(records: list[Mapping[str, Any]]):
    """One row per point (a ``pandas.DataFrame``): swept parameters (a weight vector as its
    :func:`axis_label`, the weights also in the ``used_weight_<type>`` columns), convergence, outcomes (NaN
    where not converged)."""
    import pandas as pd  # only the aggregate needs pandas; the point jobs do not pay for its import

    if not records:
        raise ConfigError("aggregate_points: no sweep point to aggregate")
    rows = []
    for rec in records:
        row = {f"param_{k}": axis_label(v) for k, v in rec["params"].items()}
        row.update(converged=bool(rec["converged"]), iterations=int(rec["iterations"]),
                   residual=np.nan if rec.get("residual") is None else float(rec["residual"]))
        outcomes = rec.get("outcomes") or {}
        errors = rec.get("outcome_errors") or {}
        for key in OUTCOME_COLUMNS:
            value = outcomes.get(key)
            row[key] = np.nan if value is None else float(value)
        for key in OUTCOME_COLUMNS:
            value = errors.get(key)
            row[f"{key}_error"] = np.nan if value is None else float(value)
        row["unresolved"] = ",".join(rec.get("unresolved") or [])
        # systemic points (mfg_finance.mfg.systemic.run_sweep_point): Monte Carlo SEs and the values used
        for key, value in (rec.get("outcome_se") or {}).items():
            row[f"{key}_se"] = float(value)
        for key, value in (rec.get("derived") or {}).items():
            row[f"used_{key}"] = float(value)
        # common-noise points: parts of an outcome (e.g. the common/idiosyncratic terminal std), value, error, SE
        for name, part in (rec.get("outcome_parts") or {}).items():
            row[name] = np.nan if part.get("value") is None else float(part["value"])
            row[f"{name}_error"] = np.nan if part.get("error") is None else float(part["error"])
            row[f"{name}_se"] = np.nan if part.get("se") is None else float(part["se"])
        # multi-type points: each type's outcomes, estimated errors and unresolved ones (type_<name>_<key>)
        # (two types under common noise: also their Monte Carlo SEs, type_<name>_<key>_se)
        type_errors, type_se = rec.get("type_outcome_errors") or {}, rec.get("type_outcome_se") or {}
        for name, values in (rec.get("type_outcomes") or {}).items():
            for key, value in values.items():
                err = (type_errors.get(name) or {}).get(key)
                row[f"type_{name}_{key}"] = np.nan if value is None else float(value)
                row[f"type_{name}_{key}_error"] = np.nan if err is None else float(err)
            for key, value in (type_se.get(name) or {}).items():
                row[f"type_{name}_{key}_se"] = float(value)
            row[f"type_{name}_unresolved"] = ",".join((rec.get("type_unresolved") or {}).get(name) or [])
        rows.append(row)
    frame = pd.DataFrame(rows)
    param_cols = sorted(c for c in frame.columns if c.startswith("param_"))
    return frame.sort_values(param_cols, kind="stable").reset_index(drop=True)
