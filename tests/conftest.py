"""Shared fixtures: repository root, the real-data folder (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


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
