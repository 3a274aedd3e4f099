"""Fixtures of the report tests: the small-config pipeline run (shared with tests/workflow: one run per
session), the rendered report, the artefacts the report is built from, and headless Chromium."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# The workflow helpers live beside tests/workflow/conftest.py; importing them under the same module
# name ("wfutils") shares their cache of the pipeline run with the workflow tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from wfutils import small_pipeline  # noqa: E402

REPORT = Path("reports") / "final" / "mfg_report.html"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="session")
def pipeline(repo_root, tmp_path_factory) -> Path:
    """Work directory of the real pipeline run on tests/configs/small.yaml (one run per session)."""
    return small_pipeline(repo_root, tmp_path_factory)


@pytest.fixture(scope="session")
def report_path(pipeline) -> Path:
    return pipeline / REPORT


@pytest.fixture(scope="session")
def report_html(report_path) -> str:
    return report_path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's `chromium` package); the test is skipped without it."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium not installed (apt-get install chromium); .ci/run installs it")
