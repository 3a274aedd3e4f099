"""Session fixtures of the MFG tests: the stiff baseline solved once per method."""

from __future__ import annotations

import copy

import pytest

from mfg_cases import STIFF, make


@pytest.fixture(scope="session")
def stiff_solution():
    from mfg_finance.mfg import solve

    return solve(copy.deepcopy(STIFF))


@pytest.fixture(scope="session")
def stiff_picard_solution():
    from mfg_finance.mfg import solve

    return solve(make(STIFF, solver={"method": "picard"}))
