"""Exact best response at eta1 = 0 (mfg.best_response_exact) and deviations played in the game (deviation_game)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mfg_finance.mfg.best_response_exact import (exact_best_response, exact_best_response_of, held_feedback_value,
                                                 riccati)
from mfg_finance.mfg.common_noise import default_halfwidth, solve_system
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.deviation import hamiltonian_gap, policy_value
from mfg_finance.mfg.deviation_game import extrapolate, play_deviation
from mfg_finance.mfg.grid import layer_scale, time_mesh

#: The stiff calibration of tests/mfg/test_mfg_epsilon_complete.py without the flow-dependent cost.
LQ = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=0.0, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
T = 0.5


def _solve(params, nt, nQ=21):
    return solve_system(params, T=T, nt=nt, nQ=nQ, halfwidth=default_halfwidth(params, T))


def _full_system(params, N, k, t_span, end, *, best_response):
    """The deviator's 2x2 value matrix P of z = (q, Qbar) and c, integrated from ``end`` = (P11, P12, P22, c) at
    t_span[1] back to t_span[0], with the players on -k(t) q: the Riccati equation (best response) or the
    Lyapunov equation of beta = alpha, written out in full (no decoupling assumed)."""
    eta0, phi, s2, s02 = params["eta0"], params["phi"], params["sigma"] ** 2, params["sigma0"] ** 2
    Sigma = np.array([[s2 + s02, s02 + s2 / N], [s02 + s2 / N, s02 + s2 / N]])
    B = np.array([1.0, 1.0 / N])

    def rhs(t, y):
        P = np.array([[y[0], y[1]], [y[1], y[2]]])
        kt = k(t)
        F = np.array([[0.0, 0.0], [kt / N, -kt]])
        if best_response:
            dP = -(np.diag([phi, 0.0]) + P @ F + F.T @ P - np.outer(P @ B, P @ B) / eta0)
        else:
            K = np.array([kt, 0.0])                     # beta = alpha = -k q
            Fc = F - np.outer(B, K)
            dP = -(np.diag([phi, 0.0]) + eta0 * np.outer(K, K) + P @ Fc + Fc.T @ P)
        return [dP[0, 0], dP[0, 1], dP[1, 1], -np.sum(Sigma * P)]

    out = solve_ivp(rhs, (t_span[1], t_span[0]), end, method="DOP853", rtol=1e-12, atol=1e-16)
    assert out.success
    return out.y[:, -1]


def test_the_full_2x2_system_decouples_for_every_N():
    """Integrated in full, the best response's Riccati matrix stays diag(A_BR, 0) with A_BR, c_BR the closed
    form, and the players' held feedback's Lyapunov matrix diag(A, 0) with A, c those of held_feedback_value,
    for N = 2 and 10 (the deviator's influence on Qbar is worth nothing at eta1 = 0)."""
    sol = _solve(LQ, 12)
    k = sol.k[:-1, 0]
    A_br, c_br = riccati(LQ, sol.t, T=T)
    A, c = held_feedback_value(LQ, sol.t, k)
    for N in (2, 10):
        y = _full_system(LQ, N, lambda t: k.mean() * (1.0 + t), (0.0, T), [LQ["gamma_T"], 0.0, 0.0, 0.0],
                         best_response=True)     # any players' gain: it drops out of the best response
        assert abs(y[1]) < 1e-12 and abs(y[2]) < 1e-12
        assert y[0] == pytest.approx(A_br[0], rel=1e-9) and y[3] == pytest.approx(c_br[0], rel=1e-9)
        end = [LQ["gamma_T"], 0.0, 0.0, 0.0]
        for n in range(sol.t.size - 2, -1, -1):         # the held gain, step by step
            end = _full_system(LQ, N, lambda _t, kn=k[n]: kn, (sol.t[n], sol.t[n + 1]), end, best_response=False)
            assert end[0] == pytest.approx(A[n], rel=1e-9) and end[3] == pytest.approx(c[n], rel=1e-9)
        assert abs(end[1]) < 1e-12 and abs(end[2]) < 1e-12


def test_the_mfg_value_matches_policy_value():
    """The held feedback's exact value against deviation.policy_value's Richardson march (an independent grid
    computation, second order in time): within 1e-3 relative in sup norm, ten times closer than the single
    march; b = 0 and no Qbar dependence."""
    sol = _solve(LQ, 160)
    ref = exact_best_response_of(sol, 10)
    value, single = policy_value(sol, 10), policy_value(sol, 10, time_extrapolated=False)
    for name, exact in (("a", ref.A_mfg), ("c", ref.c_mfg)):
        scale = np.abs(exact).max()
        err = np.abs(getattr(value, name) - exact[:, None]).max() / scale
        err_single = np.abs(getattr(single, name) - exact[:, None]).max() / scale
        assert err < 1e-3 and err < 0.1 * err_single
    assert np.abs(value.b).max() < 1e-12 and np.abs(value.a_Q).max() < 1e-9


def test_gain_is_the_held_feedback_price_second_order_in_the_steps():
    """epsilon > 0, D = A_MFG - A_BR >= 0 and second order in the solver's steps (observed orders from 80/160/320
    steps in [1.8, 2.2]; measured 2.02, 2.01); players holding the exact Riccati feedback (sampled at the steps'
    midpoints) leave a gain of second order too (measured 4.00x smaller on 640 steps than on 320). The gain's
    independence of N is not checked here (the reference computes it without N): the full 2x2 system above and
    the game played below are the checks."""
    eps = []
    for nt in (80, 160, 320):
        ref = exact_best_response_of(_solve(LQ, nt), 10)
        assert ref.epsilon > 0.0 and np.all(ref.A_mfg - ref.A_br >= -1e-15)
        eps.append(ref.epsilon)
    orders = np.log2(np.array(eps[:-1]) / np.array(eps[1:]))
    assert np.all((orders > 1.8) & (orders < 2.2)), orders
    held = []
    for nt in (320, 640):
        t, _ = time_mesh(T, nt, "graded", layer=layer_scale(LQ["eta0"], LQ["gamma_T"]))
        A_mid, _ = riccati(LQ, 0.5 * (t[1:] + t[:-1]), T=T)
        held.append(exact_best_response(LQ, 10, t=t, k=A_mid / LQ["eta0"]).epsilon)
    assert held[1] > 0.0 and 1.8 < np.log2(held[0] / held[1]) < 2.2, held


def test_symmetric_cases():
    """The gain depends on the initial law through E q0^2 only (q -> -q symmetry), and the best response is odd
    in q and indifferent to Qbar."""
    sol = _solve(LQ, 40)
    ref = exact_best_response_of(sol, 5)
    mirrored = exact_best_response_of(_solve(dict(LQ, m0_mean=-LQ["m0_mean"]), 40), 5)
    assert mirrored.epsilon == pytest.approx(ref.epsilon, rel=1e-12)
    q = np.linspace(-2.0, 2.0, 9)
    beta = ref(3, 0.1, q, np.zeros(9))
    np.testing.assert_allclose(ref(3, 0.1, -q, np.full(9, 0.7)), -beta, rtol=0, atol=0)
    assert beta[-1] == pytest.approx(-riccati(LQ, [0.1], T=T)[0][0] / LQ["eta0"] * 2.0, rel=1e-12)


@pytest.mark.parametrize("N", [1, 0, -3, 2.5, True, "10", None])
def test_bad_N_is_refused(N):
    with pytest.raises(ValueError, match="N must be an integer >= 2"):
        exact_best_response_of(_solve(LQ, 8), N)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="eta1 = 0"):
        exact_best_response(dict(LQ, eta1=1e-3), 10, t=[0.0, T], k=[1.0])
    with pytest.raises(ValueError, match="lack"):
        exact_best_response({"eta0": 1.0}, 10, t=[0.0, T], k=[1.0])
    with pytest.raises(ValueError, match="one gain >= 0 per step"):
        exact_best_response(LQ, 10, t=[0.0, 0.2, T], k=[1.0])
    with pytest.raises(ValueError, match="increasing"):
        exact_best_response(LQ, 10, t=[0.0, T, 0.2], k=[1.0, 1.0])
    with pytest.raises(ValueError, match="eta1 = 0"):
        exact_best_response_of(_solve(dict(LQ, eta1=1e-3), 8), 10)


def test_the_mfg_feedback_played_as_a_deviation_gains_exactly_nothing():
    """The deviation rule machinery: agent 0 playing the players' own feedback at the same step-end inventory
    has the players' cost to round-off (the players' gain is flat in Qbar to 1 ulp), gain and predicted gain 0
    (eta1 = 0: the rule sees the step's end mean, the players' coefficients the start mean, which then do not
    differ)."""
    sol = _solve(LQ, 40)

    def mfg_feedback(n, _t, q, Qbar, *_point):
        k, l_, _ = policy_at(sol, n, Qbar)
        return -(k * q + l_)

    games = play_deviation(sol, policy_value(sol, 5), M=50, seed=3, levels=(1, 2), deviation=mfg_feedback)
    for level in games.levels.values():
        np.testing.assert_allclose(level.cost_deviation, level.cost_mfg, rtol=1e-13, atol=0.0)
        assert np.abs(level.gap).max() < 1e-16 and np.abs(level.control).max() < 1e-16
    with pytest.raises(ValueError, match="callable"):
        play_deviation(sol, policy_value(sol, 5), M=5, seed=3, levels=(1,), deviation=0.5)


def test_the_greedy_rule_passed_as_a_deviation_is_the_default():
    """The decision point handed to a rule (players' step-end flows, V's derivatives) is the greedy deviator's: the
    greedy argmin passed as a rule plays the default's games bit for bit, its predicted gain H(alpha) - H(beta*)
    the default's G to round-off (a flow-dependent case, with kink trades)."""
    params = dict(LQ, eta1=1.0e-3)
    sol = _solve(params, 40, nQ=41)
    value = policy_value(sol, 5)

    def greedy(_n, _t, q, _Qbar, alpha, m, V_q, V_Q):
        return hamiltonian_gap(q, alpha, m, V_q, V_Q, eta0=params["eta0"], eta1=params["eta1"], inv_N=1.0 / 5)[1]

    default = play_deviation(sol, value, M=40, seed=4, levels=(1, 2))
    ruled = play_deviation(sol, value, M=40, seed=4, levels=(1, 2), deviation=greedy)
    for s in (1, 2):
        a, b = default.levels[s], ruled.levels[s]
        np.testing.assert_array_equal(a.cost_deviation, b.cost_deviation)
        np.testing.assert_array_equal(a.control, b.control)
        np.testing.assert_allclose(a.gap, b.gap, rtol=1e-9, atol=1e-15)
        assert a.gap.max() > 0.0


@pytest.mark.parametrize("N", [2, 10])
def test_the_exact_best_response_played_in_the_game_gains_epsilon_exact(N):
    """At eta1 = 0 (80 solver steps, N = 2 and 10, 2000 games, 2, 4, 8 sub-steps) the exact best response played
    on equal footing: its gain carried to continuous time is epsilon_exact, the same for both N, within 3 SE + time
    error (measured 1.89e-5 +- 0.025e-5 +- 0.13e-5 at both N against 1.760e-5), as is its predicted gain
    (performance difference along its paths); its own mean cost is the Riccati value."""
    sol = _solve(LQ, 80)
    ref = exact_best_response_of(sol, N)
    games = play_deviation(sol, policy_value(sol, N), M=2000, seed=11, levels=(2, 4, 8), deviation=ref)
    for est in (games.simulated, games.predicted):
        assert est.se < 0.1 * ref.epsilon
        assert abs(est.value - ref.epsilon) <= 3.0 * est.se + est.time_error, (est, ref.epsilon)
    played = extrapolate({s: g.cost_deviation for s, g in games.levels.items()})
    W = ref.A_br[0] * (LQ["m0_mean"] ** 2 + LQ["m0_std"] ** 2) + ref.c_br[0]
    assert abs(played.value - W) <= 3.0 * played.se + played.time_error
