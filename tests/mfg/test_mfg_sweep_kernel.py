"""The compiled HJB/FP sweep equals the plain NumPy reference of the scheme (tests/mfg/hjb_reference.py) to round-off."""

from __future__ import annotations

import numpy as np
import pytest

import hjb_reference
from mfg_cases import STIFF, make, must_hold_config
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.hjb import solve_hjb, solve_sweep
from mfg_finance.mfg.solver import Problem, initial_eta

#: Masses: relative to the law's maximum. The uniform time mesh with gamma_T = 1e8 (a terminal layer 1e9 times
#: shorter than a step, Courant numbers |alpha| dt / h of 1e5 .. 1e11, M-matrices with diagonals up to 1e8)
#: loses more digits in any factorisation (the reference's plain LU against the kernel's twisted one): 1e-11 to
#: 2e-11 measured, on the uniform-noise and the budgeted inventory meshes.
MASS_TOL = {"gamma_T = 1e8, uniform time mesh": 1e-10}

CASES = {
    "stiff, coupled (eta1 > 0), graded meshes": make(STIFF, grid={"nx": 101, "nt": 60}),
    "stiff, uniform meshes": make(STIFF, grid={"nx": 101, "nt": 60, "inventory_mesh": "uniform",
                                               "time_mesh": "uniform"}),
    "gamma_T = 1e8, graded": make(STIFF, grid={"nx": 81, "nt": 40}, params={"eta1": 0.0, "gamma_T": 1e8}),
    "gamma_T = 1e8, uniform time mesh": make(STIFF, grid={"nx": 81, "nt": 40, "time_mesh": "uniform"},
                                             params={"eta1": 0.0, "gamma_T": 1e8}),
    "transport-dominated (sigma = 0.02), selling": make(must_hold_config(1, -1.5, 0, 50, 0.02, 5),
                                                        grid={"nx": 81, "nt": 40}),
}


def _relative(x, ref):
    return float(np.max(np.abs(x - ref)) / np.max(np.abs(ref)))


def _control_noise(u, eta, q):
    """Round-off floor of the controls (n, nx): a control is a difference quotient ``-(u_j - u_i) / (2 eta h)``,
    so where ``u`` is flat over a cell (to its round-off, e.g. at q = 0 on the finest cells) only
    ``eps |u| / (eta h)`` of it is determined, by any implementation."""
    h = np.diff(q)
    cell = np.minimum(np.append(h, h[-1]), np.insert(h, 0, h[0]))
    return 64 * np.finfo(float).eps * np.abs(u) / (eta[:, None] * cell[None, :])


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_sweep_equals_the_reference_to_round_off(name):
    problem = Problem.from_config(validate_config(CASES[name]))
    g = problem.grid
    # a cost path that varies in time (the coupled start), so eta^n enters every step differently
    eta = initial_eta(problem) * (1.0 + 0.3 * np.sin(np.linspace(0.0, 3.0, g.nt + 1)) ** 2)
    mass0 = problem.mu0 * problem.weights
    kw = dict(sigma=problem.sigma, phi=problem.phi, gamma_T=problem.gamma_T)
    ref = hjb_reference.sweep(eta, g.q, g.dts, mass0, **kw)
    got = solve_sweep(eta, g.q, g.dts, mass0, **kw)
    assert np.all(np.abs(got[0] - ref[0]) <= 1e-12 * np.abs(ref[0])), "value (componentwise)"
    step_scale = np.max(np.abs(ref[1]), axis=1, keepdims=True)
    assert np.all(np.abs(got[1] - ref[1]) <= 1e-12 * step_scale + _control_noise(ref[0], eta, g.q)), "controls"
    assert _relative(got[2], ref[2]) < MASS_TOL.get(name, 1e-12), "masses"
    scale = np.max(np.abs(ref[1]), axis=1)         # the flow of step n sums alpha^n over the unit mass
    assert np.all(np.abs(got[3] - ref[3]) <= 1e-12 * scale)
    # the HJB-only entry point is the same sweep
    u, alpha, _, _ = solve_hjb(eta, g.q, g.dts, **kw)
    assert np.array_equal(u, got[0]) and np.array_equal(alpha, got[1])


def test_sweep_started_from_another_policy_gives_the_same_result():
    """The coupling starts each sweep's policy iteration from the previous sweep's feedback: same answer."""
    problem = Problem.from_config(validate_config(CASES["stiff, coupled (eta1 > 0), graded meshes"]))
    g = problem.grid
    eta = initial_eta(problem)
    mass0 = problem.mu0 * problem.weights
    kw = dict(sigma=problem.sigma, phi=problem.phi, gamma_T=problem.gamma_T)
    cold = solve_sweep(eta, g.q, g.dts, mass0, **kw)
    step_scale = np.max(np.abs(cold[1]), axis=1, keepdims=True)
    # a previous coupling iteration's feedback (the cost path 30% off): the same to round-off. The two runs stop
    # at different iterates that both pass the stopping test (values within 1e-12, in practice 1e-15), so the
    # controls, difference quotients of those values, agree to about 1e-12 of the step's largest (1.5e-12 seen)
    warm = solve_sweep(eta, g.q, g.dts, mass0, start=solve_sweep(1.3 * eta, g.q, g.dts, mass0, **kw)[1], **kw)
    assert np.all(np.abs(warm[0] - cold[0]) <= 1e-12 * np.abs(cold[0]))
    assert np.all(np.abs(warm[1] - cold[1]) <= 1e-11 * step_scale + _control_noise(cold[0], eta, g.q))
    assert _relative(warm[2], cold[2]) < 1e-12
    # doing nothing: policy iteration converges from any policy, to the stopping test's precision
    idle = solve_sweep(eta, g.q, g.dts, mass0, start=np.zeros_like(cold[1]), **kw)
    assert np.all(np.abs(idle[0] - cold[0]) <= 1e-12 * np.abs(cold[0]))
    assert np.all(np.abs(idle[1] - cold[1]) <= 1e-10 * step_scale)
    assert _relative(idle[2], cold[2]) < 1e-11
    with pytest.raises(ValueError, match="start"):
        solve_sweep(eta, g.q, g.dts, mass0, start=np.zeros((3, 3)), **kw)


def _dense(up, down, dt):
    n = up.size + 1
    M = np.eye(n)
    for i in range(n - 1):
        M[i, i + 1] -= dt * up[i]
        M[i, i] += dt * up[i]
        M[i + 1, i] -= dt * down[i]
        M[i + 1, i + 1] += dt * down[i]
    return M


@pytest.mark.parametrize("n", list(range(1, 12)) + [200, 201])
def test_twisted_factorisation_solves_both_systems_componentwise_accurately(n):
    from mfg_finance.mfg import tridiag

    rng = np.random.default_rng(n)
    for scale in (1e-2, 1.0, 1e4):
        up, down = scale * rng.random(n - 1), scale * rng.random(n - 1)
        dt = 0.37
        M = _dense(up, down, dt)
        b = np.exp(rng.uniform(-30.0, 0.0, n))          # spanning many orders of magnitude, like u near 0
        piv, mult, outer = np.empty(n), np.empty(max(n - 1, 0)), np.empty(n)
        tridiag.twisted_factor_into(up, down, dt, piv, mult, outer)
        for transpose, A in ((False, M), (True, M.T)):
            solve = tridiag.twisted_solve_transpose_into if transpose else tridiag.twisted_solve_into
            x = np.empty(n)
            solve(piv, mult, outer, b, x)
            backward = np.abs(A @ x - b) / (np.abs(A) @ np.abs(x))      # componentwise backward error
            assert backward.max() < 1e-14 and np.all(x > 0.0)
            in_place = b.copy()
            solve(piv, mult, outer, in_place, in_place)
            assert np.array_equal(in_place, x)


def test_smooth_scale_root_matches_the_lambert_function():
    import math

    from scipy.special import lambertw

    from mfg_finance.mfg.grid import _log_root

    for c in np.concatenate([-1.0 + np.geomspace(1e-3, 1.0, 20), np.geomspace(1e-12, 1e300, 60)]):
        assert _log_root(float(c)) == pytest.approx(1.0 + float(lambertw(c / math.e).real), rel=1e-13)


def test_graded_nodes_are_reused_but_never_shared():
    from mfg_finance.mfg.grid import grid_nodes

    cfg = validate_config(STIFF)
    first = grid_nodes(cfg["grid"], cfg["params"])
    first[:] = 0.0
    assert np.all(np.diff(grid_nodes(cfg["grid"], cfg["params"])) > 0.0)
