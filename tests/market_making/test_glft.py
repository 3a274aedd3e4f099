"""GLFT quotes: exact solution, numerical scheme, asymptotics, symmetry, terminal limit, long horizons."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import HJBParameters, InventoryHJB, QuoteSolverError, create_default_model
from mfg_finance.market_making.glft import generator_matrix, terminal_log_v


def finite_max_error(a, b):
    mask = np.isfinite(a)
    assert np.array_equal(mask, np.isfinite(b))
    return np.abs(a[mask] - b[mask]).max()


def test_default_parameters_are_the_glft_example():
    p = create_default_model().params
    assert (p.sigma, p.A, p.k, p.gamma, p.T, p.Q_max, p.phi) == (0.3, 0.9, 0.3, 0.01, 600.0, 30, 0.0)
    assert p.delta_min is None and p.delta_max is None
    assert p.alpha == pytest.approx(0.5 * 0.3 * 0.01 * 0.09)
    assert p.eta == pytest.approx(0.9 * (1 + 0.01 / 0.3) ** (-(1 + 30)))


def test_exact_solution_matches_matrix_exponential_on_short_horizon():
    params = HJBParameters(T=200.0, phi=0.01, Q_max=10)
    model = InventoryHJB(params)
    times = np.array([0.0, 50.0, 150.0, 199.0])
    M = generator_matrix(params)
    v_T = np.exp(terminal_log_v(params))
    reference = np.array([np.log(expm(-M * (params.T - t)) @ v_T) for t in times])
    np.testing.assert_allclose(model.log_v(times), reference, rtol=1e-10, atol=1e-9)


def test_numerical_scheme_converges_to_exact_at_first_order():
    times = [0.0, 300.0, 590.0]
    exact_b, exact_a = InventoryHJB(HJBParameters(phi=0.005)).spread_table(times)
    errors = []
    for dt in (0.8, 0.4, 0.2):
        num_b, num_a = InventoryHJB(HJBParameters(phi=0.005, dt=dt), method="numerical").spread_table(times)
        errors.append(max(finite_max_error(num_b, exact_b), finite_max_error(num_a, exact_a)))
    assert errors[0] > errors[1] > errors[2]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    np.testing.assert_allclose(orders, 1.0, atol=0.15)
    assert errors[-1] < 1e-2   # ticks


def test_exact_matches_asymptotic_far_from_bounds_and_horizon():
    model = create_default_model()
    q = np.arange(-10, 11)
    exact_b, exact_a = model.get_optimal_spreads(0.0, q)
    asym_b, asym_a = model.asymptotic_spreads(q)
    # the closed form is a continuous approximation: a few thousandths of a tick here
    np.testing.assert_allclose(exact_b, asym_b, atol=5e-3)
    np.testing.assert_allclose(exact_a, asym_a, atol=5e-3)
    # near the bounds it is not meant to hold
    edge_b, _ = model.get_optimal_spreads(0.0, -29)
    assert abs(edge_b - model.asymptotic_spreads(-29)[0]) > 0.05


@pytest.mark.parametrize("phi", [0.0, 0.02])
def test_symmetry_bid_at_q_equals_ask_at_minus_q(phi):
    model = InventoryHJB(HJBParameters(phi=phi))
    delta_b, delta_a = model.spread_table(np.linspace(0.0, 600.0, 7))
    np.testing.assert_allclose(delta_b, delta_a[:, ::-1], rtol=1e-12, atol=1e-12)
    assert np.isinf(delta_b[:, -1]).all() and np.isinf(delta_a[:, 0]).all()   # limits


def test_quotes_tend_to_static_spread_at_horizon_with_phi_zero():
    # Convention: phi = 0 means v_q(T) = 1 (inventory marked to the mid at T, no penalty), so both
    # quotes tend to (1/gamma) ln(1 + gamma/k) for every q.
    model = create_default_model()
    p = model.params
    static = np.log1p(p.gamma / p.k) / p.gamma
    q = np.arange(-29, 30)
    for tau in (0.0, 1e-3, 1e-6):
        delta_b, delta_a = model.get_optimal_spreads(p.T - tau, q)
        tol = 1e-12 + 2.0 * tau                      # the quotes move at < 2 ticks/s near T
        np.testing.assert_allclose(delta_b, static, atol=tol)
        np.testing.assert_allclose(delta_a, static, atol=tol)


def test_terminal_quotes_with_penalty():
    # With phi > 0, v_q(T) = exp(-k phi q^2) gives delta_b(T, q) = static + phi (2q + 1).
    phi = 0.05
    model = InventoryHJB(HJBParameters(phi=phi))
    q = np.arange(-5, 6)
    delta_b, delta_a = model.get_optimal_spreads(model.params.T, q)
    static = model.params.static_half_spread
    np.testing.assert_allclose(delta_b, static + phi * (2 * q + 1), atol=1e-12)
    np.testing.assert_allclose(delta_a, static - phi * (2 * q - 1), atol=1e-12)


@pytest.mark.parametrize("T", [1e4, 3e4, 1e5])
def test_long_horizons_are_stable_where_plain_expm_overflows(T):
    params = HJBParameters(T=T)
    M = generator_matrix(params)
    with np.errstate(all="ignore"):
        plain = expm(-M * T) @ np.ones(M.shape[0])
    assert not np.isfinite(plain).all()            # the naive route fails ...
    model = InventoryHJB(params)                    # ... the normalised eigendecomposition does not
    delta_b, delta_a = model.spread_table([0.0, T / 2, T - 1.0])
    stationary_b, stationary_a = model.stationary_spreads()
    assert np.isfinite(delta_b[:, :-1]).all() and np.isfinite(delta_a[:, 1:]).all()
    # far from T the quotes are the stationary (ground-state) ones
    np.testing.assert_allclose(delta_b[0, :-1], stationary_b[:-1], atol=1e-9)
    np.testing.assert_allclose(delta_a[1, 1:], stationary_a[1:], atol=1e-9)
    assert np.isfinite(model.log_v([0.0])).all()


def test_get_quotes_and_scalar_interface():
    model = create_default_model()
    delta_b, delta_a = model.get_optimal_spreads(10.0, 3)
    assert isinstance(delta_b, float) and isinstance(delta_a, float)
    assert delta_b > delta_a                       # long inventory: eager to sell
    bid, ask = model.get_quotes(10.0, 3, 100.0)
    assert bid == pytest.approx(100.0 - delta_b) and ask == pytest.approx(100.0 + delta_a)
    bid_limit, ask_limit = model.get_quotes(0.0, 30, 100.0)
    assert bid_limit == -np.inf and np.isfinite(ask_limit)
    t = np.array([0.0, 100.0, 100.0])
    q = np.array([0, -2, 5])
    b, a = model.get_optimal_spreads(t, q)
    for ti, qi, bi, ai in zip(t, q, b, a):
        assert (bi, ai) == pytest.approx(model.get_optimal_spreads(ti, qi))
    with pytest.raises(ConfigError, match="inventory"):
        model.get_optimal_spreads(0.0, 31)


def test_clipping_is_optional_and_applies_to_quoted_sides():
    plain = InventoryHJB(HJBParameters(phi=0.05))
    clipped = InventoryHJB(HJBParameters(phi=0.05, delta_min=2.0, delta_max=4.0))
    pb, pa = plain.spread_table([599.0])
    cb, ca = clipped.spread_table([599.0])
    assert pb[np.isfinite(pb)].min() < 2.0 and pb[np.isfinite(pb)].max() > 4.0
    np.testing.assert_allclose(cb[:, :-1], np.clip(pb[:, :-1], 2.0, 4.0))
    assert np.isinf(cb[0, -1]) and np.isinf(ca[0, 0])


def test_asymptotic_method_and_closed_form_value():
    model = InventoryHJB(HJBParameters(), method="asymptotic")
    p = model.params
    omega = np.sqrt(p.sigma**2 * p.gamma / (2 * p.k * p.A) * (1 + p.gamma / p.k) ** (1 + p.k / p.gamma))
    delta_b, delta_a = model.get_optimal_spreads(0.0, 2)
    assert delta_b == pytest.approx(p.static_half_spread + 2.5 * omega)
    assert delta_a == pytest.approx(p.static_half_spread - 1.5 * omega)
    with pytest.raises(ConfigError):
        model.log_v([0.0])


@pytest.mark.parametrize("kwargs, match", [
    ({"sigma": -1.0}, "sigma"), ({"A": 0.0}, "A"), ({"k": float("nan")}, "k"), ({"gamma": "x"}, "gamma"),
    ({"Q_max": 2.5}, "Q_max"), ({"T": 0.0}, "T"), ({"delta_min": 5.0, "delta_max": 1.0}, "delta_min"),
])
def test_bad_parameters_raise_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        HJBParameters(**kwargs)
    with pytest.raises(ConfigError, match="method"):
        InventoryHJB(method="implicit")


def test_extreme_parameters_keep_full_precision_via_uniformization():
    # v spans ~e^-36 across inventories: eigenvector entries alone would lose the edge quotes
    params = dict(sigma=1.0, A=0.109375, k=2.0, gamma=0.25, T=300.0, Q_max=8)
    exact_b, exact_a = InventoryHJB(HJBParameters(**params)).spread_table([0.0, 299.0])
    fine_b, fine_a = InventoryHJB(HJBParameters(dt=0.002, **params), method="numerical").spread_table([0.0, 299.0])
    assert finite_max_error(exact_b, fine_b) < 2e-3
    np.testing.assert_allclose(exact_b, exact_a[:, ::-1], atol=1e-9)
    # and the fallback itself agrees with the eigendecomposition where both are accurate
    from mfg_finance.market_making.glft import _ExactSolver, _uniformized_log_v
    taus = np.array([0.0, 1.0, 600.0, 1e4])
    eig = _ExactSolver(HJBParameters(T=1e4)).log_v(1e4 - taus)
    np.testing.assert_allclose(_uniformized_log_v(HJBParameters(T=1e4), taus), eig, atol=1e-10)


def test_values_beyond_double_range_are_reported_not_returned():
    model = InventoryHJB(HJBParameters(phi=1e4))      # ln v_q(T) = -k phi q^2 down to -2.7e6
    with pytest.raises(QuoteSolverError, match="double"):
        model.spread_table([model.params.T - 1e-9])


@settings(max_examples=25, deadline=None)
@given(sigma=st.floats(0.05, 2.0), A=st.floats(0.1, 5.0), k=st.floats(0.05, 2.0), gamma=st.floats(0.001, 0.5),
       frac=st.floats(0.0, 1.0))
def test_quotes_are_monotone_in_inventory_and_symmetric(sigma, A, k, gamma, frac):
    model = InventoryHJB(HJBParameters(sigma=sigma, A=A, k=k, gamma=gamma, T=300.0, Q_max=8))
    delta_b, delta_a = model.spread_table([frac * 300.0])
    assert np.all(np.diff(delta_b[0, :-1]) >= -1e-9)     # bid recedes as inventory grows
    assert np.all(np.diff(delta_a[0, 1:]) <= 1e-9)        # ask comes closer
    np.testing.assert_allclose(delta_b, delta_a[:, ::-1], rtol=1e-9, atol=1e-9)
