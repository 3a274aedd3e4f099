"""Shared fixtures: repository root, the real-data folder (skipped when absent); the session's pipeline run
started in the background (docs/testing.md, "One pipeline run shared by the workflow and report tests")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# The workflow helpers, under the one module name that shares their record of the pipeline run
# (tests/workflow/wfutils.py).
sys.path.insert(0, str(REPO_ROOT / "tests" / "workflow"))

import reproducibility  # noqa: E402
import wfutils  # noqa: E402

# Runs of the whole pipeline that start in the background when the session starts, if a selected test asks
# for the fixture named here (docs/testing.md): the unit tests leave one of the two cores idle.
BACKGROUND_RUNS = {
    "pipeline": wfutils.start_small_pipeline,                    # the session's run on the small config
    "interrupted": reproducibility.start_interrupted_run,        # the second run from scratch, killed, resumed
}


def shared_data_dir() -> Path:
    """Real B3 COTAHIST files beside the checkout (../shared/data/cotahist), or $MFG_SHARED_DATA."""
    return Path(os.environ.get("MFG_SHARED_DATA", REPO_ROOT.parent / "shared" / "data" / "cotahist"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real COTAHIST data not available at {path}")
    return path


def _needs_the_pipeline(item: pytest.Item) -> bool:
    return "pipeline" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """The modules whose tests read the session's pipeline run go last (each module's tests in their order):
    the run, started in the background when the session starts, overlaps every other test."""
    late = {getattr(item, "module", None) for item in items if _needs_the_pipeline(item)}
    items[:] = ([i for i in items if getattr(i, "module", None) not in late]
                + [i for i in items if getattr(i, "module", None) in late])


@pytest.fixture(scope="session", autouse=True)
def pipeline_runs_in_background(request, tmp_path_factory):
    """Start the whole-pipeline runs the selected tests ask for (BACKGROUND_RUNS); their fixtures wait for them.
    Those still running when the session ends (stopped early) are ended."""
    asked = set().union(*(getattr(item, "fixturenames", ()) for item in request.session.items))
    for fixture, start in BACKGROUND_RUNS.items():
        if fixture in asked:
            start(REPO_ROOT, tmp_path_factory)
    yield
    wfutils.stop_background_runs()
