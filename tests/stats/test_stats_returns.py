"""Session calendar, returns and gaps: a missing session is never a zero return."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfg_finance.errors import DataError
from mfg_finance.stats import compute_stats
from mfg_finance.stats.returns import session_calendar

from stats_synthetic import hand_frame


def _two_tickers():
    # AAAA3 trades every session; BBBB4 misses 2023-01-04 and 2023-01-05.
    days = ["2023-01-02", "2023-01-03", "2023-01-04", "2023-01-05", "2023-01-06"]
    a = hand_frame("AAAA3", [(d, 10, 10.5, 9.5, 10 + i, 1e6, 1e5, 100) for i, d in enumerate(days)])
    b = hand_frame("BBBB4", [(d, 20, 21, 19, c, 2e6, 1e5, 50) for d, c in
                             [(days[0], 20.0), (days[1], 20.0), (days[4], 22.0)]])
    return pd.concat([b, a], ignore_index=True)  # unsorted on purpose


def test_gap_is_nan_with_count_not_zero_return():
    returns = compute_stats(_two_tickers(), min_sessions=2, rolling_window=2).returns
    b = returns[returns["ticker"] == "BBBB4"].reset_index(drop=True)
    assert list(b["return_status"]) == ["first", "ok", "gap"]
    assert list(b["gap_sessions"]) == [0, 0, 2]
    assert b["log_return"][1] == 0.0          # a real unchanged close is a true zero
    assert np.isnan(b["log_return"][2])       # the 20 -> 22 move spans 3 sessions: not attributed
    assert np.isnan(b["log_return"][0])


def test_calendar_is_union_of_dates_and_output_sorted():
    frame = _two_tickers()
    assert len(session_calendar(frame["date"])) == 5
    result = compute_stats(frame, min_sessions=2, rolling_window=2)
    assert list(result.returns["ticker"].unique()) == ["AAAA3", "BBBB4"]
    assert result.returns.groupby("ticker")["date"].apply(lambda d: d.is_monotonic_increasing).all()
    a = result.returns[result.returns["ticker"] == "AAAA3"]
    np.testing.assert_allclose(a["log_return"].to_numpy()[1:], np.diff(np.log([10, 11, 12, 13, 14.0])))
    stats = result.asset_stats.set_index("ticker")
    assert stats.loc["BBBB4", "n_gap_sessions"] == 2
    assert stats.loc["BBBB4", "n_returns"] == 1
    assert result.summary["counts"]["gap_events"] == 1
    assert result.summary["counts"]["missing_ticker_sessions"] == 2
    assert result.summary["period"] == {"start": "2023-01-02", "end": "2023-01-06", "n_sessions": 5}


def test_intraday_range_and_bad_prices():
    frame = hand_frame("AAAA3", [("2023-01-02", 10, 11, 9, 10, 1e6, 1e5, 10),
                                 ("2023-01-03", 10, 11, 9, 0.0, 1e6, 1e5, 10),   # corrupt close
                                 ("2023-01-04", 10, 11, 9, 10.5, 1e6, 1e5, 10),
                                 ("2023-01-05", 10, 11, 9, 10.0, 1e6, 1e5, 10)])
    returns = compute_stats(frame, min_sessions=2, rolling_window=2).returns
    assert list(returns["return_status"]) == ["first", "bad_price", "bad_price", "ok"]
    assert returns["log_return"].isna().sum() == 3
    assert returns["intraday_range"].to_numpy()[0] == pytest.approx(np.log(11 / 9))


def test_categorical_ticker_and_returns_columns():
    frame = _two_tickers()
    frame["ticker"] = frame["ticker"].astype("category")
    returns = compute_stats(frame, min_sessions=2, rolling_window=2).returns
    assert list(returns.columns) == ["ticker", "date", "close", "log_return", "gap_sessions", "return_status",
                                     "intraday_range", "rolling_vol_annual"]
    assert returns["gap_sessions"].dtype == np.int64


def test_input_errors_name_the_problem():
    frame = _two_tickers()
    with pytest.raises(DataError, match="missing column"):
        compute_stats(frame.drop(columns=["volume"]))
    with pytest.raises(DataError, match="no rows"):
        compute_stats(frame.iloc[:0])
    with pytest.raises(DataError, match="AAAA3 on 2023-01-02"):
        compute_stats(pd.concat([frame, frame[frame["ticker"] == "AAAA3"].head(1)]))
    with pytest.raises(DataError, match="rolling_window"):
        compute_stats(frame, rolling_window=1)
    with pytest.raises(DataError, match="min_sessions"):
        compute_stats(frame, min_sessions=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=3, max_size=40), st.integers(0, 2**31 - 1))
def test_returns_exist_exactly_between_adjacent_sessions(present, seed):
    """Whatever sessions a ticker misses, a return exists iff the previous calendar session was traded."""
    present[0] = True  # the reference ticker below makes every day a session; this one starts day 0
    days = pd.bdate_range("2023-01-02", periods=len(present))
    closes = 10 * np.exp(np.random.default_rng(seed).normal(0, 0.02, len(present)))
    # the reference trades every day at moving prices, so it is included and fills the rolling window
    ref_closes = 10 * np.exp(np.random.default_rng(seed + 1).normal(0, 0.02, len(present)))
    ref = hand_frame("REFA3", [(d, c, c, c, c, 1.0, 1, 1) for d, c in zip(days, ref_closes)])
    rows = [(d, c, c, c, c, 1.0, 1, 1) for d, c, p in zip(days, closes, present) if p]
    returns = compute_stats(pd.concat([ref, hand_frame("TEST3", rows)]), min_sessions=2, rolling_window=2).returns
    got = returns[returns["ticker"] == "TEST3"].reset_index(drop=True)
    idx = np.flatnonzero(present)
    for j in range(1, len(idx)):
        adjacent = idx[j] == idx[j - 1] + 1
        assert got["gap_sessions"][j] == idx[j] - idx[j - 1] - 1
        if adjacent:
            assert got["log_return"][j] == pytest.approx(np.log(closes[idx[j]] / closes[idx[j - 1]]))
        else:
            assert np.isnan(got["log_return"][j])
