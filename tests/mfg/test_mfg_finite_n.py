"""Finite-N check: the N-player game with the MFG feedback converges to the MFG, and epsilon-Nash."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.epsilon_nash import epsilon_estimate, epsilon_study
from mfg_finance.mfg.finite_n import convergence_study, rate_fit_of, simulate_game, simulate_limit

PARAMS = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5,
              m0_std=0.5)
T = 0.5
#: Parameters like those calibrated on real B3 data (COTAHIST, January 2021; parameters only, no data): a
#: stiff terminal layer (eta0/gamma_T = 8e-4 day) and large noise, where the check first failed.
REALISTIC = dict(sigma=2.55, sigma0=1.19, eta0=5.83e-3, eta1=3.67e-4, phi=0.0702, gamma_T=7.35, m0_mean=0.5,
                 m0_std=0.5)


@pytest.fixture(scope="module")
def solved():
    return solve_with_estimate(PARAMS, T=T, nt=160, nQ=201, halfwidth=default_halfwidth(PARAMS, T))


@pytest.fixture(scope="module")
def study(solved):
    return convergence_study(solved.fine, Ns=[10, 100, 1000, 10000], pairs=3000, limit_paths=4000, seed=5)


def test_mean_cost_converges_at_rate_one_over_N(study):
    rows, _ = study
    by_N = {r.N: r for r in rows}
    # the finite-population effect is resolved up to N = 1000 (thousands of pairs through the game's sufficient
    # statistics), falls like 1/N, and at N = 10,000 it is within 3 SE of the 1/N law from N = 10
    for N in (10, 100, 1000):
        assert by_N[N].cost_gap > 5.0 * by_N[N].cost_gap_se
    for small, big in ((10, 100), (100, 1000)):
        assert 7.0 < by_N[small].cost_gap / by_N[big].cost_gap < 14.0
    assert abs(by_N[10000].cost_gap - by_N[10].cost_gap / 1000.0) <= 3.0 * by_N[10000].cost_gap_se
    fit = rate_fit_of(rows)
    assert 0.9 < fit.exponent < 1.1 and fit.exponent_se < 0.03
    assert fit.resolved[:3] == (10, 100, 1000)


def test_mean_cost_at_N_10000_matches_the_mfg_value(solved, study):
    """Must hold: within 3 Monte Carlo standard errors plus the discretisation error bound."""
    rows, _ = study
    big = rows[-1]
    assert big.N == 10000
    assert abs(big.mean_cost - solved.expected_cost) <= 3.0 * big.mean_cost_se + solved.cost_error


def test_law_of_Q_T_converges(study):
    rows, lim = study
    small, big = rows[0], rows[-1]
    # N = 10: Qbar_T carries the average of 10 idiosyncratic terminal deviations (variance V_T/10)
    assert small.var_Q_T - lim["var_Q_T"] > 3.0 * small.var_Q_T_se
    assert abs(big.var_Q_T - lim["var_Q_T"]) <= 3.0 * big.var_Q_T_se
    assert abs(big.mean_Q_T - lim["mean_Q_T"]) <= 3.0 * big.mean_Q_T_se + 1e-12


def test_game_is_seeded_and_byte_reproducible(solved):
    one = simulate_game(solved.fine, N=50, M=6, seed=9)
    two = simulate_game(solved.fine, N=50, M=6, seed=9)
    other = simulate_game(solved.fine, N=50, M=6, seed=10)
    for name in ("mean_cost", "Qbar_T", "limit_cost", "limit_Q_T", "twin_gap", "spread_T"):
        assert getattr(one, name).tobytes() == getattr(two, name).tobytes()
    assert not np.array_equal(one.mean_cost, other.mean_cost)


def test_best_response_never_loses_and_epsilon_is_small(solved):
    for N in (10, 100, 10 ** 15):
        e = epsilon_estimate(solved.fine, N)
        assert e.cost_best_response <= e.cost_mfg_policy + 1e-15
    rows = epsilon_study(solved.fine, solved.coarse, [10, 100])
    cost = solved.fine.expected_cost
    for r in rows:
        assert r.epsilon + r.bound >= 0.0            # epsilon >= 0 within its bound
        assert abs(r.epsilon) + r.bound < 5e-3 * cost   # below 0.5% of the cost already at N = 10
    assert rows[1].bound < rows[0].bound


@pytest.fixture(scope="module")
def realistic():
    return solve_with_estimate(REALISTIC, T=T, nt=320, nQ=201, halfwidth=default_halfwidth(REALISTIC, T))


def test_limit_sample_is_extrapolated_over_sub_steps(realistic):
    """On the solver's own steps the limit's cost is biased low by ~1% (many standard errors); the
    sub-step levels, driven by the same Brownian paths, converge at first order and the extrapolated
    cost agrees with the MFG value within 3 SE + its bound. The multilevel estimate (corrections on a
    quarter of the paths) agrees with the all-levels one."""
    M = 2000
    s = simulate_limit(realistic.fine, M=M, seed=4, correction_paths=M)
    one, two, four = (float(s.levels[k].mean()) for k in (1, 2, 4))
    assert 1.6 < (two - one) / (four - two) < 2.5
    bias = s.correction
    assert bias.mean() > 0.008 * realistic.expected_cost
    assert bias.mean() > 50.0 * bias.std(ddof=1) / np.sqrt(M)
    assert s.time_error < 0.03 * bias.mean()
    assert abs(s.mean_cost - realistic.expected_cost) <= 3.0 * s.mean_cost_se + realistic.cost_error
    part = simulate_limit(realistic.fine, M=M, seed=4, correction_paths=M // 4)
    np.testing.assert_array_equal(part.cost_one, s.cost_one)      # the same level-one paths
    assert abs(part.mean_cost - s.mean_cost) <= 3.0 * bias.std(ddof=1) / np.sqrt(M // 4)
    assert part.mean_cost_se < 1.01 * s.mean_cost_se
    again = simulate_limit(realistic.fine, M=M, seed=4, correction_paths=M // 4)
    assert again.cost_one.tobytes() == part.cost_one.tobytes() and again.mean_cost == part.mean_cost


def test_mean_cost_at_N_10000_matches_the_mfg_value_on_a_stiff_coupled_calibration(realistic):
    """The must-hold on real-data-like parameters (it failed there before: 0.014 against 0.006)."""
    rows, lim = convergence_study(realistic.fine, Ns=[100, 10000], pairs=400, limit_paths=3000, seed=8)
    big = rows[-1]
    assert abs(big.mean_cost - realistic.expected_cost) <= 3.0 * big.mean_cost_se + realistic.cost_error
    assert lim["time_step_error"] < 0.1 * big.mean_cost_se
    for row in rows:                                          # the O(1/N) effect is seen at N = 100 and 10,000
        assert row.cost_gap > 3.0 * row.cost_gap_se
