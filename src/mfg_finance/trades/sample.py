"""Synthetic trade sessions for the sample run, parameterised by the sample's daily statistics.

Each instrument of :class:`~.synthetic.SyntheticInstrument` takes its parameters from its row of
``asset_stats`` (so the intraday estimates can be set beside the daily heuristics they should
agree with):

* ``price0`` = last close (BRL); ``sigma`` = daily close-to-close volatility x price / sqrt(S)
  (BRL/sqrt(s), S = 25,200 s);
* ``half_spread`` = half the quoted closing spread (else the Corwin-Schultz proxy) x price, at
  least one tick (a bounce smaller than the tick would vanish in the rounding);
* ``rate_buy`` = ``rate_sell`` = trades per session / (2 S) (1/s); ``size_p`` = lot / average
  trade size (capped at 1: one lot);
* ``impact`` = Amihud's ILLIQ x price^2 (BRL per share of signed flow: the per-share analogue of
  ILLIQ's return per BRL traded); ``profile`` = 0.5 (a U-shaped day), ``cancel_prob`` = 0.001.

Session ``i`` (0-based) falls on the ``i``-th business day from ``start_date`` and is written in
the NEG layout for even ``i`` and the NEGOCIOS layout for odd ``i``, so both readers run.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.trades.synthetic import (SESSION_SECONDS, SyntheticInstrument, simulate_session, write_neg,
                                          write_negocios)

TICK = 0.01
LOT = 100
PROFILE = 0.5
CANCEL_PROB = 0.001


def _stat(row: pd.Series, name: str, ticker: str) -> float:
    value = float(row.get(name, float("nan")))
    if not (math.isfinite(value) and value > 0):
        raise DataError(f"sample trades for {ticker}: statistic {name} = {value!r}, expected a finite number > 0")
    return value


def sample_instruments(asset_stats: pd.DataFrame, tickers) -> list[SyntheticInstrument]:
    """One synthetic instrument per ticker, from its daily statistics (module docstring)."""
    by_ticker = asset_stats.assign(ticker=asset_stats["ticker"].astype(str)).set_index("ticker")
    out = []
    for ticker in tickers:
        if ticker not in by_ticker.index:
            raise DataError(f"sample trades: ticker {ticker} is not in the statistics")
        row = by_ticker.loc[ticker]
        price = _stat(row, "last_close_brl", ticker)
        spread = float(row.get("spread_quoted_close", float("nan")))
        if not (math.isfinite(spread) and spread > 0):
            spread = _stat(row, "spread_cs", ticker)
        rate = _stat(row, "trades_per_session", ticker) / (2 * SESSION_SECONDS)
        out.append(SyntheticInstrument(
            ticker=ticker, price0=price, sigma=_stat(row, "vol_cc_daily", ticker) * price / math.sqrt(SESSION_SECONDS),
            half_spread=max(0.5 * spread * price, TICK), rate_buy=rate, rate_sell=rate, profile=PROFILE,
            impact=_stat(row, "amihud_per_brl", ticker) * price ** 2, lot=LOT,
            size_p=min(1.0, LOT / _stat(row, "avg_trade_size_shares", ticker)), tick=TICK, cancel_prob=CANCEL_PROB))
    return out


def session_date(start_date: str, index: int) -> str:
    """The ``index``-th business day (Mon-Fri) from ``start_date`` (itself if a business day), ISO."""
    return str(np.busday_offset(np.datetime64(start_date, "D"), index, roll="forward"))


def write_sample_session(path: str | os.PathLike, asset_stats: pd.DataFrame, tickers, *, seed: int, index: int,
                         start_date: str) -> dict:
    """Write synthetic session ``index`` to ``path``; return what was written (JSON-able)."""
    instruments = sample_instruments(asset_stats, tickers)
    date = session_date(start_date, index)
    session_seed = int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])
    trades = simulate_session(instruments, date=date, seed=session_seed)
    layout = "neg" if index % 2 == 0 else "negocios"
    (write_neg if layout == "neg" else write_negocios)(trades, path)
    return {"date": date, "layout": layout, "trades": int(len(trades)), "seed": session_seed,
            "instruments": [vars(i) for i in instruments]}
