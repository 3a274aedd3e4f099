"""The equilibrium of the crowd and the market maker: decoupled limits, the fixed point, its failures,
and the MFG solver's cost-offset hook it relies on."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from eq_cases import MM, UNITS, coupling, crowd, mild
from mfg_finance.equilibrium import EquilibriumError, MarketMakerParams, Units, solve_equilibrium
from mfg_finance.equilibrium.crowd import StepPath
from mfg_finance.equilibrium.fixed_point import Coupling, market_maker_response, node_spread, paid_spread
from mfg_finance.errors import ConfigError, MfgConvergenceError
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.mfg import solve
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.exact import exact_outcomes


@pytest.fixture(scope="module")
def coupled():
    return solve_equilibrium(crowd(), MM, coupling(theta_share=2.0, beta=1.0))


def test_theta_beta_zero_decouples_into_the_standalone_solutions():
    sol = solve_equilibrium(crowd(), MM, coupling(theta_share=0.0, beta=0.0), estimate_errors=False)
    alone = solve(crowd(), estimate_errors=False)
    assert sol.iterations <= 2 and sol.residuals[-1] <= 1e-8
    np.testing.assert_allclose(sol.crowd.eta, alone.eta, rtol=1e-12, atol=0)
    np.testing.assert_allclose(sol.crowd.mean_flow, alone.mean_flow, rtol=1e-10, atol=1e-14)
    assert sol.crowd.total_cost == pytest.approx(alone.total_cost, rel=1e-12)
    # the market maker is the standalone GLFT market maker over the crowd's horizon, to solver precision
    horizon = UNITS.seconds(sol.crowd.t[-1])
    ref = InventoryHJB(HJBParameters(sigma=MM.sigma, A=MM.A, k=MM.k, gamma=MM.gamma, Q_max=MM.Q_max, phi=MM.phi,
                                     T=float(horizon)))
    assert np.max(np.abs(ref.log_v(sol.mm.t_sub) - sol.mm.log_v)) < 1e-9
    assert np.all(sol.mm.lambda_b == MM.A) and np.all(sol.mm.lambda_a == MM.A)


def test_constant_cost_offset_equals_a_larger_eta0():
    """The solver hook: ``eta0 + c`` as an offset path is the MFG with ``eta0 + c`` (uniform meshes: the graded
    ones are built from eta0)."""
    base = crowd()
    base["grid"]["time_mesh"] = "uniform"
    base["grid"]["inventory_mesh"] = "uniform"
    shifted = copy.deepcopy(base)
    shifted["params"]["eta0"] += 3e-4
    a = solve(shifted, estimate_errors=False)
    b = solve(base, estimate_errors=False, eta_offset=lambda t: np.full(t.size, 3e-4))
    np.testing.assert_allclose(b.eta, a.eta, rtol=1e-9)
    np.testing.assert_allclose(b.mean_flow, a.mean_flow, rtol=1e-8, atol=1e-12)
    with pytest.raises(ConfigError, match="eta_offset"):
        solve(base, estimate_errors=False, eta_offset=lambda t: -np.ones(t.size))


def test_step_path_averages_exactly_on_another_mesh():
    t = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    path = StepPath(t, np.array([1.0, 2.0, 3.0, 4.0, 9.0]))
    np.testing.assert_allclose(path(t), [1, 2, 3, 4, 9])
    np.testing.assert_allclose(path(np.array([0.0, 0.3, 1.0])), [(0.1 + 0.4) / 0.3, (0.9 + 1.6) / 0.7, 9.0])


def test_coupled_fixed_point_is_a_pair_of_best_responses(coupled):
    sol = coupled
    assert sol.residuals[-1] <= sol.tol and len(sol.residuals) == sol.iterations
    # one more round from the solution returns the same spread path (to the tolerance)
    mm = market_maker_response(MM, sol.coupling, sol.crowd.t, sol.crowd.mean_flow)
    assert np.max(np.abs(paid_spread(mm, sol.crowd.mean_flow) - sol.spread)) <= 1e-7 * sol.spread.max()
    # a selling crowd hits the bid, which the market maker, pushed long, lowers: it pays more than the quoted spread
    assert np.all(mm.skew > 0) and np.all(sol.spread[:-1] > node_spread(mm)[:-1])
    # and the crowd paid theta x that spread on top of its own crowding cost
    expected = sol.crowd.config["params"]["eta0"] + sol.coupling.theta * sol.spread + \
        sol.crowd.config["params"]["eta1"] * np.abs(sol.crowd.mean_flow)
    np.testing.assert_allclose(sol.crowd.eta, expected, rtol=1e-9)
    # the selling crowd hits the bid: more bid fills than ask fills, the market maker ends long
    out = sol.outcomes()
    assert out["mm_fills_bid"] > out["mm_fills_ask"] and sol.mm.mean_inventory[-1] > 0
    # the spread cost slows the crowd and costs it more than alone
    alone = solve(crowd(), estimate_errors=False)
    assert out["crowd_cost"] > alone.total_cost
    assert out["crowd_liquidation_speed"] < alone.liquidation_speed
    assert all(v is not None for k, v in sol.outcome_errors().items() if k.startswith("mm_"))


def test_non_convergence_raises_with_the_residual_history():
    with pytest.raises(MfgConvergenceError, match=r"equilibrium.*last residuals"):
        solve_equilibrium(crowd(), MM, coupling(theta_share=2.0), max_iter=1, estimate_errors=False)


def test_a_spread_path_leaving_the_lattice_is_an_error():
    small = MarketMakerParams(sigma=MM.sigma, A=MM.A, k=MM.k, gamma=0.01, Q_max=4)
    big = Units(seconds_per_day=25200.0, inventory_unit_shares=1.0e4, lot_shares=100.0, crowd_size=2000.0)
    with pytest.raises(EquilibriumError, match="leaves the inventory lattice"):
        solve_equilibrium(crowd(), small, coupling(units=big, beta=1.0), estimate_errors=False)


def test_quoted_pricing_pays_the_quoted_spread():
    base = coupling(theta_share=2.0, beta=1.0)
    quoted = Coupling(**{**base.__dict__, "crowd_pays": "quoted"})
    sol = solve_equilibrium(crowd(), MM, quoted, estimate_errors=False)
    np.testing.assert_allclose(sol.spread, node_spread(sol.mm), rtol=1e-7)
    side = solve_equilibrium(crowd(), MM, base, estimate_errors=False)
    assert side.outcomes()["crowd_cost"] > sol.outcomes()["crowd_cost"]
    with pytest.raises(ConfigError, match="crowd_pays"):
        Coupling(**{**base.__dict__, "crowd_pays": "mid"})


def test_decoupled_crowd_is_the_exact_lq_equilibrium_within_its_error_estimate():
    sol = solve_equilibrium(mild(), MM, coupling(theta_share=0.0, beta=0.0))
    exact = exact_outcomes(validate_config(mild()))
    errors = sol.crowd.accuracy["outcome_errors"]
    # the cost, which the equilibrium feeds back; the other outcomes' estimates are the MFG solver's business
    assert abs(sol.crowd.outcomes()["total_cost"] - exact["total_cost"]) <= 1.25 * errors["total_cost"]
