"""The ``equilibrium`` config block: defaults, validation, and the problem it describes.

Keys (units in config/README.md and docs/equilibrium.md, section 6); every error is a ``ConfigError`` naming
``equilibrium.<key>``. A run is the block with one scenario's overrides on top (:func:`run_settings`);
:func:`build_problem` joins it with the calibrated MFG and market-making parameters.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, Mapping

from mfg_finance.errors import ConfigError
from mfg_finance.equilibrium.units import Units, spread_cost_coefficient

if TYPE_CHECKING:
    from mfg_finance.equilibrium.fixed_point import Coupling
    from mfg_finance.equilibrium.market_maker import MarketMakerParams

DEFAULTS: dict[str, Any] = {
    "ticker": None,            # market maker's ticker in mm_params.yaml; None = the first
    "mfg_scenario": "baseline",
    "gamma": None,             # 1/BRL; None = calibrated
    "Q_max": "auto",           # lots; None = calibrated; "auto" = calibrated, enlarged until it does not bind
    "phi": 0.0,                # BRL / lot^2
    "beta": 0.1,               # dimensionless (as market_making.flow_share)
    "theta_share": 0.5,        # dimensionless
    "crowd_size": 100.0,       # agents
    "lot_shares": 100.0,       # shares / lot
    "substep_s": 10.0,         # s
    "max_limit_mass": 0.1,     # probability
    "crowd_pays": "side",      # side | quoted
    "solver": {"method": "anderson", "tol": 1.0e-8, "max_iter": 30, "damping": 0.5},
}
RUN_KEYS = set(DEFAULTS)
#: ``Q_max: auto``: the lattice follows the problem (:func:`~.fixed_point.fit_lattice`), starting from the calibrated limit.
AUTO = "auto"
SOLVER_METHODS = ("anderson", "picard")


def _number(key: str, value: Any, *, lower: float | None = None, strict: bool = False, upper: float | None = None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"equilibrium.{key}: expected a finite number, got {value!r}")
    if lower is not None and (value <= lower if strict else value < lower):
        raise ConfigError(f"equilibrium.{key}: expected a number {'>' if strict else '>='} {lower:g}, got {value!r}")
    if upper is not None and value > upper:
        raise ConfigError(f"equilibrium.{key}: expected a number <= {upper:g}, got {value!r}")
    return float(value)


def validate_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """The run settings with defaults filled in, checked key by key."""
    unknown = sorted(set(run) - RUN_KEYS)
    if unknown:
        raise ConfigError(f"equilibrium: unknown key(s) {unknown}; allowed: {sorted(RUN_KEYS)}")
    out = copy.deepcopy(DEFAULTS)
    for key, value in run.items():
        if key == "solver":
            bad = sorted(set(value or {}) - set(DEFAULTS["solver"]))
            if bad:
                raise ConfigError(f"equilibrium.solver: unknown key(s) {bad}; allowed: {sorted(DEFAULTS['solver'])}")
            out["solver"].update(value or {})
        else:
            out[key] = value
    if out["ticker"] is not None and not isinstance(out["ticker"], str):
        raise ConfigError(f"equilibrium.ticker: expected a ticker or null, got {out['ticker']!r}")
    if not isinstance(out["mfg_scenario"], str):
        raise ConfigError(f"equilibrium.mfg_scenario: expected a scenario name, got {out['mfg_scenario']!r}")
    if out["gamma"] is not None:
        out["gamma"] = _number("gamma", out["gamma"], lower=0.0, strict=True)
    if out["Q_max"] is not None and out["Q_max"] != AUTO:
        q = out["Q_max"]
        if isinstance(q, bool) or not isinstance(q, (int, float)) or q != int(q) or not 1 <= q <= 10_000:
            raise ConfigError(f"equilibrium.Q_max: expected an integer in [1, 10000] lots, null or {AUTO!r}, "
                              f"got {q!r}")
        out["Q_max"] = int(q)
    out["phi"] = _number("phi", out["phi"], lower=0.0)
    out["beta"] = _number("beta", out["beta"], lower=0.0)
    out["theta_share"] = _number("theta_share", out["theta_share"], lower=0.0)
    for key in ("crowd_size", "lot_shares", "substep_s"):
        out[key] = _number(key, out[key], lower=0.0, strict=True)
    out["max_limit_mass"] = _number("max_limit_mass", out["max_limit_mass"], lower=0.0, strict=True, upper=1.0)
    if out["crowd_pays"] not in ("side", "quoted"):
        raise ConfigError(f"equilibrium.crowd_pays: expected 'side' or 'quoted', got {out['crowd_pays']!r}")
    s = out["solver"]
    if s["method"] not in SOLVER_METHODS:
        raise ConfigError(f"equilibrium.solver.method: expected one of {list(SOLVER_METHODS)}, got {s['method']!r}")
    s["tol"] = _number("solver.tol", s["tol"], lower=0.0, strict=True)
    s["damping"] = _number("solver.damping", s["damping"], lower=0.0, strict=True, upper=1.0)
    if isinstance(s["max_iter"], bool) or not isinstance(s["max_iter"], int) or s["max_iter"] < 1:
        raise ConfigError(f"equilibrium.solver.max_iter: expected an integer >= 1, got {s['max_iter']!r}")
    return out


def run_settings(block: Mapping[str, Any], scenario: str) -> dict[str, Any]:
    """The block's run keys with ``scenarios[scenario]`` on top (not yet validated)."""
    scenarios = block.get("scenarios") or {}
    if scenario not in scenarios:
        raise ConfigError(f"equilibrium.scenarios: unknown scenario {scenario!r}; defined: {sorted(scenarios)}")
    run = {k: copy.deepcopy(v) for k, v in block.items() if k in RUN_KEYS}
    for key, value in (scenarios[scenario] or {}).items():
        if key == "solver":
            run["solver"] = {**(run.get("solver") or {}), **(value or {})}
        else:
            run[key] = value
    return run


def check_deterministic(mfg_config: Mapping[str, Any], scenario: str) -> None:
    """The crowd must be the deterministic, one-type MFG (the solver the equilibrium reuses)."""
    params = mfg_config.get("params") or {}
    sigma0 = params.get("sigma0", 0.0)
    if mfg_config.get("types") or sigma0 is None or sigma0 != 0.0:
        raise ConfigError(f"equilibrium.mfg_scenario: {scenario!r} has common noise or agent types; the "
                          "equilibrium's crowd is the deterministic one-type MFG (choose e.g. 'baseline')")


def _values(entry: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v["value"] if isinstance(v, Mapping) else v) for k, v in entry.items()
            if isinstance(v, (int, float)) or (isinstance(v, Mapping) and isinstance(v.get("value"), (int, float)))}


def market_maker_of(mm_doc: Mapping[str, Any], run: Mapping[str, Any]) -> tuple[str, MarketMakerParams]:
    """The market maker of ``mm_params.yaml`` (``tickers.<TICKER>``) with the run's gamma/Q_max/phi (``Q_max``
    null or ``auto``: the calibrated limit, which ``auto`` may enlarge when the equilibrium is solved)."""
    from mfg_finance.equilibrium.market_maker import MarketMakerParams  # numba: not when jobs are planned

    tickers = mm_doc.get("tickers") or {}
    if not tickers:
        raise ConfigError("mm_params: no ticker calibrated (expected a 'tickers' mapping)")
    ticker = run["ticker"] if run["ticker"] is not None else next(iter(tickers))   # the document's first
    if ticker not in tickers:
        raise ConfigError(f"equilibrium.ticker: {ticker!r} is not calibrated in mm_params (have {sorted(tickers)})")
    values = _values(tickers[ticker])
    missing = [k for k in ("sigma", "A", "k") if k not in values]
    if missing:
        raise ConfigError(f"mm_params: tickers.{ticker} lacks {missing}")
    gamma = run["gamma"] if run["gamma"] is not None else values.get("gamma")
    q_max = run["Q_max"] if run["Q_max"] not in (None, AUTO) else values.get("Q_max")   # auto starts there
    if gamma is None or q_max is None:
        raise ConfigError(f"equilibrium: gamma and Q_max are neither set nor calibrated for {ticker}")
    return ticker, MarketMakerParams(sigma=values["sigma"], A=values["A"], k=values["k"], gamma=float(gamma),
                                     Q_max=int(round(q_max)), phi=run["phi"])


def build_problem(mfg_config: Mapping[str, Any], mfg_doc: Mapping[str, Any], mm_doc: Mapping[str, Any],
                  run: Mapping[str, Any], *, reference: Mapping[str, Any] | None = None
                  ) -> tuple[dict, str, MarketMakerParams, Coupling, dict]:
    """``(mfg_config, ticker, market maker, coupling, record)`` of one run; ``record`` lists the derived
    constants (units, theta, reference spread) for ``metrics.json``.

    ``mfg_config``: the crowd's full solver config (calibrated values merged); ``mfg_doc``/``mm_doc``: the
    calibration documents (``units.inventory_unit_shares``, ``units.seconds_per_trading_day``; tickers).
    ``reference``: the run whose market maker sets the reference spread of ``theta`` (default ``run``). The
    regimes pass their base run, so that ``theta``, a property of the crowd, is the same at every point and a
    change of the market maker's ``gamma`` or ``Q_max`` does not also change what a BRL of spread costs the crowd.
    """
    # here, not at the top: the workflow imports this module when it plans the jobs (no solver, no numba)
    from mfg_finance.equilibrium.fixed_point import Coupling, reference_spread

    run = validate_run(run)
    units_doc = mfg_doc.get("units") or {}
    try:
        shares = float(units_doc["inventory_unit_shares"])
        seconds = float(units_doc["seconds_per_trading_day"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError("mfg_params: units.inventory_unit_shares and units.seconds_per_trading_day are needed "
                          "to convert the crowd's flow into the market maker's lots per second") from None
    units = Units(seconds_per_day=seconds, inventory_unit_shares=shares, lot_shares=run["lot_shares"],
                  crowd_size=run["crowd_size"])
    ticker, mm = market_maker_of(mm_doc, run)
    spread_ref = reference_spread(mm if reference is None else market_maker_of(mm_doc, validate_run(reference))[1])
    eta0 = float(mfg_config["params"]["eta0"])
    theta = spread_cost_coefficient(run["theta_share"], eta0=eta0, spread_ref=spread_ref)
    coupling = Coupling(theta=theta, beta=run["beta"], units=units, substep_s=run["substep_s"],
                        max_limit_mass=run["max_limit_mass"], crowd_pays=run["crowd_pays"],
                        auto_lattice=run["Q_max"] == AUTO)
    record = {"run": run, "ticker": ticker, "theta": theta, "spread_ref_brl": spread_ref,
              "units": {"seconds_per_trading_day": seconds, "inventory_unit_shares": shares,
                        "lot_shares": run["lot_shares"], "crowd_size": run["crowd_size"],
                        "flow_to_lots_per_s": units.flow_to_lots_per_s},
              "market_maker_params": {"sigma": mm.sigma, "A": mm.A, "k": mm.k, "gamma": mm.gamma, "Q_max": mm.Q_max,
                               "phi": mm.phi}}
    return dict(mfg_config), ticker, mm, coupling, record
