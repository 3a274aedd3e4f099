"""Correlated multi-asset simulator, strategies, backtest statistics and the CVaR estimator."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mfg_finance.errors import ConfigError, DataError
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.multi_asset import MultiAssetParameters
from mfg_finance.market_making.multi_backtest import (multi_backtest_statistics, portfolio_parameters,
                                                      return_correlation, run_multi_backtest)
from mfg_finance.market_making.multi_simulator import GaussianMids, MultiDynamics
from mfg_finance.market_making.risk_measures import cvar
from mfg_finance.market_making.simulator import Dynamics, QuoteTable, simulate_table


def strongly_correlated(rho=0.9, **overrides):
    cov = 0.09 * np.array([[1.0, rho], [rho, 1.0]])
    values = dict(covariance=cov, A=0.9, k=0.3, gamma=0.05, Q_max=8, T=600.0)
    values.update(overrides)
    return MultiAssetParameters(**values)


def test_one_asset_run_matches_the_one_asset_engine():
    glft = HJBParameters(T=300.0, Q_max=6, gamma=0.05)
    params = MultiAssetParameters(covariance=[[glft.sigma**2]], A=glft.A, k=glft.k, gamma=glft.gamma,
                                  Q_max=6, T=300.0)
    frame = run_multi_backtest("independent_glft", params, dt_s=1.0, n_paths=300, seed=5, table_dt_s=1.0)
    dyn = Dynamics(sigma=glft.sigma, A=glft.A, k=glft.k, dt=1.0, n_steps=300)
    delta_b, delta_a = InventoryHJB(glft).spread_table(dyn.times)
    ref = simulate_table(QuoteTable(delta_b, delta_a, 6), dyn, n_paths=300, seed=5, engine="numpy")
    # same streams, same draws: identical fills, PnL equal up to the order of the additions
    np.testing.assert_array_equal(frame["final_inventory_asset0"], ref.final_inventory)
    np.testing.assert_array_equal(frame["n_trades"], ref.n_bid_fills + ref.n_ask_fills)
    np.testing.assert_allclose(frame["final_pnl"], ref.final_pnl, rtol=1e-10, atol=1e-9)


def test_correlated_mid_increments_have_the_model_covariance():
    cov = np.array([[0.09, -0.05], [-0.05, 0.16]])
    dyn = MultiDynamics(covariance=cov, A=1.0, k=1.0, Q_max=5, dt=0.5, n_steps=1)
    z = np.random.default_rng(0).standard_normal((40_000, 2))
    increments = GaussianMids(dyn).increments(0, z) / np.sqrt(0.5)
    sample = np.cov(increments, rowvar=False)
    # se of a sample covariance entry: sqrt((s_ii s_jj + s_ij^2) / n)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / z.shape[0])
    assert np.all(np.abs(sample - cov) < 3.0 * se)


def test_same_seed_same_paths_and_correlation_aware_quotes_carry_less_risk():
    params = strongly_correlated()
    results = {("pair", s): run_multi_backtest(s, params, dt_s=1.0, n_paths=300, seed=3, table_dt_s=10.0)
               for s in ("multi_exact", "multi_approx", "independent_glft")}
    again = run_multi_backtest("multi_exact", params, dt_s=1.0, n_paths=300, seed=3, table_dt_s=10.0)
    pd.testing.assert_frame_equal(again, results[("pair", "multi_exact")])
    stats = multi_backtest_statistics(results).set_index("strategy")
    exact, independent = stats.loc["multi_exact"], stats.loc["independent_glft"]
    # hedging across correlated assets lowers the book's variance rate (measured ~1.03 vs ~1.15 tick/sqrt(s))
    gap = independent.risk_rate_sqrt - exact.risk_rate_sqrt
    assert gap > 3.0 * np.hypot(exact.risk_rate_sqrt_se, independent.risk_rate_sqrt_se)
    assert set(stats.columns) >= {"pnl_mean_se", "pnl_std_se", "sharpe_se", "pnl_cvar", "pnl_cvar_se"}


def test_bad_strategy_and_grid_raise():
    params = strongly_correlated()
    with pytest.raises(ConfigError, match="unknown multi-asset strategy"):
        run_multi_backtest("nope", params, dt_s=1.0, n_paths=10, seed=1, table_dt_s=1.0)
    with pytest.raises(ConfigError, match="whole multiple"):
        run_multi_backtest("multi_approx", params, dt_s=1.0, n_paths=10, seed=1, table_dt_s=2.5)
    big = MultiAssetParameters(covariance=0.09 * np.eye(4), A=0.9, k=0.3, gamma=0.05, Q_max=3, T=10.0)
    with pytest.raises(ConfigError, match="d <= 3"):
        run_multi_backtest("multi_exact", big, dt_s=1.0, n_paths=10, seed=1, table_dt_s=1.0)


def test_portfolio_covariance_from_return_correlation():
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2024-01-01", periods=200)
    common = rng.standard_normal(200)
    a = common + 0.5 * rng.standard_normal(200)
    b = common + 0.5 * rng.standard_normal(200)
    b[10] = np.nan                                        # a gap: that session is left out
    returns = pd.DataFrame({"ticker": ["A"] * 200 + ["B"] * 200, "date": list(dates) * 2,
                            "log_return": np.r_[a, b]})
    corr, n = return_correlation(returns, ["A", "B"])
    assert n == 199
    keep = ~np.isnan(b)
    np.testing.assert_allclose(corr[0, 1], np.corrcoef(a[keep], b[keep])[0, 1], rtol=1e-12)
    markets = [MarketParameters(sigma=s, A=0.9, k=30.0, gamma=0.1, Q_max=5, S0=20.0, tick_size=0.01)
               for s in (0.003, 0.004)]
    params = portfolio_parameters(markets, corr, horizon_s=600.0)
    np.testing.assert_allclose(params.covariance[0, 1], corr[0, 1] * 0.003 * 0.004, rtol=1e-12)
    with pytest.raises(ConfigError, match="not in"):
        return_correlation(returns, ["A", "ZZZ"])
    with pytest.raises(DataError, match="share only"):
        return_correlation(returns.iloc[:215], ["A", "B"], min_sessions=20)


def test_cvar_of_gaussian_sample_within_its_standard_error():
    level = 0.05
    exact = -norm.pdf(norm.ppf(level)) / level
    rng = np.random.default_rng(11)
    errors = []
    for _ in range(40):
        value, se = cvar(rng.standard_normal(4000), level)
        errors.append((value - exact) / se)
    errors = np.array(errors)
    # standardised errors: centred, unit spread (the se is right), none beyond 4
    assert abs(errors.mean()) < 3.0 / np.sqrt(errors.size) + 0.1
    assert 0.6 < errors.std() < 1.4
    assert np.all(np.abs(errors) < 4.0)
    with pytest.raises(ConfigError, match="cvar_level"):
        cvar([1.0, 2.0], 1.5)


def test_paired_differences_against_the_independent_baseline():
    params = strongly_correlated(T=300.0)
    results = {("pair", s): run_multi_backtest(s, params, dt_s=1.0, n_paths=200, seed=8, table_dt_s=10.0)
               for s in ("multi_exact", "independent_glft")}
    stats = multi_backtest_statistics(results).set_index("strategy")
    assert stats.loc["independent_glft", "pnl_minus_baseline"] == 0.0
    exact = stats.loc["multi_exact"]
    pnl = results[("pair", "multi_exact")]["final_pnl"] - results[("pair", "independent_glft")]["final_pnl"]
    assert exact["pnl_minus_baseline"] == pytest.approx(pnl.mean(), rel=1e-12)
    # shared paths: the paired se is smaller than either strategy's own se of the mean
    assert exact["pnl_minus_baseline_se"] < exact["pnl_mean_se"]
    assert exact["risk_rate_minus_baseline"] < 0.0
