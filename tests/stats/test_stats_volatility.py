"""Volatility estimators against the known sigma of simulated GBM paths."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.stats import compute_stats
from mfg_finance.stats import volatility as vol
from mfg_finance.stats.returns import rolling_volatility

from stats_synthetic import equities_frame, gbm_ohlc

SIGMA_DAILY = 0.02
N_SESSIONS = 3000


@pytest.fixture(scope="module")
def gbm():
    return gbm_ohlc(N_SESSIONS, SIGMA_DAILY, seed=11)


def _within_sampling_error(terms: np.ndarray, truth_var: float, n_se: float = 4.0) -> None:
    """Mean of per-session variance terms equals ``truth_var`` within ``n_se`` standard errors."""
    terms = terms[np.isfinite(terms)]
    se = terms.std(ddof=1) / np.sqrt(terms.size)
    assert abs(terms.mean() - truth_var) < n_se * se, (terms.mean(), truth_var, se)


def test_close_to_close_matches_sigma(gbm):
    r = np.diff(np.log(gbm["close"].to_numpy()))
    # Squared demeaned returns are the per-session terms of the sample variance.
    _within_sampling_error((r - r.mean()) ** 2, SIGMA_DAILY ** 2)
    assert vol.close_to_close_variance(r) == pytest.approx(np.var(r, ddof=1))


def test_parkinson_matches_sigma(gbm):
    terms = vol.parkinson_terms(gbm["high"], gbm["low"])
    _within_sampling_error(terms, SIGMA_DAILY ** 2)
    assert np.sqrt(vol.parkinson_variance(gbm["high"], gbm["low"])) == pytest.approx(SIGMA_DAILY, rel=0.03)


def test_garman_klass_matches_sigma(gbm):
    terms = vol.garman_klass_terms(gbm["open"], gbm["high"], gbm["low"], gbm["close"])
    _within_sampling_error(terms, SIGMA_DAILY ** 2)
    assert np.sqrt(vol.garman_klass_variance(gbm["open"], gbm["high"], gbm["low"], gbm["close"])) == \
        pytest.approx(SIGMA_DAILY, rel=0.03)


def test_range_estimators_are_more_efficient(gbm):
    # Per-session terms: Parkinson and GK have a smaller dispersion relative to their mean than r^2.
    r = np.diff(np.log(gbm["close"].to_numpy()))
    cv = lambda t: np.nanstd(t) / np.nanmean(t)  # noqa: E731
    assert cv(vol.parkinson_terms(gbm["high"], gbm["low"])) < 0.6 * cv(r ** 2)
    assert cv(vol.garman_klass_terms(gbm["open"], gbm["high"], gbm["low"], gbm["close"])) < 0.6 * cv(r ** 2)


def test_compute_stats_annualises_all_three():
    sigma_annual = 0.35
    frame = equities_frame({"AAAA3": {"sigma_annual": sigma_annual}}, n_sessions=2000, seed=3)
    stats = compute_stats(frame, trading_days_per_year=252).asset_stats.iloc[0]
    # 2000 sessions: relative standard error of a vol estimate <= 1/sqrt(2*2000) = 1.6%.
    assert stats["vol_cc_annual"] == pytest.approx(sigma_annual, rel=0.065)
    assert stats["vol_parkinson_annual"] == pytest.approx(sigma_annual, rel=0.03)
    assert stats["vol_garman_klass_annual"] == pytest.approx(sigma_annual, rel=0.03)
    assert stats["vol_cc_daily"] * np.sqrt(252) == pytest.approx(stats["vol_cc_annual"])


def test_invalid_prices_give_nan_terms_not_warnings():
    assert np.isnan(vol.parkinson_terms([1.0, 0.0], [0.0, 0.0])).all()
    assert np.isnan(vol.garman_klass_terms([1.0], [0.9], [1.0], [1.0])).all()  # high < low
    assert np.isnan(vol.close_to_close_variance([0.01]))
    assert vol.annualise(-1e-9, 252) == 0.0  # a tiny negative GK mean is floored
    assert np.isnan(vol.annualise(float("nan"), 252))


def test_rolling_vol_matches_direct_computation():
    frame = equities_frame({"AAAA3": {}, "BBBB4": {"sigma_annual": 0.5}}, n_sessions=60, seed=5)
    returns = compute_stats(frame, rolling_window=10, min_sessions=10).returns
    for ticker, group in returns.groupby("ticker"):
        r = group["log_return"].to_numpy()
        expected = np.std(r[40:50], ddof=1) * np.sqrt(252)   # window ending at row 49
        assert group["rolling_vol_annual"].to_numpy()[49] == pytest.approx(expected)
        assert np.isnan(group["rolling_vol_annual"].to_numpy()[:8]).all()  # first session has no return


def test_rolling_vol_skips_gap_but_needs_most_of_the_window():
    returns = pd.DataFrame({"ticker": ["A"] * 12, "log_return": [np.nan] + [0.01, -0.01] * 5 + [0.02]})
    returns.loc[5, "log_return"] = np.nan  # a gap
    rolled = rolling_volatility(returns, window=5, trading_days_per_year=1.0)
    # Window rows 2..6 holds 4 valid returns (>= ceil(0.8*5)): defined despite the gap.
    assert np.isfinite(rolled[6])
    assert np.isnan(rolled[3])  # rows 0..3: only 3 valid returns
