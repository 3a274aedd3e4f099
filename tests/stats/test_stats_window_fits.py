"""Issue 21: a rolling window longer than every ticker's history is an error, not an all-NaN column."""

import pytest

from mfg_finance.errors import DataError
from mfg_finance.stats import compute_stats
from stats_synthetic import equities_frame


def test_window_longer_than_the_data_is_refused_with_the_longest_history():
    equities = equities_frame({"AAAA3": {}, "BBBB4": {"sessions": 20}}, n_sessions=30)
    with pytest.raises(DataError, match=r"stats.rolling_window = 60 sessions: .* longest history has 29 valid "
                                        r"returns.* at most 36 sessions"):
        compute_stats(equities, rolling_window=60, min_sessions=10)


def test_window_that_one_ticker_fills_is_kept():
    equities = equities_frame({"AAAA3": {}, "BBBB4": {"sessions": 20}}, n_sessions=30)
    result = compute_stats(equities, rolling_window=30, min_sessions=10)
    per_ticker = result.returns.groupby("ticker")["rolling_vol_annual"].count()
    assert per_ticker["AAAA3"] > 0 and per_ticker["BBBB4"] == 0
