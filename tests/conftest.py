"""Shared fixtures: repository root, the real-data folder (skipped when absent); the session's pipeline run
started in the background (docs/testing.md, "One pipeline run shared by the workflow and report tests")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# numba's cache of the test process, under the digest of the kernels' source (mfg_finance.numba_cache, as the
# workflow's): numba alone checks only the compiled function's own file, so after an edit of a kernel module
# that another kernel calls, the tests would run the caller's old machine code. Kept beside pytest's cache;
# the Snakemake runs of the workflow tests use their own (tests/workflow/wfkernels.py). Set before anything
# imports numba, which reads it once. A NUMBA_CACHE_DIR set by the user wins.
from mfg_finance.numba_cache import numba_cache_dir  # noqa: E402

_OWN_NUMBA_CACHE = "NUMBA_CACHE_DIR" not in os.environ
os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir(REPO_ROOT / ".pytest_cache" / "numba-cache"))

# The workflow helpers, under the one module name that shares their record of the pipeline run
# (tests/workflow/wfutils.py).
sys.path.insert(0, str(REPO_ROOT / "tests" / "workflow"))

import reproducibility  # noqa: E402
import testkernels  # noqa: E402
import wfkernels  # noqa: E402
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


def _test_dir(item: pytest.Item) -> str:
    """The top-level directory under tests/ of a test ("" outside it)."""
    try:
        parts = Path(str(item.path)).resolve().relative_to(REPO_ROOT).parts
    except ValueError:
        return ""
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else ""


def pytest_collection_modifyitems(config, items):
    """Tests that wait for a background run (BACKGROUND_RUNS) go last, in the order of that list: the runs
    overlap every other test. Before them, the other tests by directory: first those whose kernels are not
    compiled ahead, then those of testkernels.KERNEL_DIRS in its order (the background warm-up compiles their
    kernels meanwhile), then tests/workflow; each group in its collection order. No test depends on the order."""
    def waits_for(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return max((rank + 1 for rank, fixture in enumerate(BACKGROUND_RUNS) if fixture in names), default=0)

    kernel_dirs = list(testkernels.KERNEL_DIRS)

    def group(item: pytest.Item) -> int:
        directory = _test_dir(item)
        if directory == "workflow":
            return len(kernel_dirs) + 1
        return kernel_dirs.index(directory) + 1 if directory in kernel_dirs else 0

    items.sort(key=lambda item: (waits_for(item), group(item)))      # stable


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Copy the kernels the background warm-up has finished into the tests' cache (testkernels.py). The first
    workflow test (marker ``workflow``, or waiting for a background run) lets the second run from scratch start
    (reproducibility.start_interrupted_run)."""
    testkernels.merge_finished()            # kernels the warm-up has compiled since the last test (between tests)
    if item.get_closest_marker("workflow") or set(BACKGROUND_RUNS) & set(getattr(item, "fixturenames", ())):
        wfutils.workflow_tests_reached()


@pytest.fixture(scope="session", autouse=True)
def pipeline_runs_in_background(request, tmp_path_factory):
    """Start the whole-pipeline runs the selected tests ask for (BACKGROUND_RUNS); their fixtures wait for them.
    Those still running when the session ends (stopped early) are ended."""
    asked = set().union(*(getattr(item, "fixturenames", ()) for item in request.session.items))
    wfkernels.start_session(tmp_path_factory.mktemp("session"))      # the package the Snakemake runs import
    for fixture, start in BACKGROUND_RUNS.items():
        if fixture in asked:
            start(REPO_ROOT, tmp_path_factory)
    _start_kernel_warmup(request.session.items, tmp_path_factory)
    yield
    testkernels.stop()
    wfutils.stop_background_runs()


def _start_kernel_warmup(items: list[pytest.Item], tmp_path_factory) -> None:
    """Compile ahead, in the background, the kernels of the selected tests (testkernels.py: steps_for), only
    into the tests' own cache (not a NUMBA_CACHE_DIR the user set, which other processes may be writing)."""
    if not items or not _OWN_NUMBA_CACHE or os.environ.get("NUMBA_DISABLE_JIT", "0") != "0":
        return
    steps = testkernels.steps_for(list(dict.fromkeys(map(_test_dir, items))), _test_dir(items[0]))
    if steps:
        testkernels.start(steps, Path(os.environ["NUMBA_CACHE_DIR"]), tmp_path_factory.mktemp("kernel-warmup"))
