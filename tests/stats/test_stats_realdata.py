"""Statistics and calibration on real B3 files (skipped when the data or the ingestion is absent).

Also a round trip on the pipeline's synthetic sample when ``write_sample_cotahist`` exists.
"""

import numpy as np
import pytest

from mfg_finance.calibration import calibrate_mfg, calibrate_mm, parameter_values, ticker_values
from mfg_finance.stats import compute_stats

from stats_synthetic import shared_cotahist_dir

pytestmark = pytest.mark.realdata

LIQUID = ("PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3")


def _cotahist():
    module = pytest.importorskip("mfg_finance.cotahist")
    for name in ("read_cotahist", "select_equities"):
        if not hasattr(module, name):
            pytest.skip(f"mfg_finance.cotahist.{name} not available yet")
    return module


@pytest.fixture(scope="module")
def january_2021():
    cotahist = _cotahist()
    path = shared_cotahist_dir() / "COTAHIST_M012021.ZIP"
    if not path.is_file():
        pytest.skip(f"real COTAHIST file not available at {path}")
    equities = cotahist.select_equities(cotahist.read_cotahist([path]), codbdi=[2], market_types=[10])
    # 19 sessions in the file: a threshold of 15 keeps the liquid names, excludes sparse ones.
    return compute_stats(equities, min_sessions=15)


def test_liquid_tickers_present_and_included(january_2021):
    stats = january_2021.asset_stats.set_index("ticker")
    for ticker in LIQUID:
        assert ticker in stats.index, ticker
        assert stats.loc[ticker, "included"], (ticker, stats.loc[ticker, "exclusion_reason"])
        assert stats.loc[ticker, "n_sessions"] == 19
    assert january_2021.summary["period"] == {"start": "2021-01-04", "end": "2021-01-29", "n_sessions": 19}
    assert january_2021.summary["counts"]["excluded"] > 0  # sparse tickers are reported, not dropped


def test_petr4_vale3_volatility_plausible(january_2021):
    stats = january_2021.asset_stats.set_index("ticker")
    for ticker in ("PETR4", "VALE3"):
        for column in ("vol_cc_annual", "vol_parkinson_annual", "vol_garman_klass_annual"):
            assert 0.20 < stats.loc[ticker, column] < 0.80, (ticker, column, stats.loc[ticker, column])


def test_liquidity_plausible(january_2021):
    stats = january_2021.asset_stats.set_index("ticker")
    petr4 = stats.loc["PETR4"]
    assert 5e8 < petr4["adv_brl_median"] < 1e10          # billions of BRL a day
    assert petr4["trades_per_session"] > 10_000
    # One or two ticks at about 27 BRL; the Corwin-Schultz proxy is noisier but below 3%.
    assert 2e-4 < petr4["spread_quoted_close"] < 1e-3
    assert 0 < petr4["spread_cs"] < 0.03
    assert (stats.loc[list(LIQUID), "amihud_per_brl"] < 1e-9).all()


def test_calibration_on_real_liquid_names(january_2021):
    stats = january_2021.asset_stats
    mm = calibrate_mm(stats, tickers=["PETR4", "VALE3"], gamma=0.1, Q_max=10)
    for ticker in ("PETR4", "VALE3"):
        v = ticker_values(mm, ticker)
        assert 0 < v["sigma"] < 0.1 and v["A"] > 0.1 and v["k"] > 1
    values = parameter_values(calibrate_mfg(stats, representative="PETR4"))
    assert 1e-4 < values["eta0"] < 2e-3 and 0.01 < values["phi"] < 0.2 and values["sigma"] < 2


def test_sample_round_trip(tmp_path):
    cotahist = _cotahist()
    if not hasattr(cotahist, "write_sample_cotahist"):
        pytest.skip("mfg_finance.cotahist.write_sample_cotahist not available yet")
    path = tmp_path / "COTAHIST_SAMPLE.TXT"
    cotahist.write_sample_cotahist(path, seed=20230102, n_tickers=12, n_sessions=120)
    equities = cotahist.select_equities(cotahist.read_cotahist([path]), codbdi=[2], market_types=[10])
    result = compute_stats(equities, min_sessions=60)
    stats = result.asset_stats.set_index("ticker")
    assert stats.loc[["SYNA3", "SYNB4"], "included"].all()
    assert np.isfinite(stats.loc[["SYNA3", "SYNB4"], "vol_cc_annual"]).all()
    mfg = calibrate_mfg(result.asset_stats, representative="median")
    mm = calibrate_mm(result.asset_stats, tickers=["SYNA3", "SYNB4"], gamma=0.1, Q_max=10)
    values = parameter_values(mfg)
    assert all(np.isfinite(v) for v in values.values())
    assert all(v > 0 for k, v in values.items() if k != "kappa")
    assert values["kappa"] < 0  # the rest of the market buys less as the price rises
    assert ticker_values(mm, "SYNA3")["S0"] > 0
