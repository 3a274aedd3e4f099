"""The path a new user walks from the README (issue 20): their own files, their own numbers, the CLI on the
pipeline's outputs, the notebooks by hand, and what a failure looks like.

Most tests use the session's small-config pipeline run (``pipeline``) and only dry-run Snakemake there or read
its outputs; the ones that change files or run jobs after a first run work in a private copy of that finished
run (``finished_run``), the others that run jobs in their own temporary copy of the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from wfutils import SMALL_CONFIG, copy_workflow, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

INGEST_SUMMARY = "results/data/ingest_summary.json"
# Everything after ingestion that the report needs: all of it must be planned again when the inputs change.
DOWNSTREAM = ("ingest_cotahist", "select_equities", "compute_stats", "plot_analytics", "calibrate", "solve_mfg",
              "verify_mfg", "sweep_mfg", "backtest_market_making", "run_notebook", "write_provenance", "render_report")


def dry_run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return snakemake(workdir, "-n", "--cores", "1", *args, check=False, timeout=300)


# -- 1. the input files are part of what triggers ingestion ---------------------------------------------

# The typo takes the same path through Snakemake (-m slow); what the message says for each case is checked in
# process by tests/unit/test_local_files.py.
@pytest.mark.parametrize("data", [
    '{"source": "local"}',                                                       # the empty default folder
    pytest.param('{"source": "local", "local": {"glob": "resources/cotahist/local/COTAHIST_M012022.ZIP"}}',
                 marks=pytest.mark.slow),                                        # a typo
], ids=["empty_default_folder", "mistyped_glob"])
def test_local_glob_matching_nothing_fails_before_any_job_even_after_a_run(pipeline, data):
    before = sorted(p.stat().st_mtime_ns for p in (pipeline / "results").rglob("*") if p.is_file())
    proc = dry_run(pipeline, "all", "--config", f"data={data}")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-2000:]
    assert "data.local.glob: no file matches 'resources/cotahist/local/" in output, output[-2000:]
    assert "Nothing to be done" not in output
    # and without -n too: refused while parsing, nothing touched
    proc = snakemake(pipeline, "--cores", "1", "all", "--config", f"data={data}", check=False, timeout=300)
    assert proc.returncode != 0 and "data.local.glob: no file matches" in proc.stdout + proc.stderr
    assert sorted(p.stat().st_mtime_ns for p in (pipeline / "results").rglob("*") if p.is_file()) == before


def test_switching_to_local_files_reruns_ingestion_and_everything_after(finished_run):
    local = finished_run / "resources" / "cotahist" / "local"
    local.mkdir(parents=True)
    # the very file the run ingested, now as the user's own: still a different input set
    shutil.copy2(finished_run / "resources/cotahist/sample/COTAHIST_SAMPLE.TXT", local / "COTAHIST_A2023.TXT")
    proc = dry_run(finished_run, "all", "--config", 'data={"source": "local"}')
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = planned_jobs(proc.stdout)
    assert all(jobs.get(rule) for rule in DOWNSTREAM), jobs
    assert "make_sample_cotahist" not in jobs


def _ingest_only_copy(repo_root: Path, workdir: Path) -> Path:
    copy_workflow(repo_root, workdir, repo_root / SMALL_CONFIG)
    config_path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["data"].update(source="local", local={"glob": "resources/cotahist/local/COTAHIST_*"})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    (workdir / "resources" / "cotahist" / "local").mkdir(parents=True)
    return workdir


def _write_cotahist(path: Path, seed: int, start_date: str) -> Path:
    from mfg_finance.cotahist.sample import write_sample_cotahist

    write_sample_cotahist(path, seed=seed, n_tickers=5, n_sessions=20, start_date=start_date)
    return path


def test_adding_removing_or_replacing_a_local_file_reruns_ingestion(repo_root, tmp_path):
    workdir = _ingest_only_copy(repo_root, tmp_path / "wf")
    local = workdir / "resources" / "cotahist" / "local"
    first = _write_cotahist(local / "COTAHIST_A2021.TXT", seed=1, start_date="2021-01-04")
    snakemake(workdir, "--cores", "1", INGEST_SUMMARY)
    assert "Nothing to be done" in dry_run(workdir, INGEST_SUMMARY).stdout

    def planned() -> dict:
        return planned_jobs(dry_run(workdir, INGEST_SUMMARY).stdout)

    second = _write_cotahist(local / "COTAHIST_A2022.TXT", seed=2, start_date="2022-01-03")
    os.utime(second, ns=(first.stat().st_mtime_ns - 10**9,) * 2)    # older than the outputs: mtime alone misses it
    assert planned().get("ingest_cotahist") == 1

    second.unlink()                                                    # back to the set that was ingested
    assert planned() == {}

    stamp = first.stat().st_mtime_ns
    _write_cotahist(first, seed=3, start_date="2021-01-04")            # same name, other content, old mtime
    os.utime(first, ns=(stamp - 10**9,) * 2)
    assert planned().get("ingest_cotahist") == 1


# -- 3. command-line overrides set numbers, and messages name the files used ----------------------------

def test_config_override_on_the_command_line_sets_a_number(pipeline):
    proc = dry_run(pipeline, "all", "--config", 'mfg={"params": {"phi": 0.05}}')
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "--config values read as the schema's types: mfg.params.phi: '0.05' -> 0.05" in output
    # exactly what the same edit of config/config.yaml plans (tests/workflow/test_pipeline.py): the
    # batches (mfg_finance.batching) of the eta1 sweep and of the two systemic sweeps among them
    from mfg_finance.batching import batches
    from mfg_finance.sweeps import sweep_points

    config = yaml.safe_load((pipeline / "config" / "config.yaml").read_text())
    n_batches = sum(len(batches([p["point_id"] for p in sweep_points(config["sweeps"][s], name=s)],
                                config.get("batching", {}).get("jobs_per_sweep", 2)))
                    for s in ("eta1", "sigma0", "urgent_share"))
    assert planned_jobs(proc.stdout) == {"solve_mfg": 2, "verify_mfg": 1, "sweep_mfg": n_batches, "aggregate_sweep": 3,
                                         "solve_systemic": 2, "finite_n_check": 1,
                                         "solve_equilibrium": 1, "sweep_regimes": 1, "compare_mfg_intraday": 1,
                                         "run_notebook": 1, "write_provenance": 1, "render_report": 1, "all": 1}


def test_bad_override_names_the_key_what_was_coerced_and_the_sources(pipeline):
    proc = dry_run(pipeline, "all", "--config", 'mfg={"params": {"phi": -0.05}}', 'stats={"min_sessions": "x"}')
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Invalid configuration (config/config.yaml; --config mfg, stats)" in output, output[-3000:]
    assert "mfg.params.phi: -0.05 is not valid" in output
    assert "stats.min_sessions: 'x' is not of type 'integer'" in output
    assert "mfg.params.phi: '-0.05' -> -0.05" in output


def test_schema_message_names_the_configfile_actually_used(pipeline, tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("stats: {min_sessions: 1}\n")
    proc = dry_run(pipeline, "all", "--configfile", str(extra))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"Invalid configuration (config/config.yaml; {extra.as_posix()})" in output, output[-3000:]
    assert "stats.min_sessions: 1 is less than the minimum of 2" in output


# -- 4. the command-line tool runs on the pipeline's own config and calibration -------------------------

@pytest.mark.parametrize("scenario", ["baseline", "endogenous_price"])
def test_mfg_run_with_the_pipeline_config_and_calibration_reproduces_its_solve(pipeline, tmp_path, scenario):
    from mfg_finance.cli import main

    out = tmp_path / scenario
    assert main(["run", "--config", str(pipeline / "config/config.yaml"),
                 "--params", str(pipeline / "results/calibration/mfg_params.yaml"),
                 "--scenario", scenario, "--out", str(out), "--no-figures"]) == 0
    with np.load(out / "solution.npz") as ours, np.load(pipeline / f"results/mfg/{scenario}/solution.npz") as theirs:
        assert sorted(ours.files) == sorted(theirs.files)
        for name in theirs.files:
            np.testing.assert_array_equal(ours[name], theirs[name])


def test_mfg_run_says_what_is_missing_without_calibration(pipeline, capsys):
    from mfg_finance.cli import main

    assert main(["run", "--config", str(pipeline / "config/config.yaml"), "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "mfg.params ['sigma', 'eta0', 'eta1', 'phi', 'gamma_T'] are null" in err
    assert "--params results/calibration/mfg_params.yaml" in err
    assert main(["run", "--config", str(pipeline / "config/config.yaml"), "--scenario", "nope",
                 "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "mfg.scenarios.nope: no such scenario; defined: [" in err and "'baseline'" in err


def test_backtest_with_the_pipeline_config_and_calibration_reproduces_its_backtest(pipeline, tmp_path):
    from mfg_finance.cli import main

    out = tmp_path / "bt"
    assert main(["backtest", "--config", str(pipeline / "config/config.yaml"),
                 "--params", str(pipeline / "results/calibration/mm_params.yaml"), "--ticker", "SYNB4",
                 "--strategies", "hjb", "--output-dir", str(out)]) == 0
    ours = pd.read_parquet(out / "backtest_results.parquet")
    theirs = pd.read_parquet(pipeline / "results/market_making/SYNB4/hjb.parquet")
    assert len(ours) == len(theirs) == 200
    np.testing.assert_array_equal(ours["final_pnl"].to_numpy(), theirs["final_pnl"].to_numpy())


# -- 5. notebooks: a clean parameters cell, runnable from anywhere ---------------------------------------

def _papermill(notebook: Path, out: Path, cwd: Path, *params: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(out), "--no-progress-bar",
                           *params], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_pipeline_notebooks_log_no_parameter_warning(pipeline):
    for name in ("mfg_pipeline", "market_making"):
        log = (pipeline / f"logs/report/run_notebook_{name}.log").read_text()
        assert "Unable to parse" not in log and "unknown parameter" not in log, log


def test_notebook_runs_from_another_directory_with_pipeline_dir(pipeline, tmp_path):
    notebook = pipeline / "workflow/notebooks/market_making.ipynb"
    proc = _papermill(notebook, tmp_path / "mm.ipynb", tmp_path, "-p", "pipeline_dir", str(pipeline))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Unable to parse" not in proc.stderr and "unknown parameter" not in proc.stderr


def test_notebook_without_the_pipeline_outputs_says_so(pipeline, tmp_path):
    proc = _papermill(pipeline / "workflow/notebooks/mfg_pipeline.ipynb", tmp_path / "mfg.ipynb", tmp_path)
    assert proc.returncode != 0
    assert (f"MissingOutputError: results/calibration/mfg_params.yaml: not found under pipeline_dir {tmp_path}"
            in proc.stderr), proc.stderr[-3000:]
    assert "-p pipeline_dir /path/to/mfg-finance" in proc.stderr


# -- 6. one clear message per failure; provenance only with its results ---------------------------------

def test_a_wrong_ticker_is_reported_once_without_a_traceback(finished_run):
    workdir = finished_run      # what the user has after the first run; the ticker change reruns the calibration
    proc = snakemake(workdir, "--cores", "1", "results/calibration/mm_params.yaml", "--config",
                     'market_making={"tickers": ["SYNA3", "SYNB4", "XXXX3"]}', check=False, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # whichever job meets the ticker first (calibration, the sample's trades), it says so once, on one line
    failures = [line for line in output.splitlines() if "job failed:" in line]
    assert len(failures) == 1 and "XXXX3" in failures[0], output[-4000:]
    assert "Traceback" not in output
    log = re.search(r"log: (\S+) \(check log file", output).group(1)
    assert "XXXX3" in (workdir / log).read_text() and "Traceback" in (workdir / log).read_text()   # details kept


def test_provenance_is_written_only_after_every_result(repo_root, tmp_path):
    workdir = copy_workflow(repo_root, tmp_path / "wf", repo_root / SMALL_CONFIG)
    jobs = planned_jobs(dry_run(workdir, "results/provenance.json").stdout)
    # provenance needs every result the report shows: a failure anywhere leaves no provenance behind
    assert all(jobs.get(rule) for rule in DOWNSTREAM if rule != "render_report"), jobs
    assert "render_report" not in jobs
