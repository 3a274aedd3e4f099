"""Backward adjustment of prices and quantities for corporate events.

Conventions
-----------
An event on ex-date ``t`` (the first session without the right) with share factor ``f`` (new
shares per old share) and cash ``D`` (BRL per old share) turns one share held at the close of
``t-1`` into ``f`` shares and ``D`` BRL at ``t``. Its one-session total return is

.. math:: R_t = \\frac{f\\,C_t + D}{C_{t-1}}.

Backward adjustment keeps the last price as quoted and multiplies every price *before* ``t`` by

.. math:: k_t = \\frac{C_t}{f\\,C_t + D}
          \\qquad (k_t = 1/f \\text{ for a pure share event}),

so that the adjusted close-to-close ratio across ``t`` is ``C_t / (k_t C_{t-1}) = R_t``. With several
events, prices at session ``s`` are multiplied by :math:`K_s = \\prod_{t > s} k_t`, quantities
(shares) by :math:`\\prod_{t > s} f_t` (cash does not change the share count); traded values in BRL
are unchanged.

Modes (config ``stats.adjust``):

* ``splits`` (default): share events only (``split``, ``reverse_split``, ``bonus``); ``D = 0``;
* ``total_return``: share events and cash events with a known amount (``dividend``, ``jcp``,
  ``income``, ``cash_other``; amounts come from event files; inferred cash events have none and are
  counted, not guessed);
* ``none``: quoted prices.

In every mode the return across an ``unexplained`` event is excluded (``return_status = "event"``):
nothing says what happened to a share on that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import CASH_KINDS, SHARE_KINDS, validate_events
from mfg_finance.errors import DataError

ADJUST_MODES = ("splits", "total_return", "none")
PRICE_COLUMNS = ("open", "high", "low", "close", "best_bid", "best_ask")


@dataclass
class Adjustment:
    """Per-row result of :func:`adjust_prices`, aligned with the input frame.

    Attributes
    ----------
    frame : DataFrame
        Input with adjusted prices (BRL per current share) and quantities (current shares).
    price_factor, quantity_factor : ndarray
        :math:`K_s` and :math:`\\prod_{t>s} f_t` of each row.
    break_reason : ndarray of str
        Non-empty on the row whose return crosses an ``unexplained`` event.
    per_ticker : DataFrame
        ``ticker, n_events_adjusted, n_cash_without_amount, event_breaks`` (text of the excluded returns).
    """

    frame: pd.DataFrame
    price_factor: np.ndarray
    quantity_factor: np.ndarray
    break_reason: np.ndarray
    per_ticker: pd.DataFrame


def _event_rows(frame: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Row of ``frame`` where each event takes effect: the ticker's first session on or after ex_date
    (-1 when the ticker has no such session or none before it)."""
    rows = np.full(len(events), -1, dtype=np.int64)
    tickers = frame["ticker"].to_numpy()
    dates = frame["date"].to_numpy()
    starts = {t: i for i, t in reversed(list(enumerate(tickers)))}
    ends = {t: i + 1 for i, t in enumerate(tickers)}
    for j, (ticker, ex_date) in enumerate(zip(events["ticker"], events["ex_date"].to_numpy())):
        if ticker not in starts:
            continue
        lo, hi = starts[ticker], ends[ticker]
        pos = lo + int(np.searchsorted(dates[lo:hi], ex_date, side="left"))
        if lo < pos < hi:  # a previous session exists, so there is a return to adjust
            rows[j] = pos
    return rows


def adjust_prices(frame: pd.DataFrame, events: pd.DataFrame | None, mode: str) -> Adjustment:
    """Backward-adjusted prices and quantities of ``frame`` (sorted by ticker, date; prices per share).

    Parameters
    ----------
    frame : DataFrame
        ``ticker, date, close`` and the columns of :data:`PRICE_COLUMNS` present, ``quantity``.
    events : DataFrame or None
        Event table (:data:`~mfg_finance.corporate.EVENT_COLUMNS`); None = no event.
    mode : str
        One of :data:`ADJUST_MODES`.
    """
    if mode not in ADJUST_MODES:
        raise DataError(f"stats.adjust = {mode!r}: expected one of {list(ADJUST_MODES)}")
    n = len(frame)
    k = np.ones(n)
    f_row = np.ones(n)
    reason = np.full(n, "", dtype=object)
    tickers = frame["ticker"].to_numpy()
    counts = {t: [0, 0, []] for t in pd.unique(tickers)}
    if events is not None and len(events):
        events = validate_events(events, where="corporate events")
        rows = _event_rows(frame, events)
        close = frame["close"].to_numpy(dtype=float)
        cash = np.zeros(n)
        for (ticker, ex_date, kind, factor, amount), r in zip(
                events[["ticker", "ex_date", "kind", "factor", "amount"]].itertuples(index=False), rows):
            if r < 0:
                continue
            if kind == "unexplained":
                text = f"{pd.Timestamp(ex_date):%Y-%m-%d} unexplained event"
                reason[r] = f"{reason[r]}; {text}" if reason[r] else text
                counts[ticker][2].append(text)
            elif kind in SHARE_KINDS and mode != "none":
                f_row[r] *= factor
                counts[ticker][0] += 1
            elif kind in CASH_KINDS and mode == "total_return":
                if np.isfinite(amount):
                    cash[r] += amount
                    counts[ticker][0] += 1
                else:
                    counts[ticker][1] += 1
        valid = close > 0
        k = np.where(valid, close / np.where(valid, f_row * close + cash, 1.0), 1.0 / f_row)
    price_factor = _reverse_cumprod_after(k, tickers)
    quantity_factor = _reverse_cumprod_after(f_row, tickers)
    out = frame.copy()
    for column in PRICE_COLUMNS:
        if column in out.columns:
            out[column] = out[column].to_numpy(dtype=float) * price_factor
    out["quantity"] = out["quantity"].to_numpy(dtype=float) * quantity_factor
    per_ticker = pd.DataFrame({"ticker": list(counts),
                               "n_events_adjusted": [c[0] for c in counts.values()],
                               "n_cash_without_amount": [c[1] for c in counts.values()],
                               "event_breaks": ["; ".join(c[2]) for c in counts.values()]})
    return Adjustment(out, price_factor, quantity_factor, reason.astype(str), per_ticker)


def _reverse_cumprod_after(k: np.ndarray, tickers: np.ndarray) -> np.ndarray:
    """For each row s: product of ``k`` over the later rows of the same ticker (1 on its last row)."""
    out = np.ones(len(k))
    if len(k) == 0:
        return out
    boundaries = np.r_[np.flatnonzero(tickers[1:] != tickers[:-1]) + 1, len(k)]
    start = 0
    for end in boundaries:
        segment = k[start + 1:end]
        out[start:end - 1] = np.cumprod(segment[::-1])[::-1]
        start = end
    return out
