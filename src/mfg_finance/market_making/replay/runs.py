"""Replays of many sessions and strategies: a trades frame in, per-session rows and fills out."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay.engine import SUMMARY_COLUMNS, replay_session
from mfg_finance.market_making.replay.settings import ReplaySettings
from mfg_finance.market_making.replay.tape import Tape, tape_from_frame


def session_tapes(trades: pd.DataFrame, ticker: str | None = None, *, where: str = "trades") -> list[tuple[str, Tape]]:
    """``(session, tape)`` per session of one ticker: one per ``date`` when the frame has that column
    (as :func:`mfg_finance.trades.read_trades` writes it), else the whole frame as one session."""
    if "date" not in trades:
        return [("session", tape_from_frame(trades, ticker, where=where))]
    dates = pd.to_datetime(trades["date"])
    out = []
    for date in np.sort(dates.unique()):
        label = pd.Timestamp(date).date().isoformat()
        part = trades[(dates == date).to_numpy()]
        if ticker is not None and "ticker" in part and not (part["ticker"].astype(str) == str(ticker)).any():
            continue                                   # the ticker did not trade that session
        out.append((label, tape_from_frame(part, ticker, where=f"{where} {label}")))
    if not out:
        raise DataError(f"{where}: no session with trades of {ticker!r}")
    return out


def replay_tapes(tapes: Iterable[tuple[str, Tape]], strategy: str | Callable, market: MarketParameters,
                 settings: ReplaySettings, *, ticker: str = "", strategy_name: str | None = None,
                 **session_kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay every ``(session, tape)``; returns (one row per session, every fill), both labelled with
    ``ticker`` and ``strategy``. ``session_kw`` (``session_start_s``, ``session_end_s``: clock times in
    s since midnight, the same every session) go to :func:`replay_session`."""
    name = strategy_name or (strategy if isinstance(strategy, str) else getattr(strategy, "__name__", "policy"))
    rows, fills = [], []
    for session, tape in tapes:
        result = replay_session(tape, strategy, market, settings, session=session, **session_kw)
        rows.append(result.summary)
        fills.append(result.fills.assign(session=session))
    label = {"ticker": str(ticker), "strategy": str(name)}
    sessions = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).assign(**label)
    fills = pd.concat(fills, ignore_index=True).assign(**label)
    front = ["ticker", "strategy"]
    return (sessions[front + [c for c in sessions if c not in front]],
            fills[front + ["session"] + [c for c in fills if c not in front + ["session"]]])
