"""Fixtures of the trade-file tests: the real-data folders (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("MFG_SHARED_ROOT", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def trades_dir() -> Path:
    path = SHARED / "trades"
    if not (path / "NEG_OPCOES_20160104.zip").is_file():
        pytest.skip(f"real B3 trade files not available at {path}")
    return path


@pytest.fixture(scope="session")
def cotahist_day_2016(trades_dir) -> Path:
    path = SHARED / "cotahist" / "COTAHIST_D04012016.TXT"
    if not path.is_file():
        pytest.skip(f"COTAHIST_D04012016.TXT not available at {path}")
    return path
