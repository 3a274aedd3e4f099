# Input functions, constants and the cross-field config check shared by every stage.

import glob
import os
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Snakemake's own process skips the interpreter's last garbage collection at exit (as the jobs do,
# mfg_finance.logs): a walk over the parsed workflow and DAG, 0.3 s of a 1.8 s no-op rerun (docs/workflow.md).
import atexit
import gc

atexit.register(gc.freeze)

# Jobs import mfg_finance from this checkout, also inside a `--sdm conda` environment (which
# holds the dependencies only) and on cluster nodes (which re-parse this file).
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [_SRC, os.environ.get("PYTHONPATH")])))
# numba's compiled kernels are cached in the working directory (docs/workflow.md, "numba cache"): only the
# first run compiles, also on cluster nodes (they share the working directory, not always a writable source
# tree or home), under a digest of the kernels' source so that a changed kernel module is never served
# stale machine code (mfg_finance.numba_cache). A NUMBA_CACHE_DIR set by the user wins.
from mfg_finance.numba_cache import numba_cache_dir

os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir(Path(".snakemake", "numba-cache")))
# One numba thread per job unless it asks for more: a job counts as its rule's `threads` cores, and numba
# would otherwise start one thread per core in every job. Scripts of parallel kernels raise it to their
# snakemake.threads (mfg_finance.job_threads, docs/workflow.md "Threads").
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from mfg_finance.config import check_config, mfg_run_overrides, schema_errors, sweep_run_overrides
from mfg_finance.config_limits import check_config_limits
from mfg_finance.check_cache import run_once
from mfg_finance.config_overrides import coerce_command_line_strings, config_sources
from mfg_finance.cotahist.local_files import file_fingerprints, file_keys, local_input_files
from mfg_finance.errors import ConfigError
from mfg_finance.sweeps import batch_overrides, corner_point, is_systemic_sweep, sweep_points
from mfg_finance.batching import BATCH_NAME_PATTERN, batches
from mfg_finance.mfg.systemic import DEFAULT_SETTINGS as _SYSTEMIC_DEFAULTS, is_systemic

SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
# libyaml when present: the pure-Python loader spends ~0.1 CPU-s of every Snakemake start on this file
_SCHEMA = yaml.load(SCHEMA.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

# Snakemake reads nested --config values as strings ('0.05'): give them the schema's types first,
# and say so. Messages name the config files and --config keys this run actually used.
_COMMAND_LINE = dict(workflow.config_settings.config)
_CLI_FILES = [Path(f).absolute() for f in workflow.config_settings.configfiles]
CONFIG_SOURCES = config_sources([f for f in workflow.configfiles if Path(f).absolute() not in _CLI_FILES]
                                + _CLI_FILES, _COMMAND_LINE, root=workflow.basedir)
_coerced = coerce_command_line_strings(config, _COMMAND_LINE, _SCHEMA)
if _coerced:
    print("--config values read as the schema's types: " + "; ".join(_coerced), file=sys.stderr)

# Every schema violation in one readable line each (Snakemake's validate names only the first, then
# prints the whole schema); then validate() fills the defaults; then the cross-field checks.
_problems = schema_errors(config, _SCHEMA)
if _problems:
    raise WorkflowError(f"Invalid configuration ({CONFIG_SOURCES}):\n  " + "\n  ".join(_problems)
                        + ("\n(--config strings read as numbers/booleans: " + "; ".join(_coerced) + ")"
                           if _coerced else ""))
validate(config, str(SCHEMA))
# Beyond the schema (mfg_finance.config_limits): no NaN/inf, bounded sizes and memory, scenario
# values, horizon/step, URL template; sizes are checked before check_config expands the sweeps.
# Both are pure functions of the config and the package's code: a pass is remembered under that pair and
# not repeated at every Snakemake start (mfg_finance.check_cache; the scenario checks size grids with numba).
def _config_checks():
    check_config_limits(config)
    check_config(config)


try:
    run_once(_config_checks, config, Path(".snakemake", "mfg-finance", "config-checks"))
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration ({CONFIG_SOURCES}): {exc}")

# Outputs are written through symbolic links: refuse links planted under the output folders
# that point outside the working directory, before any job (mfg_finance.output_links).
from mfg_finance.output_links import foreign_links

_links = foreign_links(".")
if _links:
    raise WorkflowError("symbolic link(s) under the output folders point outside the working directory; "
                        "outputs would be written through them. Remove them:\n  " + "\n  ".join(_links))

ENV = "../../envs/mfg-finance.yaml"
# Priority of the serial chain every model waits for (COTAHIST -> statistics -> sample trades -> intraday
# estimates -> calibration): Snakemake's greedy scheduler otherwise prefers ready jobs with larger inputs
# (a figure, a Heston study) and leaves the chain waiting while a core is busy elsewhere.
CRITICAL_PATH = 10
# After calibration both cores stay busy to the end, and among ready jobs of equal priority the scheduler takes
# those with the largest inputs first: the jobs heading the longest chains to the report and notebooks (the
# CVaR search and portfolio backtests, fed by a small params.yaml; the Avellaneda-Stoikov reproduction, with no
# input at all) would start last and finish alone on one core. They go first (below the chain and the warm-ups).
LONG_CHAIN = 2

ANALYTICS_FIGURES = expand(
    "reports/analytics/{name}.png",
    name=["return_distribution", "top_volatility", "vol_estimators",
          "liquidity_vs_volatility", "volume_profile"],
)
MFG_FIGURES = ["value_function", "feedback", "density", "flow_eta_price", "convergence"]
# Systemic scenarios (common noise sigma0 null or > 0, or agent types) are solved by rule solve_systemic.
SYSTEMIC_SCENARIOS = [s for s in config["mfg"]["scenarios"] if is_systemic(mfg_run_overrides(config["mfg"], s))]
SCENARIOS = [s for s in config["mfg"]["scenarios"] if s not in SYSTEMIC_SCENARIOS]
SYSTEMIC = {name: {**_SYSTEMIC_DEFAULTS[name], **config.get("systemic", {}).get(name, {})}
            for name in _SYSTEMIC_DEFAULTS}
FINITE_N = SYSTEMIC["finite_n"]["scenario"] in SYSTEMIC_SCENARIOS
SYSTEMIC_PARAMS = "results/calibration/systemic_params.yaml"
SWEEPS = {name: sweep_points(spec, name=name) for name, spec in config["sweeps"].items()}
SWEEP_POINTS = {name: {p["point_id"]: p["params"] for p in points} for name, points in SWEEPS.items()}
# Batched jobs (mfg_finance.batching, docs/workflow.md): a sweep's points run in batch.jobs_per_sweep jobs,
# each point in batch sha256(id) mod n (stable: adding values reruns only the batches that gain points);
# null = one job per point, the batch named by the point id. Other sweeps use the same helper:
#   batches(ids, BATCH["jobs_per_sweep"]) -> {batch name: [ids]}, wildcard constraint BATCH_WILDCARD.
BATCH = config["batching"]
BATCH_WILDCARD = f"{BATCH_NAME_PATTERN}|[0-9a-f]{{12}}"
SWEEP_BATCHES = {name: batches(points, BATCH["jobs_per_sweep"]) for name, points in SWEEP_POINTS.items()}
# the scenario each sweep's points sit on; systemic sweeps (common noise, types, or a systemic key swept)
# are solved by mfg_finance.mfg.systemic and read the sigma0 calibration
SWEEP_SCENARIO = {name: spec.get("scenario", "baseline") for name, spec in config["sweeps"].items()}
SYSTEMIC_SWEEPS = [name for name, spec in config["sweeps"].items()
                   if is_systemic_sweep(mfg_run_overrides(config["mfg"], SWEEP_SCENARIO[name]), spec)]
# verify_mfg compares the headline outcomes with the exact ones at the baseline and at each corner of a
# sweep on the baseline (systemic sweeps have no exact reference)
# named with their values (the report's verification tables say which corner they compare)
VERIFICATION_CORNERS = {f"{name} corner ({', '.join(f'{k} = {v:.4g}' for k, v in corner.items())})": corner
                        for name, points in SWEEPS.items()
                        if points and name not in SYSTEMIC_SWEEPS and SWEEP_SCENARIO[name] == "baseline"
                        for corner in [corner_point(points)]}
MM = config["market_making"]
NOTEBOOKS = expand("results/notebooks/{nb}.{ext}", nb=["mfg_pipeline", "market_making"],
                   ext=["ipynb", "html"])


def _alternation(names):
    return "|".join(sorted(names)) if names else "(?!)"


wildcard_constraints:
    scenario=_alternation(SCENARIOS),
    systemic_scenario=_alternation(SYSTEMIC_SCENARIOS),
    sweep=_alternation(SWEEPS),
    strategy=_alternation(MM["strategies"]),
    ticker=_alternation(MM["tickers"]),
    point_id="[0-9a-f]{12}",
    batch=BATCH_WILDCARD,


# The user's files are resolved now, before any job: a glob matching nothing stops the run here
# (an input function's error would let Snakemake keep the outputs of an earlier run instead).
if config["data"]["source"] == "local":
    try:
        LOCAL_FILES = local_input_files(config["data"]["local"]["glob"])
    except ConfigError as exc:
        raise WorkflowError(f"Invalid configuration ({CONFIG_SOURCES}): {exc}")


def cotahist_files(wildcards=None):
    """The COTAHIST files the ingestion reads, by data.source."""
    source = config["data"]["source"]
    if source == "sample":
        return ["resources/cotahist/sample/COTAHIST_SAMPLE.TXT"]
    if source == "b3":
        return expand("resources/cotahist/b3/COTAHIST_A{year}.ZIP", year=config["data"]["b3"]["years"])
    return LOCAL_FILES


# One ingestion job per input file (docs/cotahist.md, "Forty years"): its key names its dataset folder
# results/data/quotes/{cotahist_file}/year=YYYY/part-0.parquet; keys keep the input order.
try:
    COTAHIST_FILES = dict(zip(file_keys(cotahist_files()), cotahist_files()))
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration ({CONFIG_SOURCES}): {exc}")


def cotahist_file_path(wildcards):
    return COTAHIST_FILES[wildcards.cotahist_file]


def cotahist_file_fingerprint(wildcards):
    """One file's part of :func:`cotahist_fingerprint` (a params: entry of its ingestion job)."""
    path = COTAHIST_FILES[wildcards.cotahist_file]
    if config["data"]["source"] == "local":
        return {"source": "local", "file": file_fingerprints([path])[0]}
    return {"source": config["data"]["source"], "file": path}


QUOTES_DATASET = expand("results/data/quotes/{key}", key=list(COTAHIST_FILES))
INGEST_RECORDS = expand("results/data/ingest/{key}.json", key=list(COTAHIST_FILES))


def cotahist_fingerprint(wildcards=None):
    """What identifies the ingestion's input set (a params: entry, so any change reruns ingestion):
    the source and file names, and for the user's own files their size and modification time too."""
    if config["data"]["source"] == "local":
        return {"source": "local", "files": file_fingerprints(LOCAL_FILES)}
    return {"source": config["data"]["source"], "files": cotahist_files()}


def sweep_point_inputs(wildcards):
    """The calibration a sweep point reads: the MFG parameters, and the sigma0 calibration for a systemic sweep."""
    inputs = {"mfg_params": MFG_PARAMS, "kernels": kernel_inputs("mfg")}
    if wildcards.sweep in SYSTEMIC_SWEEPS:
        inputs["systemic_params"] = SYSTEMIC_PARAMS
        inputs["kernels"] = kernel_inputs("mfg", "systemic")
    return inputs


def sweep_batch_dirs(wildcards):
    """The batch folders of one sweep (each holds its points' {point_id}.json files)."""
    return expand("results/sweeps/{sweep}/points/{batch}", sweep=wildcards.sweep,
                  batch=list(SWEEP_BATCHES[wildcards.sweep]))


def sweep_batch_points(wildcards):
    """{point_id: swept values} of one batch of a sweep (the sweep_mfg job's params)."""
    return {pid: SWEEP_POINTS[wildcards.sweep][pid] for pid in SWEEP_BATCHES[wildcards.sweep][wildcards.batch]}


def backtest_files(wildcards=None):
    strategies = MM["strategies"] + (["ppo"] if MM["rl"]["enabled"] else [])
    return expand("results/market_making/{ticker}/{strategy}.parquet", ticker=MM["tickers"],
                  strategy=strategies)


def calibration_settings(wildcards):
    overrides = config["calibration"]["overrides"]
    if wildcards.model == "mfg":
        return {"representative": config["calibration"]["representative"],
                "spread": config["calibration"]["spread"], "T": config["mfg"]["grid"]["T"],
                **config["calibration"]["mfg_constants"], "overrides": {"mfg": overrides.get("mfg", {})},
                "intraday_median": config["calibration"]["intraday_median"]}
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
    "systemic_params": SYSTEMIC_PARAMS,
    "systemic_metrics": expand("results/systemic/{s}/metrics.json", s=SYSTEMIC_SCENARIOS),
    "systemic_figures": expand("results/systemic/{s}/overview.png", s=SYSTEMIC_SCENARIOS),
    "finite_n_metrics": ["results/systemic/finite_n/metrics.json"] if FINITE_N else [],
    "finite_n_figure": ["results/systemic/finite_n/convergence.png"] if FINITE_N else [],
    "systemic_sweeps": expand("results/sweeps/{sweep}.parquet", sweep=SYSTEMIC_SWEEPS),
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


# synthetic sessions S1..Sn (one make_sample_trades job writes them all); a session's index (its seed and
# date) is its position in the sorted names, S1, S10, S11, ..., S2, ...
SAMPLE_TRADE_FILES = [f"resources/trades/sample/{name}.zip"
                      for name in sorted(f"S{i + 1}" for i in range(TRADES["sample"]["n_sessions"]))]
if TRADES_SOURCE == "sample":
    TRADE_FILES = {Path(path).stem: path for path in SAMPLE_TRADE_FILES}
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
    REPORT_INPUTS["mfg_intraday_comparison"] = "results/mfg/intraday_comparison.json"


# --- Backtests against recorded trades (replay.smk, docs/market_making.md "Replay") ------------------

REPLAY = MM["replay"]
REPLAY_SETTINGS = {key: REPLAY[key] for key in ("dt_s", "queue", "queue_ahead", "latency_s", "maker_fee_bps",
                                                "taker_fee_bps", "reference_window", "seed")}
# one replay per (session, ticker, strategy), one job per session; none without trade files or with
# replay.enabled: false
REPLAY_STRATEGIES = REPLAY["strategies"] or MM["strategies"]
REPLAY_JOBS = ([(s, t, k) for s in TRADE_SESSIONS for t in MM["tickers"] for k in REPLAY_STRATEGIES]
               if REPLAY["enabled"] else [])
if REPLAY_JOBS:
    REPORT_INPUTS.update(replay_comparison="results/market_making/replay/comparison.csv",
                         replay_stats="results/market_making/replay/statistics.csv",
                         replay_summary="results/market_making/replay/summary.json",
                         replay_figure="results/market_making/replay/comparison.png")
