"""run_backtest on calibrated parameters and backtest_statistics."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.backtest import (RESULT_COLUMNS, backtest_statistics, quantile_standard_error,
                                                run_backtest, sharpe_standard_error, std_standard_error)
from mfg_finance.market_making.market import MarketParameters, default_market_parameters
from mfg_finance.market_making.strategies import STRATEGIES, constant_half_spread

# a calibrated-looking ticker: BRL, seconds, lots
PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01}
RUN = dict(horizon_s=600.0, dt_s=1.0, n_paths=300, seed=7)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_one_row_per_path(strategy):
    frame = run_backtest(strategy, PARAMS, **RUN)
    assert tuple(frame.columns) == RESULT_COLUMNS
    assert len(frame) == RUN["n_paths"]
    assert frame["path"].tolist() == list(range(RUN["n_paths"]))
    assert (frame["n_trades"] == frame["n_bid_fills"] + frame["n_ask_fills"]).all()
    assert frame["max_abs_inventory"].max() <= PARAMS["Q_max"]
    assert (frame["final_inventory"].abs() <= frame["max_abs_inventory"]).all()
    assert np.isfinite(frame["final_pnl"]).all()


def test_same_seed_same_frame_and_strategies_share_the_mid():
    a = run_backtest("hjb", PARAMS, **RUN)
    pd.testing.assert_frame_equal(a, run_backtest("hjb", PARAMS, **RUN))
    b = run_backtest("hjb", PARAMS, **{**RUN, "seed": 8})
    assert not a["final_pnl"].equals(b["final_pnl"])


def test_hjb_controls_inventory_better_than_constant():
    hjb = run_backtest("hjb", PARAMS, **{**RUN, "horizon_s": 1800.0})
    const = run_backtest("constant", PARAMS, **{**RUN, "horizon_s": 1800.0})
    assert hjb["final_inventory"].abs().mean() < const["final_inventory"].abs().mean()
    assert hjb["final_pnl"].std() < const["final_pnl"].std()


def test_order_size_scales_pnl_and_risk_aversion():
    # L shares per fill = the per-share problem with gamma * L, PnL times L
    lots = run_backtest("hjb", {**PARAMS, "order_size": 100}, **RUN, fill_model="linear", mid_model="binomial")
    shares = run_backtest("hjb", {**PARAMS, "gamma": PARAMS["gamma"] * 100}, **RUN, fill_model="linear",
                          mid_model="binomial")
    np.testing.assert_allclose(lots["final_pnl"], 100 * shares["final_pnl"])
    np.testing.assert_array_equal(lots["final_inventory"], shares["final_inventory"])


def test_calibration_records_and_extra_keys_are_accepted():
    records = {key: {"value": value, "source": "data"} for key, value in PARAMS.items()}
    records["ticker"] = "SYNA3"
    pd.testing.assert_frame_equal(run_backtest("hjb", records, **RUN), run_backtest("hjb", PARAMS, **RUN))


def test_user_policy_is_backtested():
    h = constant_half_spread(MarketParameters.from_mapping(PARAMS))
    frame = run_backtest(lambda t, q, S: (S - h, S + h), PARAMS, **RUN)
    pd.testing.assert_frame_equal(frame, run_backtest("constant", PARAMS, **RUN), check_exact=False, rtol=1e-12)


def test_unknown_strategy_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match="hjb, avellaneda_stoikov, constant, inventory_aware"):
        run_backtest("glft", PARAMS, **RUN)


@pytest.mark.parametrize("params, kwargs, match", [
    ({k: v for k, v in PARAMS.items() if k != "k"}, {}, r"k \(1/BRL\)"),
    ({**PARAMS, "sigma": -0.1}, {}, "sigma"),
    ({**PARAMS, "Q_max": 0}, {}, "Q_max"),
    (PARAMS, {"dt_s": 0.7}, "whole number"),
    (PARAMS, {"fill_model": "poisson"}, "fill_model"),
    (PARAMS, {"mid_model": "gbm"}, "mid_model"),
    (PARAMS, {"n_paths": 0}, "n_paths"),
])
def test_bad_inputs_raise_config_error(params, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        run_backtest("constant", params, **{**RUN, **kwargs})


def test_default_constant_half_spread_is_whole_ticks():
    market = MarketParameters.from_mapping(PARAMS)
    static = np.log1p(0.1 / 60.0) / 0.1
    assert constant_half_spread(market) == pytest.approx(0.01 * max(1, round(static / 0.01)))
    assert constant_half_spread(default_market_parameters()) == pytest.approx(0.03)


def test_statistics_on_a_hand_built_sample():
    pnl = np.arange(1.0, 21.0)                      # 1..20
    frame = pd.DataFrame({"final_pnl": pnl, "final_inventory": np.tile([-2, 2], 10), "n_trades": 10,
                          "n_bid_fills": 4, "n_ask_fills": 6, "max_abs_inventory": np.arange(20) % 5,
                          "mean_spread": 0.02, "horizon_s": 100.0})
    table = backtest_statistics({("X", "hjb"): frame, ("A", "constant"): frame})
    assert table["ticker"].tolist() == ["A", "X"]
    row = table.iloc[0]
    assert row["n_paths"] == 20
    assert row["pnl_mean"] == pytest.approx(10.5)
    assert row["pnl_std"] == pytest.approx(np.std(pnl, ddof=1))
    assert row["pnl_mean_se"] == pytest.approx(np.std(pnl, ddof=1) / np.sqrt(20))
    assert row["pnl_p5"] == pytest.approx(np.percentile(pnl, 5))
    assert row["pnl_cvar5"] == pytest.approx(1.0)            # mean of values <= p5 = 1.95
    assert row["sharpe"] == pytest.approx(10.5 / np.std(pnl, ddof=1))
    assert row["bid_fill_rate_per_s"] == pytest.approx(0.04)
    assert row["bid_fill_rate_per_s_se"] == 0.0                  # every path has 4 bid fills
    assert row["mean_abs_final_inventory"] == pytest.approx(2.0)
    assert row["max_abs_inventory"] == 4


def test_sharpe_standard_error_gaussian_case():
    rng = np.random.default_rng(0)
    pnl = rng.normal(1.0, 2.0, 200_000)
    sr = pnl.mean() / pnl.std(ddof=1)
    assert sharpe_standard_error(pnl) == pytest.approx(np.sqrt((1 + sr**2 / 2) / pnl.size), rel=0.02)


@pytest.mark.slow
def test_sharpe_standard_error_matches_its_sampling_spread():
    rng = np.random.default_rng(1)
    samples = rng.exponential(1.0, (1500, 4000)) + 0.5         # skewed PnL: SR 1.5, skew 2, kurtosis 9
    sharpes = samples.mean(axis=1) / samples.std(axis=1, ddof=1)
    predicted = np.median([sharpe_standard_error(s) for s in samples[:200]])
    assert predicted == pytest.approx(np.sqrt((1 - 1.5 * 2 + 1.5**2 * 8 / 4) / 4000), rel=0.1)
    assert predicted == pytest.approx(sharpes.std(), rel=0.1)


def test_std_and_quantile_standard_errors_gaussian_case():
    rng = np.random.default_rng(2)
    n, s = 100_000, 2.0
    x = rng.normal(1.0, s, n)
    assert std_standard_error(x) == pytest.approx(s / np.sqrt(2 * n), rel=0.03)
    assert quantile_standard_error(x, 0.5) == pytest.approx(np.sqrt(np.pi / 2) * s / np.sqrt(n), rel=0.03)
    # p5 and p95: sqrt(p(1-p)/n) / f(x_p), f(x_p) = phi(1.6449) / s
    tail = np.sqrt(0.05 * 0.95 / n) * s / (np.exp(-0.5 * 1.6449**2) / np.sqrt(2 * np.pi))
    assert quantile_standard_error(x, 0.05) == pytest.approx(tail, rel=0.05)
    assert quantile_standard_error(x, 0.95) == pytest.approx(tail, rel=0.05)


def test_std_and_median_standard_errors_match_their_sampling_spread():
    # skewed PnL (exponential, kurtosis 9): se(s) = sqrt((m4 - s^4) / (4 s^2 n)) = sqrt(2/n);
    # median ln 2 with density 1/2 there: se = sqrt(1/4 / n) / (1/2) = 1/sqrt(n)
    rng = np.random.default_rng(3)
    n = 2000
    samples = rng.exponential(1.0, (1000, n))
    std_se = np.median([std_standard_error(x) for x in samples[:100]])
    median_se = np.median([quantile_standard_error(x, 0.5) for x in samples[:100]])
    assert std_se == pytest.approx(np.sqrt(2 / n), rel=0.1)
    assert std_se == pytest.approx(samples.std(axis=1, ddof=1).std(), rel=0.1)
    assert median_se == pytest.approx(1 / np.sqrt(n), rel=0.1)
    assert median_se == pytest.approx(np.median(samples, axis=1).std(), rel=0.1)


def test_statistics_carry_standard_errors_of_std_percentiles_and_fill_rates():
    rng = np.random.default_rng(4)
    n, horizon = 40_000, 50.0
    bid = rng.poisson(3.0, n)                                       # Poisson counts: var = mean
    frame = pd.DataFrame({"final_pnl": rng.normal(0.0, 1.5, n), "final_inventory": 0, "n_trades": bid,
                          "n_bid_fills": bid, "n_ask_fills": 0, "max_abs_inventory": 1, "mean_spread": 0.02,
                          "horizon_s": horizon})
    row = backtest_statistics({("X", "hjb"): frame}).iloc[0]
    assert row["pnl_std_se"] == pytest.approx(1.5 / np.sqrt(2 * n), rel=0.05)
    assert row["pnl_p50_se"] == pytest.approx(1.2533 * 1.5 / np.sqrt(n), rel=0.05)
    assert row["pnl_p5_se"] == pytest.approx(row["pnl_p95_se"], rel=0.1)
    assert row["bid_fill_rate_per_s_se"] == pytest.approx(np.sqrt(3.0 / n) / horizon, rel=0.05)
    assert row["ask_fill_rate_per_s_se"] == 0.0


def test_standard_errors_need_three_samples():
    assert np.isnan(std_standard_error([1.0, 2.0]))
    assert np.isnan(quantile_standard_error([1.0, 2.0], 0.5))
    assert np.isnan(std_standard_error([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError):
        quantile_standard_error([1.0, 2.0, 3.0], 1.0)


def test_statistics_reject_empty_input():
    with pytest.raises(ConfigError):
        backtest_statistics({})
    with pytest.raises(ConfigError, match="final_pnl"):
        backtest_statistics({("X", "hjb"): pd.DataFrame({"path": [0]})})
