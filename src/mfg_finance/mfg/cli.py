"""Sub-commands ``mfg-finance run`` and ``mfg-finance verify``.

``--config FILE.yaml`` holds the ``mfg``-shaped block (``grid``, ``params``, ``solver``, ``price``)
at its top level, or under a top-level ``mfg:`` key (the pipeline's ``config/config.yaml`` shape;
``scenarios`` are ignored, ``verification.refinements`` is used by ``verify``).
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


def _run(args: argparse.Namespace) -> int:
    from mfg_finance.mfg import solve, write_solution

    solution = solve(load_mfg_config(args.config))
    write_solution(solution, args.out, figures=not args.no_figures)
    print(f"converged in {solution.iterations} sweeps (residual {solution.final_residual:.3e}, "
          f"{solution.wall_time_s:.3f} s); wrote {args.out}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from mfg_finance.mfg.verify import DEFAULT_REFINEMENTS, run_verification, write_verification

    config = load_mfg_config(args.config)
    refinements = (config.get("verification") or {}).get("refinements", DEFAULT_REFINEMENTS)
    result = run_verification(config, refinements=refinements)
    write_verification(result, args.out)
    orders = ", ".join(f"{k} {v:.2f}" for k, v in result.observed_order.items() if v == v)
    print(f"verification written to {args.out}; observed orders: {orders}")
    return 0


def register(subparsers) -> None:
    """Add ``run`` and ``verify`` to the ``mfg-finance`` parser."""
    run = subparsers.add_parser("run", help="solve the MFG equilibrium and write solution, metrics, figures")
    run.add_argument("--config", required=True, help="YAML file with the mfg block (grid/params/solver/price)")
    run.add_argument("--out", required=True, help="output directory")
    run.add_argument("--no-figures", action="store_true", help="write solution.npz and metrics.json only")
    run.set_defaults(func=_run)
    verify = subparsers.add_parser("verify", help="compare the solver with the exact LQ solution under mesh refinement")
    verify.add_argument("--config", required=True, help="YAML file with the mfg block")
    verify.add_argument("--out", required=True, help="output directory")
    verify.set_defaults(func=_verify)
