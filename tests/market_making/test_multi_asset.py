"""Multi-asset lattice solution (exact and implicit ODE) and its closed-form quadratic approximation."""

import numpy as np
import pytest
from scipy import sparse
from scipy.integrate import solve_ivp
from scipy.sparse.linalg import expm_multiply

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB, asymptotic_spreads
from mfg_finance.market_making.multi_approx import (approximate_spread_table, approximate_spreads,
                                                    ergodic_matrix, riccati_matrix)
from mfg_finance.market_making.multi_asset import (MultiAssetParameters, MultiAssetQuotes, generator,
                                                   uniformized_log_w)

CORRELATED = np.array([[0.09, 0.06], [0.06, 0.16]])      # tick^2/s, correlation 0.5


def pair(**overrides):
    values = dict(covariance=CORRELATED, A=[0.9, 0.7], k=0.3, gamma=0.01, Q_max=6, T=600.0)
    values.update(overrides)
    return MultiAssetParameters(**values)


def test_one_asset_equals_glft_exact():
    glft = HJBParameters(T=600.0, Q_max=10, phi=0.002)
    times = np.linspace(0.0, 600.0, 7)
    single = MultiAssetParameters(covariance=[[glft.sigma**2]], A=glft.A, k=glft.k, gamma=glft.gamma,
                                  Q_max=10, T=600.0, phi=0.002)
    model = InventoryHJB(glft)
    theta = MultiAssetQuotes(single).theta(times)
    np.testing.assert_allclose(theta, model.log_v(times) / glft.k, rtol=0, atol=1e-9)
    delta_b, delta_a = MultiAssetQuotes(single).spread_table(times)
    ref_b, ref_a = model.spread_table(times)
    np.testing.assert_allclose(delta_b[..., 0], ref_b, rtol=0, atol=1e-9)
    np.testing.assert_allclose(delta_a[..., 0], ref_a, rtol=0, atol=1e-9)


@pytest.mark.parametrize("method, k", [("exact", 0.3), ("ode", [0.3, 0.45])])
def test_uncorrelated_assets_factorise(method, k):
    params = pair(covariance=np.diag([0.09, 0.16]), k=k, Q_max=5, T=300.0, phi=[0.001, 0.003])
    times = np.array([0.0, 150.0])
    theta = MultiAssetQuotes(params, method=method).theta(times).reshape(2, 11, 11)
    parts = []
    for i in range(2):
        one = HJBParameters(sigma=np.sqrt(params.covariance[i, i]), A=params.A[i], k=params.k[i],
                            gamma=0.01, T=300.0, Q_max=5, phi=params.phi[i])
        parts.append(InventoryHJB(one).log_v(times) / one.k)
    np.testing.assert_allclose(theta, parts[0][:, :, None] + parts[1][:, None, :], rtol=0, atol=1e-7)


def test_exact_equals_independent_implicit_ode_solve():
    params = pair(T=900.0)
    times = np.array([0.0, 450.0, 890.0])
    exact = MultiAssetQuotes(params).theta(times)
    ode = MultiAssetQuotes(params, method="ode").theta(times)
    np.testing.assert_allclose(exact, ode, rtol=0, atol=1e-6)
    (eb, ea), (ob, oa) = (spread for spread in (MultiAssetQuotes(params).spread_table(times),
                                                MultiAssetQuotes(params, method="ode").spread_table(times)))
    finite = np.isfinite(eb)
    assert np.array_equal(finite, np.isfinite(ob))
    np.testing.assert_allclose(eb[finite], ob[finite], rtol=0, atol=1e-6)


def test_uniformization_equals_scipy_expm_multiply():
    params = pair(Q_max=4, T=60.0, phi=0.002)
    w_terminal = np.exp(params.k[0] * params.terminal_theta())
    reference = expm_multiply(-generator(params) * 60.0, w_terminal)
    ours = np.exp(uniformized_log_w(params, np.array([60.0]))[0])
    np.testing.assert_allclose(ours, reference, rtol=1e-10)


def test_quotes_are_symmetric_and_skew_against_inventory():
    params = pair()
    delta_b, delta_a = MultiAssetQuotes(params).spread_table([0.0])
    # delta_b(q) = delta_a(-q) asset by asset: the problem is symmetric under q -> -q
    np.testing.assert_allclose(delta_b[0], delta_a[0][::-1, ::-1], rtol=0, atol=1e-9)
    # long asset 1 lowers the bid of asset 0 (positive correlation): bid distance grows with q_1
    centre = params.Q_max[0]
    assert np.all(np.diff(delta_b[0, centre, :-1, 0]) > 0)


def test_bad_input_raises_config_errors():
    with pytest.raises(ConfigError, match="positive semi-definite"):
        pair(covariance=[[0.09, 0.2], [0.2, 0.16]])
    with pytest.raises(ConfigError, match="symmetric"):
        pair(covariance=[[0.09, 0.01], [0.02, 0.16]])
    with pytest.raises(ConfigError, match="equal k"):
        MultiAssetQuotes(pair(k=[0.3, 0.4]))
    with pytest.raises(ConfigError, match="one value per asset"):
        pair(A=[1.0, 2.0, 3.0])


# -- closed-form approximation ---------------------------------------------------------------------
def test_riccati_closed_form_matches_numerical_integration():
    rng = np.random.default_rng(3)
    d = 4
    factor = rng.normal(size=(d, d))
    params = MultiAssetParameters(covariance=0.05 * factor @ factor.T, A=rng.uniform(0.5, 1.0, d),
                                  k=rng.uniform(0.2, 0.5, d), gamma=0.01, Q_max=5, T=300.0,
                                  phi=rng.uniform(0.0, 0.01, d))
    curvature = np.diag(params.eta * params.k)

    def rhs(tau, flat):
        a = flat.reshape(d, d)
        return (0.5 * params.gamma * params.covariance - 4.0 * a @ curvature @ a).ravel()

    sol = solve_ivp(rhs, (0.0, 300.0), np.diag(params.phi).ravel(), t_eval=[0.0, 100.0, 300.0],
                    method="DOP853", rtol=1e-12, atol=1e-14)
    closed = riccati_matrix(params, [300.0, 200.0, 0.0]).reshape(3, -1)
    np.testing.assert_allclose(closed, sol.y.T, rtol=0, atol=1e-12)
    ergodic = ergodic_matrix(params)
    np.testing.assert_allclose(4.0 * ergodic @ curvature @ ergodic, 0.5 * params.gamma * params.covariance,
                               rtol=0, atol=1e-15)


def test_one_asset_ergodic_approximation_is_glft_asymptotic():
    glft = HJBParameters()
    params = MultiAssetParameters(covariance=[[glft.sigma**2]], A=glft.A, k=glft.k, gamma=glft.gamma,
                                  Q_max=30, T=1e7)
    q = np.arange(-5, 6)[:, None]
    delta_b, delta_a = approximate_spreads(params, ergodic_matrix(params), q)
    ref_b, ref_a = asymptotic_spreads(q[:, 0], glft)
    np.testing.assert_allclose(delta_b[:, 0], ref_b, rtol=1e-12)
    np.testing.assert_allclose(delta_a[:, 0], ref_a, rtol=1e-12)
    # a long horizon converges to the ergodic matrix
    np.testing.assert_allclose(riccati_matrix(params, [0.0])[0], ergodic_matrix(params), rtol=1e-12)


def test_approximation_is_close_to_exact_near_zero_inventory():
    params = pair(Q_max=10, T=3600.0)
    exact_b, _ = MultiAssetQuotes(params).spread_table([0.0])
    approx_b, _ = approximate_spread_table(params, [0.0])
    centre = slice(8, 13)                                   # |q_i| <= 2
    error = np.abs(exact_b[0, centre, centre] - approx_b[0, centre, centre])
    # measured ~0.05 tick at |q| <= 2 (quotes ~3.3 ticks); grows towards the limits, where the
    # quadratic value ignores that one side stops quoting
    assert error.max() < 0.1
    assert np.isinf(approx_b[0, -1, :, 0]).all() and np.isfinite(approx_b[0, :-1, :, 0]).all()
