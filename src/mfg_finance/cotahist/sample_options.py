"""Monthly equity options of the synthetic sample (CODBDI 78/82, TPMERC 070/080), Black-Scholes priced."""

from __future__ import annotations

import string

import numpy as np
from scipy.special import ndtr

from mfg_finance.cotahist.sample_bars import TRADING_DAYS, Bars, to_ticks, trade_fields, yyyymmdd
from mfg_finance.cotahist.sample_universe import Instruments

RATE = 0.10                 # annual risk-free rate used to price the options


def third_fridays(first: np.datetime64, months: int) -> np.ndarray:
    """B3 equity-option expiries: the third Friday of each month from ``first``'s month."""
    month0 = first.astype("M8[M]")
    starts = (month0 + np.arange(months)).astype("M8[D]")
    return np.busday_offset(starts, 2, roll="forward", weekmask="Fri")


def _black_scholes(spot, strike, years, vol, call: bool):
    years = np.maximum(years, 1.0 / TRADING_DAYS)
    sd = vol * np.sqrt(years)
    d1 = (np.log(spot / strike) + (RATE + 0.5 * vol ** 2) * years) / sd
    d2 = d1 - sd
    disc = strike * np.exp(-RATE * years)
    return spot * ndtr(d1) - disc * ndtr(d2) if call else disc * ndtr(-d2) - spot * ndtr(-d1)


def _series(rng, inst: Instruments, bars: Bars, u: int, sessions: np.ndarray, years: np.ndarray,
            strike: float, moneyness: float, call: bool) -> dict | None:
    """Bars of one option series on underlying ``u`` over ``sessions``; None if it never trades."""
    implied = inst.vol[u] * (1.0 + 0.15 * abs(np.log(moneyness)) / 0.1)  # a mild smile
    # Black-Scholes is monotone in spot: the underlying's bars map to consistent option bars
    # (for puts the underlying's high gives the option's low).
    price = {k: _black_scholes(getattr(bars, k)[u, sessions], strike, years, implied, call)
             for k in ("open", "high", "low", "close", "avg")}
    high_key, low_key = ("high", "low") if call else ("low", "high")
    trades = ((rng.random(sessions.size) < (0.9 if moneyness == 1.0 else 0.6))
              & (price["close"] >= 0.01) & inst.listed[u, sessions])
    if not trades.any():
        return None
    sel = {k: v[trades] for k, v in price.items()}
    open_c, close_c = to_ticks(sel["open"]), to_ticks(sel["close"])
    high_c = np.maximum(to_ticks(sel[high_key], np.ceil), np.maximum(open_c, close_c))
    low_c = np.minimum(to_ticks(sel[low_key], np.floor), np.minimum(open_c, close_c))
    avg_exact = np.clip(sel["avg"], low_c / 100, high_c / 100)
    value = inst.adv[u] * 2e-3 * np.exp(0.8 * rng.standard_normal(int(trades.sum())))
    quantity, volume_c, avg_c, n_trades = trade_fields(rng, value, avg_exact, 100, 1, low_c, high_c, 2_000.0)
    return {"session": sessions[trades], "PREABE": open_c, "PREMAX": high_c, "PREMIN": low_c,
            "PREMED": avg_c, "PREULT": close_c, "PREOFC": np.maximum(close_c - 1, 1), "PREOFV": close_c + 1,
            "TOTNEG": n_trades, "QUATOT": quantity, "VOLTOT": volume_c}


def option_records(rng, inst: Instruments, bars: Bars, dates: np.ndarray, n_equities: int) -> dict:
    """Monthly calls and puts on the three most liquid names.

    Each month's series are listed the session after the previous expiry (third Friday) with
    strikes at 90/100/110% of the underlying's last close, on a 0.50 (0.10 below R$ 20) grid, and
    trade until expiry. Tickers follow B3's convention: root + month letter (A-L calls, M-X puts)
    + strike in cents.
    """
    columns: dict[str, list] = {}
    expiries = third_fridays(dates[0], len(dates) // 15 + 3)
    front = np.searchsorted(expiries, dates, side="left")  # each session's front-month expiry
    for u in range(min(3, n_equities)):
        if inst.quote_factor[u] != 1:
            continue
        for e in np.unique(front):
            sessions = np.flatnonzero(front == e)
            spot0 = bars.close[u, sessions[0] - 1] if sessions[0] > 0 else inst.price0[u]
            grid = 0.5 if spot0 >= 20 else 0.1
            years = np.busday_count(dates[sessions], expiries[e]) / TRADING_DAYS
            month = int(expiries[e].astype("M8[M]").astype(np.int64) % 12)
            for moneyness in (0.9, 1.0, 1.1):
                strike = max(grid, round(spot0 * moneyness / grid) * grid)
                for call in (True, False):
                    series = _series(rng, inst, bars, u, sessions, years, strike, moneyness, call)
                    if series is None:
                        continue
                    k = series["session"].size
                    letter = string.ascii_uppercase[month + (0 if call else 12)]
                    series.update(
                        DATPRE=yyyymmdd(dates[series.pop("session")]), CODBDI=np.full(k, 78 if call else 82),
                        CODNEG=[f"{inst.ticker[u][:4]}{letter}{round(strike * 100)}"] * k,
                        TPMERC=np.full(k, 70 if call else 80), NOMRES=[inst.name[u]] * k,
                        ESPECI=[inst.spec[u]] * k, PRAZOT=np.zeros(k, dtype=np.int64),
                        PREEXE=np.full(k, round(strike * 100)), INDOPC=np.zeros(k, dtype=np.int64),
                        DATVEN=np.full(k, yyyymmdd(expiries[e:e + 1])[0]), FATCOT=np.ones(k, dtype=np.int64),
                        CODISI=[inst.isin[u]] * k, DISMES=np.full(k, inst.distribution[u]))
                    for key, value in series.items():
                        columns.setdefault(key, []).extend(value)
    text = ("CODNEG", "NOMRES", "ESPECI", "CODISI")
    out = {key: np.asarray(v, dtype=object if key in text else np.int64) for key, v in columns.items()}
    out["MODREF"] = "R$"
    return out
