"""Reproducibility: two clean runs give the same bytes; an interrupted run resumes to the same bytes.

The reference is the session's pipeline run on the small config (the ``pipeline`` fixture), compared with
:func:`reproducibility.differences` (its module docstring lists what is excluded and why: logs, Snakemake's
benchmark files, and the run timestamps inside the executed notebooks and the report).

* The second clean run starts from an empty copy of the repository: two independent runs from scratch.
* The interrupted run starts from a private copy of the finished run with the outputs of several stages
  deleted (``RERUN``: the MFG solves, the sweeps, the systemic scenarios, and so everything downstream of
  them): Snakemake reruns a few dozen jobs, two at a time, and is killed as soon as the first of them has
  written its outputs while others run. What is tested (no output left half-written under its name, the
  SIGKILL lock, the resume to identical bytes) is the same as when the run starts from nothing; the jobs
  upstream of calibration are not run a third time.
"""

from __future__ import annotations

import os
import shutil
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


def interrupt_mid_run(workdir: Path, sig: signal.Signals, ready, timeout: float = 300) -> None:
    """Start ``snakemake --cores 2 all``; once ``ready()`` holds and a job is running, send ``sig`` to the
    whole process group (Snakemake and its jobs, as a scheduler or a closed terminal does)."""
    with open(workdir / "interrupted.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", "all"], cwd=workdir,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while not (ready() and running_jobs(workdir)):
                assert proc.poll() is None, "the run ended before it could be interrupted"
                assert time.monotonic() < deadline, f"the run was not ready to interrupt within {timeout} s"
                time.sleep(0.05)
            os.killpg(proc.pid, sig)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode != 0


# Stages whose outputs the interrupted run has to write again (with what depends on them: notebooks, report).
RERUN = ("results/mfg", "results/sweeps", "results/systemic")


def delete_stages(workdir: Path) -> list[str]:
    """Delete the outputs under ``RERUN``; return their paths, relative to ``workdir``."""
    deleted = [f for f in output_files(workdir) if f.startswith(tuple(d + "/" for d in RERUN))]
    for directory in RERUN:
        shutil.rmtree(workdir / directory)
    return deleted


@pytest.mark.parametrize("sig", [
    # SIGTERM (a clean stop) runs with -m slow: the SIGKILL case covers the harder resume within the default run's budget
    pytest.param(signal.SIGTERM, marks=pytest.mark.slow),
    signal.SIGKILL,
], ids=["sigterm", "sigkill"])
def test_interrupted_run_resumes_to_identical_outputs(pipeline, finished_run, sig):
    workdir = finished_run
    deleted = delete_stages(workdir)
    assert len(deleted) > 20

    def rewritten() -> list[str]:
        return [f for f in deleted if (workdir / f).exists()]

    # interrupted once some of the deleted outputs are back and others are still to come
    interrupt_mid_run(workdir, sig, lambda: 0 < len(rewritten()) < len(deleted) - 5)

    # Whatever stands at an output's name is complete: byte-identical to the uninterrupted run's file.
    # (A killed writer may leave a temporary file; it never carries an output's name.)
    assert 0 < len(rewritten()) < len(deleted)
    written = output_files(workdir, temporaries=False)
    assert [d for d in differences(pipeline, workdir, files=written) if d.startswith("differs")] == []

    if sig == signal.SIGKILL:   # Snakemake could not release its lock: the user is told to unlock first
        locked = snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete", check=False)
        assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
        snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete")

    assert rewritten() == deleted
    assert [f for f in output_files(workdir) if is_temporary(f)] == []
    assert differences(pipeline, workdir) == []
    dry = snakemake(workdir, "-n", "--cores", "2", "all")
    assert "Nothing to be done" in dry.stdout + dry.stderr
