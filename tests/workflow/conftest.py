"""Session fixtures of the workflow tests: the small-config pipeline, run once per test session.

Helpers (``snakemake``, ``copy_workflow``, ``planned_jobs``) live in ``wfutils.py`` beside this file:
``from wfutils import snakemake, copy_workflow, planned_jobs``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wfutils import small_pipeline


@pytest.fixture(scope="session")
def pipeline(repo_root, tmp_path_factory) -> Path:
    """Work directory of the real pipeline run on tests/configs/small.yaml (shared by the whole session;
    a test that edits it must restore it)."""
    return small_pipeline(repo_root, tmp_path_factory)
