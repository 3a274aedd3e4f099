"""Sub-command ``mfg-finance equilibrium``: one equilibrium scenario, exactly as the pipeline's ``solve_equilibrium``.

``--config FILE`` is the pipeline's config shape (``config/config.yaml``: the ``mfg`` block for the crowd and the
``equilibrium`` block); ``--mfg-params``/``--mm-params`` are the pipeline's calibration files::

    mfg-finance equilibrium --config config/config.yaml --out out/equilibrium/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mfg_finance.errors import ConfigError


def _equilibrium(args: argparse.Namespace) -> int:
    from mfg_finance.equilibrium.config import check_deterministic, run_settings, validate_run
    from mfg_finance.equilibrium.outputs import write_equilibrium
    from mfg_finance.equilibrium.pipeline import solve_run
    from mfg_finance.io import read_yaml
    from mfg_finance.mfg.cli import load_mfg_config, solve_config
    from mfg_finance.user_yaml import read_user_yaml

    doc = read_user_yaml(args.config)
    if not isinstance(doc, dict):
        raise ConfigError(f"{args.config}: expected a mapping at the top level")
    block = doc.get("equilibrium") or {}
    if not isinstance(block, dict):
        raise ConfigError(f"{args.config}: equilibrium: expected a mapping, got {type(block).__name__}")
    block = {**block, "scenarios": block.get("scenarios") or {"equilibrium": {}}}
    block.pop("regimes", None)
    scenario = args.scenario or next(iter(block["scenarios"]))
    run = validate_run(run_settings(block, scenario))
    for path in (args.mfg_params, args.mm_params):
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such calibration file (run the pipeline's calibrate step first, "
                              "or pass --mfg-params / --mm-params)")
    mfg_block = load_mfg_config(args.config)
    check_deterministic({**mfg_block, **((mfg_block.get("scenarios") or {}).get(run["mfg_scenario"]) or {})},
                        run["mfg_scenario"])
    crowd = solve_config(args.config, args.mfg_params, run["mfg_scenario"])
    solution, record = solve_run(crowd, read_yaml(args.mfg_params), read_yaml(args.mm_params), run)
    write_equilibrium(solution, args.out, record, figures=not args.no_figures,
                      title=f"Equilibrium {scenario}: {record['ticker']} market maker and the crowd")
    out = solution.outcomes()
    print(f"converged in {solution.iterations} rounds (residual {solution.residuals[-1]:.2e}); average spread "
          f"{out['mm_mean_spread_brl']:.4g} BRL, crowd cost {out['crowd_cost']:.4g}, market maker PnL "
          f"{out['mm_pnl_brl']:.4g} BRL; wrote {args.out}")
    return 0


def register(subparsers) -> None:
    """Add ``equilibrium`` to the ``mfg-finance`` parser."""
    p = subparsers.add_parser("equilibrium", help="solve the market maker / crowd equilibrium of a config",
                              description=__doc__.split("\n\n", 1)[1],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the pipeline's config (mfg and equilibrium blocks)")
    p.add_argument("--mfg-params", default="results/calibration/mfg_params.yaml",
                   help="MFG calibration (default: %(default)s)")
    p.add_argument("--mm-params", default="results/calibration/mm_params.yaml",
                   help="market-making calibration (default: %(default)s)")
    p.add_argument("--scenario", help="equilibrium.scenarios.SCENARIO (default: the first)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--no-figures", action="store_true", help="write solution.npz and metrics.json only")
    p.set_defaults(func=_equilibrium)
