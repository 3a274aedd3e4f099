r"""A session's prints as the replay consumes them, and the two things derived from the prints alone.

A :class:`Tape` holds, in time order, one ticker's trades of one session: ``time_s`` (s since
midnight, exchange time), ``price`` (BRL), ``quantity`` (shares) and ``side`` (the aggressor:
``+1`` buyer-initiated, i.e. it lifted an ask; ``-1`` seller-initiated, it hit a bid; ``0`` unknown).

**Sign rule** (:func:`tick_rule_signs`): where the file gives no aggressor, the tick test: ``+1`` if
the price rose from the previous print, ``-1`` if it fell, the previous sign if unchanged, ``0`` for the
first print (an unsigned print fills nobody).

**Reference price** (:func:`reference_price`): a mid proxy robust to the bid-ask bounce and to
isolated off-market prints. With ``a_i`` the price of the last buyer-initiated print up to ``i``
(a lifted ask) and ``b_i`` that of the last seller-initiated one (a hit bid),
``m_i = (a_i + b_i) / 2`` once both exist (``m_i = p_i`` before), and ``S_i`` is the median of
``m`` over the last ``w`` prints (``w`` = ``reference_window``, odd). ``S`` at time ``t`` is ``S_i``
of the last print at or before ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError

NS_PER_S = 1_000_000_000
_BUY_WORDS = {"buy", "b", "c", "compra", "buyer"}
_SELL_WORDS = {"sell", "s", "v", "venda", "seller"}


@dataclass
class Tape:
    """One ticker's prints in one session, time-ordered (see the module docstring for units)."""

    time_s: np.ndarray
    price: np.ndarray
    quantity: np.ndarray
    side: np.ndarray
    ticker: str = ""
    n_cancelled: int = 0
    n_flagged: int = 0

    def __post_init__(self):
        self.time_s = np.ascontiguousarray(self.time_s, dtype=np.float64)
        self.price = np.ascontiguousarray(self.price, dtype=np.float64)
        self.quantity = np.ascontiguousarray(self.quantity, dtype=np.float64)
        self.side = np.ascontiguousarray(self.side, dtype=np.int8)
        n = self.time_s.size
        if not (self.price.size == self.quantity.size == self.side.size == n):
            raise DataError(f"tape {self.ticker!r}: time, price, quantity and side must have the same length; got "
                            f"{n}, {self.price.size}, {self.quantity.size}, {self.side.size}")
        if n == 0:
            raise DataError(f"tape {self.ticker!r} has no prints")
        _first_bad("time_s", ~np.isfinite(self.time_s), self.time_s, self.ticker, "a finite time (s)")
        _first_bad("price", ~(np.isfinite(self.price) & (self.price > 0)), self.price, self.ticker,
                   "a positive price (BRL)")
        _first_bad("quantity", ~(np.isfinite(self.quantity) & (self.quantity > 0)), self.quantity, self.ticker,
                   "a positive quantity (shares)")
        _first_bad("side", ~np.isin(self.side, (-1, 0, 1)), self.side, self.ticker, "-1, 0 or +1")
        _first_bad("time_s", np.r_[False, np.diff(self.time_s) < 0], self.time_s, self.ticker,
                   "times in non-decreasing order")

    @property
    def size(self) -> int:
        return int(self.time_s.size)

    def signs(self) -> np.ndarray:
        """Aggressor side where given, else the tick rule."""
        return np.where(self.side != 0, self.side, tick_rule_signs(self.price)).astype(np.int8)


def _first_bad(name, bad, values, ticker, expected):
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"tape {ticker!r}: print {i} has {name} = {values[i]!r}; expected {expected}")


def tick_rule_signs(price: np.ndarray) -> np.ndarray:
    """Tick-test trade signs (+1 up-tick, -1 down-tick, zero tick keeps the previous sign, first 0)."""
    price = np.asarray(price, dtype=float)
    step = np.sign(np.diff(price, prepend=price[:1])).astype(np.int8)
    # carry the last non-zero sign over zero ticks: index of the last non-zero step so far
    idx = np.where(step != 0, np.arange(step.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return np.where(step[idx] != 0, step[idx], 0).astype(np.int8)


def reference_price(price: np.ndarray, signs: np.ndarray, window: int) -> np.ndarray:
    """Robust mid proxy ``S_i`` at every print (BRL); see the module docstring."""
    from mfg_finance.market_making.replay._kernel import signed_mid_median

    return signed_mid_median(np.ascontiguousarray(price, dtype=np.float64),
                             np.ascontiguousarray(signs, dtype=np.int8), int(window))


def side_codes(values, *, where: str = "side") -> np.ndarray:
    """Aggressor codes ``+1 / -1 / 0`` from numbers (+1, -1, 0, NaN) or words (buy/sell, B/S, C/V)."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype("Float64").fillna(0.0).to_numpy(dtype=float)
        bad = ~np.isin(numbers, (-1.0, 0.0, 1.0))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{where}: row {i} has aggressor side {numbers[i]!r}; expected +1 (buy), -1 (sell), "
                            "0 or empty (unknown)")
        return numbers.astype(np.int8)
    words = series.astype("string").str.strip().str.lower().fillna("")
    codes = np.zeros(words.size, dtype=np.int8)
    codes[words.isin(_BUY_WORDS).to_numpy()] = 1
    codes[words.isin(_SELL_WORDS).to_numpy()] = -1
    unknown = ~(words.isin(_BUY_WORDS | _SELL_WORDS) | words.isin({"", "0", "unknown", "none"})).to_numpy()
    if unknown.any():
        i = int(np.argmax(unknown))
        raise DataError(f"{where}: row {i} has aggressor side {words.iloc[i]!r}; expected buy/sell (or B/S, C/V) "
                        "or empty")
    return codes


def tape_from_frame(trades: pd.DataFrame, ticker: str | None = None, *, where: str = "trades") -> Tape:
    """The tape of one ticker from a trades frame.

    Columns: ``time`` (int ns since midnight) or ``time_s`` (float s), ``price`` (BRL), ``quantity``
    (shares); optional ``ticker`` (required with several tickers), ``side`` (aggressor, see
    :func:`side_codes`), ``cancelled`` (bool; cancelled trades are dropped and counted in
    ``Tape.n_cancelled``), ``trade_id`` (tie-break of equal times, B3's trade number). Rows are
    ordered by (time, trade_id) with a stable sort.
    """
    missing = [c for c in ("price", "quantity") if c not in trades]
    if "time" not in trades and "time_s" not in trades:
        missing.insert(0, "time (ns) or time_s (s)")
    if missing:
        raise DataError(f"{where}: missing columns {missing}; got {list(trades.columns)}")
    frame = trades
    if "ticker" in frame:
        names = pd.unique(frame["ticker"].astype(str))
        if ticker is None:
            if names.size != 1:
                raise DataError(f"{where}: {names.size} tickers in the frame; name the one to replay")
            ticker = str(names[0])
        frame = frame[frame["ticker"].astype(str) == str(ticker)]
        if frame.empty:
            raise DataError(f"{where}: no trades of ticker {ticker!r}")
    n_cancelled = 0
    if "cancelled" in frame:
        cancelled = frame["cancelled"].astype(bool).to_numpy()
        n_cancelled = int(cancelled.sum())
        frame = frame[~cancelled]
        if frame.empty:
            raise DataError(f"{where}: every trade of {ticker!r} is cancelled")
    if "time" in frame:
        time_s = frame["time"].to_numpy(dtype=np.int64) / NS_PER_S
    else:
        time_s = frame["time_s"].to_numpy(dtype=float)
    keys = [time_s] if "trade_id" not in frame else [frame["trade_id"].to_numpy(), time_s]
    order = np.lexsort(keys)  # last key is primary: time, then trade number; lexsort is stable
    side = side_codes(frame["side"], where=f"{where} side") if "side" in frame \
        else np.zeros(len(frame), dtype=np.int8)
    return Tape(time_s=time_s[order], price=frame["price"].to_numpy(dtype=float)[order],
                quantity=frame["quantity"].to_numpy(dtype=float)[order], side=side[order],
                ticker=str(ticker or ""), n_cancelled=n_cancelled, n_flagged=int(np.count_nonzero(side)))
