"""Fixtures of the COTAHIST tests: the real-data folder (skipped when absent)."""

from __future__ import annotations

import pytest

from cotahist_testing import shared_data_dir


@pytest.fixture(scope="session")
def cotahist_dir():
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real COTAHIST files not available at {path} (set MFG_SHARED_DATA)")
    return path
