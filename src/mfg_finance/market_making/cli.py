"""``mfg-finance backtest``: Monte Carlo backtest of quoting strategies, with figures and statistics.

Example::

    mfg-finance backtest --strategies hjb constant --seed 123 --n-runs 10 --output-dir out/
    mfg-finance backtest --config config/config.yaml --params results/calibration/mm_params.yaml \
        --ticker SYNA3 --output-dir out/      # the pipeline's settings and calibration

writes ``backtest_comparison.png``, ``statistics_table.png``, ``backtest_results.parquet`` (one row
per path and strategy) and ``backtest_statistics.csv`` to the output directory.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from mfg_finance.io import write_parquet, write_text
from mfg_finance.market_making.backtest import backtest_statistics, run_backtest
from mfg_finance.market_making.market import default_market_parameters, market_parameters_from_file
from mfg_finance.market_making.simulator import FILL_MODELS, MID_MODELS
from mfg_finance.market_making.strategies import STRATEGIES

log = logging.getLogger(__name__)

OUTPUT_FILES = ("backtest_comparison.png", "statistics_table.png", "backtest_results.parquet",
                "backtest_statistics.csv")


def _integer_at_least(low: int):
    """argparse type: an integer >= ``low`` (argparse then prints a usage error, not a traceback)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value
    return parse


def register(subparsers) -> None:
    """Add the ``backtest`` sub-command."""
    parser = subparsers.add_parser(
        "backtest", help="Monte Carlo backtest of market-making strategies",
        description="Backtest market-making strategies on the default model (GLFT example in BRL, "
                    "tick 0.01) or on parameters read from a YAML file.")
    parser.add_argument("--config", type=Path, default=None,
                        help="the pipeline's config (config/config.yaml): its market_making settings "
                             "(strategies, seed, n_paths, horizon_s, dt_s, order_size, fill/mid model) "
                             "become the defaults of the options below")
    parser.add_argument("--strategies", nargs="+", default=None, choices=STRATEGIES,
                        metavar="NAME", help=f"strategies to compare ({', '.join(STRATEGIES)}; default all)")
    parser.add_argument("--seed", type=_integer_at_least(0), default=None, help="random seed >= 0 (default 7)")
    parser.add_argument("--n-runs", type=_integer_at_least(2), default=None,
                        help="Monte Carlo paths per strategy, >= 2 (default 1000)")
    parser.add_argument("--output-dir", type=Path, required=True, help="directory for figures and tables")
    parser.add_argument("--params", type=Path, default=None,
                        help="YAML with sigma, A, k, gamma, Q_max, S0, tick_size (flat, or per ticker, "
                             "e.g. results/calibration/mm_params.yaml)")
    parser.add_argument("--ticker", default=None, help="ticker to take from --params (default: the first)")
    parser.add_argument("--horizon-s", type=float, default=None, help="horizon in seconds (default 600)")
    parser.add_argument("--dt-s", type=float, default=None, help="time step in seconds (default 1)")
    parser.add_argument("--order-size", type=int, default=None, help="shares per fill (default: as in --params, else 1)")
    parser.add_argument("--fill-model", choices=FILL_MODELS, default=None, help="default exponential")
    parser.add_argument("--mid-model", choices=MID_MODELS, default=None, help="default gaussian")
    parser.set_defaults(func=run)


#: option -> (key of the config's market_making block, built-in default)
_SETTINGS = {"strategies": ("strategies", list(STRATEGIES)), "seed": ("seed", 7), "n_runs": ("n_paths", 1000),
             "horizon_s": ("horizon_s", 600.0), "dt_s": ("dt_s", 1.0), "order_size": ("order_size", None),
             "fill_model": ("fill_model", "exponential"), "mid_model": ("mid_model", "gaussian")}


def _resolve_settings(args: argparse.Namespace) -> None:
    """Fill the options not given: from ``--config``'s ``market_making`` block, else the built-in default."""
    block = {}
    if args.config is not None:
        block = _read_config(args.config).get("market_making") or {}
    for option, (key, default) in _SETTINGS.items():
        if getattr(args, option) is None:
            setattr(args, option, block.get(key, default))


def _read_config(path: Path) -> dict:
    from mfg_finance.errors import ConfigError
    from mfg_finance.io import read_yaml

    try:
        document = read_yaml(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except Exception as exc:  # yaml.YAMLError and friends: name the file, not a traceback
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(document).__name__}")
    return document


def run(args: argparse.Namespace) -> int:
    """Run the backtests of ``args.strategies`` and write the outputs to ``args.output_dir``."""
    from mfg_finance.report.figures.market_making import plot_backtest_comparison, plot_statistics_table

    import dataclasses

    _resolve_settings(args)
    if args.params is not None:
        ticker, market = market_parameters_from_file(args.params, args.ticker)
    else:
        ticker, market = (args.ticker or "default"), default_market_parameters()
    if args.order_size is not None and args.order_size != market.order_size:
        market = dataclasses.replace(market, order_size=args.order_size)
    results = {}
    for strategy in dict.fromkeys(args.strategies):
        results[strategy] = run_backtest(strategy, market, horizon_s=args.horizon_s, dt_s=args.dt_s,
                                         n_paths=args.n_runs, seed=args.seed, fill_model=args.fill_model,
                                         mid_model=args.mid_model)
    table = backtest_statistics({(ticker, s): frame for s, frame in results.items()})
    out = Path(args.output_dir)
    per_path = pd.concat([frame.assign(ticker=ticker, strategy=s) for s, frame in results.items()],
                         ignore_index=True)
    per_path = per_path[["ticker", "strategy"] + [c for c in per_path if c not in ("ticker", "strategy")]]
    write_parquet(out / "backtest_results.parquet", per_path)
    write_text(out / "backtest_statistics.csv", table.to_csv(index=False, float_format="%.10g"))
    title = (f"{ticker}: {args.n_runs} paths, horizon {args.horizon_s:g} s, dt {args.dt_s:g} s, "
             f"seed {args.seed}")
    plot_backtest_comparison(results, out / "backtest_comparison.png", title=title)
    plot_statistics_table(table, out / "statistics_table.png", title=f"Backtest statistics (BRL), {title}")
    print(table[["strategy", "pnl_mean", "pnl_mean_se", "pnl_std", "sharpe", "mean_abs_final_inventory"]]
          .to_string(index=False))
    print(f"wrote {', '.join(OUTPUT_FILES)} to {out}")
    return 0
