"""The coupled solver on the stiff calibrated baseline: stability, conservation, agreement."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_cases import MILD, STIFF, make
from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg import solve
from mfg_finance.mfg import solver as solver_mod


def test_stiff_baseline_is_stable_and_converges(stiff_solution):
    s = stiff_solution
    p = STIFF["params"]
    assert s.converged and s.residuals[-1] <= 1e-10
    assert s.iterations <= 15
    assert s.iterations == len(s.residuals)
    g = STIFF["grid"]
    uniform_dx = (g["x_max"] - g["x_min"]) / (g["nx"] - 1)
    cfl = np.max(np.abs(s.alpha[:-1])) * (g["T"] / g["nt"]) / uniform_dx
    assert cfl > 20.0                        # really the stiff regime of issue 5 (at the uniform steps)
    assert s.max_cfl > 1.0                   # the implicit step does not need it below 1
    for name in ("u", "density", "alpha", "eta", "mean_flow"):
        assert np.all(np.isfinite(getattr(s, name)))
    assert s.u.shape == s.density.shape == s.alpha.shape == (151, 201)
    assert s.t.shape == s.eta.shape == s.mean_flow.shape == (151,)
    assert np.all(s.eta >= p["eta0"])
    assert np.allclose(s.eta, p["eta0"] + p["eta1"] * np.abs(s.mean_flow), rtol=0, atol=1e-10 * s.eta.max())
    Q = s.mean_inventory
    assert Q[0] == pytest.approx(0.5, abs=1e-12)
    assert np.all(np.diff(Q) < 0.0) and Q[-1] > 0.0           # monotone liquidation, no overshoot
    assert np.all(s.mean_flow < 0.0)                           # the crowd sells throughout
    assert s.price is None and s.price_impact is None
    assert s.liquidation_speed > 0.0 and s.terminal_dispersion > 0.0


def test_mass_to_round_off_and_positivity_on_the_stiff_case(stiff_solution):
    s = stiff_solution
    assert s.mass_error <= 1e-13
    assert s.min_density >= 0.0
    assert np.all(s.density[:-1] > 0.0)      # sigma > 0: strictly positive, no clipping anywhere ...
    assert np.all(s.density[-1] >= 0.0)      # ... but at T: the exact last interval's kernel uses the nodes near r q


def test_value_is_convex_and_feedback_points_to_zero(stiff_solution):
    s = stiff_solution
    slopes = np.diff(s.u, axis=1) / np.diff(s.q)
    assert np.all(np.diff(slopes, axis=1)[:, 10:-10] > 0.0)
    interior = slice(1, -1)
    assert np.all(s.alpha[:, interior] * s.q[interior] <= 0.0)


def test_total_cost_equals_initial_value_by_duality(stiff_solution):
    s = stiff_solution
    assert s.total_cost == pytest.approx(float(s.masses[0] @ s.u[0]), rel=1e-11)


def test_picard_and_newton_agree(stiff_solution, stiff_picard_solution):
    a, b = stiff_solution, stiff_picard_solution
    assert b.converged and b.residuals[-1] <= 1e-10
    scale = a.eta.max()
    assert np.max(np.abs(a.eta - b.eta)) <= 1e-8 * scale
    assert np.max(np.abs(a.mean_flow - b.mean_flow)) <= 1e-7 * np.abs(a.mean_flow).max()
    assert np.max(np.abs(a.density - b.density)) <= 1e-7 * a.density.max()
    assert np.max(np.abs(a.u - b.u)) <= 1e-7 * np.abs(a.u).max()


def test_uncoupled_case_needs_one_sweep():
    s = solve(make(STIFF, params={"eta1": 0.0}))
    assert s.iterations == 1 and s.residuals == [0.0]
    assert np.all(s.eta == STIFF["params"]["eta0"])


def test_symmetry_negative_initial_inventory():
    a = solve(MILD)
    b = solve(make(MILD, params={"m0_mean": -MILD["params"]["m0_mean"]}))
    assert np.allclose(a.eta, b.eta, rtol=1e-9)
    assert np.allclose(a.mean_inventory, -b.mean_inventory, atol=1e-12)


@pytest.mark.parametrize("params", [{"sigma": 0.0}, {"phi": 0.0, "gamma_T": 0.0}, {"eta1": 5.0}])
def test_degenerate_and_strongly_coupled_cases(params):
    s = solve(make(MILD, params=params))
    assert s.converged and s.mass_error <= 1e-12 and s.min_density >= 0.0


def test_max_iter_too_small_raises_with_history():
    with pytest.raises(MfgConvergenceError) as info:
        solve(make(STIFF, solver={"max_iter": 2}))
    assert len(info.value.residuals) == 2
    assert info.value.residuals[-1] > 1e-10
    assert "max_iter" in str(info.value)


def test_picard_max_iter_too_small_raises():
    with pytest.raises(MfgConvergenceError):
        solve(make(STIFF, solver={"method": "picard", "max_iter": 3}))


def test_unreachable_tolerance_is_reported_not_returned():
    with pytest.raises(MfgConvergenceError) as info:
        solve(make(STIFF, solver={"tol": 1e-30, "max_iter": 40}))
    assert info.value.residuals


def test_nan_in_a_sweep_raises(monkeypatch):
    real = solver_mod.sweep

    def poisoned(problem, eta, start=None):
        s = real(problem, eta, start)
        u = s.u.copy()
        u[0, 3] = np.nan
        return solver_mod.Sweep(u, s.alpha, s.density, s.mean_flow)

    monkeypatch.setattr(solver_mod, "sweep", poisoned)
    for method in ("newton", "picard"):
        with pytest.raises(MfgConvergenceError, match="NaN"):
            solve(make(STIFF, solver={"method": method}))


@pytest.mark.slow
def test_fine_stiff_grid_801_by_600():
    s = solve(make(STIFF, grid={"nx": 801, "nt": 600}))
    assert s.iterations <= 15 and s.mass_error <= 1e-12 and s.min_density >= 0.0


def test_round_off_floor_is_far_below_the_default_tolerance():
    """A stiff sweep point (gamma_T = 5): converges to 1e-13, three decades below the default tol."""
    s = solve(make(STIFF, params={"eta1": 0.0014, "phi": 0.0186, "gamma_T": 5.0},
                   solver={"tol": 1e-13}))
    assert s.residuals[-1] <= 1e-13 and s.iterations <= 20


@pytest.mark.parametrize("params", [
    {"eta0": 1e-5, "eta1": 1.0, "gamma_T": 10.0, "phi": 1.0, "sigma": 0.0, "m0_mean": 2.0},
    {"eta0": 1e-5, "eta1": 0.01, "sigma": 2.0, "m0_mean": -1.0},
])
def test_extreme_regimes_converge_with_both_methods(params):
    """eta0 -> 0 with strong coupling: the moment guess fails, the exact-LQ guess takes over."""
    for method in ("newton", "picard"):
        s = solve(make(STIFF, params=params, solver={"method": method}))
        assert s.residuals[-1] <= 1e-10 and s.mass_error <= 1e-12 and s.min_density >= 0.0
