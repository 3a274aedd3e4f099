"""Backward adjustment: splits leave returns intact, total_return reinvests cash, unexplained events break."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from corporate_testing import inject, series
from mfg_finance.corporate import infer_events
from mfg_finance.errors import DataError
from mfg_finance.stats import compute_stats
from mfg_finance.stats.adjust import adjust_prices

SETTINGS = dict(trading_days_per_year=252, rolling_window=5, min_sessions=10)


def _events(rows):
    return pd.DataFrame(rows, columns=["ticker", "ex_date", "kind", "factor", "amount", "source", "evidence"])


def test_split_adjusted_returns_equal_the_unsplit_ones():
    base = series(seed=11)
    split = inject(base, 14, factor=2.0, marker="EB")
    reference = compute_stats(base, **SETTINGS)
    adjusted = compute_stats(split, events=infer_events(split), **SETTINGS)
    np.testing.assert_allclose(adjusted.returns["log_return"], reference.returns["log_return"], rtol=0, atol=1e-12)
    # The last price stays as quoted; earlier ones are in today's shares; quantities likewise.
    adj = adjust_prices(split.sort_values("date").reset_index(drop=True), infer_events(split), "splits")
    assert adj.frame["close"].iat[-1] == split["close"].iat[-1]
    np.testing.assert_allclose(adj.frame["close"].iloc[:14], split["close"].iloc[:14] / 2)
    np.testing.assert_allclose(adj.frame["quantity"].iloc[:14], split["quantity"].iloc[:14] * 2)
    stats = adjusted.asset_stats.iloc[0]
    assert stats["n_events_adjusted"] == 1 and stats["event_breaks"] == ""


def test_none_keeps_the_quoted_prices():
    split = inject(series(seed=11), 14, factor=2.0, marker="EB")
    raw = compute_stats(split, events=infer_events(split), adjust="none", **SETTINGS)
    assert raw.returns["log_return"].iat[14] == pytest.approx(np.log(split["close"].iat[14] / split["close"].iat[13]))


def test_total_return_reinvests_a_known_cash_amount():
    frame = inject(series(seed=12), 9, cash=0.5, marker="ED")
    before, after = frame["close"].iat[8], frame["close"].iat[9]
    events = _events([("SYNX3", frame["date"].iat[9], "dividend", 1.0, 0.5, "file", "test")])
    total = compute_stats(frame, events=events, adjust="total_return", **SETTINGS)
    assert total.returns["log_return"].iat[9] == pytest.approx(np.log((after + 0.5) / before), abs=1e-12)
    price_only = compute_stats(frame, events=events, adjust="splits", **SETTINGS)
    assert price_only.returns["log_return"].iat[9] == pytest.approx(np.log(after / before), abs=1e-12)
    # Share and cash on the same ex-date: R = (f C_t + D) / C_{t-1}.
    both = _events([("SYNX3", frame["date"].iat[9], "dividend", 1.0, 0.5, "file", "t"),
                    ("SYNX3", frame["date"].iat[9], "split", 3.0, np.nan, "file", "t")])
    r = compute_stats(frame, events=both, adjust="total_return", **SETTINGS).returns["log_return"].iat[9]
    assert r == pytest.approx(np.log((3 * after + 0.5) / before), abs=1e-12)


def test_inferred_cash_without_amount_is_counted_not_guessed():
    frame = inject(series(seed=13), 9, cash=0.5, marker="ED")
    result = compute_stats(frame, events=infer_events(frame), adjust="total_return", **SETTINGS)
    assert result.asset_stats["n_cash_without_amount"].iat[0] == 1
    assert result.returns["log_return"].iat[9] == pytest.approx(np.log(frame["close"].iat[9] / frame["close"].iat[8]))


def test_a_return_across_an_unexplained_event_is_excluded_with_its_reason():
    frame = series(seed=14)
    events = _events([("SYNX3", frame["date"].iat[7], "unexplained", 1.0, np.nan, "inferred", "test")])
    for mode in ("splits", "total_return", "none"):
        result = compute_stats(frame, events=events, adjust=mode, **SETTINGS)
        assert np.isnan(result.returns["log_return"].iat[7]) and result.returns["return_status"].iat[7] == "event"
        assert result.asset_stats["event_breaks"].iat[0] == f"{frame['date'].iat[7]:%Y-%m-%d} unexplained event"
        assert result.asset_stats["n_returns"].iat[0] == len(frame) - 2
        assert result.summary["counts"]["event_breaks"] == 1


def test_events_of_absent_tickers_or_before_the_first_session_do_nothing():
    frame = series(seed=15)
    events = _events([("OTHER3", frame["date"].iat[5], "split", 2.0, np.nan, "file", "t"),
                      ("SYNX3", frame["date"].iat[0], "split", 2.0, np.nan, "file", "t")])
    result = compute_stats(frame, events=events, **SETTINGS)
    np.testing.assert_allclose(result.returns["close"], frame["close"])


def test_bad_mode_and_bad_event_rows_are_named():
    frame = series(seed=16)
    with pytest.raises(DataError, match="stats.adjust"):
        compute_stats(frame, adjust="dividends", **SETTINGS)
    bad = _events([("SYNX3", frame["date"].iat[5], "split", 0.0, np.nan, "file", "t")])
    with pytest.raises(DataError, match=r"row 0 \(SYNX3\): factor 0.0"):
        compute_stats(frame, events=bad, **SETTINGS)
