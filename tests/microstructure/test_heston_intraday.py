"""Heston parameters from intraday realized variances: recovery on paths of the project's Heston simulator."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import DataError
from mfg_finance.market_making.heston import HestonMids, HestonParameters
from mfg_finance.market_making.heston_calibration import calibrate_heston
from mfg_finance.microstructure import estimate_instrument
from mfg_finance.microstructure.stochastic_volatility import fit_heston_intraday, interval_series
from mfg_finance.trades.synthetic import SyntheticInstrument, efficient_variance_per_second, simulate_session

THETA, KAPPA = 0.02**2 / 25_200, 1 / 3600
TRUE = HestonParameters(kappa=KAPPA, theta=THETA, xi=0.5 * np.sqrt(2 * KAPPA * THETA), rho=-0.5, v0=THETA)


def heston_intervals(p, n_sessions, seed, *, session_s=25_200, dt=5.0, interval_s=300.0):
    """Realized variance (sum of squared dt log-returns) and log return per interval; one path per session,
    each starting from the variance's stationary law."""
    mids = HestonMids(p, S0=20.0, dt=dt, n_paths=n_sessions, seed=seed, stationary_start=True)
    z = np.random.default_rng([seed, 1])
    per, n_int = int(interval_s / dt), int(session_s / interval_s)
    x, r = np.zeros((n_sessions, n_int)), np.zeros((n_sessions, n_int))
    for j in range(n_int):
        start, rv = mids.log_price.copy(), np.zeros(n_sessions)
        for _ in range(per):
            old = mids.log_price.copy()
            mids.step(z.standard_normal(n_sessions))
            rv += (mids.log_price - old) ** 2
        x[:, j], r[:, j] = rv, mids.log_price - start
    return x, r


def test_recovers_known_parameters_within_three_standard_errors():
    x, r = heston_intervals(TRUE, 80, seed=3)
    est = fit_heston_intraday(x, r, 300.0)
    for name, e in est.items():
        truth = getattr(TRUE, name)
        assert 0 < e.se < 0.2 * abs(truth), (name, e)
        assert abs(e.value - truth) < 3 * e.se, (name, e.value, truth, e.se)
    again = fit_heston_intraday(x, r, 300.0)
    assert again == est                                    # seeded bootstrap


@pytest.mark.slow
def test_standard_errors_are_honest_over_many_seeds():
    z = {k: [] for k in ("kappa", "theta", "xi", "rho")}
    for seed in range(100):
        for name, e in fit_heston_intraday(*heston_intervals(TRUE, 100, seed=100 + seed), 300.0).items():
            z[name].append((e.value - getattr(TRUE, name)) / e.se)
    for name, values in z.items():
        coverage = np.mean(np.abs(values) < 1.96)
        assert 0.9 <= coverage <= 0.99, (name, coverage)


def test_refusals_say_why():
    x, r = heston_intervals(TRUE, 12, seed=1)
    with pytest.raises(DataError, match="only 5 session"):
        fit_heston_intraday(x[:5], r[:5], 300.0)
    flat = np.ones_like(x) * THETA * 300            # constant variance: no autocovariance
    with pytest.raises(DataError, match="autocovariance|lag ratio"):
        fit_heston_intraday(flat, r, 300.0, deseasonalize=False)


def test_trade_files_give_an_interval_series_and_the_calibration_prefers_it():
    inst = SyntheticInstrument("SYNA3", rate_buy=0.4, rate_sell=0.4)
    trades = simulate_session([inst], date="2024-07-01", seed=2)
    entry = estimate_instrument(trades, "SYNA3")
    assert entry["heston"] is None and "only 1 session" in entry["errors"]["heston"]
    from mfg_finance.microstructure.series import instrument_sessions
    x, r = interval_series(instrument_sessions(trades, "SYNA3", open_s=36000, close_s=61200), 300.0)
    assert x.shape == (1, 84) and np.isfinite(x).mean() > 0.9
    # TSRV of the log price per interval ~ (efficient variance per second / P^2) x interval
    assert np.nanmean(x) / 300 == pytest.approx(efficient_variance_per_second(inst) / inst.price0 ** 2, rel=0.25)
    fitted = fit_heston_intraday(*heston_intervals(TRUE, 30, seed=5), 300.0)
    daily = pd.DataFrame({"ticker": "X", "date": pd.bdate_range("2024-01-01", periods=30), "log_return": 0.01,
                          "intraday_range": 0.02})
    settings = {"calibrate": True, "min_sessions": 60, "mean_reversion_per_session": 1.0, "variance_cv": 0.5,
                "rho": -0.5}
    out = calibrate_heston(daily, "X", sigma=0.003, S0=20.0, settings=settings,
                           intraday={k: e.as_dict() for k, e in fitted.items()})
    assert out["source"] == "intraday" and out["parameters"]["kappa"] == fitted["kappa"].value
    assert out["se"]["xi"] == fitted["xi"].se and out["parameters"]["v0"] == fitted["theta"].value
    fallback = calibrate_heston(daily, "X", sigma=0.003, S0=20.0, settings=settings, intraday=None,
                                intraday_reason="only 2 session(s)")
    assert fallback["source"] == "config" and "intraday: only 2 session(s)" in fallback["reason"]
