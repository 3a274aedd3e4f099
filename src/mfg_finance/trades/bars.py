"""Time bars from trades (1-minute by default), and the typed Parquet files of one session.

Bars are built from the trades that stand (cancelled ones left out), per ticker and interval
``[start, start + width)`` of the clock (ns since midnight, exchange time). Intervals without
trades have no bar (no forward fill: a missing bar says there was no trade).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.io import write_parquet

NS_PER_MINUTE = 60_000_000_000
BAR_COLUMNS = ("date", "ticker", "start", "open", "high", "low", "close", "n_trades", "quantity", "volume",
               "vwap", "signed_quantity")


def _check_sorted(trades: pd.DataFrame) -> None:
    codes = trades["ticker"].cat.codes.to_numpy()
    times = trades["time"].to_numpy()
    dates = trades["date"].to_numpy().view(np.int64)
    step_date, step_code, step_time = np.diff(dates), np.diff(codes), np.diff(times)
    bad = (step_date == 0) & ((step_code < 0) | ((step_code == 0) & (step_time < 0)))
    if bad.any():
        i = int(np.argmax(bad)) + 1
        raise DataError(f"trades must be sorted by (ticker, time) within each session, as read_trades "
                        f"returns them; row {i} is out of order")


def time_bars(trades: pd.DataFrame, *, width_ns: int = NS_PER_MINUTE) -> pd.DataFrame:
    """OHLC bars of the trades that stand, per date, ticker and clock interval of ``width_ns``.

    Parameters
    ----------
    trades : DataFrame
        As returned by :func:`mfg_finance.trades.read_trades` (sorted by date, ticker, time).
    width_ns : int
        Bar width in ns (default one minute).

    Returns
    -------
    DataFrame
        ``date``, ``ticker`` (category), ``start`` (int64 ns since midnight, bar start), ``open``,
        ``high``, ``low``, ``close`` (BRL; close = last trade by time then trade number), ``n_trades``,
        ``quantity`` (shares), ``volume`` (BRL, sum of price x quantity), ``vwap`` (BRL),
        ``signed_quantity`` (shares, sum of side x quantity: buyer-initiated minus
        seller-initiated where the file gives the aggressor, 0 where it does not).
    """
    if not (isinstance(width_ns, (int, np.integer)) and width_ns > 0):
        raise DataError(f"bar width must be a positive integer of ns, got {width_ns!r}")
    _check_sorted(trades)
    live = trades[~trades["cancelled"].to_numpy()]
    price = live["price"].to_numpy()
    qty = live["quantity"].to_numpy()
    codes = live["ticker"].cat.codes.to_numpy().astype(np.int64)
    dates = live["date"].to_numpy().view(np.int64)
    start = live["time"].to_numpy() // width_ns * width_ns
    if price.size == 0:
        starts_idx = np.empty(0, dtype=np.int64)
    else:
        new = np.ones(price.size, dtype=bool)
        new[1:] = (dates[1:] != dates[:-1]) | (codes[1:] != codes[:-1]) | (start[1:] != start[:-1])
        starts_idx = np.flatnonzero(new)
    ends_idx = np.append(starts_idx[1:], price.size).astype(np.int64)
    notional = price * qty
    volume = np.add.reduceat(notional, starts_idx) if starts_idx.size else np.empty(0)
    quantity = np.add.reduceat(qty, starts_idx) if starts_idx.size else np.empty(0, dtype=np.int64)
    signed = live["side"].to_numpy().astype(np.int64) * qty
    reduce = (lambda f, a: f.reduceat(a, starts_idx)) if starts_idx.size else (lambda f, a: a[:0])
    frame = pd.DataFrame({
        "date": dates[starts_idx].view("M8[ns]"),
        "ticker": pd.Categorical.from_codes(codes[starts_idx].astype(np.int32),
                                            categories=trades["ticker"].cat.categories),
        "start": start[starts_idx],
        "open": price[starts_idx],
        "high": reduce(np.maximum, price),
        "low": reduce(np.minimum, price),
        "close": price[ends_idx - 1] if ends_idx.size else price[:0],
        "n_trades": (ends_idx - starts_idx).astype(np.int64),
        "quantity": quantity.astype(np.int64),
        "volume": volume,
        "vwap": volume / quantity if starts_idx.size else volume,
        "signed_quantity": reduce(np.add, signed).astype(np.int64),
    })
    return frame[list(BAR_COLUMNS)]


def write_session(trades: pd.DataFrame, trades_path: str | os.PathLike, bars_path: str | os.PathLike,
                  *, width_ns: int = NS_PER_MINUTE) -> pd.DataFrame:
    """Write a session's trades and its bars as Parquet (atomic, deterministic); return the bars."""
    bars = time_bars(trades, width_ns=width_ns)
    write_parquet(trades_path, trades)
    write_parquet(bars_path, bars)
    return bars
