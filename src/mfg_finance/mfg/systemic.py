r"""Pipeline side of the systemic scenarios: common noise, agent types, finite-N check, sweep points.

A scenario is *systemic* when its ``params.sigma0`` is positive or null (null: the calibrated
value of :mod:`mfg_finance.mfg.systemic_calibration`, which also splits ``sigma`` into its
idiosyncratic part) or when it lists ``types``. Those are solved here rather than by
:func:`mfg_finance.mfg.solve`; two agent types with common noise are solved on the ``(t, Y, D)`` grid
of :mod:`mfg_finance.mfg.types_common_noise` (more than two are refused with a :class:`ConfigError`).
Every function returns JSON-able summaries (numbers with their error bounds
or Monte Carlo standard errors) and, where useful, arrays for ``.npz`` files.

Settings (the ``systemic`` config block, units in brackets)::

    common_noise: {nt, nQ, nD, n_paths, seed, quantiles}    # (t, Q) grid (+ nD nodes of Q_2 - Q_1), paths
    finite_n:     {scenario, Ns, game_pairs, agent_paths, limit_paths, min_replications, seed, epsilon_Ns}
"""

from __future__ import annotations

import copy
import math
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import ConfigError

DEFAULT_SETTINGS: dict[str, Any] = {
    "common_noise": {"nt": 320, "nQ": 201, "nD": 41, "n_paths": 2000, "seed": 16,
                     "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95]},
    "finite_n": {"scenario": "common_noise", "Ns": [10, 100, 1000, 10000], "game_pairs": 3000, "agent_paths": 10000,
                 "limit_paths": 5000, "min_replications": 10, "seed": 1616, "epsilon_Ns": [10, 100]},
}


def is_systemic(run: Mapping[str, Any]) -> bool:
    """True if the run overrides ask for common noise (``sigma0`` null or > 0) or for agent types."""
    sigma0 = run.get("params", {}).get("sigma0", 0.0)
    return sigma0 is None or sigma0 > 0.0 or bool(run.get("types"))


def systemic_config(calibrated: Mapping[str, float], systemic_doc: Mapping[str, Any] | None,
                    run: Mapping[str, Any]) -> dict[str, Any]:
    """Solver config of a systemic run: calibration < run overrides; ``sigma0: null`` takes the
    calibrated ``sigma0`` and ``sigma_idiosyncratic`` (total noise kept). Adds ``types`` and
    ``sigma0_source`` (``config`` or ``calibrated``). A ``market_share`` key (a sweep point,
    :func:`mfg_finance.config.sweep_run_overrides`) then splits the total noise ``s = hypot(sigma, sigma0)``
    into ``sigma0 = sqrt(rho) s`` and ``sigma = sqrt(1 - rho) s``."""
    from mfg_finance.config import solver_config

    run = copy.deepcopy(dict(run))
    sigma0 = run.get("params", {}).get("sigma0", 0.0)
    source = "config"
    if sigma0 is None:
        if systemic_doc is None:
            raise ConfigError("mfg.params.sigma0: null (calibrated) needs results/calibration/systemic_params.yaml")
        run["params"]["sigma0"] = float(systemic_doc["sigma0"]["value"])
        if "sigma" not in run["params"]:      # a sigma set in config is kept as the idiosyncratic part
            run["params"]["sigma"] = float(systemic_doc["sigma_idiosyncratic"]["value"])
        source = "calibrated"
    market_share = run.pop("market_share", None)
    cfg = solver_config(calibrated, run)
    if market_share is not None:     # a sweep point: split the total noise s into sqrt(rho) s common + the rest
        rho = float(market_share)
        if not 0.0 <= rho < 1.0:
            raise ConfigError(f"sweeps: market_share {rho!r} must lie in [0, 1)")
        total = math.hypot(float(cfg["params"]["sigma"]), float(cfg["params"].get("sigma0") or 0.0))
        cfg["params"]["sigma0"], cfg["params"]["sigma"] = math.sqrt(rho) * total, math.sqrt(1.0 - rho) * total
        cfg["market_share"] = rho
    cfg["types"] = list(run.get("types") or [])
    cfg["sigma0_source"] = source
    if cfg["types"] and cfg["params"].get("sigma0", 0.0) > 0.0:
        from mfg_finance.mfg.types_common_noise import check_type_count

        check_type_count(cfg["types"])
    return cfg


def _settings(settings: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    out = dict(DEFAULT_SETTINGS[name])
    out.update((settings or {}).get(name, {}) if settings else {})
    return out


def _price_args(cfg: Mapping[str, Any]) -> dict | None:
    price = cfg.get("price", {})
    if price.get("kappa") is None or price.get("p_ref") is None:
        return None
    return {"kappa": float(price["kappa"]), "p_ref": float(price["p_ref"]), "supply": price.get("supply", 0.0)}


def _cn_params(cfg: Mapping[str, Any]) -> tuple[dict, dict]:
    from mfg_finance.mfg.config import validate_config

    valid = validate_config({k: cfg[k] for k in ("grid", "params", "solver", "price")})
    return valid["params"], valid["grid"]


def _solve_cn(cfg, cn, *, estimate: bool):
    from mfg_finance.mfg.common_noise import default_halfwidth, solve_system, solve_with_estimate

    params, grid = _cn_params(cfg)
    kw = dict(T=grid["T"], nt=int(cn["nt"]), nQ=int(cn["nQ"]), halfwidth=default_halfwidth(params, grid["T"]),
              time_kind=grid["time_mesh"], max_step_ratio=grid["max_step_ratio"])
    return (solve_with_estimate if estimate else solve_system)(params, **kw)


#: metrics.json outcome of a common-noise scenario <- the estimated path outcome it reports
#: (:data:`mfg_finance.mfg.common_noise_outcomes.KEYS`); each is ``{"mean", "se", "error"}``.
_SCENARIO_OUTCOMES = {"Q_T": "mean_inventory_terminal", "liquidation_speed": "liquidation_speed",
                      "liquidation_half_life": "liquidation_half_life", "eta_max": "eta_max_per_path",
                      "eta_mean": "eta_mean", "price_impact": "price_impact"}


def estimated_path_outcomes(estimated) -> dict[str, Any]:
    """Scenario outcomes of the common-noise paths with their discretisation errors
    (``estimated``: :class:`mfg_finance.mfg.common_noise_outcomes.PathOutcomes`): each of
    :data:`_SCENARIO_OUTCOMES` as ``{"mean", "se", "error"}`` (value time-extrapolated where asymptotic,
    Monte Carlo SE, discretisation error estimate; ``None`` without a price), and the 5-95% bands of the fine
    grid's paths with their Monte Carlo SEs (``<band>_se``, from the quantiles' spacings:
    :func:`mfg_finance.mfg.common_noise_paths.band_with_se`)."""
    from mfg_finance.mfg.common_noise_paths import band_with_se

    paths = estimated.paths
    out: dict[str, Any] = {}
    for name, key in _SCENARIO_OUTCOMES.items():
        value = estimated.values[key]
        out[name] = None if value is None else {"mean": value, "se": estimated.se[key], "error": estimated.errors[key]}
    out["Q_T_band_5_95"], out["Q_T_band_5_95_se"] = band_with_se(paths.Q[:, -1], [0.05, 0.95])
    if paths.price is not None:
        impact = paths.price[:, -1] - paths.price[:, 0]
        out["price_impact_band_5_95"], out["price_impact_band_5_95_se"] = band_with_se(impact, [0.05, 0.95])
    return out


#: metrics.json outcome of each type under common noise <- its estimated path outcome
#: (:data:`mfg_finance.mfg.common_noise_outcomes.TYPE_KEYS`); each is ``{"mean", "se", "error"}``.
_TYPE_OUTCOMES = {"Q_T": "mean_inventory_terminal", "liquidation_speed": "liquidation_speed",
                  "liquidation_half_life": "liquidation_half_life", "mean_flow_initial": "mean_flow_initial",
                  "mean_flow_terminal": "mean_flow_terminal", "mean_flow_abs_max": "mean_flow_abs_max"}


def estimated_type_outcomes(estimated) -> dict[str, Any]:
    """One type's outcomes under common noise (``estimated``: its
    :class:`mfg_finance.mfg.common_noise_outcomes.PathOutcomes`), each of :data:`_TYPE_OUTCOMES` as
    ``{"mean", "se", "error"}`` (value time-extrapolated where asymptotic, Monte Carlo SE, discretisation error)."""
    return {name: {"mean": estimated.values[key], "se": estimated.se[key], "error": estimated.errors[key]}
            for name, key in _TYPE_OUTCOMES.items()}


def type_unresolved(estimated, dispersion) -> list[str]:
    """One type's unresolved outcomes (sweep column names): its path outcomes' and the terminal std's."""
    return list(estimated.unresolved) + (["terminal_dispersion"] if "total" in dispersion.unresolved else [])


# the summary's key for each key of a cost detail, in the summary's order
_COST_SUMMARY_KEYS = (("value", "value"), ("error", "error"), ("unresolved", "unresolved"),
                      ("error_bound", "error_bound"), ("extrapolated", "extrapolated"), ("error_time", "time_part"),
                      ("error_space", "space_part"), ("estimate_time", "time_error"),
                      ("estimate_space", "space_error"), ("grid_values", "grid_values"))


def _cost_summary(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Expected cost (time-extrapolated), its error estimate and its bound, and how: parts of the bound, the
    estimate's signed parts, the grids' values (``detail``: :func:`mfg_finance.mfg.common_noise.extrapolated_cost`,
    or the crowd's of two types, :attr:`mfg_finance.mfg.types_common_noise.TypesCommonNoiseEstimate.
    total_cost_detail`, which has no parts of the bound, extrapolation flag or grid values: the keys it has).
    ``error`` is the estimate (within a factor 3 of the true error where ``unresolved`` is false), ``error_bound``
    the bound (safety factor 1.25, absolute parts added)."""
    return {key: detail[source] for key, source in _COST_SUMMARY_KEYS if source in detail}


def _cost_unresolved(detail: Mapping[str, Any]) -> list[str]:
    """``["total_cost"]`` (the sweep column) when the expected cost's error estimate is not held, else ``[]``."""
    return ["total_cost"] if detail["unresolved"] else []


def _estimated_paths(cfg: Mapping[str, Any], settings: Mapping[str, Any] | None, solve, **simulate):
    """``(settings, estimate, path outcomes)`` of a common-noise scenario: its ``common_noise`` settings, the solve
    with its error estimate (``solve``: ``_solve_cn`` or ``_solve_types_cn``) and the outcomes of its seeded paths
    on the five grids (``simulate``: the types' path simulator, when not one type's)."""
    from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate

    cn = _settings(settings, "common_noise")
    est = solve(cfg, cn, estimate=True)
    return cn, est, path_outcomes_with_estimate(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                                price=_price_args(cfg), **simulate)


def run_common_noise(cfg: Mapping[str, Any], settings: Mapping[str, Any] | None = None
                     ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Solve the (t, Q) system with its error bounds and simulate the fan-chart paths."""
    from mfg_finance.mfg.common_noise_dispersion import terminal_dispersion

    cn, est, estimated = _estimated_paths(cfg, settings, _solve_cn)
    sol = est.fine
    paths = estimated.paths
    probs = [float(p) for p in cn["quantiles"]]
    bands = paths.quantiles(probs)
    dispersion = terminal_dispersion(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                     terminal=estimated.terminal)       # the paths just simulated on the five grids
    outcomes = estimated_path_outcomes(estimated)
    outcomes["terminal_dispersion"] = dispersion.as_dict()
    summary = {
        "kind": "common_noise",
        "params": dict(sol.params), "sigma0_source": cfg.get("sigma0_source", "config"),
        "grid": {"nt": int(sol.t.size - 1), "nQ": int(sol.Q.size), "Q_halfwidth": float(sol.Q[-1]),
                 "Q_core": float(sol.extra["core"]), "dQ_min": sol.dQ, "dQ_max": float(np.max(np.diff(sol.Q))),
                 "time_mesh": cfg["grid"].get("time_mesh", "graded")},
        "expected_cost": _cost_summary(est.cost_detail),
        "observed_order": {direction: {name: getattr(est, f"{direction}_order")(name) for name in ("a", "b", "c", "eta")}
                           for direction in ("time", "space")},
        "error_bound_max": {name: float(np.max(est.estimate(name))) for name in ("a", "b", "c", "eta")},
        "paths": {"n_paths": int(cn["n_paths"]), "seed": int(cn["seed"]), "quantiles": probs},
        "outcomes": outcomes,
        # every path outcome on the five grids driven by the same Brownian path: value (time-extrapolated where
        # asymptotic), discretisation error and its parts, Monte Carlo SE (mfg.common_noise_outcomes)
        "outcome_estimates": estimated.as_dict(),
        "outcome_errors": {name: (o or {}).get("error") for name, o in outcomes.items()
                           if name in _SCENARIO_OUTCOMES},
        "unresolved": list(estimated.unresolved),
    }
    arrays = {"t": sol.t, "Q_grid": sol.Q, "a": sol.a, "b": sol.b, "c": sol.c, "k": sol.k, "l": sol.l,
              "eta": sol.eta, "quantile_probs": np.asarray(probs)}
    for name, band in bands.items():
        arrays[f"band_{name}"] = band
    return summary, arrays


def _solve_types_cn(cfg, cn, *, estimate: bool):
    from mfg_finance.mfg.agent_types import validate_types
    from mfg_finance.mfg.types_common_noise import default_halfwidths, solve_system, solve_with_estimate

    params, grid = _cn_params(cfg)
    types = validate_types(cfg["types"], params)
    L, LD = default_halfwidths(types, params["sigma0"], grid["T"])
    kw = dict(T=grid["T"], nt=int(cn["nt"]), nX=int(cn["nQ"]), nD=int(cn["nD"]), halfwidth=L, D_halfwidth=LD,
              time_kind=grid["time_mesh"], max_step_ratio=grid["max_step_ratio"])
    return (solve_with_estimate if estimate else solve_system)(types, params, **kw)


def run_types_common_noise(cfg: Mapping[str, Any], settings: Mapping[str, Any] | None = None
                           ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Two types under common noise: the (t, Y, D) solve with its error bounds and the fan-chart paths."""
    from mfg_finance.mfg.types_common_noise_dispersion import types_terminal_dispersion
    from mfg_finance.mfg.types_common_noise_paths import simulate_paths

    cn, est, estimated = _estimated_paths(cfg, settings, _solve_types_cn, simulate=simulate_paths)
    sol = est.fine
    paths = estimated.paths
    probs = [float(p) for p in cn["quantiles"]]
    outcomes = estimated_path_outcomes(estimated)     # the crowd's, with their errors; each type's below
    dispersion = types_terminal_dispersion(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                           terminal=estimated.terminal)
    outcomes["terminal_dispersion"] = dispersion["crowd"].as_dict()
    outcomes["types"] = {ty.name: {"weight": ty.weight, "expected_cost": _cost_summary(est.cost_detail(k)),
                                   **estimated_type_outcomes(estimated.types[k]),
                                   "terminal_dispersion": dispersion[ty.name].as_dict()}
                         for k, ty in enumerate(sol.types)}
    summary = {
        "kind": "types_common_noise",
        "params": dict(sol.params), "sigma0_source": cfg.get("sigma0_source", "config"),
        "types": [ty.__dict__ for ty in sol.types],
        "grid": {"nt": int(sol.t.size - 1), "nQ": int(sol.Y.size), "nD": int(sol.D.size),
                 "Q_halfwidth": sol.extra["X_halfwidth"], "Y_halfwidth": float(sol.Y[-1]), "shear": sol.shear,
                 "Y_core": float(sol.extra["core"]), "dY_min": float(np.min(np.diff(sol.Y))),
                 "dY_max": float(np.max(np.diff(sol.Y))), "D_halfwidth": float(sol.D[-1]),
                 "time_mesh": cfg["grid"].get("time_mesh", "graded")},
        "expected_cost": _cost_summary(est.total_cost_detail),
        "observed_order": {direction: {f"{name}_{ty.name}": getattr(est, f"{direction}_order")(name, k)
                                       for k, ty in enumerate(sol.types) for name in ("a", "b", "c")}
                           | {"eta": getattr(est, f"{direction}_order")("eta")} for direction in ("time", "space")},
        "paths": {"n_paths": int(cn["n_paths"]), "seed": int(cn["seed"]), "quantiles": probs,
                  "share_outside_grid": paths.outside},
        "outcomes": outcomes,
        "outcome_estimates": estimated.as_dict() | {
            "types": {ty.name: estimated.types[k].as_dict() for k, ty in enumerate(sol.types)}},
        "outcome_errors": {name: (o or {}).get("error") for name, o in outcomes.items()
                           if name in _SCENARIO_OUTCOMES} | {
            "types": {ty.name: {name: (o or {}).get("error") for name, o in outcomes["types"][ty.name].items()
                                if name in _TYPE_OUTCOMES} for ty in sol.types}},
        "unresolved": list(estimated.unresolved),
        "type_unresolved": {ty.name: type_unresolved(estimated.types[k], dispersion[ty.name])
                            + _cost_unresolved(est.cost_detail(k))
                            for k, ty in enumerate(sol.types)},
    }
    arrays = {"t": sol.t, "Y_grid": sol.Y, "shear": np.asarray(sol.shear), "D_grid": sol.D, "a": sol.a, "b": sol.b, "c": sol.c, "k": sol.k,
              "l": sol.l, "eta": sol.eta, "weights": sol.weights, "quantile_probs": np.asarray(probs)}
    for name, band in paths.quantiles(probs).items():
        arrays[f"band_{name}"] = band
    return summary, arrays


def _types_solution(cfg: Mapping[str, Any]):
    from mfg_finance.mfg.agent_types_solver import solve_types

    base = {k: cfg[k] for k in ("grid", "params", "solver", "price")}
    base["params"] = {k: v for k, v in base["params"].items() if k != "sigma0"}
    return solve_types(base, cfg["types"])


def run_types(cfg: Mapping[str, Any], sol=None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Solve the multi-type equilibrium with its error estimates (or take ``sol``, its solution); crowd
    outcomes (top level) and per-type ones (``outcomes.types``), each with its estimated discretisation
    error in ``outcome_errors`` (same shape) and the unresolved ones listed; price path when calibrated."""
    sol = _types_solution(cfg) if sol is None else sol
    outcomes = sol.outcomes()
    arrays = {"t": sol.grid.t, "eta": sol.eta, "mean_flow": sol.mean_flow,
              "mean_flow_by_type": sol.mean_flow_by_type, "mean_inventory_by_type": sol.mean_inventory,
              "weights": sol.weights}
    if sol.price is not None:
        arrays["price"] = sol.price
    acc = sol.accuracy or {}
    summary = {"kind": "types", "params": sol.config["params"],
               "types": [t.__dict__ for t in sol.types], "iterations": sol.iterations,
               "residual": sol.residuals[-1], "grid": {"nx": sol.grid.nx, "nt": sol.grid.nt},
               "outcomes": outcomes, "outcome_errors": sol.outcome_errors(),
               "unresolved": acc.get("unresolved"),
               "accuracy": {k: acc.get(k) for k in ("method", "companions", "ratio", "extrapolated",
                                                    "terminal_std_cells", "terminal_layer_resolved", "error")}}
    return summary, arrays


def run_finite_n(cfg: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The finite-N convergence study and the epsilon-Nash estimates for the common-noise config."""
    from mfg_finance.mfg.best_response import best_response
    from mfg_finance.mfg.deviation import complete_epsilon_study
    from mfg_finance.mfg.epsilon_nash import epsilon_study
    from mfg_finance.mfg.finite_n import convergence_study, law_prediction, law_rate_fit_of, rate_fit_of

    cn, fn = _settings(settings, "common_noise"), _settings(settings, "finite_n")
    est = _solve_cn(cfg, cn, estimate=True)
    rows, limit = convergence_study(est.fine, Ns=[int(n) for n in fn["Ns"]], pairs=int(fn["game_pairs"]),
                                    limit_paths=int(fn["limit_paths"]), seed=int(fn["seed"]))
    mfg_value = _cost_summary(est.cost_detail)
    largest = rows[-1]
    gap = abs(largest.mean_cost - mfg_value["value"])
    # issue 16's rule: 3 Monte Carlo SEs plus the MFG value's discretisation error *estimate*; where the estimate
    # is not held (``unresolved``) the bound stands in for it, and the check says which it used
    by_estimate = not mfg_value["unresolved"] and math.isfinite(mfg_value["error"])
    allowed = 3.0 * largest.mean_cost_se + (mfg_value["error"] if by_estimate else mfg_value["error_bound"])
    rate = rate_fit_of(rows) if len(rows) >= 3 else None
    epsilon_Ns = [int(n) for n in fn["epsilon_Ns"]]
    # the law of Q_T: its paired gaps per N (rows), their rate, and the first-order prediction from the solution
    # (a fifth of the limit paths at the solver's steps: docs/mfg.md section 10, "Law of Q_T")
    law = law_prediction(est.fine, M=max(int(fn["limit_paths"]) // 5, 200), seed=int(fn["seed"]) + 2)
    law_fit = law_rate_fit_of(rows) if len(rows) >= 3 else None
    # with the deviator's own influence: the greedy deviation played in the game and its prediction, each carried
    # to continuous time (deviation.py, deviation_game.py), and the best response's gain on the (t, Q, x) grid
    # beside the greedy one's there (best_response.py): epsilon lies between the played greedy gain and it
    # (docs/mfg.md section 10)
    greedy = complete_epsilon_study(est.fine, epsilon_Ns, agent_paths=int(fn["agent_paths"]),
                                    min_games=int(fn["min_replications"]), seed=int(fn["seed"]) + 1)
    epsilon_complete = [dict(r.as_dict(), best_response=best_response(est.fine, r.N).as_dict()) for r in greedy]
    return {
        "params": dict(est.fine.params), "sigma0_source": cfg.get("sigma0_source", "config"),
        "mfg_value": mfg_value, "limit": limit, "rows": [r.as_dict() for r in rows],
        # gap = C N^-p fitted to every N with the Monte Carlo SEs as weights (finite_n.fit_rate)
        "rate_fit": None if rate is None else rate.as_dict(),
        "fitted_rate": None if rate is None else -rate.exponent,
        "rate_points": [r.N for r in rows] if rate is not None else [],
        "law": {"prediction": law.as_dict(), "rate_fit": None if law_fit is None else law_fit.as_dict(),
                "var_gap_pulls": {str(r.N): (r.Q_T_var_gap - law.var_coefficient / r.N)
                                  / math.hypot(r.Q_T_var_gap_se, law.var_coefficient_se / r.N) for r in rows}},
        "largest_N_check": {"N": largest.N, "abs_difference": gap, "allowed": allowed, "holds": bool(gap <= allowed),
                            "mean_cost": largest.mean_cost, "mean_cost_se": largest.mean_cost_se,
                            "allowed_by": "estimate" if by_estimate else "bound",
                            "mfg_error_estimate": mfg_value["error"], "mfg_error_bound": mfg_value["error_bound"],
                            # the limit sample's remaining time-step error (extrapolated over sub-steps): shown, it
                            # is not part of the allowance and is far below one standard error
                            "simulation_time_error": limit["time_step_error"]},
        # the environment part only (the deviator's own influence left out): epsilon_nash
        "epsilon": [r.as_dict() for r in epsilon_study(est.fine, est.coarse, epsilon_Ns)],
        "epsilon_complete": epsilon_complete,
        "settings": {"Ns": [int(n) for n in fn["Ns"]], "game_pairs": int(fn["game_pairs"]),
                     "agent_paths": int(fn["agent_paths"]),
                     "limit_paths": int(fn["limit_paths"]), "min_replications": int(fn["min_replications"]),
                     "seed": int(fn["seed"])},
    }


def _estimated_point_outcomes(estimated, total_cost: float, cost_error: float, dispersion) -> tuple[dict, dict, dict]:
    """Sweep outcomes (:data:`mfg_finance.sweeps.OUTCOME_COLUMNS`) of the common-noise paths with their
    discretisation errors and Monte Carlo SEs (``estimated``: :class:`mfg_finance.mfg.common_noise_outcomes.
    PathOutcomes`), the expected cost and the terminal std with their error estimates."""
    from mfg_finance.sweeps import OUTCOME_COLUMNS

    keys = [k for k in OUTCOME_COLUMNS if k in estimated.values]
    out = {k: estimated.values[k] for k in keys}
    errors = {k: estimated.errors[k] for k in keys}
    se = {k: estimated.se[k] for k in keys if estimated.se[k] is not None}
    out.update(total_cost=total_cost, terminal_dispersion=dispersion.std)
    errors.update(total_cost=cost_error, terminal_dispersion=dispersion.error["total"])
    se["terminal_dispersion"] = dispersion.moments["total"]["std_se"]
    return out, errors, se


def _dispersion_parts(dispersion) -> dict[str, dict[str, float]]:
    """Sweep columns of the common/idiosyncratic split of the terminal std (value, error estimate, SE). Without
    common noise (``sigma0 = 0``) every path is the same and the common part is exactly 0
    (:func:`mfg_finance.mfg.common_noise_dispersion.dispersion_moments`)."""
    return {f"terminal_dispersion_{part}": {"value": dispersion.values[part],
                                            "error": dispersion.error[part], "se": dispersion.moments[part]["std_se"]}
            for part in ("common", "idiosyncratic")}


def _types_point(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Sweep-point fields of the multi-type equilibrium (sigma0 = 0): the crowd's outcomes, their errors and
    the unresolved ones, and the same per type (``type_outcomes``, ``type_outcome_errors``, ``type_unresolved``)."""
    outcomes = {k: v for k, v in summary["outcomes"].items() if k != "types"}
    errors = {k: v for k, v in (summary.get("outcome_errors") or {}).items() if k != "types"}
    unresolved = summary.get("unresolved") or {"crowd": [], "types": {}}
    per_type = {name: {k: v for k, v in o.items() if k != "weight"} for name, o in summary["outcomes"]["types"].items()}
    return {"outcomes": outcomes, "errors": errors, "unresolved": list(unresolved["crowd"]),
            "type_outcomes": per_type, "type_outcome_errors": (summary.get("outcome_errors") or {}).get("types"),
            "type_unresolved": {name: list(v) for name, v in unresolved["types"].items()}}


def _types_cn_point(est, estimated, dispersion) -> dict[str, Any]:
    """Sweep-point fields of each type under common noise (sweep column names): its path outcomes
    (:data:`mfg_finance.mfg.common_noise_outcomes.TYPE_KEYS`), expected cost and terminal std, with their
    discretisation errors, Monte Carlo SEs and the unresolved ones."""
    out: dict[str, dict] = {"type_outcomes": {}, "type_outcome_errors": {}, "type_outcome_se": {},
                            "type_unresolved": {}}
    for k, ty in enumerate(est.fine.types):
        o, d = estimated.types[k], dispersion[ty.name]
        out["type_outcomes"][ty.name] = {**o.values, "total_cost": est.expected_cost(k), "terminal_dispersion": d.std}
        out["type_outcome_errors"][ty.name] = {**o.errors, "total_cost": est.cost_estimate(k),
                                               "terminal_dispersion": d.error["total"]}
        out["type_outcome_se"][ty.name] = {**{key: v for key, v in o.se.items() if v is not None},
                                           "terminal_dispersion": d.moments["total"]["std_se"]}
        out["type_unresolved"][ty.name] = type_unresolved(o, d) + _cost_unresolved(est.cost_detail(k))
    return out


def run_sweep_point(cfg: Mapping[str, Any], swept: Mapping[str, float],
                    settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One point of a systemic sweep (``cfg`` from :func:`systemic_config`), as a sweep point record.

    Every point of such a sweep uses the same solver, including ``sigma0 = 0`` (so a sweep has no
    jump from switching solvers): two types with common noise, section 8b; types alone, section 9;
    otherwise the ``(t, Q)`` system of section 8. Outcomes: :data:`mfg_finance.sweeps.OUTCOME_COLUMNS`
    of the mean paths over ``systemic.common_noise.n_paths`` seeded common-noise paths, with their
    discretisation errors in ``outcome_errors`` (one type: every path outcome, from the companion grids driven by
    the same Brownian path, :mod:`mfg_finance.mfg.common_noise_outcomes`, the crowd's with two types, and the
    cost's bound) and Monte Carlo SEs in ``outcome_se``;
    ``derived`` holds ``sigma0``, ``sigma`` and the type weights actually used. A solver failure is
    recorded (``converged`` false, ``error``), not raised.
    """
    from mfg_finance.errors import MfgConvergenceError, MfgDomainError

    params = cfg["params"]
    sigma0 = float(params.get("sigma0") or 0.0)
    record: dict[str, Any] = {
        "params": dict(swept), "model": dict(params),
        "price_enabled": bool(cfg.get("price", {}).get("enabled", False)),
        "derived": {"sigma0": sigma0, "sigma": float(params["sigma"]),
                    **{f"weight_{t.get('name', f'type{i}')}": float(t["weight"])
                       for i, t in enumerate(cfg.get("types") or [])}},
    }
    cn = _settings(settings, "common_noise")
    try:
        if cfg["types"] and sigma0 > 0.0:
            from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate
            from mfg_finance.mfg.types_common_noise_dispersion import types_terminal_dispersion
            from mfg_finance.mfg.types_common_noise_paths import simulate_paths

            kind, est = "types_common_noise", _solve_types_cn(cfg, cn, estimate=True)
            estimated = path_outcomes_with_estimate(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                                    price=_price_args(cfg), simulate=simulate_paths)
            by_group = types_terminal_dispersion(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                                 terminal=estimated.terminal)
            dispersion = by_group["crowd"]
            cost_detail = est.total_cost_detail
            outcomes, errors, se = _estimated_point_outcomes(estimated, est.total_cost, cost_detail["error"],
                                                             dispersion)
            point = _types_cn_point(est, estimated, by_group)
            iterations, residual = 0, None
        elif cfg["types"]:
            kind, sol = "types", _types_solution(cfg)
            summary, _ = run_types(cfg, sol)
            point = _types_point(summary)
            outcomes, errors, se = point["outcomes"], point["errors"], {}
            iterations, residual = summary["iterations"], summary["residual"]
        else:
            from mfg_finance.mfg.common_noise_dispersion import terminal_dispersion
            from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate

            kind, est = "common_noise", _solve_cn(cfg, cn, estimate=True)
            estimated = path_outcomes_with_estimate(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                                    price=_price_args(cfg))
            dispersion = terminal_dispersion(est, n_paths=int(cn["n_paths"]), seed=int(cn["seed"]),
                                     terminal=estimated.terminal)       # the paths just simulated on the five grids
            cost_detail = est.cost_detail
            outcomes, errors, se = _estimated_point_outcomes(estimated, cost_detail["value"], cost_detail["error"],
                                                             dispersion)
            iterations, residual = 0, None
    except (MfgConvergenceError, MfgDomainError) as exc:
        record.update(solver="systemic", converged=False, iterations=0, residual=None, error=str(exc), outcomes=None)
        return record
    from mfg_finance.sweeps import OUTCOME_COLUMNS

    record.update(solver=kind, converged=True, iterations=int(iterations), residual=residual, error=None,
                  outcomes={k: outcomes.get(k) for k in OUTCOME_COLUMNS},
                  outcome_errors={k: errors.get(k) for k in OUTCOME_COLUMNS}, outcome_se=se,
                  unresolved=(point["unresolved"] if kind == "types" else
                              [k for k in estimated.unresolved if k in OUTCOME_COLUMNS]
                              + (["terminal_dispersion"] if "total" in dispersion.unresolved else [])
                              + _cost_unresolved(cost_detail)),
                  paths={"n_paths": int(cn["n_paths"]), "seed": int(cn["seed"])} if kind != "types" else None)
    if kind in ("types", "types_common_noise"):
        record.update(type_outcomes=point["type_outcomes"], type_outcome_errors=point["type_outcome_errors"],
                      type_unresolved=point["type_unresolved"])
    if kind == "types_common_noise":
        record["type_outcome_se"] = point["type_outcome_se"]
    if kind != "types":
        record["outcome_parts"] = _dispersion_parts(dispersion)
    return record
