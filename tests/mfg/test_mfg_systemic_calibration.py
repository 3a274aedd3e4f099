"""sigma0 from the market-wide component of daily returns: recovered from one-factor data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import CalibrationError
from mfg_finance.mfg.systemic_calibration import (calibrate_sigma0, market_share_jackknife,
                                                  market_share_of_variance)


def _one_factor(rho, n_assets=30, n_sessions=1500, seed=4, gaps=0.05):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n_sessions) * math.sqrt(rho) * 0.02
    e = rng.standard_normal((n_sessions, n_assets)) * math.sqrt(1.0 - rho) * 0.02
    r = f[:, None] + e
    r[rng.random(r.shape) < gaps] = np.nan          # gaps stay NaN, never zeros
    dates = pd.bdate_range("2023-01-02", periods=n_sessions)
    return pd.DataFrame({"ticker": np.repeat([f"T{i:02d}" for i in range(n_assets)], n_sessions),
                         "date": np.tile(dates, n_assets), "log_return": r.T.ravel()})


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6])
def test_recovers_the_market_share_of_variance(rho):
    got = market_share_of_variance(_one_factor(rho), min_sessions=60)
    # mean of 435 pairwise correlations over ~1400 sessions: SE ~ 0.03 / sqrt(30) per asset pair average
    assert got["rho"] == pytest.approx(rho, abs=0.02)
    assert got["n_assets"] == 30 and got["source"] == "data"


def test_sigma_split_keeps_the_total_noise():
    doc = calibrate_sigma0(_one_factor(0.3), {"sigma": 0.5}, min_sessions=60)
    s0, si = doc["sigma0"]["value"], doc["sigma_idiosyncratic"]["value"]
    assert s0 ** 2 + si ** 2 == pytest.approx(0.25, rel=1e-12)
    assert s0 == pytest.approx(math.sqrt(doc["rho"]["value"]) * 0.5)


def test_too_little_data_gives_zero_with_the_reason():
    short = _one_factor(0.3, n_assets=3, n_sessions=40)
    got = market_share_of_variance(short, min_sessions=60)
    assert got["rho"] == 0.0 and got["source"] == "default" and "fewer than two assets" in got["reason"]
    with pytest.raises(CalibrationError, match="missing column"):
        market_share_of_variance(short.drop(columns="log_return"), min_sessions=60)
    with pytest.raises(CalibrationError, match="sigma"):
        calibrate_sigma0(short, {}, min_sessions=60)


def test_jackknife_se_matches_the_spread_of_rho_over_seeds():
    """A month of sessions (20): the jackknife SE is the seeds' spread of rho (within 30 %) and its
    estimate is the pandas estimator's (same pairs, one-pass sums)."""
    rhos, ses = [], []
    for seed in range(80):
        data = _one_factor(0.3, n_sessions=20, seed=seed)
        jack = market_share_jackknife(data, min_sessions=10)
        rhos.append(jack["rho_full"])
        ses.append(jack["rho_se"])
    assert jack["n_sessions"] == 20
    assert jack["rho_full"] == pytest.approx(market_share_of_variance(data, min_sessions=10)["rho"], abs=1e-12)
    spread = float(np.std(rhos, ddof=1))
    assert math.sqrt(np.mean(np.square(ses))) == pytest.approx(spread, rel=0.3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_jackknife_brackets_the_known_share_and_propagates_to_sigma0(seed):
    doc = calibrate_sigma0(_one_factor(0.3, n_sessions=60, seed=seed), {"sigma": 0.5}, min_sessions=30)
    rho, se = doc["rho"]["value"], doc["rho"]["se"]
    assert 0.0 < se < 0.2 and abs(rho - 0.3) < 3.0 * se
    # delta method through sigma0 = sqrt(rho) sigma: SE(sigma0) = sigma0 SE(rho) / (2 rho)
    assert doc["sigma0"]["se"] == pytest.approx(doc["sigma0"]["value"] * se / (2.0 * rho), rel=1e-12)
    assert doc["sigma_idiosyncratic"]["se"] == pytest.approx(0.5 * se / (2.0 * math.sqrt(1.0 - rho)), rel=1e-12)
    assert "jackknife over 60 sessions" in doc["rho"]["se_reason"]


def test_jackknife_needs_three_sessions_and_default_rho_has_no_se():
    with pytest.raises(CalibrationError, match="at least 3 sessions.*got 2"):
        market_share_jackknife(_one_factor(0.3, n_assets=5, n_sessions=2, gaps=0.0), min_sessions=2)
    doc = calibrate_sigma0(_one_factor(0.3, n_assets=3, n_sessions=40), {"sigma": 0.5}, min_sessions=60)
    assert doc["rho"]["se"] is None and doc["sigma0"]["se"] is None and doc["rho"]["source"] == "default"
