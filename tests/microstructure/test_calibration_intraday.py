"""Intraday estimates in the calibration documents: replacement, standard errors, fallbacks, sources."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from mfg_finance.calibration import (SESSION_SECONDS, apply_intraday_mfg, apply_intraday_mm, calibrate_mfg,
                                     calibrate_mm, parameter_sources)
from mfg_finance.config import check_config
from mfg_finance.errors import CalibrationError, ConfigError
from mfg_finance.microstructure import estimate_instrument
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.trades.sample import sample_instruments, session_date
from mfg_finance.trades.synthetic import simulate_session

TYPICAL = {
    "ticker": "TYPA3", "included": True, "exclusion_reason": "", "n_sessions": 250,
    "vol_cc_daily": 0.02, "vol_cc_annual": 0.02 * math.sqrt(252), "last_close_brl": 30.0,
    "adv_shares_median": 5e6, "adv_brl_median": 1.5e8, "trades_per_session": 10_000.0,
    "avg_trade_size_shares": 300.0, "amihud_per_brl": 5e-9, "spread_quoted_close": 6e-4,
    "spread_cs": 8e-3, "spread_roll": np.nan,
}


def _e(value, se, unit="", n=100):
    return Estimate(value, se, unit, "test", n).as_dict()


def _intraday(**over):
    est = {"kyle_lambda": _e(4e-6, 1e-7, "BRL/share"), "sqrt_law_y": _e(0.8, 0.1), "sigma": _e(0.004, 1e-4),
           "rate_total": _e(0.4, 0.004, "1/s"), "size_mean_square": _e(2e5, 4e3), "signed_half_spread": _e(0.01, 1e-4)}
    est.update(over)
    return {"tickers": {"TYPA3": {"estimates": {k: v for k, v in est.items() if v is not None}, "errors": {},
                                  "sessions": ["2024-01-02"]}}}


def test_mfg_parameters_come_from_trades_with_their_standard_errors():
    stats = pd.DataFrame([TYPICAL])
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"), _intraday())
    p = doc["parameters"]
    q_u = 0.01 * 5e6
    assert p["kappa"]["value"] == pytest.approx(-1 / (4e-6 * q_u))
    assert p["kappa"]["se"] == pytest.approx(abs(p["kappa"]["value"]) * 1e-7 / 4e-6)
    assert p["eta1"]["value"] == pytest.approx(4e-6 * q_u * 0.01 / (0.01 * 30.0))
    sigma_d = 0.004 * math.sqrt(SESSION_SECONDS) / 30.0
    assert p["eta0"]["value"] == pytest.approx(0.8 * sigma_d * math.sqrt(0.01))
    assert p["sigma"]["value"] == pytest.approx(math.sqrt(0.4 * SESSION_SECONDS * 2e5) / q_u)
    assert p["gamma_T"]["value"] == pytest.approx(p["eta0"]["value"] / (20 / SESSION_SECONDS))
    sources = parameter_sources(doc)
    assert {k: sources[k] for k in ("eta0", "eta1", "kappa", "sigma", "gamma_T")} == dict.fromkeys(
        ("eta0", "eta1", "kappa", "sigma", "gamma_T"), "intraday")
    assert sources["phi"] == "data" and p["eta0"]["heuristic_value"] > 0
    assert doc["intraday"]["used"] and doc["intraday"]["ticker"] == "TYPA3"


def test_insignificant_impact_keeps_the_heuristics_and_says_why():
    stats = pd.DataFrame([TYPICAL])
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"),
                             _intraday(kyle_lambda=_e(1e-7, 1e-7, "BRL/share")))
    assert parameter_sources(doc)["kappa"] == "data"
    assert "not significantly > 0" in doc["parameters"]["kappa"]["intraday_unavailable"]
    # each parameter on its own: eta0 and sigma do not need Kyle's lambda
    assert doc["intraday"]["parameters"] == ["eta0", "sigma", "gamma_T"]
    assert parameter_sources(doc)["eta1"] == "data" and "kappa: kyle_lambda" in doc["intraday"]["reason"]
    median = apply_intraday_mfg(calibrate_mfg(stats, representative="median"),
                                _intraday(kyle_lambda=_e(1e-7, 1e-7, "BRL/share"), sqrt_law_y=None), stats)
    assert median["intraday"]["parameters"] == ["sigma"] and "TYPA3: kyle_lambda" in median["intraday"]["reason"]
    assert parameter_sources(median)["eta0"] == "data" and parameter_sources(median)["sigma"] == "intraday"
    none = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"), None)
    assert set(parameter_sources(none).values()) == {"data"}


def test_override_wins_over_intraday():
    stats = pd.DataFrame([TYPICAL])
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3", overrides={"mfg": {"eta1": 0.5}}),
                             _intraday())
    assert doc["parameters"]["eta1"]["source"] == "override" and doc["parameters"]["eta1"]["value"] == 0.5
    assert doc["parameters"]["eta1"]["intraday_value"] == pytest.approx(4e-6 * 5e4 * 0.01 / (0.01 * 30.0))
    assert doc["parameters"]["kappa"]["source"] == "intraday"


def test_market_making_flow_share_and_intraday_intensities():
    stats = pd.DataFrame([TYPICAL])
    full = calibrate_mm(stats, tickers=["TYPA3"], gamma=0.1, Q_max=10)
    share = calibrate_mm(stats, tickers=["TYPA3"], gamma=0.1, Q_max=10, flow_share=0.1)
    a_full, a_share = full["tickers"]["TYPA3"]["A"], share["tickers"]["TYPA3"]["A"]
    assert a_share["value"] == pytest.approx(0.1 * a_full["value"])
    assert a_share["upper_bound"] == pytest.approx(a_full["value"])
    with pytest.raises(CalibrationError, match="flow_share"):
        calibrate_mm(stats, tickers=["TYPA3"], gamma=0.1, Q_max=10, flow_share=1.5)
    doc = apply_intraday_mm(share, _intraday(), flow_share=0.1)
    p = doc["tickers"]["TYPA3"]
    assert p["k"]["value"] == pytest.approx(100.0) and p["k"]["source"] == "intraday"
    assert p["A"]["value"] == pytest.approx(math.e * 0.1 * 0.2) and p["A"]["upper_bound"] == pytest.approx(math.e * 0.2)
    assert p["sigma"]["value"] == 0.004 and p["sigma"]["se"] == 1e-4


def test_sample_sessions_follow_the_daily_statistics():
    inst = sample_instruments(pd.DataFrame([TYPICAL]), ["TYPA3"])[0]
    assert inst.price0 == 30.0 and inst.rate_buy == pytest.approx(10_000 / (2 * SESSION_SECONDS))
    assert inst.sigma == pytest.approx(0.02 * 30 / math.sqrt(SESSION_SECONDS))
    assert inst.impact == pytest.approx(5e-9 * 900) and inst.size_p == pytest.approx(100 / 300)
    assert session_date("2024-01-05", 1) == "2024-01-08"  # Friday -> Monday
    trades = simulate_session([inst], date="2024-01-02", seed=1)
    est = estimate_instrument(trades, "TYPA3")["estimates"]
    assert abs(est["sigma"]["value"] - inst.sigma) < 4 * est["sigma"]["se"] + 0.05 * inst.sigma


def test_config_cross_checks_for_trades(repo_root):
    # the default config (every other block valid, as a user's) with the keys under test replaced
    default = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    base = {**default, "market_making": {**default["market_making"], "tickers": ["A"]},
            "calibration": {**default["calibration"], "intraday": {"open_s": 36000, "close_s": 61200}}}
    check_config({**base, "data": {"source": "b3", "trades": {"source": "b3", "b3": {"dates": ["2024-07-04"]}}}})
    with pytest.raises(ConfigError, match="data.trades.source"):
        check_config({**base, "data": {"source": "sample", "trades": {"source": "local"}}})
    with pytest.raises(ConfigError, match="data.trades.b3.dates"):
        check_config({**base, "data": {"source": "b3", "trades": {"source": "b3", "b3": {"dates": []}}}})
    with pytest.raises(ConfigError, match="open_s"):
        check_config({**base, "data": {"source": "b3", "trades": {"source": "none"}},
                      "calibration": {**default["calibration"], "intraday": {"open_s": 70000, "close_s": 61200}}})


def test_median_representative_takes_the_median_of_the_intraday_values():
    second = dict(TYPICAL, ticker="TYPB4", last_close_brl=10.0, adv_shares_median=2e7)
    third = dict(TYPICAL, ticker="TYPC3", last_close_brl=50.0, adv_shares_median=1e6)
    stats = pd.DataFrame([TYPICAL, second, third])
    one = _intraday()["tickers"]["TYPA3"]
    weak = {**one, "estimates": {**one["estimates"], "kyle_lambda": _e(1e-7, 1e-7, "BRL/share")}}
    strong = {**one, "estimates": {**one["estimates"], "kyle_lambda": _e(8e-6, 2e-7, "BRL/share")}}
    intraday = {"tickers": {"TYPA3": one, "TYPB4": strong, "TYPC3": weak}}
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="median"), intraday, stats)
    kappas = [-1 / (4e-6 * 0.01 * 5e6), -1 / (8e-6 * 0.01 * 2e7)]   # each in its own inventory unit
    p = doc["parameters"]
    assert p["kappa"]["source"] == "intraday" and p["kappa"]["value"] == pytest.approx(np.median(kappas))
    # the median of two is their mean: its SE is about half the root sum of squares of theirs
    ses = [abs(k) * r for k, r in zip(kappas, (1e-7 / 4e-6, 2e-7 / 8e-6))]
    assert p["kappa"]["se"] == pytest.approx(0.5 * math.hypot(*ses), rel=0.1)
    assert p["gamma_T"]["source"] == "intraday" and parameter_sources(doc)["phi"] == "data"
    block = doc["intraday"]
    assert block["used"] and block["tickers"] == ["TYPA3", "TYPB4", "TYPC3"]
    assert "TYPA3, TYPB4)" in p["kappa"]["formula"] and "TYPA3, TYPB4, TYPC3)" in p["eta0"]["formula"]
    assert set(block["per_ticker"]["TYPC3"]) == {"eta0", "sigma"}
    assert block["per_ticker"]["TYPB4"]["kappa"]["value"] == pytest.approx(kappas[1])
    again = apply_intraday_mfg(calibrate_mfg(stats, representative="median"), intraday, stats)
    assert again["parameters"]["kappa"] == p["kappa"]       # seeded bootstrap: same bytes
    without_stats = apply_intraday_mfg(calibrate_mfg(stats, representative="median"), intraday)
    assert not without_stats["intraday"]["used"]


def test_mfg_comparison_undoes_the_intraday_values_and_weighs_changes_by_the_grid_errors():
    from mfg_finance.calibration.comparison import heuristic_values, intraday_parameters, outcome_changes
    stats = pd.DataFrame([TYPICAL])
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"), _intraday())
    daily = calibrate_mfg(stats, representative="TYPA3")
    assert intraday_parameters(doc) == ["sigma", "eta0", "eta1", "gamma_T", "kappa"]
    assert heuristic_values(doc) == {k: v["value"] for k, v in daily["parameters"].items()}
    a = {"outcomes": {"liquidation_half_life": 0.10, "total_cost": 1.0}, "outcome_errors": {"liquidation_half_life": 0.01}}
    b = {"outcomes": {"liquidation_half_life": 0.15, "total_cost": 1.0}, "outcome_errors": {"liquidation_half_life": 0.01}}
    rows = {r["outcome"]: r for r in outcome_changes(a, b)}
    assert rows["liquidation_half_life"]["resolved"] is True
    assert rows["liquidation_half_life"]["relative_change"] == pytest.approx(0.5)
    assert rows["total_cost"]["resolved"] is None and rows["total_cost"]["difference"] == 0.0
    b["outcome_errors"]["liquidation_half_life"] = 0.1
    assert outcome_changes(a, b)[0]["resolved"] is False


def test_trade_files_without_the_tickers_say_so_rather_than_no_files():
    """Trade files that hold none of the calibrated tickers (e.g. options beside equity tickers): the
    parameters keep the heuristics and the documents say the files were read and why nothing came out."""
    stats = pd.DataFrame([TYPICAL])
    intraday = {"source": "local", "sessions": ["a.parquet", "b.parquet"], "tickers": {},
                "missing": {"TYPA3": "no trade of this ticker in the session files"}}
    doc = apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"), intraday)
    assert set(parameter_sources(doc).values()) == {"data"} and not doc["intraday"]["used"]
    assert doc["intraday"]["reason"] == ("2 trade file(s) read, no intraday estimate "
                                         "(TYPA3: no trade of this ticker in the session files)")
    assert "source: none" in apply_intraday_mfg(calibrate_mfg(stats, representative="TYPA3"), None)["intraday"]["reason"]
    mm = apply_intraday_mm(calibrate_mm(stats, tickers=["TYPA3"], gamma=0.1, Q_max=10), intraday, flow_share=0.1)
    assert mm["intraday"]["used_for"] == []
    assert mm["intraday"]["not_used_for"] == {"TYPA3": "no trade of this ticker in the session files"}
    none = apply_intraday_mm(calibrate_mm(stats, tickers=["TYPA3"], gamma=0.1, Q_max=10), None, flow_share=0.1)
    assert "not_used_for" not in none["intraday"]
