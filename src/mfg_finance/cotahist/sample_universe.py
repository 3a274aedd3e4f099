"""The instruments of the synthetic sample: tickers, names, ISINs, liquidity, volatility, listing."""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from mfg_finance.errors import ConfigError

LATE_LISTING_SESSIONS = 40  # sessions traded by the late-listed ticker
GAP_PROBABILITY = 0.45      # share of sessions the illiquid ticker does not trade

_CLASSES = {3: ("ON      NM", "OR"), 4: ("PN      N1", "PR"), 5: ("PNA", "PA"), 6: ("PNB", "PB"),
            7: ("PNC", "PC"), 8: ("PND", "PD")}
_CLASS_PAIRS = ((3, 4), (4, 3), (5, 6), (6, 5), (7, 8), (8, 7))
MAX_TICKERS = 26 * len(_CLASS_PAIRS)


def equity_tickers(n: int) -> list[str]:
    """``SYNA3, SYNB4, SYNC3, SYND4, ...``; after Z, the other share classes (SYNA4, SYNB3, ...)."""
    if not 1 <= n <= MAX_TICKERS:
        raise ConfigError(f"data.sample.n_tickers = {n}: expected 1..{MAX_TICKERS}")
    return [f"SYN{string.ascii_uppercase[i % 26]}{_CLASS_PAIRS[i // 26][i % 2]}" for i in range(n)]


def isin_code(issuer: str, kind: str, share_class: str) -> str:
    """A 12-character ISIN (``BR`` + issuer + kind + class + Luhn check digit), e.g. BRSYNAACNOR?."""
    body = f"BR{issuer}{kind}{share_class}"[:11].ljust(11, "0")
    digits = "".join(str(int(c, 36)) for c in body)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@dataclass
class Instruments:
    """Cash-market instruments of the sample, one entry per row of every array."""

    ticker: list[str]
    codbdi: np.ndarray
    name: list[str]
    spec: list[str]
    isin: list[str]
    distribution: np.ndarray
    quote_factor: np.ndarray   # shares per quoted price
    lot: np.ndarray            # shares per round lot
    price0: np.ndarray         # initial price (BRL per quote_factor shares)
    vol: np.ndarray            # annual volatility
    beta: np.ndarray           # loading on the market factor
    adv: np.ndarray            # typical traded value (BRL per session)
    listed: np.ndarray         # bool (n_instruments, n_sessions): trades that session
    spec_at: np.ndarray | None = None          # ESPECI per (instrument, session); None = ``spec`` throughout
    distribution_at: np.ndarray | None = None  # DISMES per (instrument, session); None = ``distribution``


def instruments(rng: np.random.Generator, n_tickers: int, n_sessions: int) -> Instruments:
    """The ``n_tickers`` equities (CODBDI 02) followed by an ETF, a real-estate fund and a BDR.

    Traded values are log-normal (R$ 1 million to 1 billion a day) with SYNA3 and SYNB4 the two
    largest; annual volatilities uniform in 15%-80% (25%-40% for those two). The last tickers take
    the special roles: a late listing, an illiquid ticker with gaps, a quote per 1000 shares.
    """
    tickers = equity_tickers(n_tickers)
    # Liquidity: log-normal traded values, the two largest to SYNA3 and SYNB4.
    adv = np.sort(10 ** np.clip(rng.normal(7.3, 0.7, n_tickers), 6.0, 9.0))[::-1]
    top = min(2, n_tickers)
    adv[:top] = np.maximum(adv[:top], [8e8, 5e8][:top])
    adv[2:] = rng.permutation(adv[2:])
    vol = rng.uniform(0.15, 0.80, n_tickers)
    vol[:top] = rng.uniform(0.25, 0.40, top)  # large caps: moderate volatility
    price0 = np.exp(rng.uniform(np.log(3.0), np.log(120.0), n_tickers))
    quote_factor = np.ones(n_tickers, dtype=np.int64)
    listed = np.ones((n_tickers, n_sessions), dtype=bool)
    special = list(range(2, n_tickers))[::-1]  # special roles go to the last tickers
    if special:  # late listing
        i = special.pop(0)
        listed[i, :max(0, n_sessions - LATE_LISTING_SESSIONS)] = False
    if special:  # illiquid, with gaps (first and last sessions kept)
        i = special.pop(0)
        adv[i] = 1.0e6
        listed[i] = rng.random(n_sessions) >= GAP_PROBABILITY
        listed[i, [0, -1]] = True
    if len(special) >= 2:  # a penny stock quoted per lot of 1000 shares
        i = special.pop(1)
        quote_factor[i], price0[i] = 1000, rng.uniform(20.0, 80.0)
    classes = [int(t[-1]) for t in tickers]
    names = [f"SYNTHETIC {t[3]}" for t in tickers]
    specs = [_CLASSES[c][0] for c in classes]
    isins = [isin_code(t[:4], "ACN", _CLASSES[c][1]) for t, c in zip(tickers, classes)]
    # Funds and BDR: ETF (14), real-estate fund (12), BDR (34).
    funds = {"ticker": ["SYNI11", "SYNR11", "SYNU34"], "codbdi": [14, 12, 34],
             "name": ["SYNTH INDEX", "SYNTH REIT", "SYNTH US INC"], "spec": ["CI", "CI", "DRN"],
             "isin": [isin_code("SYNI", "CTF", "00"), isin_code("SYNR", "CTF", "00"),
                      isin_code("SYNU", "BDR", "00")],
             "adv": [6e7, 3e6, 8e6], "vol": [0.21, 0.12, 0.30], "price0": [105.0, 96.0, 42.0]}
    n_all = n_tickers + 3
    return Instruments(
        ticker=tickers + funds["ticker"], codbdi=np.array([2] * n_tickers + funds["codbdi"]),
        name=names + funds["name"], spec=specs + funds["spec"], isin=isins + funds["isin"],
        distribution=rng.integers(100, 260, n_all), quote_factor=np.concatenate([quote_factor, [1, 1, 1]]),
        lot=np.where(np.concatenate([quote_factor, [1, 1, 1]]) == 1000, 1000, 100),
        price0=np.concatenate([price0, funds["price0"]]), vol=np.concatenate([vol, funds["vol"]]),
        beta=np.concatenate([rng.uniform(0.5, 1.4, n_tickers), [1.0, 0.2, 0.6]]),
        adv=np.concatenate([adv, funds["adv"]]),
        listed=np.concatenate([listed, np.ones((3, n_sessions), dtype=bool)]))




def extra_instruments(rng: np.random.Generator, n_sessions: int) -> Instruments:
    """Instruments of the classes real files hold beside shares, drawn from their own random stream
    (so adding them leaves the equities' draws alone): a second ETF (CODBDI 14), a second
    real-estate fund (12), a BDR listed under CODBDI 02 as B3 did until 2022 (``DRN``, ISIN type
    ``BDR``) and a unit (``UNT``, ISIN type ``CDA``) under 02."""
    spec = {"ticker": ["SYNJ11", "SYNS11", "SYNV34", "SYNK11"], "codbdi": [14, 12, 2, 2],
            "name": ["SYNTH SMALL", "SYNTH LOGIS", "SYNTH GLOBAL", "SYNTH UNITS"],
            "spec": ["CI", "CI", "DRN", "UNT     N2"],
            "isin": [isin_code("SYNJ", "CTF", "00"), isin_code("SYNS", "CTF", "00"),
                     isin_code("SYNV", "BDR", "00"), isin_code("SYNK", "CDA", "00")],
            "adv": [2e7, 5e6, 1.5e7, 4e7], "vol": [0.28, 0.14, 0.32, 0.35], "price0": [88.0, 110.0, 65.0, 30.0]}
    n = len(spec["ticker"])
    ones = np.ones(n, dtype=np.int64)
    return Instruments(
        ticker=spec["ticker"], codbdi=np.array(spec["codbdi"]), name=spec["name"], spec=spec["spec"],
        isin=spec["isin"], distribution=rng.integers(100, 260, n), quote_factor=ones, lot=np.full(n, 100),
        price0=np.array(spec["price0"]), vol=np.array(spec["vol"]), beta=np.array([1.1, 0.2, 0.7, 0.9]),
        adv=np.array(spec["adv"]), listed=np.ones((n, n_sessions), dtype=bool))
