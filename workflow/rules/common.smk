# Input functions, constants and the cross-field config check shared by every stage.

import glob
import os
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Jobs import mfg_finance from this checkout, also inside a `--sdm conda` environment (which
# holds the dependencies only) and on cluster nodes (which re-parse this file).
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [_SRC, os.environ.get("PYTHONPATH")])))

from mfg_finance.config import check_config, mfg_run_overrides, schema_errors, sweep_run_overrides
from mfg_finance.errors import ConfigError
from mfg_finance.sweeps import sweep_points

# Every schema violation in one readable line each (Snakemake's validate names only the first, then
# prints the whole schema); then validate() fills the defaults; then the cross-field checks.
SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
_problems = schema_errors(config, yaml.safe_load(SCHEMA.read_text()))
if _problems:
    raise WorkflowError("Invalid configuration (config/config.yaml or --config):\n  "
                        + "\n  ".join(_problems))
validate(config, str(SCHEMA))
try:
    check_config(config)
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}")

ENV = "../../envs/mfg-finance.yaml"

ANALYTICS_FIGURES = expand(
    "reports/analytics/{name}.png",
    name=["return_distribution", "top_volatility", "vol_estimators",
          "liquidity_vs_volatility", "volume_profile"],
)
MFG_FIGURES = ["value_function", "feedback", "density", "flow_eta_price", "convergence"]
SCENARIOS = list(config["mfg"]["scenarios"])
SWEEPS = {name: sweep_points(spec, name=name) for name, spec in config["sweeps"].items()}
SWEEP_POINTS = {name: {p["point_id"]: p["params"] for p in points} for name, points in SWEEPS.items()}
MM = config["market_making"]
NOTEBOOKS = expand("results/notebooks/{nb}.{ext}", nb=["mfg_pipeline", "market_making"],
                   ext=["ipynb", "html"])


def _alternation(names):
    return "|".join(sorted(names)) if names else "(?!)"


wildcard_constraints:
    scenario=_alternation(SCENARIOS),
    sweep=_alternation(SWEEPS),
    strategy=_alternation(MM["strategies"]),
    ticker=_alternation(MM["tickers"]),
    point_id="[0-9a-f]{12}",


def cotahist_files(wildcards=None):
    """The COTAHIST files the ingestion reads, by data.source."""
    source = config["data"]["source"]
    if source == "sample":
        return ["resources/cotahist/sample/COTAHIST_SAMPLE.TXT"]
    if source == "b3":
        return expand("resources/cotahist/b3/COTAHIST_A{year}.ZIP", year=config["data"]["b3"]["years"])
    pattern = config["data"]["local"]["glob"]
    files = sorted(glob.glob(pattern))
    if not files:
        raise WorkflowError(f"data.local.glob: no file matches {pattern!r} "
                            "(expected COTAHIST .TXT or .ZIP files)")
    broken = [f for f in files if os.path.islink(f) and not os.path.exists(f)]
    if broken:  # glob lists them, and Snakemake's own message would blame a concurrent deletion
        raise WorkflowError(f"data.local.glob {pattern!r}: broken symbolic link(s) "
                            + ", ".join(f"{f} -> {os.readlink(f)} (target does not exist)" for f in broken))
    return files


def sweep_point_files(wildcards):
    return expand("results/sweeps/{sweep}/points/{point_id}.json",
                  sweep=wildcards.sweep, point_id=list(SWEEP_POINTS[wildcards.sweep]))


def backtest_files(wildcards=None):
    strategies = MM["strategies"] + (["ppo"] if MM["rl"]["enabled"] else [])
    return expand("results/market_making/{ticker}/{strategy}.parquet", ticker=MM["tickers"],
                  strategy=strategies)


def calibration_settings(wildcards):
    overrides = config["calibration"]["overrides"]
    if wildcards.model == "mfg":
        return {"representative": config["calibration"]["representative"],
                "spread": config["calibration"]["spread"], "T": config["mfg"]["grid"]["T"],
                **config["calibration"]["mfg_constants"], "overrides": {"mfg": overrides.get("mfg", {})}}
    return {"tickers": MM["tickers"], "gamma": MM["gamma"], "Q_max": MM["Q_max"],
            "spread": config["calibration"]["spread"], "overrides": {"mm": overrides.get("mm", {})},
            "flow_share": MM["flow_share"]}


MFG_PARAMS = "results/calibration/mfg_params.yaml"
MM_PARAMS = "results/calibration/mm_params.yaml"

REPORT_INPUTS = {
    "ingest_summary": "results/data/ingest_summary.json",
    "rejects": "results/data/rejects.txt",
    "asset_stats": "results/stats/asset_stats.parquet",
    "universe": "results/data/universe.parquet",
    "corporate_events": "results/data/corporate_events.parquet",
    "corporate_events_summary": "results/data/corporate_events_summary.json",
    "stats_summary": "results/stats/summary.json",
    "analytics": ANALYTICS_FIGURES,
    "mfg_params": MFG_PARAMS,
    "mm_params": MM_PARAMS,
    "mfg_metrics": expand("results/mfg/{scenario}/metrics.json", scenario=SCENARIOS),
    "mfg_solutions": expand("results/mfg/{scenario}/solution.npz", scenario=SCENARIOS),
    "mfg_figures": expand("results/mfg/{scenario}/{name}.png", scenario=SCENARIOS, name=MFG_FIGURES),
    "verification_metrics": "results/mfg/verification/metrics.json",
    "verification_table": "results/mfg/verification/refinement.csv",
    "verification_figures": expand("results/mfg/verification/{name}.png",
                                   name=["exact_comparison", "convergence_order"]),
    "sweep_tables": expand("results/sweeps/{sweep}.parquet", sweep=list(SWEEPS)),
    "sweep_figures": expand("results/sweeps/{sweep}.png", sweep=list(SWEEPS)),
    "backtest_stats": "results/market_making/backtest_stats.parquet",
    "backtest_figures": ["results/market_making/pnl_distribution.png",
                         "results/market_making/inventory_distribution.png"],
    "quotes_figures": expand("results/market_making/{ticker}/quotes.png", ticker=MM["tickers"]),
    "reproduction": "results/market_making/avellaneda_stoikov_2008.csv",
    "notebooks": NOTEBOOKS,
    "provenance": "results/provenance.json",
}

NOTEBOOK_INPUTS = {
    "mfg_pipeline": {"mfg_params": MFG_PARAMS,
                     "solution": "results/mfg/baseline/solution.npz" if "baseline" in SCENARIOS
                     else f"results/mfg/{SCENARIOS[0]}/solution.npz"},
    "market_making": {"mm_params": MM_PARAMS,
                      "backtest_stats": "results/market_making/backtest_stats.parquet",
                      "reproduction": "results/market_making/avellaneda_stoikov_2008.csv"},
}


def notebook_parameters(wildcards):
    """Papermill parameters: the artefact paths the notebook reads, plus the settings it uses."""
    parameters = dict(NOTEBOOK_INPUTS[wildcards.nb])
    if wildcards.nb == "mfg_pipeline":
        parameters["run"] = mfg_run_overrides(config["mfg"], SCENARIOS[0])
    else:
        parameters.update(tickers=MM["tickers"], horizon_s=MM["horizon_s"])
    return parameters


# --- Trade-by-trade files (intraday calibration, docs/trades.md) -------------------------------------

TRADES = config["data"]["trades"]
TRADES_SOURCE = "sample" if config["data"]["source"] == "sample" else TRADES["source"]
INTRADAY_TICKERS = sorted(set(MM["tickers"]) | ({config["calibration"]["representative"]}
                                                 - {"median"}))


def _local_trade_files():
    files = sorted(glob.glob(TRADES["local"]["glob"]))
    if not files:
        raise WorkflowError(f"data.trades.local.glob: no file matches {TRADES['local']['glob']!r} "
                            "(expected NEG_* or *NEGOCIOSAVISTA* session files)")
    sessions = {}
    for f in files:
        session = Path(f).name.split(".")[0]
        if session in sessions:
            raise WorkflowError(f"data.trades.local.glob: {sessions[session]} and {f} give the same session "
                                f"name {session!r} (the file name before its first dot)")
        sessions[session] = f
    return sessions


if TRADES_SOURCE == "sample":
    TRADE_FILES = {f"S{i + 1}": f"resources/trades/sample/S{i + 1}.zip"
                   for i in range(TRADES["sample"]["n_sessions"])}
elif TRADES_SOURCE == "b3":
    TRADE_FILES = {d: f"resources/trades/b3/{d}.zip" for d in TRADES["b3"]["dates"]}
elif TRADES_SOURCE == "local":
    TRADE_FILES = _local_trade_files()
else:
    TRADE_FILES = {}
TRADE_SESSIONS = sorted(TRADE_FILES)
INTRADAY_ESTIMATES = "results/trades/intraday_estimates.json"


def intraday_input(wildcards=None):
    """The intraday estimates calibrate reads, or nothing without trade files."""
    return [INTRADAY_ESTIMATES] if TRADE_SESSIONS else []


INTRADAY_FIGURE_NAMES = ["intraday_profile", "signature_plot", "impact_fit"]
if TRADE_SESSIONS:
    REPORT_INPUTS["intraday_estimates"] = INTRADAY_ESTIMATES
    REPORT_INPUTS["intraday_figures"] = expand("results/trades/figures/{name}.png", name=INTRADAY_FIGURE_NAMES)
