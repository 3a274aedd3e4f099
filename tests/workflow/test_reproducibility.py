"""Reproducibility: two clean runs give the same bytes; an interrupted run resumes to the same bytes.

The reference is the session's pipeline run on the small config (the ``pipeline`` fixture). Each test here
runs the same workflow again in another temporary copy and compares every output with
:func:`reproducibility.differences` (its module docstring lists what is excluded and why: logs, Snakemake's
benchmark files, and the run timestamps inside the executed notebooks and the report).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reproducibility import differences, is_temporary, output_files
from wfutils import SMALL_CONFIG, copy_workflow, snakemake

pytestmark = pytest.mark.workflow


def test_two_clean_runs_give_identical_outputs(pipeline, repo_root, tmp_path):
    other = copy_workflow(repo_root, tmp_path / "wf", repo_root / SMALL_CONFIG)
    snakemake(other, "--cores", "2", "all")
    assert len(output_files(other)) > 50
    assert differences(pipeline, other) == []
    provenance = (other / "results" / "provenance.json").read_text()
    assert "config_sha256" in provenance and str(tmp_path) not in provenance


def running_jobs(workdir: Path) -> list[Path]:
    """Outputs Snakemake has marked incomplete: the jobs running right now."""
    marks = workdir / ".snakemake" / "incomplete"
    return list(marks.iterdir()) if marks.is_dir() else []


def interrupt_mid_run(workdir: Path, sig: signal.Signals, after: str, timeout: float = 300) -> None:
    """Start ``snakemake --cores 2 all``; once ``after`` exists and a job is running, send ``sig`` to the
    whole process group (Snakemake and its jobs, as a scheduler or a closed terminal does)."""
    with open(workdir / "interrupted.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", "all"], cwd=workdir,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while not ((workdir / after).exists() and running_jobs(workdir)):
                assert proc.poll() is None, "the run ended before it could be interrupted"
                assert time.monotonic() < deadline, f"{after} was not written within {timeout} s"
                time.sleep(0.05)
            os.killpg(proc.pid, sig)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode != 0


@pytest.mark.parametrize("sig, after", [
    # SIGTERM (a clean stop) runs with -m slow: the SIGKILL case covers the harder resume within the default run's budget
    pytest.param(signal.SIGTERM, "results/stats/asset_stats.parquet", marks=pytest.mark.slow),
    (signal.SIGKILL, "results/calibration/mfg_params.yaml"),
], ids=["sigterm", "sigkill"])
def test_interrupted_run_resumes_to_identical_outputs(pipeline, repo_root, tmp_path, sig, after):
    workdir = copy_workflow(repo_root, tmp_path / "wf", repo_root / SMALL_CONFIG)
    interrupt_mid_run(workdir, sig, after)

    # Whatever stands at an output's name is complete: byte-identical to the uninterrupted run's file.
    # (A killed writer may leave a temporary file; it never carries an output's name.)
    written = output_files(workdir, temporaries=False)
    assert written and len(written) < len(output_files(pipeline))
    assert [d for d in differences(pipeline, workdir, files=written) if d.startswith("differs")] == []

    if sig == signal.SIGKILL:   # Snakemake could not release its lock: the user is told to unlock first
        locked = snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete", check=False)
        assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
        snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete")

    assert [f for f in output_files(workdir) if is_temporary(f)] == []
    assert differences(pipeline, workdir) == []
    dry = snakemake(workdir, "-n", "--cores", "2", "all")
    assert "Nothing to be done" in dry.stdout + dry.stderr
