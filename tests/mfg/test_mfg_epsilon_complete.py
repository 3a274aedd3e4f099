"""Epsilon-Nash with the deviator's own influence (mfg.deviation)."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.deviation import (complete_epsilon_study, hamiltonian_gap, policy_value,
                                       simulate_deviation)
from mfg_finance.mfg.epsilon_nash import epsilon_study

PARAMS = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5,
              m0_std=0.5)
T = 0.5


@pytest.fixture(scope="module")
def solved():
    return solve_with_estimate(PARAMS, T=T, nt=160, nQ=201, halfwidth=default_halfwidth(PARAMS, T))


def test_hamiltonian_gap_is_the_exact_minimum():
    """Against a brute-force minimum over a fine grid of flows, either side of the kink and at it."""
    rng = np.random.default_rng(3)
    eta0, eta1 = 5e-4, 1e-3
    beta = np.linspace(-60.0, 60.0, 1_200_001)
    for N in (10, 100):
        for _ in range(30):
            alpha, m, r = 2.0 * rng.standard_normal(), 2.0 * rng.standard_normal(), 0.01 * rng.standard_normal()
            p = -2.0 * (eta0 + eta1 * abs(m)) * alpha * (1.0 + 0.1 * rng.standard_normal())
            G, arg = hamiltonian_gap(np.zeros(1), np.array([alpha]), np.array([m]), np.array([p]), np.array([r]),
                                     eta0=eta0, eta1=eta1, inv_N=1.0 / N)
            H = (eta0 + eta1 * np.abs(m + (beta - alpha) / N)) * beta ** 2 + p * beta + r * (beta - alpha) / N
            brute = (eta0 + eta1 * abs(m)) * alpha ** 2 + p * alpha - H.min()
            if abs(arg[0]) < 59.0:
                assert G[0] >= 0.0
                assert -1e-12 <= G[0] - brute <= 1e-3 * brute + 1e-8    # the brute grid's own error
    # no own influence: the frozen-eta quadratic, minimiser -p / (2 eta)
    G, arg = hamiltonian_gap(np.zeros(1), np.array([1.0]), np.array([-0.5]), np.array([-0.01]), np.array([5.0]),
                             eta0=eta0, eta1=eta1, inv_N=0.0)
    eta = eta0 + eta1 * 0.5
    assert arg[0] == pytest.approx(0.01 / (2 * eta)) and G[0] == pytest.approx(eta * (1.0 - 0.01 / (2 * eta)) ** 2)


def test_value_of_the_mfg_feedback_matches_the_simulated_game(solved):
    """V = a q^2 + b q + c of the N = 10 game against one agent's simulated cost (same games)."""
    sol = solved.fine
    value = policy_value(sol, 10)
    M = 3000
    s = simulate_deviation(sol, value, policy_value(sol, None), M=M, seed=2, deviate=True)
    q = PARAMS["m0_mean"] + PARAMS["m0_std"] * np.random.default_rng(2).standard_normal((M, 10))
    Qbar = q.mean(axis=1)
    V = (np.interp(Qbar, sol.Q, value.a[0]) * q[:, 0] ** 2 + np.interp(Qbar, sol.Q, value.b[0]) * q[:, 0]
         + np.interp(Qbar, sol.Q, value.c[0]))
    diff = s.cost_mfg - V
    assert abs(diff.mean()) <= 3.0 * diff.std(ddof=1) / np.sqrt(M) + solved.cost_error


def test_complete_epsilon_is_resolved_decreases_in_N_and_exceeds_the_environment_part(solved):
    rows = complete_epsilon_study(solved.fine, [10, 100], agent_paths=20000, min_games=20, seed=4)
    ten, hundred = rows
    assert ten.greedy_gain > 10.0 * ten.greedy_gain_se                  # told apart from zero at N = 10
    assert hundred.first_order > 5.0 * hundred.first_order_se
    assert ten.greedy_gain > 5.0 * hundred.greedy_gain                  # decreasing in N, faster than 1/N
    assert ten.first_order > 20.0 * hundred.first_order
    assert ten.first_order >= ten.greedy_gain                          # the measure change lowers G on beta*
    env = epsilon_study(solved.fine, solved.coarse, [10])[0]
    assert ten.greedy_gain > 5.0 * (abs(env.epsilon) + env.bound)     # the own influence dominates
    again = complete_epsilon_study(solved.fine, [10, 100], agent_paths=20000, min_games=20, seed=4)
    assert [r.as_dict() for r in again] == [r.as_dict() for r in rows]


@pytest.mark.slow
def test_greedy_deviation_in_the_simulated_game_approaches_its_continuous_time_gain():
    """The deviation greedy against V, played inside the game with the same noises: on the solver's coarse
    steps it loses (the MFG feedback's own O(k dt) suboptimality); refining the steps, the simulated gain
    rises and E_{beta*} int G (the continuous-time gain) falls towards it; on 2560 steps the simulated gain
    is resolved above zero and below the continuous-time figure (docs/mfg.md section 10)."""
    gains, integrals = [], []
    for nt in (160, 2560):
        fine = solve_with_estimate(PARAMS, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(PARAMS, T)).fine
        s = simulate_deviation(fine, policy_value(fine, 10), policy_value(fine, None), M=1000, seed=1, deviate=True)
        gains.append(s.simulated_gain)
        integrals.append((s.gap_greedy.mean(), s.gap_greedy.std(ddof=1) / np.sqrt(s.gap_greedy.size)))
        assert s.simulated_gain[1] < s.raw_gain[1]                     # the control variates reduce the error
    (coarse, coarse_se), (fine_gain, fine_se) = gains
    assert coarse < -3.0 * coarse_se and fine_gain > 3.0 * fine_se
    assert fine_gain < integrals[1][0] < integrals[0][0]
