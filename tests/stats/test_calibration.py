"""Calibration: formulas on a hand-built asset, round trip through YAML, overrides, refusals."""

import math

import numpy as np
import pandas as pd
import pytest

from mfg_finance.calibration import (SESSION_SECONDS, calibrate_mfg, calibrate_mm, calibration_spread,
                                     parameter_values, ticker_values)
from mfg_finance.errors import CalibrationError
from mfg_finance.io import read_yaml, write_yaml
from mfg_finance.stats import compute_stats

from stats_synthetic import equities_frame

#: A typical liquid B3 stock: 30% annual vol, 30 BRL, 5 M shares a day in 40 000 trades, 5 bp quoted.
TYPICAL = {
    "ticker": "TYPA3", "included": True, "exclusion_reason": "", "n_sessions": 250,
    "vol_cc_daily": 0.30 / math.sqrt(252), "vol_cc_annual": 0.30, "last_close_brl": 30.0,
    "adv_shares_median": 5e6, "adv_brl_median": 1.5e8, "trades_per_session": 40_000.0,
    "avg_trade_size_shares": 125.0, "amihud_per_brl": 1e-10, "spread_quoted_close": 5e-4,
    "spread_cs": 8e-3, "spread_roll": np.nan,
}


def _stats(*rows) -> pd.DataFrame:
    return pd.DataFrame([{**TYPICAL, **r} for r in rows] or [TYPICAL])


def test_typical_liquid_asset_lands_on_the_stiff_baseline():
    doc = calibrate_mfg(_stats(), representative="TYPA3")
    v = parameter_values(doc)
    assert v["eta0"] == pytest.approx(5e-4)                                  # = quoted spread at c = 1%
    assert v["phi"] == pytest.approx(100 * 0.30 ** 2 / 252)                  # 0.0357
    assert v["gamma_T"] == pytest.approx(5e-4 / (20 / SESSION_SECONDS))      # 0.63
    assert v["sigma"] == pytest.approx(125 * math.sqrt(40_000) / (0.01 * 5e6))
    n_u = 0.01 * 5e6 * 30.0                                                  # BRL notional of one unit
    assert v["eta1"] == pytest.approx(1e-10 * n_u)
    assert v["kappa"] == pytest.approx(-1 / (1e-10 * n_u * 30.0))  # negative: a selling crowd lowers the price
    assert v["p_ref"] == 30.0
    # Near the solver's baseline eta0 ~ 5e-4, phi ~ 0.035, gamma_T ~ 0.57 and |q| = O(1).
    assert 0.03 < v["phi"] < 0.04 and 0.5 < v["gamma_T"] < 0.7 and v["sigma"] * math.sqrt(0.5) < 1
    assert doc["units"]["time"] == "trading day" and doc["units"]["price"] == "BRL"
    assert doc["units"]["inventory_unit_shares"] == pytest.approx(5e4)
    for name, entry in doc["parameters"].items():
        assert entry["source"] == "data"
        assert set(entry) >= {"value", "unit", "source", "statistic", "formula"}, name


def test_median_representative_uses_cross_sectional_medians():
    rows = _stats({"ticker": "A"}, {"ticker": "B", "vol_cc_daily": 0.03}, {"ticker": "C", "vol_cc_daily": 0.01},
                  {"ticker": "D", "included": False, "vol_cc_daily": 5.0})
    doc = calibrate_mfg(rows, representative="median")
    assert doc["representative"]["name"] == "median of 3 included assets" and doc["representative"]["n_assets"] == 3
    assert parameter_values(doc)["phi"] == pytest.approx(100 * (0.30 / math.sqrt(252)) ** 2)


def test_spread_choice_and_tick_floor():
    assert calibration_spread(TYPICAL)[0] == 5e-4
    assert calibration_spread({**TYPICAL, "spread_quoted_close": np.nan})[0] == 8e-3   # falls back to CS
    assert calibration_spread(TYPICAL, "spread_cs")[0] == 8e-3
    value, source = calibration_spread({**TYPICAL, "spread_quoted_close": 1e-5})
    assert value == pytest.approx(0.01 / 30.0) and "floored" in source
    with pytest.raises(CalibrationError, match="unknown"):
        calibration_spread(TYPICAL, "bogus")


def test_mm_formulas_and_units():
    doc = calibrate_mm(_stats(), tickers=["TYPA3"], gamma=0.1, Q_max=10)
    v = ticker_values(doc, "TYPA3")
    h = 0.5 * 5e-4 * 30.0
    assert v["k"] == pytest.approx(1 / h)
    assert v["A"] == pytest.approx(40_000 / (2 * SESSION_SECONDS) * math.e)
    assert v["A"] * math.exp(-v["k"] * h) == pytest.approx(40_000 / (2 * 25_200))  # rate at the quote
    assert v["sigma"] == pytest.approx(0.30 / math.sqrt(252) * 30.0 / math.sqrt(25_200))
    assert v["tick_size"] == 0.01 and v["S0"] == 30.0 and v["gamma"] == 0.1
    assert v["Q_max"] == 10 and isinstance(v["Q_max"], int)
    assert doc["units"] == {"time": "second", "price": "BRL", "inventory": "lot (B3 standard lot, 100 shares)",
                            "session_seconds": 25_200}
    entries = doc["tickers"]["TYPA3"]
    assert entries["gamma"]["source"] == "config" and entries["tick_size"]["source"] == "convention"


def test_round_trip_on_simulated_market(tmp_path):
    frame = equities_frame({"SYNA3": {"adv_shares": 5e6, "trades": 40_000, "spread": 5e-4},
                            "SYNB4": {"adv_shares": 2e6, "trades": 20_000, "spread": 8e-4},
                            "SYNC3": {"adv_shares": 1e5, "trades": 500, "spread": 4e-3}}, n_sessions=120, seed=2)
    stats = compute_stats(frame, min_sessions=60).asset_stats
    mfg = calibrate_mfg(stats, representative="median", overrides={"mfg": {"phi": 0.05}})
    mm = calibrate_mm(stats, tickers=["SYNA3", "SYNB4"], gamma=0.1, Q_max=10,
                      overrides={"mm": {"SYNA3": {"k": 1.2}}})
    write_yaml(tmp_path / "mfg.yaml", mfg)
    write_yaml(tmp_path / "mm.yaml", mm)
    assert parameter_values(read_yaml(tmp_path / "mfg.yaml")) == parameter_values(mfg)
    for ticker in ("SYNA3", "SYNB4"):
        assert ticker_values(read_yaml(tmp_path / "mm.yaml"), ticker) == ticker_values(mm, ticker)
    assert read_yaml(tmp_path / "mfg.yaml")["parameters"]["phi"]["source"] == "override"
    assert ticker_values(mm, "SYNA3")["k"] == 1.2
    with pytest.raises(CalibrationError, match="SYNC3.*calibrated tickers"):
        ticker_values(mm, "SYNC3")


def test_overrides_are_recorded_with_the_data_value():
    doc = calibrate_mfg(_stats(), representative="TYPA3", overrides={"mfg": {"eta0": 1e-3, "eta1": 0}})
    p = doc["parameters"]
    assert p["eta0"]["value"] == 1e-3 and p["eta0"]["source"] == "override"
    assert p["eta0"]["data_value"] == pytest.approx(5e-4)
    assert "calibration.overrides.mfg.eta0" in p["eta0"]["statistic"]
    assert p["eta1"]["value"] == 0.0
    # gamma_T is data but derived from eta0: it follows the overridden eta0.
    assert p["gamma_T"]["source"] == "data" and p["gamma_T"]["value"] == pytest.approx(1e-3 * 25_200 / 20)
    mm = calibrate_mm(_stats(), tickers=["TYPA3"], gamma=0.1, Q_max=10, overrides={"mm": {"TYPA3": {"k": 50.0}}})
    a = mm["tickers"]["TYPA3"]["A"]
    # A keeps the intensity at the observed quote equal to the observed trade rate, with k = 50.
    assert a["value"] * math.exp(-50.0 * 0.5 * 5e-4 * 30) == pytest.approx(40_000 / 50_400)


@pytest.mark.parametrize("overrides, match", [
    ({"mfg": {"phii": 1.0}}, r"unknown parameter\(s\) \['phii'\]"),
    ({"mfgg": {}}, r"unknown key\(s\) \['mfgg'\]"),
    ({"mfg": {"phi": "high"}}, "phi: expected a finite number >= 0"),
    ({"mfg": {"eta0": 0.0}}, "eta0: expected a finite number > 0"),
    ({"mfg": {"sigma": float("nan")}}, "sigma: expected a finite number >= 0"),
])
def test_bad_mfg_overrides_are_named(overrides, match):
    with pytest.raises(CalibrationError, match=match):
        calibrate_mfg(_stats(), representative="TYPA3", overrides=overrides)


def test_bad_mm_overrides_are_named():
    with pytest.raises(CalibrationError, match=r"\['SYNX3'\] are not in market_making.tickers"):
        calibrate_mm(_stats(), tickers=["TYPA3"], gamma=0.1, Q_max=10, overrides={"mm": {"SYNX3": {"k": 1}}})
    with pytest.raises(CalibrationError, match=r"mm.TYPA3: unknown parameter\(s\) \['kk'\]"):
        calibrate_mm(_stats(), tickers=["TYPA3"], gamma=0.1, Q_max=10, overrides={"mm": {"TYPA3": {"kk": 1}}})


def test_refusals_name_ticker_and_statistic():
    with pytest.raises(CalibrationError, match=r"TYPA3: statistic adv_shares_median = 0.0 \(zero volume\)"):
        calibrate_mfg(_stats({"adv_shares_median": 0.0}), representative="TYPA3")
    with pytest.raises(CalibrationError, match=r"TYPA3: statistic vol_cc_daily = nan"):
        calibrate_mm(_stats({"vol_cc_daily": np.nan}), tickers=["TYPA3"], gamma=0.1, Q_max=10)
    with pytest.raises(CalibrationError, match=r"vol_cc_daily = 0.0"):
        calibrate_mfg(_stats({"vol_cc_daily": 0.0}), representative="TYPA3")
    with pytest.raises(CalibrationError, match=r"'PETR4' is not in the data; available \(included\): TYPA3"):
        calibrate_mfg(_stats(), representative="PETR4")
    with pytest.raises(CalibrationError, match=r"'SHRT3' is excluded .*n_sessions=5 < min_sessions=60"):
        calibrate_mm(_stats({}, {"ticker": "SHRT3", "included": False,
                                 "exclusion_reason": "n_sessions=5 < min_sessions=60"}),
                     tickers=["SHRT3"], gamma=0.1, Q_max=10)
    with pytest.raises(CalibrationError, match="no included asset"):
        calibrate_mfg(_stats({"included": False, "exclusion_reason": "x"}))
    with pytest.raises(CalibrationError, match="empty"):
        calibrate_mfg(_stats().iloc[:0])
    with pytest.raises(CalibrationError, match="gamma"):
        calibrate_mm(_stats(), tickers=["TYPA3"], gamma=0.0, Q_max=10)


def test_override_rescues_a_parameter_whose_statistic_is_unusable():
    doc = calibrate_mfg(_stats({"vol_cc_daily": np.nan}), representative="TYPA3", overrides={"mfg": {"phi": 0.04}})
    phi = doc["parameters"]["phi"]
    assert phi["value"] == 0.04 and phi["data_value"] is None and "not computable" in phi["statistic"]
    assert phi["unit"] == "cost unit / (inventory unit^2 * trading day)"


def test_documents_are_plain_yaml(tmp_path):
    import yaml

    write_yaml(tmp_path / "m.yaml", calibrate_mfg(_stats(), representative="median"))
    text = (tmp_path / "m.yaml").read_text()
    assert "!!python" not in text
    assert yaml.safe_load(text)["representative"]["statistics"]["vol_cc_daily"] > 0


def test_warns_when_noise_would_fill_the_domain():
    quiet = calibrate_mfg(_stats(), representative="TYPA3")
    assert quiet["warnings"] == []
    illiquid = calibrate_mfg(_stats({"trades_per_session": 30.0, "avg_trade_size_shares": 200.0,
                                     "adv_shares_median": 6000.0}), representative="TYPA3")
    assert illiquid["diagnostics"]["noise_over_horizon_units"] > 2.5
    assert "more liquid representative" in illiquid["warnings"][0]


def test_missing_spread_is_refused_but_zero_is_one_tick():
    no_spread = {"spread_quoted_close": np.nan, "spread_cs": np.nan}
    assert np.isnan(calibration_spread({**TYPICAL, **no_spread})[0])
    with pytest.raises(CalibrationError, match="TYPA3: statistic spread = nan"):
        calibrate_mm(_stats(no_spread), tickers=["TYPA3"], gamma=0.1, Q_max=10)
    zero_cs = {"spread_quoted_close": np.nan, "spread_cs": 0.0}
    assert calibration_spread({**TYPICAL, **zero_cs})[0] == pytest.approx(0.01 / 30)
