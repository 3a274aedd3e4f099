"""Per-session returns with honest gaps, on the session calendar of the data.

The session calendar
--------------------
A *session* is a date on which at least one row of the input exists (any ticker). The calendar is
the sorted union of those dates. B3 publishes no record for a ticker on a day it did not trade, so a
ticker that is absent from a calendar session between two of its own sessions has a *gap*.

Returns
-------
For consecutive sessions of the same ticker (no gap)

.. math:: r_t = \\ln(C_t / C_{t-1})  \\qquad \\text{(dimensionless, per session)}

After a gap the return is **NaN**, never 0 (the price did move over the missing sessions, we just
cannot attribute it to one session), and ``gap_sessions`` counts the calendar sessions skipped. The
first session of a ticker also has a NaN return (``return_status == "first"``).

The intraday range is :math:`\\ln(H_t / L_t)` (dimensionless), the quantity behind the Parkinson and
Corwin-Schultz estimators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError

#: Columns of ``equities`` the statistics read.
REQUIRED_COLUMNS = ("date", "ticker", "open", "high", "low", "close", "n_trades", "quantity", "volume")
#: Columns used when present (the quoted closing spread).
OPTIONAL_COLUMNS = ("best_bid", "best_ask")

#: Values of ``return_status``.
STATUS_OK, STATUS_FIRST, STATUS_GAP, STATUS_BAD_PRICE = "ok", "first", "gap", "bad_price"
#: Set by :func:`~mfg_finance.stats.compute_stats` on a return across an ``unexplained`` corporate event.
STATUS_EVENT = "event"


def prepare_equities(equities: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise the input: required columns, one row per (ticker, date), sorted.

    Returns a copy of the columns used (required and optional) with ``ticker`` as plain strings and
    rows sorted by (ticker, date).

    Raises
    ------
    DataError
        Missing columns, no rows, or duplicated (ticker, date) pairs (named).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in equities.columns]
    if missing:
        raise DataError(f"equities: missing column(s) {missing}; present: {list(equities.columns)}")
    if len(equities) == 0:
        raise DataError("equities: no rows (did the selection keep any CODBDI/TPMERC record?)")
    # Only the columns the statistics read: the wide COTAHIST frame is not copied.
    keep = list(REQUIRED_COLUMNS) + [c for c in OPTIONAL_COLUMNS if c in equities.columns]
    frame = equities.loc[:, keep].copy()
    frame["ticker"] = frame["ticker"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"])
    check_one_row_per_session(frame)
    return frame.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)


def check_one_row_per_session(frame: pd.DataFrame) -> None:
    """DataError naming the first (ticker, date) that has several rows in ``frame``."""
    dup = frame.duplicated(["ticker", "date"], keep=False)
    if dup.any():
        first = frame.loc[dup, ["ticker", "date"]].iloc[0]
        raise DataError(f"equities: {int(dup.sum())} rows share a (ticker, date), e.g. "
                        f"{first['ticker']} on {pd.Timestamp(first['date']):%Y-%m-%d}; expected one row per "
                        "ticker and session (select_equities de-duplicates)")


def session_calendar(dates: pd.Series) -> pd.DatetimeIndex:
    """The session calendar: sorted union of the dates present in the data."""
    return pd.DatetimeIndex(np.unique(pd.to_datetime(dates).to_numpy()))


def _positive(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x) & (x > 0)


def session_returns(frame: pd.DataFrame, calendar: pd.DatetimeIndex) -> pd.DataFrame:
    """Per ticker and session: close, log return, gap flag and intraday range.

    Parameters
    ----------
    frame
        Output of :func:`prepare_equities` (sorted by ticker, date).
    calendar
        Session calendar (:func:`session_calendar`).

    Returns
    -------
    DataFrame with ``ticker, date, close`` (BRL), ``log_return`` (per session; NaN for the first
    session, after a gap, or next to a non-positive close), ``gap_sessions`` (int, calendar sessions
    missing before this row), ``return_status`` (``ok | first | gap | bad_price``) and
    ``intraday_range`` (:math:`\\ln(H/L)`, NaN when H or L is not positive).
    """
    ticker = frame["ticker"].to_numpy()
    close = frame["close"].to_numpy(dtype=float)
    position = calendar.get_indexer(pd.DatetimeIndex(frame["date"]))
    new_ticker = np.r_[True, ticker[1:] != ticker[:-1]]

    prev_position = np.r_[-1, position[:-1]]
    gap = np.where(new_ticker, 0, position - prev_position - 1).astype(np.int64)
    prev_close = np.r_[np.nan, close[:-1]]
    prices_ok = _positive(close) & _positive(prev_close)

    status = np.full(len(frame), STATUS_OK, dtype=object)
    status[~prices_ok] = STATUS_BAD_PRICE
    status[gap > 0] = STATUS_GAP
    status[new_ticker] = STATUS_FIRST
    valid = status == STATUS_OK

    log_return = np.full(len(frame), np.nan)
    log_return[valid] = np.log(close[valid] / prev_close[valid])

    high = frame["high"].to_numpy(dtype=float)
    low = frame["low"].to_numpy(dtype=float)
    range_ok = _positive(high) & _positive(low) & (high >= low)
    intraday_range = np.full(len(frame), np.nan)
    intraday_range[range_ok] = np.log(high[range_ok] / low[range_ok])

    return pd.DataFrame({
        "ticker": ticker.astype(str),
        "date": frame["date"].to_numpy(),
        "close": close,
        "log_return": log_return,
        "gap_sessions": gap,
        "return_status": status.astype(str),
        "intraday_range": intraday_range,
    })


def rolling_volatility(returns: pd.DataFrame, *, window: int, trading_days_per_year: float,
                       min_fraction: float = 0.8) -> np.ndarray:
    """Annualised rolling close-to-close volatility per ticker.

    .. math:: \\hat\\sigma_t = \\sqrt{N_{year}}\\; \\mathrm{std}(r_{t-w+1..t})

    over the last ``window`` rows of the ticker (its own sessions); NaN returns (first session, gaps)
    are skipped, and a value needs at least ``ceil(min_fraction * window)`` valid returns in the
    window, so one gap does not blank a whole window but a mostly-empty one gives NaN. Units: 1/year^(1/2).
    """
    min_periods = max(2, int(np.ceil(min_fraction * window)))
    rolled = (returns.groupby("ticker", sort=False)["log_return"]
              .rolling(window, min_periods=min_periods).std(ddof=1)
              .reset_index(level=0, drop=True))
    return rolled.sort_index().to_numpy() * np.sqrt(trading_days_per_year)
