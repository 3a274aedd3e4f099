"""The fixed-point accelerators on small synthetic maps (no PDE)."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg.coupling import Evaluation, anderson, lq_moment_guess, lq_moment_map, picard


def linear_map(matrix, offset):
    def evaluate(x):
        g = matrix @ x + offset
        return Evaluation(x, g, float(np.max(np.abs(g - x))))
    return evaluate


def test_anderson_and_picard_solve_a_contraction():
    rng = np.random.default_rng(0)
    V = np.linalg.qr(rng.standard_normal((20, 20)))[0]
    A = V @ np.diag(np.linspace(-0.95, 0.95, 20)) @ V.T       # oscillating and slow modes
    b = rng.standard_normal(20)
    exact = np.linalg.solve(np.eye(20) - A, b)
    # full memory: Anderson is GMRES in disguise, so at most n + 1 (+ round-off) evaluations
    res_a = anderson(linear_map(A, b), np.zeros(20), tol=1e-12, max_iter=60, damping=0.5, memory=20)
    assert np.allclose(res_a.evaluation.x, exact, atol=1e-10)
    assert res_a.iterations <= 24
    res_p = picard(linear_map(-0.9 * np.eye(20), b), np.zeros(20), tol=1e-12, max_iter=200, damping=0.5)
    assert np.allclose(res_p.evaluation.x, b / 1.9, atol=1e-10)
    assert res_a.iterations == len(res_a.residuals)


def test_blow_up_raises():
    calls = [0]

    def exploding(x):
        calls[0] += 1
        r = 10.0 ** (3 * calls[0])          # the residual explodes whatever the step
        return Evaluation(x, x + r, r)

    for solver in (picard, anderson):
        calls[0] = 0
        with pytest.raises(MfgConvergenceError, match="blow-up") as info:
            solver(exploding, np.ones(3), tol=1e-12, max_iter=50, damping=0.5)
        assert len(info.value.residuals) == 4


def test_divergent_map_is_refused():
    with pytest.raises(MfgConvergenceError, match="damping"):
        picard(linear_map(np.eye(3) * 5.0, np.ones(3)), np.zeros(3), tol=1e-12, max_iter=100, damping=1.0)

    def no_fixed_point(x):                  # G(x) = x + x^2 + 1 > x: residual >= 1 forever
        g = x + x * x + 1.0
        return Evaluation(x, g, float(np.max(g - x)))

    with pytest.raises(MfgConvergenceError):
        anderson(no_fixed_point, np.zeros(3), tol=1e-12, max_iter=40, damping=0.5)


def test_nan_raises():
    with pytest.raises(MfgConvergenceError, match="NaN"):
        anderson(lambda x: Evaluation(x, x * np.nan, float("nan")), np.ones(3), tol=1e-8, max_iter=5,
                 damping=0.5)


def test_stagnation_is_detected_before_max_iter():
    calls = []

    def flat(x):
        calls.append(1)
        return Evaluation(x, x + 1e-3, 1e-3)     # residual never moves

    with pytest.raises(MfgConvergenceError, match="stagnated"):
        anderson(flat, np.ones(2), tol=1e-12, max_iter=1000, damping=0.5, lower=None)
    assert len(calls) < 50


def test_anderson_respects_the_lower_bound():
    seen = []

    def evaluate(x):
        seen.append(x.min())
        g = 1.0 + 0.5 / x                       # fixed point x = (1 + sqrt 3)/2, map defined for x > 0
        return Evaluation(x, g, float(np.max(np.abs(g - x))))

    res = anderson(evaluate, np.full(4, 0.2), tol=1e-12, max_iter=50, damping=0.5, lower=0.1)
    assert min(seen) >= 0.1
    assert np.allclose(res.evaluation.x, (1 + np.sqrt(3)) / 2)


def test_moment_guess_is_a_fixed_point_of_the_moment_map():
    kw = dict(dt=0.5 / 150, phi=0.035, gamma_T=0.57, eta0=5e-4, eta1=1e-3, mean0=0.5)
    eta = lq_moment_guess(150, **kw)
    g, m = lq_moment_map(eta, **kw)
    assert np.max(np.abs(g - eta)) <= 1e-11 * eta.max()
    assert np.all(m < 0.0)
    assert np.all(lq_moment_guess(10, **{**kw, "eta1": 0.0}) == 5e-4)
