"""Terminal dispersion under common noise (mfg.common_noise_dispersion) against its exact limits and the N-player game."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_finance.mfg import solve
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.common_noise_dispersion import coarse_normals, conditional_paths, terminal_dispersion
from mfg_finance.mfg.common_noise_paths import policy_at, simulate_paths
from mfg_finance.mfg.exact import closed_form, coupled
from mfg_finance.mfg.finite_n import simulate_game

STIFF = dict(sigma=0.5, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
MILD = dict(sigma=0.3, eta0=0.1, eta1=0.1, phi=0.5, gamma_T=1.0, m0_mean=1.0, m0_std=0.4)
CASES = {"stiff": (STIFF, 0.5), "mild": (MILD, 1.0)}
#: The default grid (systemic.common_noise) and paths.
NT, NQ, PATHS, SEED = 160, 201, 2000, 16


def _solve(params, T, nt=NT, nQ=NQ):
    return solve_with_estimate(params, T=T, nt=nt, nQ=nQ, halfwidth=default_halfwidth(params, T))


def _within_factor_3(estimate, true, se=0.0, value=None):
    """The estimate covers the true error (up to 3 Monte Carlo SEs) and, where that error stands above 3 SEs and
    above 0.2% of the ``value`` (the resolvable level of docs/mfg.md, section 11), is at most 3 times it and at
    least a third of its part beyond 3 SEs."""
    assert abs(true) <= estimate + 3.0 * se, (estimate, true, se)
    if abs(true) > 3.0 * se and (value is None or abs(true) > 2e-3 * abs(value)):
        assert (abs(true) - 3.0 * se) / 3.0 <= estimate <= 3.0 * abs(true), (estimate, true, se)


def test_paths_are_the_fan_charts_and_the_companions_share_the_brownian_path():
    est = _solve(dict(MILD, sigma0=0.3), 1.0, nt=40, nQ=41)
    fan = simulate_paths(est.fine, n_paths=50, seed=SEED)
    z = np.random.default_rng(SEED).standard_normal((40, 50))
    Q_T, V_T = conditional_paths(est.fine, z)
    np.testing.assert_array_equal(Q_T, fan.Q[:, -1])
    assert np.all(V_T > 0.0)
    # the coarse increments sum the fine ones: the same W0 at every coarse node
    dts = est.fine.dts
    zc = coarse_normals(z, dts)
    np.testing.assert_allclose(np.cumsum(np.sqrt(est.coarse.dts)[:, None] * zc, axis=0),
                               np.cumsum(np.sqrt(dts)[:, None] * z, axis=0)[1::2], rtol=1e-12, atol=1e-14)
    d1 = terminal_dispersion(est, n_paths=50, seed=SEED)
    d2 = terminal_dispersion(est, n_paths=50, seed=SEED)
    assert d1.as_dict() == d2.as_dict()
    # the path outcomes' own paths on the five grids carry the same terminal states: the same bytes, not resimulated
    from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate
    po = path_outcomes_with_estimate(est, n_paths=50, seed=SEED)
    assert terminal_dispersion(est, n_paths=50, seed=SEED, terminal=po.terminal).as_dict() == d1.as_dict()


@pytest.mark.parametrize("case", sorted(CASES))
def test_eta1_zero_closed_form(case):
    """Without coupling k = h2/eta0 on every path: Var(q_T) is the closed form's with the noise
    sigma^2 + sigma0^2, its conditional part the closed form's with sigma alone."""
    base, T = CASES[case]
    sigma0 = 0.3
    d = terminal_dispersion(_solve(dict(base, eta1=0.0, sigma0=sigma0), T), n_paths=PATHS, seed=SEED)

    def variance(sigma):
        return closed_form(np.array([0.0, T]), T=T, sigma=sigma, eta=base["eta0"], phi=base["phi"],
                           gamma_T=base["gamma_T"], m0_mean=base["m0_mean"], m0_std=base["m0_std"]).variance[-1]
    total, idio = variance(math.hypot(base["sigma"], sigma0)), variance(base["sigma"])
    exact = {"total": math.sqrt(total), "idiosyncratic": math.sqrt(idio), "common": math.sqrt(total - idio)}
    assert d.moments["idiosyncratic"]["std_se"] < 1e-12 * exact["idiosyncratic"]    # the same on every path
    for part, value in exact.items():
        _within_factor_3(d.error[part], d.values[part] - value, d.moments[part]["std_se"], value)
    assert not d.unresolved


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigma0_to_zero_is_the_one_type_terminal_std(case):
    base, T = CASES[case]
    d0 = terminal_dispersion(_solve(dict(base, sigma0=0.0), T), n_paths=PATHS, seed=SEED)
    small = terminal_dispersion(_solve(dict(base, sigma0=1e-4), T), n_paths=PATHS, seed=SEED)
    assert d0.moments["common"]["std"] < 1e-8 and d0.moments["total"]["std_se"] < 1e-12
    assert abs(small.std - d0.std) < 0.01 * d0.error["total"]
    exact = math.sqrt(coupled(np.array([0.0, T]), T=T, **base).variance[-1])
    _within_factor_3(d0.error["total"], d0.std - exact, value=exact)
    one = solve({"grid": {"T": T, "nx": 201, "nt": 150}, "params": dict(base)})
    # the deterministic solver's own terminal std is exact to its (much smaller) estimate
    assert abs(one.outcomes()["terminal_dispersion"] - exact) <= 3.0 * one.accuracy["outcome_errors"]["terminal_dispersion"]
    _within_factor_3(d0.error["total"], d0.std - one.outcomes()["terminal_dispersion"],
                     value=one.outcomes()["terminal_dispersion"])


def _n_player_terminal(sol, *, N, M, seed):
    """The N-player game of mfg.finite_n (feedback at the empirical mean, linearly implicit steps) played
    M times: each agent's q_T, (M, N)."""
    p = sol.params
    rng = np.random.default_rng(seed)
    q = p["m0_mean"] + p["m0_std"] * rng.standard_normal((M, N))
    for n, h in enumerate(sol.dts):
        k, l_, _ = policy_at(sol, n, q.mean(axis=1))
        noise = p["sigma"] * math.sqrt(h) * rng.standard_normal((M, N)) \
            + p["sigma0"] * math.sqrt(h) * rng.standard_normal(M)[:, None]
        q = (q - (l_ * h)[:, None] + noise) / (1.0 + k * h)[:, None]
    return q


def test_monte_carlo_against_the_finite_n_game():
    """The law of one agent's q_T in the N-player game: its conditional (cross-sectional) variance and the
    variance of the empirical mean (finite_n.simulate_game) against the MFG's parts, within Monte Carlo error
    plus the O(1/N) finite-population terms."""
    params = dict(STIFF, sigma=0.4, sigma0=0.3)
    est = _solve(params, 0.5)
    d = terminal_dispersion(est, n_paths=PATHS, seed=SEED)
    N, M = 200, 400
    q = _n_player_terminal(est.fine, N=N, M=M, seed=7)
    within = q.var(axis=1, ddof=1)                    # given W0 (and the O(1/N) noise of Qbar): V_T
    idio, idio_se = float(within.mean()), float(within.std(ddof=1) / math.sqrt(M))
    mfg_idio = d.moments["idiosyncratic"]
    assert abs(idio - mfg_idio["variance"]) <= 3.0 * math.hypot(idio_se, mfg_idio["variance_se"]) + 2.0 * idio / N
    total = float(q.var(ddof=1))
    # the empirical mean of N = 300 agents (finite_n's own simulator): Var(Qbar_T) = Var(Q_T) + E[V_T]/N + O(1/N^2)
    game = simulate_game(est.fine, N=300, M=300, seed=np.random.SeedSequence(11))
    qbar = game.Qbar_T[:300]             # one of each antithetic pair: independent draws
    var_qbar = float(qbar.var(ddof=1))
    se_qbar = var_qbar * math.sqrt(2.0 / (qbar.size - 1))
    common = d.moments["common"]
    expected = common["variance"] + mfg_idio["variance"] / 300
    assert abs(var_qbar - expected) <= 3.0 * math.hypot(se_qbar, common["variance_se"])
    # the whole law: one agent's q_T over the replications of the N-player game
    total_se = math.hypot(idio_se, float(q.mean(axis=1).var(ddof=1)) * math.sqrt(2.0 / (M - 1)))
    assert abs(total - d.moments["total"]["variance"]) <= 3.0 * math.hypot(total_se, d.moments["total"]["variance_se"]) \
        + 2.0 * idio / N
    assert d.moments["common"]["std"] > 0.3 * d.std and d.moments["idiosyncratic"]["std"] > 0.3 * d.std


def _types_solve(types, params, T=1.0, nt=80, nX=97, nD=17):
    from mfg_finance.mfg import types_common_noise as tcn
    from mfg_finance.mfg.agent_types import validate_types

    specs = validate_types(types, params)
    L, LD = tcn.default_halfwidths(specs, params["sigma0"], T)
    return tcn.solve_with_estimate(specs, params, T=T, nt=nt, nX=nX, nD=nD, halfwidth=L, D_halfwidth=LD), L, specs


def test_two_types_identical_types_are_one_type_and_eta1_zero_closed_form():
    from mfg_finance.mfg.types_common_noise_dispersion import conditional_paths as types_paths
    from mfg_finance.mfg.types_common_noise_dispersion import types_terminal_dispersion
    from mfg_finance.mfg.types_common_noise_paths import simulate_paths as simulate_types_paths

    params = dict(MILD, sigma0=0.3)
    # two identical types: D = 0 on every path, the row D = 0 is section 8's solver on the same graded nodes
    # (no shear): the one-type dispersion, estimate too (its time companions are the same grids' rows)
    est, L, _ = _types_solve([{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}], params)
    d = types_terminal_dispersion(est, n_paths=500, seed=3)
    from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate
    po = path_outcomes_with_estimate(est, n_paths=500, seed=3, simulate=simulate_types_paths)
    reused = types_terminal_dispersion(est, n_paths=500, seed=3, terminal=po.terminal)
    assert all(reused[g].as_dict() == d[g].as_dict() for g in d)
    one = terminal_dispersion(solve_with_estimate(params, T=1.0, nt=80, nQ=97, halfwidth=L, core=est.fine.extra["core"]),
                              n_paths=500, seed=3)
    for group in ("crowd", "a", "b"):
        assert d[group].std == pytest.approx(one.std, rel=1e-10)
        assert d[group].error["total"] == pytest.approx(one.error["total"], rel=1e-8)
        assert 0.0 < d[group].error["total"] < d[group].std and 0.0 < one.error["total"] < one.std
    # the paths are the fan charts'
    Q, _ = types_paths(est.fine, np.random.default_rng(3).standard_normal((80, 500)))
    np.testing.assert_array_equal(Q, simulate_types_paths(est.fine, n_paths=500, seed=3).Q_by_type[:, :, -1])
    # no coupling: each type's closed form with its own noise, the crowd's the mixture of theirs
    two = [{"name": "urgent", "weight": 0.3, "phi": 5.0, "gamma_T": 10.0},
           {"name": "patient", "weight": 0.7, "m0_mean": 0.5, "sigma": 0.5}]
    flat = dict(params, eta1=0.0)
    est, _, specs = _types_solve(two, flat)
    d = types_terminal_dispersion(est, n_paths=PATHS, seed=SEED)
    means, variances = [], []
    for ty in specs:
        cf = closed_form(np.array([0.0, 1.0]), T=1.0, sigma=math.hypot(ty.sigma, 0.3), eta=flat["eta0"], phi=ty.phi,
                         gamma_T=ty.gamma_T, m0_mean=ty.m0_mean, m0_std=ty.m0_std)
        means.append(cf.mean[-1]), variances.append(cf.variance[-1])
        _within_factor_3(d[ty.name].error["total"], d[ty.name].std - math.sqrt(cf.variance[-1]),
                         d[ty.name].moments["total"]["std_se"], math.sqrt(cf.variance[-1]))
    w, m, v = np.array([0.3, 0.7]), np.array(means), np.array(variances)
    crowd = math.sqrt(w @ (v + m * m) - (w @ m) ** 2)
    _within_factor_3(d["crowd"].error["total"], d["crowd"].std - crowd, d["crowd"].moments["total"]["std_se"], crowd)
