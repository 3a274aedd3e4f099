"""The check set of issue 14 (14 parameter sets and the gamma_T ladder), solved on the default grid (slow)."""

from __future__ import annotations

import math

import pytest

from mfg_cases import MUST_HOLD, STIFF, make, must_hold_config
from mfg_finance.mfg import solve
from test_mfg_accuracy import assert_estimates_within_factor_3
from test_mfg_consistency import LADDER, do_nothing_cost

pytestmark = pytest.mark.slow


#: Known misses of the factor-3 error estimate (sigma = 0.02 over T = 5: a law a few cells wide for the
#: whole horizon, pre-asymptotic at 101 x 75): half-life estimated 4.2x too low, cost 3.8x too high.
KNOWN_MISSES = {(1, -1.5, 0, 50, 0.02, 5): "half-life estimate 4.2x below the true error",
                (0, 1, 5, 50, 0.02, 5): "cost estimate 3.8x above the true error"}
CASES = [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[c])) if c in KNOWN_MISSES else c
         for c in MUST_HOLD]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "eta1={}-m0={}-phi={}-gT={}-sigma={}-T={}".format(*c))
def test_check_set(case):
    s = solve(must_hold_config(*case))
    assert s.iterations <= 10
    assert s.domain["boundary_mass"] < 1e-8                      # the automatic range holds the law
    assert s.mean_inventory[0] == pytest.approx(case[1], abs=1e-12)
    assert s.total_cost <= do_nothing_cost(s) * (1 + 1e-12)
    assert math.isclose(s.total_cost, float(s.density[0] @ s.u[0]) * s.dx, rel_tol=1e-10)
    assert_estimates_within_factor_3(s)


@pytest.mark.parametrize("mesh", ["graded", "uniform"])
def test_ladder_is_flagged_where_the_grid_cannot_resolve_it(mesh):
    for gamma_T in LADDER:
        s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": gamma_T}, grid={"time_mesh": mesh}))
        assert s.total_cost <= do_nothing_cost(s)
        # the terminal law is narrower than a cell: flagged, never reported as resolved
        assert "terminal_dispersion" in s.accuracy["unresolved"]
        if mesh == "uniform":
            assert s.accuracy["terminal_layer_resolved"] is False
