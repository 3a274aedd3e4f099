"""sigma0 from the market-wide component of daily returns: recovered from one-factor data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import CalibrationError
from mfg_finance.mfg.systemic_calibration import calibrate_sigma0, market_share_of_variance


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
