"""Reproducibility: a second run from scratch gives the same bytes, also when it was killed and resumed.

The reference is the session's pipeline run on the small config (the ``pipeline`` fixture). The second run
(``interrupted``, started in the background when the session starts: ``reproducibility.start_interrupted_run``)
runs the same workflow from an empty temporary copy, is killed with SIGKILL once the calibration is written
(jobs running), unlocked and resumed. Every one of its outputs was computed by its own processes, from
nothing the session's run wrote, so comparing all of them with the reference tests both properties at the
cost of one run: two runs from scratch give the same bytes, and an interrupted run resumes to them. Only its
numba kernels come from the session's run, which compiled them from nothing (``seed_kernel_cache``): the
comparison also shows that no result depends on whether a job compiled its kernels or loaded them. Each
output is compared with :func:`reproducibility.differences` (its module docstring lists what is excluded and
why: logs, Snakemake's benchmark files, and the run timestamps inside the executed notebooks and the report).

With ``-m slow``: a second run that is not interrupted, and the SIGTERM interruption (a clean stop), each
compiling its kernels from nothing.
"""

from __future__ import annotations

import signal

import pytest

from reproducibility import (INTERRUPTED_RUN, InterruptedRun, differences, digest, interrupted_and_resumed,
                             is_temporary, output_files, start_interrupted_run)
from wfutils import SMALL_CONFIG, copy_workflow, from_background, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def interrupted(repo_root, tmp_path_factory) -> InterruptedRun:
    start_interrupted_run(repo_root, tmp_path_factory)    # already started with the session, normally
    return from_background(INTERRUPTED_RUN)


def test_second_run_from_scratch_gives_identical_outputs(pipeline, interrupted):
    assert len(output_files(interrupted.workdir)) > 50
    assert differences(pipeline, interrupted.workdir) == []
    provenance = (interrupted.workdir / "results" / "provenance.json").read_text()
    assert "config_sha256" in provenance and str(interrupted.workdir) not in provenance


def assert_resumed_to_identical_outputs(pipeline, run: InterruptedRun) -> None:
    # Whatever stood at an output's name when the run was killed was complete: the uninterrupted run's bytes.
    # (A killed writer may leave a temporary file; it never carries an output's name.)
    complete = run.complete_at_interruption
    assert complete and len(complete) < len(output_files(pipeline))
    assert [rel for rel, sha in complete.items() if digest(rel, (pipeline / rel).read_bytes()) != sha] == []

    if run.signal == signal.SIGKILL:   # Snakemake could not release its lock: the user is told to unlock first
        locked = run.first_resume
        assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr

    assert [f for f in output_files(run.workdir) if is_temporary(f)] == []
    assert differences(pipeline, run.workdir) == []
    dry = snakemake(run.workdir, "-n", "--cores", "2", "all")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_killed_run_resumes_to_identical_outputs(pipeline, interrupted):
    assert interrupted.signal == signal.SIGKILL
    assert_resumed_to_identical_outputs(pipeline, interrupted)


@pytest.mark.slow
def test_two_uninterrupted_clean_runs_give_identical_outputs(pipeline, repo_root, tmp_path):
    other = copy_workflow(repo_root, tmp_path / "wf", repo_root / SMALL_CONFIG, own_kernel_cache=True)
    snakemake(other, "--cores", "2", "all")
    assert differences(pipeline, other) == []


@pytest.mark.slow
def test_terminated_run_resumes_to_identical_outputs(pipeline, repo_root, tmp_path):
    # SIGTERM (a clean stop), earlier in the run than the default run's SIGKILL
    workdir = copy_workflow(repo_root, tmp_path / "wf", repo_root / SMALL_CONFIG, own_kernel_cache=True)
    run = interrupted_and_resumed(workdir, signal.SIGTERM, "results/stats/asset_stats.parquet")
    assert_resumed_to_identical_outputs(pipeline, run)
