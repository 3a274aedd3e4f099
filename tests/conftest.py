"""Shared fixtures: repository root, the real-data folder (skipped when absent); the session's pipeline run
started in the background (docs/testing.md, "One pipeline run shared by the workflow and report tests")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# One numba cache for the tests and for the Snakemake runs of the workflow tests that share it (all but the
# whole-pipeline runs from scratch; docs/testing.md, "numba kernels"): a kernel compiled by a unit test is loaded
# by a workflow test's jobs and the other way round, instead of being compiled again in every temporary copy.
# Under the digest of the kernels' source (mfg_finance.numba_cache), so that a changed kernel module starts a
# fresh cache (numba alone would keep a changed callee's old machine code); apart from the checkout's own
# pipeline cache (.snakemake/numba-cache), which a Snakemake run beside the tests may be writing. Set before
# anything imports numba, which reads it once. A NUMBA_CACHE_DIR set by the user wins.
from mfg_finance.numba_cache import numba_cache_dir  # noqa: E402

os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir(REPO_ROOT / ".pytest_cache" / "numba-cache"))

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


def pytest_collection_modifyitems(config, items):
    """Tests that wait for a background run (BACKGROUND_RUNS) go last, in the order of that list, each group
    in its collection order: the runs overlap every other test (which does not depend on the order)."""
    def waits_for(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return max((rank + 1 for rank, fixture in enumerate(BACKGROUND_RUNS) if fixture in names), default=0)

    items.sort(key=waits_for)      # stable


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
