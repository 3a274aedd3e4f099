"""Discrete operators: consistency on polynomials, M-matrix structure, exact transposition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_banded

from mfg_finance.mfg.fp import solve_fp
from mfg_finance.mfg.grid import gaussian_density, make_grid
from mfg_finance.mfg.hjb import generator_offdiagonals, implicit_banded, upwind_policy


def dense_generator(alpha, sigma, dx):
    """Dense ``A_alpha`` (tests only) from the jump rates."""
    up, down = generator_offdiagonals(alpha, sigma, dx)
    A = np.diag(up, 1) + np.diag(down, -1)
    A -= np.diag(A.sum(axis=1))
    return A


def banded_to_dense(ab):
    n = ab.shape[1]
    return np.diag(ab[1]) + np.diag(ab[0, 1:], 1) + np.diag(ab[2, :-1], -1)


Q = np.linspace(-2.0, 2.0, 41)
DX = Q[1] - Q[0]
INTERIOR = slice(1, -1)


def test_generator_rows_sum_to_zero_and_offdiagonals_nonnegative():
    alpha = 3.0 * np.sin(3 * Q) * 50
    A = dense_generator(alpha, 0.4, DX)
    assert np.allclose(A.sum(axis=1), 0.0, atol=1e-9)
    off = A - np.diag(np.diag(A))
    assert off.min() >= 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_generator_exact_on_degree_one_and_diffusion_exact_on_cubics(sign):
    sigma = 0.7
    alpha = sign * (1.0 + Q ** 2)            # one sign: upwind direction fixed
    A = dense_generator(alpha, sigma, DX)
    assert np.allclose((A @ np.ones_like(Q)), 0.0)
    assert np.allclose((A @ Q)[INTERIOR], alpha[INTERIOR])                  # alpha p'
    A0 = dense_generator(np.zeros_like(Q), sigma, DX)
    assert np.allclose((A0 @ Q ** 3)[INTERIOR], (0.5 * sigma ** 2 * 6 * Q)[INTERIOR])
    # quadratic: sigma^2 + alpha (2q + sign dx): first order in dx, exactly as predicted
    expected = sigma ** 2 + alpha * (2 * Q + sign * DX)
    assert np.allclose((A @ Q ** 2)[INTERIOR], expected[INTERIOR])


def test_generator_consistency_error_is_first_order():
    errors = []
    for n in (41, 81, 161):
        q = np.linspace(-2.0, 2.0, n)
        dx = q[1] - q[0]
        alpha = -2.0 * q
        u = np.cos(q) + q ** 2
        exact = 0.5 * 0.09 * (-np.cos(q) + 2) + alpha * (-np.sin(q) + 2 * q)
        errors.append(np.max(np.abs((dense_generator(alpha, 0.3, dx) @ u - exact)[1:-1])))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 0.9) & (orders < 1.2))


def test_fp_operator_upwind_exact_on_linear_flux():
    sigma, a = 0.5, 2.0
    alpha = np.full_like(Q, a)
    AT = dense_generator(alpha, sigma, DX).T
    mu = 1.0 + 0.3 * Q                         # alpha mu linear: upwind flux difference is exact
    assert np.allclose((AT @ mu)[INTERIOR], (-a * 0.3) * np.ones_like(Q)[INTERIOR])
    assert np.allclose(np.ones_like(Q) @ AT, 0.0)   # columns of A^T sum to zero: conservation


def test_upwind_policy_on_quadratic_value():
    eta, h = 0.01, 0.3
    u = h * Q ** 2
    alpha = upwind_policy(u, eta, DX)
    # q > 0 sells with the backward difference, q < 0 buys with the forward one, 0 at the minimum
    expected = np.where(Q > 1e-12, -h * (2 * Q - DX) / (2 * eta),
                        np.where(Q < -1e-12, -h * (2 * Q + DX) / (2 * eta), 0.0))
    assert np.allclose(alpha, expected)
    assert alpha[0] >= 0.0 and alpha[-1] <= 0.0      # boundary: inward only


def test_upwind_policy_picks_lower_hamiltonian_at_a_local_maximum():
    u = -np.abs(Q - 0.1)                  # kink maximum between nodes: both directions descend
    alpha = upwind_policy(u, 0.5, DX)
    i = np.argmin(np.abs(Q - 0.1))
    assert alpha[i] != 0.0


def test_implicit_banded_and_its_transpose():
    alpha = 40.0 * np.sin(2 * Q)
    up, down = generator_offdiagonals(alpha, 0.3, DX)
    dt = 0.01
    M = np.eye(Q.size) - dt * dense_generator(alpha, 0.3, DX)
    assert np.allclose(banded_to_dense(implicit_banded(up, down, dt)), M)
    assert np.allclose(banded_to_dense(implicit_banded(up, down, dt, transpose=True)), M.T)
    stack = implicit_banded(np.stack([up, up]), np.stack([down, down]), dt, transpose=True)
    assert np.allclose(banded_to_dense(stack[1]), M.T)


def test_initial_density_moments():
    g = make_grid(-5, 5, 201, 1.0, 1)
    mu = gaussian_density(g.q, 0.5, 0.5)
    assert abs(mu.sum() * g.dx - 1.0) < 1e-13
    assert abs(mu @ g.q * g.dx - 0.5) < 1e-12
    assert abs(mu @ (g.q - 0.5) ** 2 * g.dx - 0.25) < 1e-10


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), scale=st.floats(0.0, 5e3), sigma=st.floats(0.0, 2.0),
       dt=st.floats(1e-5, 0.5))
def test_fp_conserves_mass_and_positivity_for_any_drift(seed, scale, sigma, dt):
    """Whatever the drift and the step (|alpha| dt/dx up to ~1e5): mass to round-off, mu >= 0.

    Round-off of a solve grows with the diagonal ``1 + dt * rate``, so the bound scales with it.
    """
    rng = np.random.default_rng(seed)
    q = np.linspace(-5, 5, 81)
    nt = 6
    ups, downs = [], []
    for _ in range(nt):
        up, down = generator_offdiagonals(scale * rng.standard_normal(q.size), sigma, q[1] - q[0])
        ups.append(up)
        downs.append(down)
    mu0 = gaussian_density(q, 0.3, 0.7)
    mu = solve_fp(mu0, np.array(ups), np.array(downs), dt)
    stiffness = 1.0 + dt * max(np.max(ups), np.max(downs))
    bound = 16 * np.finfo(float).eps * stiffness * nt * mu0.sum()
    assert np.max(np.abs(mu.sum(axis=1) - mu0.sum())) <= bound
    assert mu.min() >= 0.0


def test_fp_is_the_adjoint_of_the_hjb_step():
    """<mu^{n+1}, M u> = <M^T mu^{n+1}, u>: one step of each with the same matrix."""
    rng = np.random.default_rng(1)
    alpha = 300 * rng.standard_normal(Q.size)
    up, down = generator_offdiagonals(alpha, 0.5, DX)
    dt = 0.01
    b = rng.standard_normal(Q.size)
    u = solve_banded((1, 1), implicit_banded(up, down, dt), b)
    mu0 = np.abs(rng.standard_normal(Q.size))
    mu1 = solve_fp(mu0, up[None], down[None], dt)[1]
    assert np.isclose(mu0 @ u, mu1 @ b, rtol=1e-12)


def test_gth_factorisation_matches_lapack_and_is_componentwise_accurate():
    """Same solution as scipy's banded LAPACK solve; and accurate at small entries, which it is not."""
    from mfg_finance.mfg import tridiag

    rng = np.random.default_rng(3)
    n = 60
    up, down = rng.random(n - 1) * 1e3, rng.random(n - 1) * 1e3
    dt = 0.01
    b = rng.random(n)
    piv, mult = tridiag.factor(up, down, dt)
    x = tridiag.solve(piv, mult, up, dt, b)
    xt = tridiag.solve_transpose(piv, mult, up, dt, b)
    ref = solve_banded((1, 1), implicit_banded(up, down, dt), b)
    reft = solve_banded((1, 1), implicit_banded(up, down, dt, transpose=True), b)
    assert np.allclose(x, ref, rtol=1e-12) and np.allclose(xt, reft, rtol=1e-12)
    # right-hand side spanning 16 orders of magnitude, like u near q = 0 vs at the edges
    b = np.exp(np.linspace(0.0, -37.0, n))
    M = np.eye(n) - dt * dense_generator_from_rates(up, down)
    x = tridiag.solve(*tridiag.factor(up, down, dt), up, dt, b)
    residual = np.abs(M @ x - b) / (np.abs(M) @ np.abs(x))     # componentwise backward error
    assert residual.max() < 1e-13
    assert np.all(x > 0.0)


def dense_generator_from_rates(up, down):
    A = np.diag(up, 1) + np.diag(down, -1)
    return A - np.diag(A.sum(axis=1))
