"""A deterministic synthetic COTAHIST file, in B3's exact layout, for offline runs and tests.

Everything in it is invented and labelled so: tickers are ``SYN<letter><class digit>`` (SYNA3,
SYNB4, ...), the header's origin is ``SYNTHETC``. It is built to look like a year of B3 data to
every stage downstream:

* equities (CODBDI 02, TPMERC 010) follow a one-factor model: daily log-returns
  ``r = beta * m + e`` with a common market return ``m`` and fat-tailed (Student-t, 5 d.o.f.)
  idiosyncratic shocks, annual volatilities drawn in 15%-80%;
* prices sit on B3's 0.01 BRL tick with consistent OHLC (``low <= open, close, avg <= high``),
  ``avg = volume / quantity``, quantities in round lots of 100 shares, daily traded values
  log-normal across tickers (R$ 1 million to 1 billion a day; SYNA3 and SYNB4 the two most liquid)
  and trade counts that grow with the traded value;
* one ticker lists late (the last ~40 sessions), one illiquid ticker trades on about half the
  sessions, one is quoted per lot of 1000 shares (FATCOT 1000);
* filters get something to filter: odd lots (CODBDI 96, TPMERC 020), an ETF (CODBDI 14), a real-
  estate fund (CODBDI 12), a BDR (CODBDI 34) and monthly calls/puts on the three most liquid
  names (CODBDI 78/82, TPMERC 070/080, Black-Scholes prices, strike and expiry).

Sessions are business days (Monday-Friday) from ``start_date``. The same arguments give the same
bytes.
"""

from __future__ import annotations

import os

import numpy as np

from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.layout import DETAIL
from mfg_finance.cotahist.sample_bars import cash_records, odd_lot_records, simulate_bars, yyyymmdd
from mfg_finance.cotahist.sample_events import apply_events, plan_events, spec_and_distribution, truth_table
from mfg_finance.cotahist.sample_options import option_records, third_fridays
from mfg_finance.cotahist.sample_universe import (MAX_TICKERS, equity_tickers, extra_instruments, instruments,
                                                  isin_code)
from mfg_finance.errors import ConfigError
from mfg_finance.io import write_bytes, write_text

__all__ = ["MAX_TICKERS", "equity_tickers", "isin_code", "sample_cotahist_bytes", "sample_records",
           "sample_truth", "session_dates", "third_fridays", "write_sample_cotahist"]


def session_dates(start_date: str, n_sessions: int) -> np.ndarray:
    """``n_sessions`` business days (Mon-Fri) from ``start_date`` (rolled forward), datetime64[D]."""
    if n_sessions < 2:
        raise ConfigError(f"data.sample.n_sessions = {n_sessions}: expected at least 2")
    try:
        start = np.datetime64(start_date, "D")
    except ValueError as exc:
        raise ConfigError(f"data.sample.start_date = {start_date!r}: expected YYYY-MM-DD") from exc
    return np.busday_offset(start, np.arange(n_sessions), roll="forward")


def _build(seed: int, n_tickers: int, n_sessions: int, start_date: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Sorted detail records, session dates and the events' truth (CSV text)."""
    dates = session_dates(start_date, n_sessions)
    rng = np.random.default_rng(seed)
    inst = instruments(rng, n_tickers, n_sessions)
    bars = simulate_bars(rng, inst, n_sessions)
    events = plan_events(n_tickers, n_sessions, inst.quote_factor, inst.listed)
    amounts = apply_events(bars, events)
    inst.spec_at, inst.distribution_at = spec_and_distribution(inst.spec, inst.distribution, n_sessions, events)
    cash = cash_records(rng, inst, bars, dates)
    groups = [cash, odd_lot_records(rng, inst, cash, n_tickers), option_records(rng, inst, bars, dates, n_tickers)]
    # The other instrument classes come from their own stream: the equities' draws stay as they were.
    extra_rng = np.random.default_rng([seed, 1])
    extra = extra_instruments(extra_rng, n_sessions)
    groups.append(cash_records(extra_rng, extra, simulate_bars(extra_rng, extra, n_sessions), dates))
    records = np.concatenate([encode_records(DETAIL, g) for g in groups if len(g.get("DATPRE", ())) > 0])
    # Sort as B3's daily files are: by session, then BDI code, then ticker (bytes 3-24).
    keys = np.ascontiguousarray(records[:, 2:24]).view("S22").ravel()
    return records[np.argsort(keys, kind="stable")], dates, truth_table(events, amounts, inst.ticker, dates)


def sample_records(*, seed: int, n_tickers: int = 40, n_sessions: int = 250,
                   start_date: str = "2023-01-02") -> tuple[np.ndarray, np.ndarray]:
    """Detail records of the sample (n, 245) sorted by (date, CODBDI, ticker), and the session dates."""
    records, dates, _ = _build(seed, n_tickers, n_sessions, start_date)
    return records, dates


def sample_truth(*, seed: int, n_tickers: int = 40, n_sessions: int = 250, start_date: str = "2023-01-02") -> str:
    """The corporate events the generator put in the sample, as CSV ``ticker,ex_date,kind,factor,amount``."""
    return _build(seed, n_tickers, n_sessions, start_date)[2]


def sample_cotahist_bytes(*, seed: int, n_tickers: int = 40, n_sessions: int = 250,
                          start_date: str = "2023-01-02") -> bytes:
    """The bytes of :func:`write_sample_cotahist`'s file."""
    records, dates = sample_records(seed=seed, n_tickers=n_tickers, n_sessions=n_sessions, start_date=start_date)
    return _file_bytes(records, dates)


def _file_bytes(records: np.ndarray, dates: np.ndarray) -> bytes:
    last = int(yyyymmdd(dates[-1:])[0])
    return cotahist_bytes(records, file_name=f"COTAHIST.{last // 10000}", origin="SYNTHETC", generation_date=last)


def write_sample_cotahist(path: str | os.PathLike, *, seed: int, n_tickers: int = 40, n_sessions: int = 250,
                          start_date: str = "2023-01-02", truth_path: str | os.PathLike | None = None) -> None:
    """Write a deterministic synthetic COTAHIST file (see the module docstring), atomically.

    Parameters
    ----------
    path : path
        Destination ``.TXT`` file.
    seed : int
        Seed of every random draw: the same arguments give the same bytes.
    n_tickers : int
        Number of equities (CODBDI 02), 1..156; funds, odd lots and options come on top.
    n_sessions : int
        Number of sessions (business days), at least 2.
    start_date : str
        First session, ``YYYY-MM-DD`` (rolled forward to a business day).
    truth_path : path or None
        Where to write the corporate events the generator put in the file (CSV
        ``ticker,ex_date,kind,factor,amount``, see :mod:`~mfg_finance.cotahist.sample_events`).
    """
    records, dates, truth = _build(seed, n_tickers, n_sessions, start_date)
    write_bytes(path, _file_bytes(records, dates))
    if truth_path is not None:
        write_text(truth_path, truth)
