"""compute_stats as a whole: columns, exclusions reported (never dropped), JSON-able summary."""

import json

import numpy as np
import pandas as pd
import pytest

from mfg_finance.io import dumps_json
from mfg_finance.stats import StatsResult, compute_stats

from stats_synthetic import equities_frame

ASSET_COLUMNS = {
    "ticker", "included", "exclusion_reason", "n_sessions", "n_returns", "n_gap_sessions", "first_date",
    "last_date", "last_close_brl", "mean_log_return_daily", "max_abs_log_return", "vol_cc_daily",
    "vol_cc_annual", "vol_parkinson_annual", "vol_garman_klass_annual", "intraday_range_mean",
    "adv_brl_mean", "adv_brl_median", "adv_shares_mean", "adv_shares_median", "trades_per_session",
    "avg_trade_size_shares", "amihud_per_brl", "spread_cs", "spread_roll", "spread_quoted_close",
    "total_volume_brl", "n_events_adjusted", "n_cash_without_amount", "event_breaks",
}


@pytest.fixture(scope="module")
def market() -> StatsResult:
    frame = equities_frame({
        "LIQA3": {"adv_shares": 5e6, "trades": 30000, "spread": 4e-4},
        "MIDB4": {"adv_shares": 2e5, "trades": 800, "spread": 3e-3, "sigma_annual": 0.45},
        "SHRT3": {"sessions": 20},                       # too short
        "GAPS3": {"drop": range(10, 200, 3)},            # many gaps, still enough sessions
    }, n_sessions=250, seed=21)
    zero = frame[frame["ticker"] == "LIQA3"].copy()
    zero["ticker"] = "ZERO3"
    zero[["volume", "quantity"]] = 0
    flat = frame[frame["ticker"] == "LIQA3"].copy()
    flat["ticker"] = "FLAT3"
    flat[["open", "high", "low", "close"]] = 10.0
    frame = pd.concat([frame.astype({"ticker": str}), zero, flat], ignore_index=True)
    return compute_stats(frame, min_sessions=60)


def test_one_row_per_ticker_with_documented_columns(market):
    stats = market.asset_stats
    assert set(stats.columns) == ASSET_COLUMNS
    assert list(stats["ticker"]) == sorted(["LIQA3", "MIDB4", "SHRT3", "GAPS3", "ZERO3", "FLAT3"])
    assert stats["included"].dtype == bool


def test_exclusions_are_reported_with_reasons(market):
    stats = market.asset_stats.set_index("ticker")
    assert set(stats.index[stats["included"]]) == {"LIQA3", "MIDB4", "GAPS3"}
    assert "n_sessions=20 < min_sessions=60" in stats.loc["SHRT3", "exclusion_reason"]
    assert "zero traded volume" in stats.loc["ZERO3", "exclusion_reason"]
    assert "vol_cc_annual=0.0" in stats.loc["FLAT3", "exclusion_reason"]
    assert (stats.loc[stats["included"], "exclusion_reason"] == "").all()
    # Excluded rows still carry the statistics that could be computed.
    assert stats.loc["SHRT3", "n_sessions"] == 20 and np.isfinite(stats.loc["SHRT3", "vol_cc_annual"])
    assert market.summary["excluded"].keys() == {"SHRT3", "ZERO3", "FLAT3"}
    assert market.summary["counts"]["included"] == 3 and market.summary["counts"]["excluded"] == 3


def test_liquidity_ordering_and_quoted_spread(market):
    stats = market.asset_stats.set_index("ticker")
    assert stats.loc["LIQA3", "adv_brl_median"] > 10 * stats.loc["MIDB4", "adv_brl_median"]
    assert stats.loc["LIQA3", "amihud_per_brl"] < stats.loc["MIDB4", "amihud_per_brl"]
    assert stats.loc["LIQA3", "spread_quoted_close"] == pytest.approx(4e-4, rel=1e-6)
    assert stats.loc["MIDB4", "spread_quoted_close"] == pytest.approx(3e-3, rel=1e-6)
    assert stats.loc["GAPS3", "n_gap_sessions"] > 0


def test_summary_is_json_able_with_quantiles(market):
    summary = json.loads(dumps_json(market.summary))
    assert summary["settings"] == {"trading_days_per_year": 252, "rolling_window": 21, "min_sessions": 60,
                                   "adjust": "splits"}
    q = summary["quantiles"]["vol_cc_annual"]
    assert q["n"] == 3 and q["q05"] <= q["q50"] <= q["q95"]
    assert summary["pooled_returns_included"]["n"] > 500
    assert summary["period"]["n_sessions"] == 250


def test_no_included_asset_is_not_an_error_here():
    frame = equities_frame({"SHRT3": {"sessions": 10}}, n_sessions=10)
    result = compute_stats(frame, min_sessions=60)
    assert not result.asset_stats["included"].any()
    assert result.summary["quantiles"]["vol_cc_annual"] == {"n": 0}
    dumps_json(result.summary)


def test_writes_parquet(tmp_path, market):
    from mfg_finance.io import read_parquet, write_parquet

    write_parquet(tmp_path / "a.parquet", market.asset_stats)
    write_parquet(tmp_path / "r.parquet", market.returns)
    back = read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, market.asset_stats, check_dtype=False)
