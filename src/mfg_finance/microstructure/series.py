"""One instrument's standing trades, split by session, as plain arrays for the estimators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.microstructure.signs import trade_signs

NS_PER_S = 1e9


@dataclass(frozen=True)
class SessionSeries:
    """The standing trades of one instrument in one session, in time order.

    ``t`` seconds since midnight (exchange time), ``price`` BRL, ``qty`` shares, ``sign`` +1/-1 (0
    unsigned), ``open_s``/``close_s`` the session window (seconds since midnight) used for rates.
    """

    date: str
    t: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    sign: np.ndarray
    sign_source: str
    open_s: float
    close_s: float

    @property
    def seconds(self) -> float:
        return self.close_s - self.open_s


def instrument_sessions(trades: pd.DataFrame, ticker: str, *, open_s: float = 10 * 3600.0,
                        close_s: float = 17 * 3600.0) -> list[SessionSeries]:
    """The sessions of ``ticker`` in a trades frame (:func:`mfg_finance.trades.read_trades`).

    Cancelled trades are left out; only trades inside [open_s, close_s) (seconds since midnight,
    default B3's continuous session 10:00-17:00) are kept, so closing-call and after-market prints
    do not enter intraday estimates.
    """
    if not 0 <= open_s < close_s <= 86400:
        raise DataError(f"session window [{open_s}, {close_s}) s is not inside one day")
    mine = trades[(trades["ticker"] == ticker).to_numpy() & ~trades["cancelled"].to_numpy()]
    t_all = mine["time"].to_numpy() / NS_PER_S
    mine = mine[(t_all >= open_s) & (t_all < close_s)]
    if mine.empty:
        raise DataError(f"no standing trade of {ticker} between {open_s / 3600:g} h and {close_s / 3600:g} h")
    out = []
    for date, day in mine.groupby("date", sort=True):
        day = day.sort_values(["time", "trade_id"], kind="stable")
        signs, source = trade_signs(day)
        out.append(SessionSeries(str(pd.Timestamp(date).date()), day["time"].to_numpy() / NS_PER_S,
                                 day["price"].to_numpy(dtype=float), day["quantity"].to_numpy(dtype=float),
                                 signs, source, float(open_s), float(close_s)))
    return out
