"""Session fixtures of the workflow tests: the small-config pipeline, run once per test session.

Helpers (``snakemake``, ``copy_workflow``, ``planned_jobs``, ``finished_copy``) live in ``wfutils.py`` beside
this file: ``from wfutils import snakemake, copy_workflow, planned_jobs``.

Which fixture a test takes:

* ``pipeline``: the shared run, for tests that only read its outputs or dry-run Snakemake there (it is never
  changed, so every test sees the same finished run whatever the order);
* ``finished_run``: a private copy of that run, for tests that edit the config, delete outputs or run jobs
  starting from a finished run (a config edit, an interrupted rerun, a failing job next to finished branches);
* ``copy_workflow(...)``: an empty working directory, for tests whose subject is a run from scratch
  (the second clean run of the reproducibility test, other input data, refusals before any job).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wfutils import finished_copy, small_pipeline


@pytest.fixture(scope="session")
def pipeline(repo_root, tmp_path_factory) -> Path:
    """Work directory of the real pipeline run on tests/configs/small.yaml (shared by the whole session:
    read it, never change it)."""
    return small_pipeline(repo_root, tmp_path_factory)


@pytest.fixture()
def finished_run(pipeline, tmp_path) -> Path:
    """A private copy of the session's finished run: edit it, delete from it, run jobs in it."""
    return finished_copy(pipeline, tmp_path / "finished")
