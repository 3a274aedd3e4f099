"""Sub-commands ``mfg-finance run`` and ``mfg-finance verify``.

``--config FILE.yaml`` holds the ``mfg``-shaped block (``grid``, ``params``, ``solver``, ``price``)
at its top level, or under a top-level ``mfg:`` key (the pipeline's ``config/config.yaml`` shape;
``verification.refinements`` is used by ``verify``). ``--params`` takes the pipeline's calibration
(``results/calibration/mfg_params.yaml``) for the parameters the config leaves null, and
``--scenario NAME`` applies ``mfg.scenarios.NAME`` on top, exactly as the pipeline's ``solve_mfg`` does::

    mfg-finance run --config config/config.yaml --params results/calibration/mfg_params.yaml \
        --scenario baseline --out out/
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mfg_finance.errors import ConfigError


def load_mfg_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML file and return its ``mfg`` block (the whole file if it has no ``mfg:`` key)."""
    from mfg_finance.user_yaml import read_user_yaml

    doc = read_user_yaml(path)  # YAML 1.2 floats (1.0e-10), duplicate keys refused, errors with line
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    if "mfg" in doc:
        doc = doc["mfg"]
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: mfg: expected a mapping, got {type(doc).__name__}")
    return doc


def _is_calibration(doc: dict) -> bool:
    return "parameters" in doc and not set(doc) & {"grid", "params", "solver", "price"}


def _load_calibration(path: str | Path) -> dict[str, float]:
    from mfg_finance.calibration import parameter_values
    from mfg_finance.errors import CalibrationError

    try:
        return parameter_values(load_mfg_config(path))
    except CalibrationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def solve_config(config_path: str | Path | None, params_path: str | Path | None = None,
                 scenario: str | None = None) -> dict[str, Any]:
    """The solver config of one run: the config's ``mfg`` block, the scenario, then the calibration.

    Precedence as in the pipeline: calibrated value < non-null ``mfg.params`` < scenario. A
    calibration file given as ``--config`` (no ``--params``) is taken as ``--params`` with default
    grid and solver. Raises :class:`ConfigError` naming the file and key.
    """
    from mfg_finance.config import canonical, deep_merge, solver_config
    from mfg_finance.mfg.config import DEFAULTS

    if config_path is None and params_path is None:
        raise ConfigError("give --config, --params or both")
    block = load_mfg_config(config_path) if config_path is not None else {}
    if _is_calibration(block):
        if params_path is not None:
            raise ConfigError(f"{config_path}: this is a calibration file; pass the config (e.g. "
                              "config/config.yaml) with --config and the calibration with --params")
        params_path, block = config_path, {}
    scenarios = block.get("scenarios") or {}
    if scenario is not None and scenario not in scenarios:
        raise ConfigError(f"{config_path or 'no --config'}: mfg.scenarios.{scenario}: no such scenario; "
                          f"defined: {sorted(scenarios) or 'none'}")
    run = {section: {**DEFAULTS[section], **(block.get(section) or {})} for section in DEFAULTS}
    run["params"] = {k: v for k, v in run["params"].items() if v is not None}
    run["price"] = {k: v for k, v in run["price"].items() if v is not None}
    run = canonical(deep_merge(run, scenarios.get(scenario, {}) if scenario else {}))
    if params_path is not None:
        return solver_config(_load_calibration(params_path), run)
    from mfg_finance.mfg.config import REQUIRED_PARAMS

    missing = [k for k in REQUIRED_PARAMS if k not in run["params"]]
    if missing:
        raise ConfigError(f"{config_path}: mfg.params {missing} are null (the pipeline takes them from "
                          "calibration); pass --params results/calibration/mfg_params.yaml or set them")
    return run


def _run(args: argparse.Namespace) -> int:
    from mfg_finance.mfg import solve, write_solution

    solution = solve(solve_config(args.config, args.params, args.scenario))
    write_solution(solution, args.out, figures=not args.no_figures)
    print(f"converged in {solution.iterations} sweeps (residual {solution.final_residual:.3e}, "
          f"{solution.wall_time_s:.3f} s); wrote {args.out}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from mfg_finance.mfg.verify import DEFAULT_REFINEMENTS, run_verification, write_verification

    block = load_mfg_config(args.config) if args.config is not None else {}
    refinements = (block.get("verification") or {}).get("refinements", DEFAULT_REFINEMENTS)
    result = run_verification(solve_config(args.config, args.params, args.scenario), refinements=refinements)
    write_verification(result, args.out)
    orders = ", ".join(f"{k} {v:.2f}" for k, v in result.observed_order.items() if v == v)
    print(f"verification written to {args.out}; observed orders: {orders}")
    return 0


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML with the mfg block (grid/params/solver/price[/scenarios]), "
                        "flat or under mfg: as in config/config.yaml")
    parser.add_argument("--params", help="the pipeline's calibration (results/calibration/mfg_params.yaml) "
                        "for the parameters the config leaves null")
    parser.add_argument("--scenario", help="apply mfg.scenarios.SCENARIO of the config (e.g. baseline)")
    parser.add_argument("--out", required=True, help="output directory")


def register(subparsers) -> None:
    """Add ``run`` and ``verify`` to the ``mfg-finance`` parser."""
    run = subparsers.add_parser("run", help="solve the MFG equilibrium and write solution, metrics, figures",
                                description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_inputs(run)
    run.add_argument("--no-figures", action="store_true", help="write solution.npz and metrics.json only")
    run.set_defaults(func=_run)
    verify = subparsers.add_parser("verify", help="compare the solver with the exact LQ solution under mesh refinement")
    _add_inputs(verify)
    verify.set_defaults(func=_verify)
