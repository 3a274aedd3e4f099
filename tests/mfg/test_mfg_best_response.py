"""Best response of one deviating agent on the (t, Q, x) grid (mfg.best_response)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_finance.mfg.best_response import (
    DIFFERENCE_SAFETY, _Problem, best_response, grid_gains, policy_iteration_gains, x_nodes)
from mfg_finance.mfg.best_response_exact import exact_best_response_of
from mfg_finance.mfg.best_response_kernel import minimise
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.deviation import hamiltonian_gap
from mfg_finance.mfg.deviation_game import play_deviation
from mfg_cases import REALISTIC

PARAMS = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5,
              m0_std=0.5)
T = 0.5


def _solve(params, nt=160):
    return solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine


@pytest.fixture(scope="module")
def stiff():
    return _solve(PARAMS)


@pytest.fixture(scope="module")
def stiff_br(stiff):
    return best_response(stiff, 10)


@pytest.fixture(scope="module")
def uncoupled():
    """eta1 = 0 (exactly LQ): the solution and the best response at N = 10."""
    sol = _solve(dict(PARAMS, eta1=0.0))
    return sol, best_response(sol, 10)


def test_scalar_minimiser_is_hamiltonian_gap():
    """The compiled scalar minimiser is deviation.hamiltonian_gap's, either side of the kink and at it."""
    rng = np.random.default_rng(5)
    eta0, eta1 = 5e-4, 1e-3
    for N in (2, 10, 100):
        alpha, m = 2.0 * rng.standard_normal(200), 2.0 * rng.standard_normal(200)
        p = -2.0 * (eta0 + eta1 * np.abs(m)) * alpha * (1.0 + 0.3 * rng.standard_normal(200))
        r = 0.05 * rng.standard_normal(200)
        G, arg = hamiltonian_gap(np.zeros(200), alpha, m, p, r, eta0=eta0, eta1=eta1, inv_N=1.0 / N)
        for i in range(200):
            best, beta = minimise(alpha[i], m[i], p[i], r[i], eta0, eta1, 1.0 / N)
            h_alpha = (eta0 + eta1 * abs(m[i])) * alpha[i] ** 2 + p[i] * alpha[i]
            assert beta == pytest.approx(arg[i], rel=1e-12, abs=1e-12)
            assert h_alpha - best == pytest.approx(G[i], rel=1e-9, abs=1e-15)


def test_initial_law_is_the_game_s(stiff, stiff_br):
    """The expectation over (x0, Q0) of the module (Gauss-Hermite, independent, variances m0_std^2 (1 - 1/N) and
    m0_std^2/N) against the mean over q_i(0) drawn as the game draws them (i.i.d. N(m0_mean, m0_std^2)), for a
    table U0 = x^2 + x Q + (Q - 0.3)^2 on the grid (bilinear between nodes: the graded nodes' interpolation
    error is below the Monte Carlo SE); a cross term in the law would show in E[x Q]."""
    N, M = 10, 400_000
    problem = _Problem(stiff, N, stiff_br.value)
    grid = problem.grid(201, 1, 1, 1)
    Q, x = np.meshgrid(grid.Q, grid.x, indexing="ij")
    table = x ** 2 + x * Q + (Q - 0.3) ** 2
    q = PARAMS["m0_mean"] + PARAMS["m0_std"] * np.random.default_rng(1).standard_normal((M, N))
    Qbar = q.mean(axis=1)
    x0 = q[:, 0] - Qbar
    drawn = x0 ** 2 + x0 * Qbar + (Qbar - 0.3) ** 2
    se = drawn.std() / math.sqrt(M)
    assert abs(problem.initial_mean(grid, table) - drawn.mean()) < 4.0 * se
    s2 = PARAMS["m0_std"] ** 2
    exact = s2 * (1 - 1 / N) + s2 / N + (PARAMS["m0_mean"] - 0.3) ** 2
    assert problem.initial_mean(grid, table) == pytest.approx(exact, rel=3e-3)       # 1.5e-3: bilinear x^2


def test_without_coupling_the_best_response_is_the_greedy_deviation(uncoupled):
    """eta1 = 0: nobody's cost depends on the crowd and the players' feedback not on Qbar, so the problem is LQ
    in q alone and the greedy deviation against the exact value is the best response. What the deviator gains
    is only the players' feedback held over the solver's step (O(h^2): 1e-3 of the cost at 160 steps, a quarter
    of that at 320): both gains agree to a part in 1e-2 of themselves (the best response's extra gain is of
    second order in the held feedback's error: one improvement step of an LQ feedback is not yet optimal)."""
    sol, br = uncoupled
    assert 0.0 <= br.greedy < 2e-3 * sol.expected_cost
    assert -br.difference_error <= br.difference <= 1e-2 * br.greedy


def test_without_coupling_the_best_response_is_the_exact_lq_one(uncoupled):
    """eta1 = 0 against the exact reference (mfg.best_response_exact: the single agent's Riccati feedback against
    the players' held k_n, the same gain for every N): within the error estimate at N = 2 and 10 on the default
    grid, and within 1% (closer than the default grid) with every Q node and 4 sub-steps."""
    sol, br = uncoupled
    exact = exact_best_response_of(sol, 10).epsilon
    for grid in (br, best_response(sol, 2)):
        assert abs(grid.epsilon - exact) <= grid.epsilon_error
    _, refined = grid_gains(sol, 10, q_stride=1, substeps=4)
    assert abs(refined - exact) < min(1e-2 * exact, abs(br.epsilon - exact))


def test_best_response_gains_more_than_the_greedy_deviation(stiff_br):
    """Stiff baseline, N = 10: the best response gains resolved more than the greedy deviation (about 1.4x),
    both positive, with error estimates below a tenth of the gains."""
    br = stiff_br
    assert br.greedy > 0.0 and br.epsilon >= br.greedy - br.greedy_error
    assert br.difference > 3.0 * br.difference_error
    assert 1.2 < br.epsilon / br.greedy < 1.7
    assert br.epsilon_error < 0.1 * br.epsilon and br.greedy_error < 0.15 * br.greedy
    assert br.as_dict()["grid"]["nx"] == br.x.size and br.U.shape == (br.t.size, br.Q.size, br.x.size)
    figures = br.as_dict()
    for name in ("epsilon", "greedy", "difference"):
        factor = figures["difference_safety"] if name == "difference" else 1.0
        assert figures[f"{name}_error"] == pytest.approx(factor * sum(figures["errors"][name].values()), rel=1e-12)


def test_grid_greedy_gain_is_the_played_greedy_gain(stiff, stiff_br):
    """The greedy deviation's gain on the grid against the same deviation played in the simulated game
    (mfg.deviation_game, 1000 games, sub-steps 1, 2, 4, carried to continuous time): within 3 SE plus the time
    error and the grid's error estimate."""
    games = play_deviation(stiff, stiff_br.value, M=1000, seed=1, levels=(1, 2, 4)).simulated
    assert abs(games.value - stiff_br.greedy) <= 3.0 * games.se + games.time_error + stiff_br.greedy_error


def test_convergence_under_x_refinement(stiff):
    """Nested x grids (41, 81, 161 nodes): both gains converge at an observed order near 2."""
    gains = np.array([grid_gains(stiff, 10, nx=nx, q_stride=4) for nx in (41, 81, 161)])
    for col in gains.T:
        d1, d2 = col[0] - col[1], col[1] - col[2]
        assert d1 * d2 > 0.0 and math.log2(d1 / d2) > 1.5


def test_convergence_under_time_refinement(stiff):
    """Sub-steps 1, 4, 8, 16 of the solver's steps on a coarse (x, Q) grid: the gains fall monotonically, at an
    observed order near 1 from 4 sub-steps on (pre-asymptotic before), by 2% at most on this coarse grid (0.5%
    on the default one: the time error is small next to the space error)."""
    gains = np.array([grid_gains(stiff, 10, nx=41, q_stride=4, substeps=s) for s in (1, 4, 8, 16)])
    for col in gains.T:
        steps = np.diff(col)
        assert np.all(steps < 0.0)
        assert math.log2(steps[1] / steps[2]) > 0.6
        assert col[0] - col[-1] < 3e-2 * col[-1]


def test_policy_passes_per_step_reach_the_same_time_limit(stiff):
    """iterations = 2 (the step's policy greedy against its own U: policy iteration on the step) against the
    default single pass (against the later U), coarse grid, 160 steps: 2.1% apart at the solver's steps (the
    second pass 2.7% above the 16-sub-step value, the single pass 0.6%: more passes do not help at one sub-step),
    0.07% apart at 16 sub-steps: the passes change only the time discretisation."""
    def br(substeps, iterations):
        return grid_gains(stiff, 10, nx=41, q_stride=4, substeps=substeps, iterations=iterations)[1]
    one, two = br(16, 1), br(16, 2)
    assert abs(two - one) < 1e-3 * one
    assert abs(two - one) < 0.1 * abs(br(1, 2) - br(1, 1))
    assert abs(br(1, 1) - one) < abs(br(1, 2) - one)


def test_policy_iteration_rises_to_the_best_response(stiff, stiff_br):
    """Policy iteration over the horizon from the greedy deviation: the second policy gains much more than the
    first (the greedy one), and from there on every iterate is within the grid's error of the best response
    (they settle in a band of 1-2%: the minimiser of the continuous Hamiltonian is not exactly the grid
    chain's)."""
    gains, br = policy_iteration_gains(stiff, 10, sweeps=4)
    assert gains[0] == pytest.approx(stiff_br.greedy, rel=1e-12)
    assert br == pytest.approx(stiff_br.epsilon, rel=1e-12)
    assert gains[1] - gains[0] > 0.5 * (br - gains[0])
    for g in gains[1:]:
        assert abs(g - br) <= stiff_br.epsilon_error


def test_policy_reproduces_the_grid_policy_at_the_nodes(stiff, stiff_br):
    """BestResponse.policy at the grid's nodes (V's coefficients at the step's midpoint, as the march takes
    them) is the tabulated policy there, tabulated_policy interpolates the table, and the BestResponse called as
    a deviation rule at the step's end is policy with V there."""
    br, n = stiff_br, stiff.dts.size - 3
    Q, x = np.meshgrid(br.Q, br.x, indexing="ij")
    q = x + Q
    k, l_, _ = policy_at(stiff, n, Q.ravel())
    k, l_ = k.reshape(Q.shape), l_.reshape(Q.shape)
    v = br.value
    stride = (stiff.Q.size - 1) // (br.Q.size - 1)
    a, b, aQ, bQ, cQ = (0.5 * (f[n, ::stride] + f[n + 1, ::stride])[:, None] for f in (v.a, v.b, v.a_Q, v.b_Q, v.c_Q))
    beta = br.policy(n, q, Q, -(k * q + l_), -(k * Q + l_), 2.0 * a * q + b, (aQ * q + bQ) * q + cQ)
    close = np.abs(beta - br.beta[n]) <= 1e-7 * (1.0 + np.abs(br.beta[n]))
    assert close.mean() > 0.999
    assert np.allclose(br.tabulated_policy(n, q, Q), br.beta[n], rtol=1e-9, atol=1e-9)
    # as a deviation rule of deviation_game at the step's end: V's and U's derivatives at node n + 1
    a, b, aQ, bQ, cQ = (f[n + 1, ::stride][:, None] for f in (v.a, v.b, v.a_Q, v.b_Q, v.c_Q))
    game = (-(k * q + l_), -(k * Q + l_), 2.0 * a * q + b, (aQ * q + bQ) * q + cQ)
    assert np.allclose(br(n, stiff.t[n + 1], q, Q, *game), br.policy(n, q, Q, *game), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("options, match", [
    (dict(N=1), "N must be an integer >= 2"), (dict(N=10.5), "N must be an integer"),
    (dict(nx=100), "nx must be"), (dict(nx=5), "nx must be"), (dict(q_stride=3), "q_stride"),
    (dict(q_stride=0), "q_stride"), (dict(substeps=0), "substeps"), (dict(iterations=1.5), "iterations")])
def test_bad_options_are_named(stiff, options, match):
    N = options.pop("N", 10)
    with pytest.raises(ValueError, match=match):
        best_response(stiff, N, **options)


def test_degenerate_x_grid_is_named():
    with pytest.raises(ValueError, match="needs sigma > 0 or m0_std > 0"):
        x_nodes(dict(PARAMS, sigma=0.0, m0_std=0.0), T, 10, 101)


def test_x_nodes_cover_the_spread_and_resolve_the_terminal_layer():
    x = x_nodes(PARAMS, T, 10, 101)
    assert x.size == 101 and x[50] == 0.0 and np.allclose(x, -x[::-1])
    assert x[-1] > 5.0 * PARAMS["m0_std"]                  # the initial spread and the diffusion over T
    terminal_sd = math.sqrt(PARAMS["sigma"] ** 2 * 0.9 * PARAMS["eta0"] / (2 * PARAMS["gamma_T"]))
    assert np.diff(x).min() < terminal_sd


@pytest.mark.slow
def test_realistic_calibration_best_response_and_played_greedy():
    """Real-data-like parameters (320 steps): the best response gains about 10% more than the greedy
    deviation at N = 10 and the same at N = 100 (to 1%); the grid greedy gain agrees with the played one."""
    sol = _solve(REALISTIC, nt=320)
    for N, low, high in ((10, 1.03, 1.25), (100, 1.0, 1.01)):
        br = best_response(sol, N)
        assert br.difference > 0.0
        assert low < br.epsilon / br.greedy < high
        if N == 10:
            games = play_deviation(sol, br.value, M=1000, seed=1, levels=(1, 2, 4)).simulated
            assert abs(games.value - br.greedy) <= 3.0 * games.se + games.time_error + br.greedy_error


@pytest.mark.slow
def test_error_estimates_cover_the_true_error_where_the_difference_is_small():
    """Stiff baseline, N = 100, 320 steps (the difference BR - greedy is 3% of the gains and converges
    pre-asymptotically on the default grid): every estimate covers the true error, against 401 x nodes, every Q
    node and 4 sub-steps (benchmarks/RESULTS.md: the difference moves by 0.4e-8 more from 4 to 16 sub-steps);
    the sum of the difference's spreads alone does not (0.74 of its error here), hence DIFFERENCE_SAFETY."""
    sol = _solve(PARAMS, nt=320)
    br = best_response(sol, 100)
    greedy, best = grid_gains(sol, 100, nx=401, q_stride=1, substeps=4)
    assert br.epsilon_error >= abs(br.epsilon - best)
    assert br.greedy_error >= abs(br.greedy - greedy)
    true_error = abs(br.difference - (best - greedy))
    assert br.difference_error >= 1.5 * true_error
    assert br.difference_error / DIFFERENCE_SAFETY < true_error
