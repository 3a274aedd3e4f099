"""Workflow configuration: cross-field checks and the merge of calibration with config overrides.

The JSON schema (``workflow/schemas/config.schema.yaml``) checks each key on its own and fills
defaults; :func:`schema_errors` says what it found in one line per problem (key, value, what is
allowed), and :func:`check_config` adds the checks that involve several keys. Both run before any
job starts, so a bad config never produces a partial run.

Precedence of MFG parameters, lowest first:
calibrated value (``results/calibration/mfg_params.yaml``) < ``mfg.params`` (non-null values)
< ``mfg.scenarios.<name>`` < sweep point.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from mfg_finance.errors import ConfigError

#: MFG parameters that calibration provides and config may override.
CALIBRATED_MFG_PARAMS = ("sigma", "eta0", "eta1", "phi", "gamma_T")
#: Price-clearing parameters that calibration provides when ``mfg.price`` leaves them null.
CALIBRATED_PRICE_PARAMS = ("kappa", "p_ref")
#: Parameters a sweep may vary.
SWEEPABLE_PARAMS = CALIBRATED_MFG_PARAMS
#: Systemic sweep keys (docs/mfg.md, section 12): ``sigma0`` (common noise, inventory units / sqrt(day)),
#: ``market_share`` (market-wide share rho of the noise variance, total noise kept; dimensionless) and
#: ``urgent_share`` (weight of the first of exactly two types, the second gets 1 - share) and ``type_weights``
#: (each value the weight vector of all the scenario's K >= 2 types, in their order; ``urgent_share: s`` is
#: ``type_weights: [s, 1 - s]``). A sweep with any of them, or on a systemic scenario, is solved by
#: :mod:`mfg_finance.mfg.systemic` at every point.
SYSTEMIC_SWEEP_KEYS = ("sigma0", "market_share", "urgent_share", "type_weights")
#: Every key a sweep may vary (``scenario`` names the scenario the points sit on; default ``baseline``).
SWEEP_KEYS = SWEEPABLE_PARAMS + SYSTEMIC_SWEEP_KEYS
_SECTIONS = ("grid", "params", "solver", "price")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict:
    """Return ``base`` updated recursively by ``override`` (neither is modified)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def canonical(obj: Any) -> Any:
    """``obj`` with every dict's keys sorted, recursively.

    Snakemake compares a job's ``params`` with the recorded ones; two equal settings reached by
    different merge orders must compare equal, or an unrelated edit would rerun the job.
    """
    if isinstance(obj, Mapping):
        return {k: canonical(obj[k]) for k in sorted(obj)}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    return obj


def _drop_none(section: Mapping[str, Any]) -> dict:
    return {k: v for k, v in section.items() if v is not None}


def mfg_run_overrides(mfg_config: Mapping[str, Any], scenario: str) -> dict:
    """The config side of one MFG solve: grid, solver, non-null params and price, scenario applied.

    Calibrated values are not included: they reach the job as an input file and are merged by
    :func:`solver_config`. Keeping them out means a config edit reruns only what it affects.
    """
    scenarios = mfg_config["scenarios"]
    if scenario not in scenarios:
        raise ConfigError(f"mfg.scenarios: unknown scenario {scenario!r}; defined: {sorted(scenarios)}")
    base = {
        "grid": dict(mfg_config["grid"]),
        # sigma0 = null means "calibrated" (mfg_finance.mfg.systemic_calibration): kept, not dropped
        "params": {k: v for k, v in mfg_config["params"].items() if v is not None or k == "sigma0"},
        "solver": dict(mfg_config["solver"]),
        "price": _drop_none(mfg_config["price"]),
    }
    if mfg_config.get("types"):     # mfg.types: every scenario's crowd unless the scenario lists its own
        base["types"] = copy.deepcopy(list(mfg_config["types"]))
    return canonical(deep_merge(base, scenarios[scenario]))


def sweep_run_overrides(mfg_config: Mapping[str, Any], swept: Mapping[str, float],
                        scenario: str = "baseline") -> dict:
    """Config side of one sweep point: the ``scenario`` (default ``baseline``) with the swept values on top
    (:func:`with_swept_values`)."""
    return with_swept_values(mfg_run_overrides(mfg_config, scenario), swept, scenario=scenario)


def _set_type_weights(types: list, weights, key: str, scenario: str) -> None:
    """Give the run's ``types`` the population ``weights`` (one per type, in order) of sweep key ``key``."""
    if len(types) != len(weights) or not types:
        count = "two" if len(weights) == 2 else str(len(weights))
        raise ConfigError(f"sweeps: {key} needs a scenario with exactly {count} types; "
                          f"mfg.scenarios.{scenario} has {len(types)}")
    for ty, weight in zip(types, weights):
        ty["weight"] = float(weight)


def with_swept_values(run: Mapping[str, Any], swept: Mapping[str, Any], *, scenario: str = "baseline") -> dict:
    """What a sweep point means: the run overrides ``run`` (a scenario's) with the swept values on top.

    Model parameters and ``sigma0`` go to ``params``; ``type_weights`` sets the weights of the run's
    types to the point's vector, ``urgent_share`` those of its two types to ``(share, 1 - share)``;
    ``market_share`` is kept as a top-level ``market_share`` key (the split of the total noise needs the
    calibrated values: :func:`mfg_finance.mfg.systemic.systemic_config`).
    ``scenario`` only names the scenario in errors.
    """
    overrides = copy.deepcopy(dict(run))
    overrides["params"] = dict(overrides.get("params", {}))
    for key, value in swept.items():
        if key in ("urgent_share", "type_weights"):
            weights = [float(value), 1.0 - float(value)] if key == "urgent_share" else value
            _set_type_weights(overrides.get("types") or [], weights, key, scenario)
        elif key == "market_share":
            overrides["market_share"] = float(value)
        else:
            overrides["params"][key] = float(value)
    return canonical(overrides)


def solver_config(calibrated: Mapping[str, float], run_overrides: Mapping[str, Any]) -> dict:
    """Full ``mfg_finance.mfg.solve`` config: calibrated values overlaid by the run overrides."""
    params = {k: float(calibrated[k]) for k in CALIBRATED_MFG_PARAMS if k in calibrated}
    params.update(run_overrides.get("params", {}))
    price = {"enabled": False, "supply": 0.0}
    price.update({k: float(calibrated[k]) for k in CALIBRATED_PRICE_PARAMS if k in calibrated})
    price.update(run_overrides.get("price", {}))
    missing = [k for k in CALIBRATED_MFG_PARAMS if k not in params]
    if missing:
        raise ConfigError(f"mfg.params: no value for {missing} (neither calibrated nor set in config)")
    return {
        "grid": dict(run_overrides["grid"]),
        "params": params,
        "solver": dict(run_overrides["solver"]),
        "price": price,
    }


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _describe(error) -> str:
    """One line for one schema violation: the key, the value and what the schema allows there."""
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = f"under {key}" if error.absolute_path else "at the top level"
        return f"unknown key(s) {unknown} {where} ({error.message}); allowed keys: {allowed}"
    if error.validator in ("oneOf", "anyOf") and error.context:
        options = sorted({sub.message.replace(repr(error.instance), "it", 1) for sub in error.context})
        return f"{key}: {error.message}; expected one of: {'; '.join(options)}"
    return f"{key}: {error.message}"


def schema_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every violation of the JSON ``schema`` by ``config``, one readable line each (empty if none).

    Snakemake's own validation reports only the first problem, followed by the whole schema; this
    names each key, its value and what is allowed, so a user can fix a config in one pass.
    """
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(e) for e in errors]


def check_config(config: Mapping[str, Any]) -> None:
    """Cross-field checks the schema cannot express. Raises :class:`ConfigError` naming the key."""
    mfg = config["mfg"]
    grid = mfg["grid"]
    fixed = "auto" not in (grid["x_min"], grid["x_max"])   # auto ends are sized (and checked) by the solver
    if fixed and not grid["x_min"] < grid["x_max"]:
        raise ConfigError(f"mfg.grid: x_min ({grid['x_min']}) must be below x_max ({grid['x_max']})")
    if fixed and not grid["x_min"] < mfg["params"]["m0_mean"] < grid["x_max"]:
        raise ConfigError(f"mfg.params.m0_mean: {mfg['params']['m0_mean']} lies outside the grid "
                          f"[{grid['x_min']}, {grid['x_max']}]")
    for name, scenario in mfg["scenarios"].items():
        for section, values in scenario.items():
            if section == "types":      # a list of agent types, checked by mfg_finance.mfg.agent_types
                continue
            allowed = set(mfg[section])
            unknown = sorted(set(values) - allowed)
            if unknown:
                raise ConfigError(f"mfg.scenarios.{name}.{section}: unknown key(s) {unknown}; "
                                  f"allowed: {sorted(allowed)}")
    # local imports: both import this module
    from mfg_finance.config_systemic import check_scenario_references, check_sweep_types, check_systemic
    from mfg_finance.sweeps import sweep_points

    check_scenario_references(config)
    for name, spec in config.get("sweeps", {}).items():
        scenario = spec.get("scenario", "baseline")
        sweep_points(spec, name=name)  # raises ConfigError on bad ranges and malformed weight vectors
        check_sweep_types(name, spec, mfg_run_overrides(mfg, scenario), scenario)
    if (config.get("systemic") or {}).get("sweeps"):
        raise ConfigError("systemic.sweeps: moved to the sweeps: block (config/README.md), e.g. "
                          "sweeps: {sigma0: {scenario: common_noise, market_share: [0.0, 0.3, 0.7]}, "
                          "urgent_share: {scenario: two_types, urgent_share: [0.1, 0.5, 0.9]}}")
    check_systemic(config)
    tickers = config["market_making"]["tickers"]
    if len(set(tickers)) != len(tickers):
        raise ConfigError(f"market_making.tickers: duplicates in {tickers}")
    _check_multi_asset(config["market_making"])
    _check_trades(config)
    replayed = (config["market_making"].get("replay") or {}).get("strategies") or []
    extra = sorted(set(replayed) - set(config["market_making"].get("strategies", ())))
    if extra:
        raise ConfigError(f"market_making.replay.strategies: {extra} not in market_making.strategies "
                          f"{config['market_making']['strategies']} (the replay is compared with their backtests)")


def _check_trades(config: Mapping[str, Any]) -> None:
    """data.trades against data.source, and the intraday session window."""
    data = config["data"]
    trades = data.get("trades", {})
    source = trades.get("source", "none")
    if data["source"] == "sample" and source != "none":
        raise ConfigError(f"data.trades.source: {source!r} with data.source: sample; the sample run generates its "
                          "own synthetic trade sessions (data.trades.sample), so data.trades.source must be none")
    if source == "b3" and not trades.get("b3", {}).get("dates"):
        raise ConfigError("data.trades.b3.dates: empty; list the sessions to download (YYYY-MM-DD) or set "
                          "data.trades.source: none")
    intraday = config.get("calibration", {}).get("intraday", {})
    if intraday and not intraday["open_s"] < intraday["close_s"]:
        raise ConfigError(f"calibration.intraday: open_s ({intraday['open_s']}) must be below close_s "
                          f"({intraday['close_s']})")


def _check_multi_asset(mm: Mapping[str, Any]) -> None:
    """Issue 18 keys: portfolio and Heston tickers are calibrated ones; the exact strategy is limited to d <= 3."""
    tickers = set(mm["tickers"])
    for i, portfolio in enumerate(market_making_portfolios(mm)):
        unknown = [t for t in portfolio if t not in tickers]
        if unknown:
            raise ConfigError(f"market_making.portfolios[{i}]: {unknown} not in market_making.tickers "
                              f"({sorted(tickers)}); only calibrated tickers can be quoted")
        if len(portfolio) > 3 and "multi_exact" in mm.get("multi_asset", {}).get("strategies", []):
            raise ConfigError(f"market_making.portfolios[{i}] has {len(portfolio)} tickers: multi_exact solves the "
                              "joint inventory lattice for at most 3; drop it from multi_asset.strategies")
    ticker = mm.get("heston", {}).get("ticker")
    if ticker is not None and ticker not in tickers:
        raise ConfigError(f"market_making.heston.ticker: {ticker!r} not in market_making.tickers ({sorted(tickers)})")
    risk = mm.get("risk_limit", {})
    table_dt, dt = mm.get("multi_asset", {}).get("table_dt_s"), mm.get("dt_s")
    if table_dt is not None and dt:
        ratio = table_dt / dt
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise ConfigError(f"market_making.multi_asset.table_dt_s ({table_dt} s) must be a whole multiple of "
                              f"market_making.dt_s ({dt} s)")
    if risk.get("enabled") and len(set(risk.get("gammas", []))) < 2:
        raise ConfigError("market_making.risk_limit.gammas: at least two distinct values (1/BRL) are needed")


def market_making_portfolios(mm: Mapping[str, Any]) -> list[list[str]]:
    """``market_making.portfolios``, or the first two ``tickers`` when it is null (none with one ticker)."""
    portfolios = mm.get("portfolios")
    if portfolios is None:
        return [list(mm["tickers"][:2])] if len(mm["tickers"]) >= 2 else []
    return [list(p) for p in portfolios]
