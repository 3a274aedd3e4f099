"""The time-varying market-maker solver against the existing exact GLFT solver, an independent dense
matrix exponential, a tight ODE solve of the forward law, and a Monte Carlo of its quoting policy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from mfg_finance.equilibrium import EquilibriumError, MarketMakerParams, solve_market_maker
from mfg_finance.equilibrium.market_maker import richardson_errors
from mfg_finance.equilibrium.simulation import simulate_market_maker
from mfg_finance.errors import ConfigError
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB

#: The GLFT (2013) example in ticks and seconds, with a terminal penalty.
GLFT = dict(sigma=0.3, A=0.9, k=0.3, gamma=0.01, Q_max=30, phi=0.001)


def graded_nodes(T, n):
    """Unequal steps: the solver must not depend on uniform ones."""
    s = np.linspace(0.0, 1.0, n + 1)
    return T * (1.0 - (1.0 - s) ** 1.5)


@pytest.mark.parametrize("phi", [0.0, 0.001])
def test_constant_intensities_equal_glft_exact(phi):
    params = MarketMakerParams(**{**GLFT, "phi": phi})
    sol = solve_market_maker(params, graded_nodes(600.0, 17), 0.9, 0.9, substep_s=5.0)
    ref = InventoryHJB(HJBParameters(**{**GLFT, "phi": phi, "T": 600.0}))
    assert np.max(np.abs(ref.log_v(sol.t_sub) - sol.log_v)) < 1e-10
    # the quotes of each sub-step are the exact ones at its midpoint
    mid = 0.5 * (sol.t_sub[1:] + sol.t_sub[:-1])
    delta_b, delta_a = ref.spread_table(mid)
    finite = np.isfinite(delta_b)
    assert np.array_equal(finite, np.isfinite(sol.delta_b))
    assert np.max(np.abs(delta_b[finite] - sol.delta_b[finite])) < 1e-9
    assert np.max(np.abs(delta_a[np.isfinite(delta_a)] - sol.delta_a[np.isfinite(sol.delta_a)])) < 1e-9


def test_time_varying_backward_solve_is_the_exact_product_of_exponentials():
    params = MarketMakerParams(**GLFT)
    t = np.array([0.0, 40.0, 100.0, 130.0, 200.0])
    lam_b = np.array([0.9, 2.5, 0.4, 1.3])
    lam_a = np.array([0.9, 0.6, 3.0, 1.0])
    sol = solve_market_maker(params, t, lam_b, lam_a, substep_s=7.0)
    q = params.inventories.astype(float)
    v = np.exp(-params.k * params.phi * q ** 2)
    for n in range(3, -1, -1):
        M = np.diag(params.alpha * q ** 2) - np.diag(np.full(q.size - 1, lam_b[n] * params.value_factor), 1) \
            - np.diag(np.full(q.size - 1, lam_a[n] * params.value_factor), -1)
        v = expm(-M * (t[n + 1] - t[n])) @ v
        node = np.searchsorted(sol.t_sub, t[n])
        assert np.max(np.abs(np.log(v) - sol.log_v[node])) < 1e-9


def test_forward_law_matches_a_tight_ode_solve_within_its_error_estimate():
    """The exponential midpoint rule against DOP853 (rtol 1e-11) on the exact continuous-time rates."""
    params = MarketMakerParams(sigma=0.3, A=0.9, k=0.3, gamma=0.05, Q_max=8, phi=0.002)
    t = np.array([0.0, 30.0, 60.0])
    lam_b, lam_a = np.array([0.9, 2.0]), np.array([1.5, 0.5])
    fine = solve_market_maker(params, t, lam_b, lam_a, substep_s=0.25, check_limits=False)
    coarse = solve_market_maker(params, t, lam_b, lam_a, substep_s=0.25, coarse=True, check_limits=False)
    estimate = richardson_errors(fine, coarse)
    q = params.inventories.astype(float)

    def generator(m):
        return np.diag(params.alpha * q ** 2) - np.diag(np.full(q.size - 1, lam_b[m] * params.value_factor), 1) \
            - np.diag(np.full(q.size - 1, lam_a[m] * params.value_factor), -1)

    # v at the crowd nodes by dense exponentials, inside a step by its (real) eigendecomposition
    v_end = [None, np.exp(-params.k * params.phi * q ** 2)]
    v_end[0] = expm(-generator(1) * (t[2] - t[1])) @ v_end[1]
    eig = []
    for m in (0, 1):
        lam, vec = np.linalg.eig(generator(m))
        eig.append((lam.real, vec.real, np.linalg.solve(vec.real, v_end[m])))

    def log_v(time):
        n = min(int(np.searchsorted(t, time, side="right")) - 1, 1)
        lam, vec, coef = eig[n]
        return np.log(vec @ (np.exp(-lam * (t[n + 1] - time)) * coef)), n

    def rhs(time, p):
        lv, n = log_v(time)
        up = np.zeros(q.size)
        down = np.zeros(q.size)
        up[:-1] = lam_b[n] * params.fill_factor * np.exp(lv[1:] - lv[:-1])
        down[1:] = lam_a[n] * params.fill_factor * np.exp(lv[:-1] - lv[1:])
        out = -(up + down) * p
        out[1:] += up[:-1] * p[:-1]
        out[:-1] += down[1:] * p[1:]
        return out

    p0 = np.zeros(q.size)
    p0[params.Q_max] = 1.0
    ref = solve_ivp(rhs, (0.0, 60.0), p0, method="DOP853", rtol=1e-11, atol=1e-14, t_eval=[60.0]).y[:, -1]
    error = np.abs(fine.law[-1] - ref).max()
    assert error < 1e-3                                        # second order, asymptotic below 0.5 s here
    assert 0.5 * estimate["law_T"] <= error <= 2.0 * estimate["law_T"]   # the Richardson estimate is sharp
    assert abs(fine.law.sum(axis=1) - 1.0).max() < 1e-12


def test_inventory_law_equals_a_monte_carlo_of_the_quoting_policy():
    """Chi-square test (seeded) of the simulated inventories against the forward Kolmogorov law."""
    params = MarketMakerParams(**{**GLFT, "Q_max": 6, "gamma": 0.05})
    t = np.array([0.0, 20.0, 45.0, 60.0])
    lam_b, lam_a = np.array([0.9, 2.4, 0.5]), np.array([0.9, 0.3, 1.7])
    sol = solve_market_maker(params, t, lam_b, lam_a, substep_s=2.0, check_limits=False)
    record = np.searchsorted(sol.t_sub, t[1:])
    n_runs = 20_000
    runs = simulate_market_maker(sol, scale_b=np.tile(lam_b, (n_runs, 1)), scale_a=np.tile(lam_a, (n_runs, 1)),
                                 seed=17, record_at=record)
    for column, node in enumerate(record):
        law = sol.law[node]
        counts = np.bincount(runs.inventories[:, column] + params.Q_max, minlength=law.size)
        expected = n_runs * law
        keep = expected >= 5.0                                  # pool the sparse tails into one cell
        observed = np.append(counts[keep], counts[~keep].sum())
        expect = np.append(expected[keep], expected[~keep].sum())
        if expect[-1] < 5.0:
            observed, expect = observed[:-1], expect[:-1]
            observed[-1] += counts[~keep].sum()
            expect[-1] += expected[~keep].sum()
        p_value = stats.chisquare(observed, expect).pvalue
        assert p_value > 1e-3, (t[column + 1], p_value)
    # and the expected spread capture
    se = runs.capture.std(ddof=1) / np.sqrt(n_runs)
    assert abs(runs.capture.mean() - sol.totals()["pnl"]) < 4.0 * se


def test_limit_mass_above_tolerance_is_an_error_naming_the_fix():
    params = MarketMakerParams(**{**GLFT, "Q_max": 3, "gamma": 0.001})
    with pytest.raises(EquilibriumError, match="leaves the inventory lattice.*Q_max"):
        solve_market_maker(params, [0.0, 300.0], 5.0, 0.2, substep_s=5.0, max_limit_mass=0.05)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lambda_b=[1.0, -1.0]), "lambda_b"),
    (dict(lambda_a=[np.nan, 1.0]), "lambda_a"),
    (dict(substep_s=0.0), "substep_s"),
    (dict(t_nodes=[0.0, 5.0, 5.0]), "time nodes"),
])
def test_bad_inputs_name_what_is_wrong(kwargs, message):
    args = dict(t_nodes=[0.0, 5.0, 10.0], lambda_b=1.0, lambda_a=1.0, substep_s=1.0)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        solve_market_maker(MarketMakerParams(**GLFT), args.pop("t_nodes"), args.pop("lambda_b"),
                           args.pop("lambda_a"), **args)
