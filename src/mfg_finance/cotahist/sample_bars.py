"""Daily bars of the synthetic sample: a one-factor price model, ticks, lots, volumes, trades, spreads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.cotahist.sample_universe import Instruments

TRADING_DAYS = 252          # sessions per year
MARKET_VOL = 0.22           # annual volatility of the common factor


def yyyymmdd(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] dates as YYYYMMDD integers."""
    years = dates.astype("M8[Y]").astype(np.int64) + 1970
    months = dates.astype("M8[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("M8[M]")).astype(np.int64) + 1
    return years * 10000 + months * 100 + days


@dataclass
class Bars:
    """Daily bars of n instruments over the sessions, arrays of shape (n, n_sessions).

    Prices are exact (float BRL per quote_factor shares, before rounding to the tick), so options
    can be priced from the same underlying values.
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    avg: np.ndarray
    z: np.ndarray              # standardized daily return (drives volume)


def simulate_bars(rng: np.random.Generator, inst: Instruments, n_sessions: int) -> Bars:
    """One-factor model: ``r = beta * m + e`` (daily log-returns), Student-t(5) idiosyncratic shocks.

    The open gaps from the previous close, high and low extend beyond open and close by a
    half-normal multiple of the daily volatility, and the average price sits inside the range.
    """
    n = len(inst.ticker)
    daily = inst.vol / np.sqrt(TRADING_DAYS)
    market = rng.normal(0.0, MARKET_VOL / np.sqrt(TRADING_DAYS), n_sessions)
    idio_sd = np.sqrt(np.maximum(daily ** 2 - (inst.beta * MARKET_VOL) ** 2 / TRADING_DAYS, (0.3 * daily) ** 2))
    shocks = rng.standard_t(5, (n, n_sessions)) / np.sqrt(5 / 3)
    returns = inst.beta[:, None] * market + idio_sd[:, None] * shocks - 0.5 * daily[:, None] ** 2
    close = inst.price0[:, None] * np.exp(np.cumsum(returns, axis=1))
    previous = np.concatenate([inst.price0[:, None], close[:, :-1]], axis=1)
    open_ = previous * np.exp(0.3 * daily[:, None] * rng.standard_normal((n, n_sessions)))
    spread_hi = np.abs(rng.standard_normal((n, n_sessions))) * 0.45 * daily[:, None]
    spread_lo = np.abs(rng.standard_normal((n, n_sessions))) * 0.45 * daily[:, None]
    high = np.maximum(open_, close) * np.exp(spread_hi)
    low = np.minimum(open_, close) * np.exp(-spread_lo)
    mid = 0.25 * (open_ + high + low + close) * np.exp(0.1 * daily[:, None] * rng.standard_normal((n, n_sessions)))
    avg = np.clip(mid, low, high)
    return Bars(open_, high, low, close, avg, returns / daily[:, None])


def to_ticks(x: np.ndarray, how=np.round) -> np.ndarray:
    """Prices in BRL to integer cents (the 0.01 BRL tick), at least one tick."""
    return np.maximum(how(x * 100.0).astype(np.int64), 1)


def trade_fields(rng, value_brl, avg_exact, lot, quote_factor, low_c, high_c, ticket_brl):
    """QUATOT, VOLTOT, PREMED and TOTNEG from a target traded value and the exact average price."""
    unit_brl = avg_exact * lot / quote_factor                       # BRL per lot
    lots = np.maximum(np.round(value_brl / unit_brl), 1).astype(np.int64)
    quantity = lots * lot
    volume_c = np.round(quantity / quote_factor * avg_exact * 100.0).astype(np.int64)
    avg_c = np.clip(np.round(volume_c * quote_factor / quantity).astype(np.int64), low_c, high_c)
    trades = np.round(volume_c / 100.0 / ticket_brl * np.exp(0.2 * rng.standard_normal(lots.shape)))
    n_trades = np.clip(trades, 1, np.minimum(lots, 99_999)).astype(np.int64)
    return quantity, volume_c, avg_c, n_trades


def cash_records(rng, inst: Instruments, bars: Bars, dates: np.ndarray) -> dict:
    """Round-lot records (TPMERC 010) of every listed instrument and session."""
    n, n_sessions = bars.close.shape
    open_c, close_c = to_ticks(bars.open), to_ticks(bars.close)
    high_c = np.maximum(to_ticks(bars.high, np.ceil), np.maximum(open_c, close_c))
    low_c = np.minimum(to_ticks(bars.low, np.floor), np.minimum(open_c, close_c))
    adv = inst.adv[:, None]
    value = adv * np.exp(0.45 * rng.standard_normal((n, n_sessions)) - 0.1) * np.exp(0.3 * (np.abs(bars.z) - 0.8))
    ticket = 3_000.0 * (adv / 1e6) ** 0.35                          # BRL per trade, larger when liquid
    quantity, volume_c, avg_c, n_trades = trade_fields(
        rng, value, bars.avg, inst.lot[:, None], inst.quote_factor[:, None], low_c, high_c, ticket)
    rel_spread = np.clip(4e-4 * (1e8 / adv) ** 0.3, 2e-4, 2e-2)     # quoted spread / price
    spread = np.maximum(np.round(close_c * rel_spread), 1).astype(np.int64)
    bid = np.maximum(close_c - rng.integers(0, spread + 1), 1)
    rows, cols = np.nonzero(inst.listed)
    pick = lambda a: a[rows, cols]  # noqa: E731 - listed (instrument, session) cells, row-major
    text = lambda values: np.asarray(values, dtype=object)[rows]  # noqa: E731
    return {"DATPRE": yyyymmdd(dates)[cols], "CODBDI": inst.codbdi[rows], "CODNEG": text(inst.ticker),
            "TPMERC": 10, "NOMRES": text(inst.name),
            "ESPECI": text(inst.spec) if inst.spec_at is None else inst.spec_at[rows, cols],
            "PRAZOT": np.full(rows.size, None, dtype=object), "MODREF": "R$",
            "PREABE": pick(open_c), "PREMAX": pick(high_c), "PREMIN": pick(low_c), "PREMED": pick(avg_c),
            "PREULT": pick(close_c), "PREOFC": pick(bid), "PREOFV": pick(bid + spread),
            "TOTNEG": pick(n_trades), "QUATOT": pick(quantity), "VOLTOT": pick(volume_c),
            "FATCOT": inst.quote_factor[rows], "CODISI": text(inst.isin),
            "DISMES": inst.distribution[rows] if inst.distribution_at is None else inst.distribution_at[rows, cols]}


def odd_lot_records(rng, inst: Instruments, cash: dict, n_equities: int) -> dict:
    """Odd-lot records (CODBDI 96, TPMERC 020, ticker + F) of the ten most liquid round-lot equities."""
    eligible = {t for t in inst.ticker[:min(10, n_equities)]}
    take = np.array([t in eligible for t in cash["CODNEG"]]) & (cash["FATCOT"] == 1)
    take &= rng.random(take.size) < 0.9
    idx = np.flatnonzero(take)
    k = idx.size
    jitter = lambda: rng.integers(-1, 2, k)  # noqa: E731 - one tick either way
    open_c = np.maximum(cash["PREABE"][idx] + jitter(), 1)
    close_c = np.maximum(cash["PREULT"][idx] + jitter(), 1)
    high_c = np.maximum(cash["PREMAX"][idx], np.maximum(open_c, close_c))
    low_c = np.minimum(cash["PREMIN"][idx], np.minimum(open_c, close_c))
    n_trades = 1 + rng.poisson(np.sqrt(cash["TOTNEG"][idx]))
    quantity = np.maximum(np.round(n_trades * rng.uniform(10, 60, k)), n_trades).astype(np.int64)
    avg_exact = np.clip(cash["PREMED"][idx] * np.exp(rng.normal(0, 5e-4, k)), low_c, high_c)
    volume_c = np.round(quantity * avg_exact).astype(np.int64)
    avg_c = np.clip(np.round(volume_c / quantity).astype(np.int64), low_c, high_c)
    out = {key: (value[idx] if isinstance(value, np.ndarray) else value) for key, value in cash.items()}
    out.update(CODBDI=96, TPMERC=20, CODNEG=np.array([t + "F" for t in out["CODNEG"]], dtype=object),
               PREABE=open_c, PREMAX=high_c, PREMIN=low_c, PREMED=avg_c, PREULT=close_c,
               PREOFC=np.maximum(close_c - 1, 1), PREOFV=close_c + 1, TOTNEG=n_trades, QUATOT=quantity,
               VOLTOT=volume_c)
    return out


