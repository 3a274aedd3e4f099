"""Time meshes: the graded mesh (default) resolves the terminal layer; the uniform one is unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_banded

from mfg_cases import MILD, STIFF, make
from mfg_finance.mfg import solve
from mfg_finance.mfg.coupling import lq_moment_guess, lq_moment_map
from mfg_finance.mfg.exact import lq_reference
from mfg_finance.mfg.fp import solve_fp
from mfg_finance.mfg.grid import gaussian_density, layer_scale, make_grid, time_mesh
from mfg_finance.mfg.hjb import generator_offdiagonals, implicit_banded
from mfg_finance.mfg.outputs import solution_metrics
from mfg_finance.mfg.verify import QUANTITIES, run_verification, solution_errors, time_weights

P = STIFF["params"]
TAU = P["eta0"] / P["gamma_T"]        # terminal layer width, ~8.8e-4 trading days
T = STIFF["grid"]["T"]


# ---- the mesh itself ---------------------------------------------------------------------------

def test_graded_mesh_shape():
    nt, beta = 150, 1.5
    t, dts = time_mesh(T, nt, "graded", layer=TAU, max_step_ratio=beta)
    assert t.shape == (nt + 1,) and dts.shape == (nt,)
    assert t[0] == 0.0 and t[-1] == T
    # the steps are differences of the distances to T (exact); the times T - s round
    assert np.all(dts > 0.0) and np.allclose(dts, np.diff(t), rtol=1e-9, atol=0.0)
    assert dts.max() == pytest.approx(beta * T / nt, rel=1e-12)       # steps away from T: beta x uniform
    assert dts[-1] < TAU / 10                                          # the layer is resolved ...
    near_T = dts[::-1][:40]                                            # ... by geometric growth from T
    ratios = near_T[:-1] / near_T[1:]
    assert np.allclose(1.0 / ratios, 1.0 / ratios[0], rtol=1e-9) and 1.0 < 1.0 / ratios[0] < 1.1
    uniform_part = np.isclose(dts, dts.max(), rtol=1e-12)
    assert 0.5 * nt < uniform_part.sum() < 0.75 * nt                   # about 2/3 of the steps
    assert np.all(uniform_part[: uniform_part.sum()])                  # ... all at the start
    assert np.all(np.diff(dts) <= 1e-15)                                # steps never grow towards T


@settings(max_examples=200, deadline=None)
@given(T=st.floats(1e-3, 50.0), nt=st.integers(1, 2000), log_tau=st.floats(-300.0, 3.0),
       beta=st.floats(1.0, 20.0))
def test_graded_mesh_is_a_valid_mesh_for_any_layer(T, nt, log_tau, beta):
    t, dts = time_mesh(T, nt, "graded", layer=T * 10.0 ** log_tau, max_step_ratio=beta)
    assert t[0] == 0.0 and t[-1] == T and t.shape == (nt + 1,)
    assert np.all(dts > 0.0) and np.allclose(dts, np.diff(t), rtol=1e-6, atol=4 * np.finfo(float).eps * T)
    assert dts.sum() == pytest.approx(T, rel=1e-12)
    assert dts.max() <= beta * T / nt * (1.0 + 1e-9)
    assert np.all(np.diff(dts) <= 1e-9 * dts.max())        # steps never grow towards T


def test_graded_meshes_are_nested_under_refinement():
    """Same grading law for every nt: the 2 nt mesh splits each step of the nt mesh in two."""
    coarse, _ = time_mesh(T, 80, "graded", layer=TAU)
    fine, fine_dts = time_mesh(T, 160, "graded", layer=TAU)
    assert np.allclose(fine[::2], coarse, rtol=0.0, atol=1e-14)
    assert fine_dts.max() == pytest.approx(0.5 * np.diff(coarse).max(), rel=1e-12)
    # in the geometric zone a step splits in ratio e^(kappa/2): about, not exactly, in half
    assert fine_dts.min() == pytest.approx(0.5 * np.diff(coarse).min(), rel=0.05)


def test_degenerate_graded_meshes_are_continuous():
    uniform, dts = time_mesh(T, 50, "uniform")
    assert np.array_equal(uniform, np.linspace(0.0, T, 51)) and np.all(dts == uniform[1])
    # no layer (gamma_T = 0) or no extra step length allowed: exactly the uniform mesh
    for kw in (dict(layer=layer_scale(5e-4, 0.0)), dict(layer=TAU, max_step_ratio=1.0)):
        t, d = time_mesh(T, 50, "graded", **kw)
        assert np.array_equal(t, uniform) and np.array_equal(d, dts)
    # a layer wider than the horizon: purely geometric, nearly uniform, no step above beta T/nt
    t, d = time_mesh(T, 50, "graded", layer=10.0 * T)
    assert d.max() <= 1.5 * T / 50 and d.min() > 0.9 * T / 50
    # an absurdly thin layer is floored at 1e-9 T: no step vanishes in round-off
    t, d = time_mesh(T, 20, "graded", layer=1e-300)
    assert np.all(d > 0.0) and t[-1] == T
    with pytest.raises(ValueError, match="time mesh"):
        time_mesh(T, 10, "chebyshev")


def test_time_weights_reduce_to_plain_sums_on_a_uniform_mesh():
    assert np.array_equal(time_weights(np.full(7, 0.1)), np.ones(8))
    _, d = time_mesh(T, 40, "graded", layer=TAU)
    w = time_weights(d)
    assert w.shape == (41,) and w.max() == 1.0 and w[-1] == w[-2] and w[-1] < 0.02


# ---- accuracy: the point of the graded mesh ----------------------------------------------------

def _errors(cfg):
    s = solve(cfg)
    return s, solution_errors(s, lq_reference(s.config, s.t))


def test_both_time_meshes_hold_the_terminal_layer():
    """Stiff baseline at 201 x 160 (eta/gamma_T = 8.8e-4 day < T/nt = 3.1e-3 day), graded inventory nodes.

    Both meshes hold the layer below their last step exactly (mfg.terminal_interval). The graded one resolves the
    layer's first e-folds with implicit steps; the uniform one, whose implicit steps next to the exact interval would
    keep an error that refinement does not remove (h2 ~ eta / (T - t) stepped with uniform steps:
    mfg.terminal_interval.exact_steps), solves every step within 0.073 day of T in closed form (23 of 160).
    """
    uniform, uni = _errors(make(STIFF, grid={"nx": 201, "nt": 160, "time_mesh": "uniform"}))
    sol, gra = _errors(make(STIFF, grid={"nx": 201, "nt": 160, "time_mesh": "graded"}))
    # measured: graded feedback 4.2 %, value 5.0 %; uniform 0.60 %, 0.80 % (before the exact stretch: 8.6 %, 6.7 %;
    # before the exact last interval: 21 %, 13 %, uniform inventory nodes)
    assert gra["err_feedback"] < 0.06 and gra["err_value"] < 0.06
    assert uniform.exact_steps == 23 and not sol.exact_last_interval
    assert uni["err_feedback"] < 0.01 and uni["err_value"] < 0.01
    # paths: the graded mesh's mean is closer (0.18 % vs 0.27 %); the variance pays for its longer steps away from T
    assert gra["err_mean"] < uni["err_mean"] and gra["err_eta"] < 0.01 and uni["err_eta"] < 0.01
    assert gra["err_variance"] < 1.6 * uni["err_variance"]
    assert sol.iterations <= 15 and uniform.iterations <= 15


def test_first_order_convergence_with_the_graded_mesh():
    # graded inventory nodes (the default): the time mesh's own effect (orders between 1, backward Euler,
    # and 2, the central part of the space scheme)
    result = run_verification(make(STIFF, grid={"time_mesh": "graded"}), [(51, 40), (101, 80), (201, 160)])
    rows = result.rows
    for name in QUANTITIES:
        errs = [r[f"err_{name}"] for r in rows]
        assert all(a > b for a, b in zip(errs, errs[1:])), (name, errs)
        assert 0.85 <= rows[-1][f"order_{name}"] <= 2.0, (name, rows[-1][f"order_{name}"])
        assert 0.6 <= result.fitted_order[name] <= 2.0, (name, result.fitted_order[name])
    bounds = {"value": 0.06, "feedback": 0.06, "mean": 0.005, "variance": 0.02, "eta": 0.01}
    for name, bound in bounds.items():      # measured on 201 x 160: 5.4%, 4.4%, 0.15%, 1.2%, 0.39%
        assert rows[-1][f"err_{name}"] < bound, (name, rows[-1][f"err_{name}"])
    # the layer is resolved: the sup-in-time errors converge as well (feedback 7.6, 7.4, 4.3 %)
    assert rows[-1]["sup_feedback"] < rows[0]["sup_feedback"] / 1.5
    assert rows[-1]["sup_value"] < 0.03      # measured 6.4%, 4.2%, 2.2%
    assert all(r["dt_min"] < r["dt"] / 50 for r in rows)


# ---- conservation, positivity and adjointness with per-step dt -------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), scale=st.floats(0.0, 5e3), sigma=st.floats(0.0, 2.0),
       log_dts=st.lists(st.floats(-6.0, math.log10(0.5)), min_size=1, max_size=8))
def test_fp_with_nonuniform_steps_conserves_mass_and_positivity(seed, scale, sigma, log_dts):
    rng = np.random.default_rng(seed)
    q = np.linspace(-5, 5, 81)
    dts = 10.0 ** np.array(log_dts)
    rates = [generator_offdiagonals(scale * rng.standard_normal(q.size), sigma, q[1] - q[0]) for _ in dts]
    up, down = np.array([r[0] for r in rates]), np.array([r[1] for r in rates])
    mu0 = gaussian_density(q, 0.3, 0.7)
    mu = solve_fp(mu0, up, down, dts)
    stiffness = 1.0 + dts.max() * max(up.max(), down.max())
    assert np.max(np.abs(mu.sum(axis=1) - mu0.sum())) <= 16 * np.finfo(float).eps * stiffness * dts.size * mu0.sum()
    assert mu.min() >= 0.0
    # each step uses its own dt: the same bits as one step at a time with that scalar
    for n, h in enumerate(dts):
        assert np.array_equal(mu[n + 1], solve_fp(mu[n], up[n:n + 1], down[n:n + 1], float(h))[1])


def test_fp_is_the_adjoint_of_the_hjb_with_nonuniform_steps():
    """<mu^0, u^0> = sum_n dt_n <mu^{n+1}, c^n> + <mu^N, u^N> with steps spanning five decades."""
    rng = np.random.default_rng(7)
    q = np.linspace(-2.0, 2.0, 41)
    dts = np.array([0.2, 0.05, 1e-2, 1e-3, 1e-4, 1e-5])
    rates = [generator_offdiagonals(300 * rng.standard_normal(q.size), 0.5, q[1] - q[0]) for _ in dts]
    up, down = np.array([r[0] for r in rates]), np.array([r[1] for r in rates])
    costs = rng.random((dts.size, q.size))
    u = [rng.random(q.size)]
    for n in range(dts.size - 1, -1, -1):
        u.insert(0, solve_banded((1, 1), implicit_banded(up[n], down[n], dts[n]), u[0] + dts[n] * costs[n]))
    mu = solve_fp(rng.random(q.size), up, down, dts)
    forward = sum(dts[n] * mu[n + 1] @ costs[n] for n in range(dts.size)) + mu[-1] @ u[-1]
    assert mu[0] @ u[0] == pytest.approx(forward, rel=1e-12)


def test_graded_equilibrium_is_a_probability_flow_with_exact_duality(stiff_solution):
    s = stiff_solution                                     # the default: graded
    assert s.config["grid"]["time_mesh"] == "graded"
    assert s.time_steps.min() < s.time_steps.max() / 50
    assert s.mass_error <= 1e-13 and np.all(s.density[:-1] > 0.0) and np.all(s.density[-1] >= 0.0)
    assert s.total_cost == pytest.approx(float(s.masses[0] @ s.u[0]), rel=1e-11)
    # the cost with a single dt would be wrong by far more than the duality tolerance
    naive = (s.dt * float(np.sum(s.masses[1:] * (P["phi"] * s.q ** 2 + s.eta[:-1, None] * s.alpha[:-1] ** 2)))
             + P["gamma_T"] * float(s.masses[-1] @ s.q ** 2))
    assert abs(naive / s.total_cost - 1.0) > 1e-3


def test_moment_guess_takes_per_step_dt():
    kw = dict(phi=0.035, gamma_T=0.57, eta0=5e-4, eta1=1e-3, mean0=0.5)
    eta = np.linspace(2e-3, 6e-4, 151)
    a = lq_moment_map(eta, dt=0.5 / 150, **kw)
    b = lq_moment_map(eta, dt=np.full(150, 0.5 / 150), **kw)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    _, dts = time_mesh(0.5, 150, "graded", layer=TAU)
    guess = lq_moment_guess(150, dt=dts, **kw)
    g, m = lq_moment_map(guess, dt=dts, **kw)
    assert np.max(np.abs(g - guess)) <= 1e-11 * guess.max() and np.all(m < 0.0)


def test_metrics_report_the_time_steps(stiff_solution):
    m = solution_metrics(stiff_solution, wall_time=False)
    grid = m["grid"]
    assert grid["time_mesh"] == "graded" and grid["nt"] == 150
    assert grid["dt"] == grid["dt_max"] == pytest.approx(1.5 * T / 150, rel=1e-12)
    assert grid["dt_min"] < TAU / 10
    alpha = np.abs(stiff_solution.alpha[:-1]).max(axis=1)
    h = np.diff(stiff_solution.q)
    local = np.concatenate([h[:1], np.minimum(h[:-1], h[1:]), h[-1:]])
    speed = np.max(np.abs(stiff_solution.alpha[:-1]) / local, axis=1)
    assert m["max_cfl"] == pytest.approx(np.max(speed * stiff_solution.time_steps)) and m["max_cfl"] >= \
        np.max(alpha * stiff_solution.time_steps) / stiff_solution.dx
    uni = solution_metrics(solve(make(MILD, grid={"time_mesh": "uniform"})), wall_time=False)["grid"]
    assert uni["time_mesh"] == "uniform" and uni["dt"] == uni["dt_min"] == uni["dt_max"] == 1.0 / 80


def test_make_grid_keeps_the_uniform_signature():
    g = make_grid(-5, 5, 201, 1.0, 4)
    assert np.array_equal(g.t, np.linspace(0, 1, 5)) and g.dt == 0.25 and g.dts.shape == (4,)
