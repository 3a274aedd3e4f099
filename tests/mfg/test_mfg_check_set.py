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

IDS = "eta1={}-m0={}-phi={}-gT={}-sigma={}-T={}".format


@pytest.fixture(scope="module")
def solved():
    return {case: solve(must_hold_config(*case)) for case in MUST_HOLD}


@pytest.mark.parametrize("case", MUST_HOLD, ids=lambda c: IDS(*c))
def test_check_set_solves_and_estimates_its_errors(case, solved):
    # (set 3's speed, -0.24 %, had an estimate 0.32 of its error: the space extrapolation's remainder now
    # |c2 - c1| E_h, 0.46 of it; docs/mfg.md section 11)
    s = solved[case]
    assert s.iterations <= 10
    assert s.domain["boundary_mass"] < 1e-8                      # the automatic range holds the law
    assert s.mean_inventory[0] == pytest.approx(case[1], abs=1e-12)
    assert s.total_cost <= do_nothing_cost(s) * (1 + 1e-12)
    assert math.isclose(s.total_cost, float(s.masses[0] @ s.u[0]), rel_tol=1e-10)
    assert_estimates_within_factor_3(s)


@pytest.mark.parametrize("case", MUST_HOLD, ids=lambda c: IDS(*c))
def test_check_set_meets_the_target(case, solved):
    # (set 3's terminal std, sigma = 0.02 carried from -1.5 to 0: -3.9 % when extrapolated in the std on the
    # diffusion at nt/2; -1.05 %, estimate 2.7 %, in its variance at the fine step: docs/mfg.md, section 11)
    assert_within_target(solved[case])


def assert_terminal_mean_resolved(s, exact):
    """A terminal mean inside a cell of 0 (1e-6 ... 1e-16 of Q_0) is resolved by the mean path (mfg.mean_path) with
    its speed and half-life: within 2 % of exact (round-off here, eta1 = 0; the density's was -17 ... +41 % off)."""
    acc = s.accuracy
    assert "terminal_dispersion" in acc["unresolved"]
    for key in ("mean_inventory_terminal", "liquidation_speed", "liquidation_half_life"):
        assert key not in acc["unresolved"]
        assert acc["outcomes"][key] == pytest.approx(exact[key], rel=0.02), key


@pytest.mark.parametrize("gamma_T", LADDER)
def test_ladder_on_the_graded_mesh(gamma_T):
    s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": gamma_T}))
    assert s.total_cost <= do_nothing_cost(s)
    exact = exact_outcomes(s.config)
    # measured +0.70, +0.59, +0.43, +0.36 % (+1.6 ... +2.7 % before the mesh of issue 14ladder; before the exact
    # last interval: +0.8, +0.7, -1.2, +24 %)
    assert abs(s.outcomes()["total_cost"] / exact["total_cost"] - 1.0) < 0.05
    assert_terminal_mean_resolved(s, exact)       # Q_T: 1e-6 ... 1e-16 of Q_0


@pytest.mark.parametrize("gamma_T", LADDER)
def test_ladder_on_the_uniform_time_mesh(gamma_T):
    # the exact last interval holds the layer however long the last step (this used to be flagged unresolved)
    s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": gamma_T}, grid={"time_mesh": "uniform"}))
    assert s.total_cost <= do_nothing_cost(s)
    assert s.exact_last_interval and s.accuracy["terminal_layer_resolved"]
    exact = exact_outcomes(s.config)
    assert abs(s.outcomes()["total_cost"] / exact["total_cost"] - 1.0) < 0.05
    assert_terminal_mean_resolved(s, exact)


@pytest.mark.parametrize("time_mesh, inventory_mesh", [("graded", "graded"), ("graded", "uniform"),
                                                        ("uniform", "graded"), ("uniform", "uniform")])
def test_coupled_ladder_solves_within_2_percent(time_mesh, inventory_mesh):
    # eta1 = 1e-3 on the automatic range: gamma_T = 1e12 did not solve on the graded time mesh nor on uniform time and
    # nodes (the terminal flow's round-off held the residual at 5e-7), and the exact reference failed there; the cost
    # was +0.64 ... +1.99 % on uniform time meshes (measured after: within 0.2 %)
    for gamma_T in LADDER:
        s = solve(make(STIFF, params={"gamma_T": gamma_T}, grid={"time_mesh": time_mesh, "inventory_mesh": inventory_mesh,
                                                                   "x_min": "auto", "x_max": "auto"}))
        assert s.iterations <= 10 and s.accuracy["error"] is None
        assert s.total_cost <= do_nothing_cost(s)
        exact = exact_outcomes(s.config)
        for key in ("total_cost", "liquidation_half_life", "liquidation_speed", "eta_max", "eta_mean"):
            assert key not in s.accuracy["unresolved"]
            error = abs(s.accuracy["outcomes"][key] / exact[key] - 1.0)
            assert error < 0.02, (time_mesh, inventory_mesh, gamma_T, key, error)
