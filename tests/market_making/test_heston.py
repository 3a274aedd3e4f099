"""Heston mids: full-truncation simulation against known moments and an option price, the
constant-vs-variance-aware GLFT study, and the daily method-of-moments calibration."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.heston import (HestonParameters, call_price, log_return_cumulants,
                                              simulate_terminal, variance_mean, variance_variance)
from mfg_finance.market_making.heston_calibration import SESSION_SECONDS, calibrate_heston, fit_heston_moments
from mfg_finance.market_making.heston_study import heston_study
from mfg_finance.market_making.market import MarketParameters

THETA = 0.02**2 / 25_200                       # 2 % daily volatility, per second


def params(**overrides):
    values = dict(kappa=1 / 1800, theta=THETA, xi=2.0 * np.sqrt(THETA / 1800), rho=-0.5, v0=1.5 * THETA)
    values.update(overrides)
    return HestonParameters(**values)


def _se_of_variance(x):
    centred = x - x.mean()
    return np.sqrt(max(np.mean(centred**4) - x.var() ** 2, 0.0) / x.size)


def test_simulated_moments_within_three_standard_errors():
    p, T = params(), 3600.0
    x, v = simulate_terminal(p, T=T, dt=10.0, n_paths=20_000, seed=1)
    v = np.maximum(v, 0.0)
    assert abs(v.mean() - variance_mean(p, T)) < 3.0 * v.std(ddof=1) / np.sqrt(v.size)
    assert abs(v.var(ddof=1) - variance_variance(p, T)) < 3.0 * _se_of_variance(v)
    mean_x, var_x = log_return_cumulants(p, T)
    assert abs(x.mean() - mean_x) < 3.0 * x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.var(ddof=1) - var_x) < 3.0 * _se_of_variance(x)
    # European call from the characteristic function against the same paths
    payoff = np.maximum(np.exp(x) - 1.0, 0.0)
    assert abs(payoff.mean() - call_price(p, 1.0, 1.0, T)) < 3.0 * payoff.std(ddof=1) / np.sqrt(x.size)


def test_characteristic_function_reduces_to_black_scholes():
    p, T = params(xi=1e-9, rho=0.0, v0=THETA), 3600.0
    s = np.sqrt(THETA * T)
    for strike in (0.99, 1.0, 1.01):
        d1 = (np.log(1.0 / strike) + 0.5 * s * s) / s
        assert call_price(p, 1.0, strike, T) == pytest.approx(norm.cdf(d1) - strike * norm.cdf(d1 - s),
                                                                  rel=1e-6, abs=1e-10)
    mean_x, var_x = log_return_cumulants(params(), 1800.0)
    # E ln(S_T/S_0) = -1/2 int E v dt
    expected = -0.5 * (THETA * 1800.0 + 0.5 * THETA * 1800.0 * (1.0 - np.exp(-1.0)))
    assert mean_x == pytest.approx(expected, rel=1e-6)


def test_variance_stays_non_negative_under_full_truncation_and_bad_input():
    with pytest.raises(ConfigError, match="rho"):
        params(rho=1.5)
    p = params(xi=40.0 * np.sqrt(THETA / 1800))        # Feller ratio far below 1: v hits 0 often
    x, v = simulate_terminal(p, T=600.0, dt=10.0, n_paths=2000, seed=2)
    assert np.all(np.isfinite(x)) and (v < 0).any()     # the auxiliary v dips below 0, the dynamics use v+


def test_variance_aware_equals_constant_without_volatility_changes():
    market = MarketParameters(sigma=0.003, A=0.9, k=30.0, gamma=20.0, Q_max=5, S0=20.0, tick_size=0.01)
    theta = (0.003 / 20.0) ** 2
    still = HestonParameters(kappa=1e-3, theta=theta, xi=0.0, rho=0.0, v0=theta)
    table = heston_study(market, still, horizon_s=300.0, dt_s=1.0, n_paths=200, seed=4, table_dt_s=10.0,
                         n_grid=9).set_index("strategy")
    assert table.loc["glft_constant", "pnl_mean"] == pytest.approx(table.loc["glft_variance_aware", "pnl_mean"],
                                                                   abs=1e-9)
    moving = HestonParameters(kappa=1e-3, theta=theta, xi=3.0 * np.sqrt(2e-3 * theta), rho=-0.5, v0=theta)
    again = heston_study(market, moving, horizon_s=300.0, dt_s=1.0, n_paths=200, seed=4, table_dt_s=10.0)
    assert list(again["strategy"]) == ["glft_constant", "glft_variance_aware", "variance_aware_minus_constant"]
    assert np.isfinite(again["pnl_mean_se"]).all()


def _cir_daily(seed, n, kappa, theta, xi):
    rng = np.random.default_rng(seed)
    step = kappa * SESSION_SECONDS
    c = xi**2 * (1 - np.exp(-step)) / (4 * kappa)
    v = np.empty(n)
    v[0] = theta
    for t in range(1, n):
        v[t] = c * rng.noncentral_chisquare(4 * kappa * theta / xi**2, v[t - 1] * np.exp(-step) / c)
    proxy = v * SESSION_SECONDS * rng.gamma(2.5, 1 / 2.5, n)          # Parkinson-like noise, mean 1
    return np.sqrt(v * SESSION_SECONDS) * rng.standard_normal(n), np.sqrt(4 * np.log(2) * proxy)


def test_method_of_moments_recovers_known_parameters():
    kappa, theta = 0.1 / SESSION_SECONDS, 0.02**2 / SESSION_SECONDS
    xi = 0.5 * np.sqrt(2 * kappa * theta)
    returns, ranges = _cir_daily(7, 4000, kappa, theta, xi)
    fitted, reason = fit_heston_moments(returns, ranges)
    assert fitted is not None, reason
    # sampling spread over seeds at 4,000 sessions: kappa ~20 %, theta ~5 %, xi ~9 %
    assert fitted.kappa == pytest.approx(kappa, rel=0.5)
    assert fitted.theta == pytest.approx(theta, rel=0.15)
    assert fitted.xi == pytest.approx(xi, rel=0.3)


def test_calibration_falls_back_to_config_with_a_reason():
    settings = {"calibrate": True, "min_sessions": 60, "mean_reversion_per_session": 1.0, "variance_cv": 0.5,
                "rho": -0.5}
    short = pd.DataFrame({"ticker": "X", "date": pd.bdate_range("2024-01-01", periods=30),
                          "log_return": 0.01, "intraday_range": 0.02})
    out = calibrate_heston(short, "X", sigma=0.003, S0=20.0, settings=settings)
    assert out["source"] == "config" and "only 30 sessions" in out["reason"]
    assert out["parameters"]["theta"] == pytest.approx((0.003 / 20.0) ** 2)
    assert out["parameters"]["kappa"] == pytest.approx(1.0 / SESSION_SECONDS)
