"""The check set of issue 14 (14 parameter sets and the gamma_T ladder), solved on the default grid (slow)."""

from __future__ import annotations

import math

import pytest

from mfg_cases import MUST_HOLD, STIFF, make, must_hold_config
from mfg_finance.mfg import solve
from mfg_finance.mfg.exact import exact_outcomes
from test_mfg_accuracy import assert_estimates_within_factor_3, assert_within_target
from test_mfg_consistency import LADDER, do_nothing_cost

pytestmark = pytest.mark.slow

#: Known miss of the 2% target (docs/mfg.md, section 11): sigma = 0.02 carried from -1.5 to 0 with a terminal
#: penalty; the terminal law (std 0.002) is squeezed in the terminal layer on upwind cells, and its std's
#: spatial error is not extrapolated there (its estimate covers it).
TARGET_MISSES = {(1, -1.5, 0, 50, 0.02, 5): "terminal std -3.9% (estimate 2.2%)"}
ESTIMATE_MISSES = {(1, -1.5, 0, 50, 0.02, 5): "speed -0.24%, estimate 0.32x the error"}
IDS = "eta1={}-m0={}-phi={}-gT={}-sigma={}-T={}".format


@pytest.fixture(scope="module")
def solved():
    return {case: solve(must_hold_config(*case)) for case in MUST_HOLD}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=ESTIMATE_MISSES[c]))
                                  if c in ESTIMATE_MISSES else c for c in MUST_HOLD], ids=lambda c: IDS(*c))
def test_check_set_solves_and_estimates_its_errors(case, solved):
    s = solved[case]
    assert s.iterations <= 10
    assert s.domain["boundary_mass"] < 1e-8                      # the automatic range holds the law
    assert s.mean_inventory[0] == pytest.approx(case[1], abs=1e-12)
    assert s.total_cost <= do_nothing_cost(s) * (1 + 1e-12)
    assert math.isclose(s.total_cost, float(s.masses[0] @ s.u[0]), rel_tol=1e-10)
    assert_estimates_within_factor_3(s)


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=TARGET_MISSES[c]))
                                  if c in TARGET_MISSES else c for c in MUST_HOLD], ids=lambda c: IDS(*c))
def test_check_set_meets_the_target(case, solved):
    assert_within_target(solved[case])


@pytest.mark.parametrize("gamma_T", LADDER)
def test_ladder_on_the_graded_mesh(gamma_T):
    s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": gamma_T}))
    assert s.total_cost <= do_nothing_cost(s)
    cost, exact = s.outcomes()["total_cost"], exact_outcomes(s.config)["total_cost"]
    if gamma_T < 1e10:          # measured +0.8, +0.7, -1.2 %
        assert abs(cost / exact - 1.0) < 0.05
    else:                       # a known miss: +24 % (the layer's 32 e-folds on 150 steps), within the estimate x 3
        assert abs(cost - exact) <= 3.0 * s.accuracy["outcome_errors"]["total_cost"]


@pytest.mark.parametrize("gamma_T", LADDER)
def test_ladder_on_the_uniform_mesh_is_flagged(gamma_T):
    s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": gamma_T}, grid={"time_mesh": "uniform"}))
    assert s.total_cost <= do_nothing_cost(s)
    assert s.accuracy["terminal_layer_resolved"] is False
    assert {"total_cost", "terminal_dispersion"} <= set(s.accuracy["unresolved"])
