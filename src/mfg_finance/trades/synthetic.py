"""Synthetic trade sessions from known parameters, and writers of both B3 layouts.

The model (one instrument, time in seconds from the open, price in BRL, deterministic by seed):

* Arrivals: buyer- and seller-initiated trades are independent Poisson processes with intensities
  :math:`\\lambda_\\pm\\, g(u)`, :math:`u = t/T \\in [0,1]` the fraction of the session, and the
  U-shaped profile :math:`g(u) = 1 + a\\,(3(2u-1)^2 - 1)` (mean 1 over the session, ``0 <= a < 1``).
* Sizes: :math:`q = \\ell K` shares, :math:`\\ell` the lot and :math:`K \\ge 1` geometric,
  :math:`P(K = k) = p (1-p)^{k-1}` (mean :math:`1/p` lots).
* Efficient price: :math:`m_t = m_0 + \\sigma W_t + \\lambda \\sum_{t_j < t} s_j q_j` (BRL), with
  :math:`\\sigma` in BRL/sqrt(s) and the permanent impact :math:`\\lambda` in BRL per share of
  signed flow (Kyle's lambda); :math:`s_j = \\pm 1` the aggressor's side.
* Trade price: :math:`p_j = m_{t_j^-} + c\\, s_j` rounded to the tick, :math:`c` the half-spread
  (BRL). A fraction of trades is later cancelled by the exchange; those move nothing.

The integrated variance of :math:`m` per second is then
:math:`\\sigma^2 + \\lambda^2 E[q^2] (\\lambda_+ + \\lambda_-)`, :func:`efficient_variance_per_second`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.io import write_bytes
from mfg_finance.trades.layout import COLUMNS, NEGOCIOS_HEADER

OPEN_NS = 10 * 3600 * 1_000_000_000
"""Session open used by the generator, ns since midnight (10:00, B3's continuous session)."""
SESSION_SECONDS = 7 * 3600
_NS = 1_000_000_000
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class SyntheticInstrument:
    """Known parameters of one instrument (units in the field comments)."""

    ticker: str
    price0: float = 30.0          # BRL, efficient price at the open
    sigma: float = 0.002          # BRL / sqrt(s), diffusion of the efficient price
    half_spread: float = 0.01     # BRL, c
    rate_buy: float = 0.2         # 1/s, session-average intensity of buyer-initiated trades
    rate_sell: float = 0.2        # 1/s, seller-initiated
    profile: float = 0.5          # a, U-shape strength of the intraday intensity (0 = flat)
    impact: float = 2e-7          # BRL per share of signed flow, permanent (Kyle lambda)
    lot: int = 100                # shares
    size_p: float = 0.3           # geometric parameter of the size in lots (mean 1/p lots)
    tick: float = 0.01            # BRL, price grid of the trade prices
    cancel_prob: float = 0.001    # probability that a trade is later cancelled

    def check(self) -> None:
        positive = ("price0", "sigma", "half_spread", "rate_buy", "rate_sell", "lot", "tick")
        for name in positive:
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise DataError(f"synthetic instrument {self.ticker}: {name} must be > 0, got {value!r}")
        if not 0 <= self.profile < 1:
            raise DataError(f"synthetic instrument {self.ticker}: profile must be in [0, 1), got {self.profile!r}")
        if not 0 < self.size_p <= 1:
            raise DataError(f"synthetic instrument {self.ticker}: size_p must be in (0, 1], got {self.size_p!r}")
        if not (0 <= self.impact and 0 <= self.cancel_prob < 1):
            raise DataError(f"synthetic instrument {self.ticker}: impact >= 0 and 0 <= cancel_prob < 1 required")


def mean_square_size(inst: SyntheticInstrument) -> float:
    """E[q^2] in shares^2 for the geometric lot count: lot^2 (2 - p) / p^2."""
    return inst.lot ** 2 * (2.0 - inst.size_p) / inst.size_p ** 2


def efficient_variance_per_second(inst: SyntheticInstrument) -> float:
    """Integrated variance of the efficient price per second (BRL^2/s): diffusion plus impact jumps."""
    live = 1.0 - inst.cancel_prob
    return inst.sigma ** 2 + inst.impact ** 2 * mean_square_size(inst) * (inst.rate_buy + inst.rate_sell) * live


def profile_density(u: np.ndarray, a: float) -> np.ndarray:
    """g(u) = 1 + a (3 (2u-1)^2 - 1): the intensity multiplier at session fraction u (mean 1)."""
    return 1.0 + a * (3.0 * (2.0 * u - 1.0) ** 2 - 1.0)


def _profile_times(rng: np.random.Generator, n: int, a: float) -> np.ndarray:
    """n arrival fractions in [0, 1) with density g: inverse of G(u) = u + a(((2u-1)^3 + 1)/2 - u)."""
    grid = np.linspace(0.0, 1.0, 20001)
    cdf = grid + a * (((2 * grid - 1) ** 3 + 1) / 2 - grid)
    return np.interp(rng.random(n), cdf, grid)


def _simulate_instrument(inst: SyntheticInstrument, rng: np.random.Generator, seconds: float) -> dict:
    n_buy = rng.poisson(inst.rate_buy * seconds)
    n_sell = rng.poisson(inst.rate_sell * seconds)
    u = np.concatenate([_profile_times(rng, n_buy, inst.profile), _profile_times(rng, n_sell, inst.profile)])
    side = np.concatenate([np.ones(n_buy, np.int8), -np.ones(n_sell, np.int8)])
    t_ns = OPEN_NS + np.minimum((u * seconds * 1000).astype(np.int64), int(seconds * 1000) - 1) * 1_000_000
    order = np.argsort(t_ns, kind="stable")
    t_ns, side = t_ns[order], side[order]
    n = t_ns.size
    qty = inst.lot * rng.geometric(inst.size_p, n).astype(np.int64)
    cancelled = rng.random(n) < inst.cancel_prob
    elapsed = (t_ns - OPEN_NS) / _NS
    dw = rng.standard_normal(n) * np.sqrt(np.diff(elapsed, prepend=0.0))
    jumps = inst.impact * side * qty * ~cancelled
    before = inst.price0 + inst.sigma * np.cumsum(dw) + np.concatenate(([0.0], np.cumsum(jumps)[:-1]))
    # On the tick grid, as integer / 10**decimals: exactly the float a reader gets from the text.
    d = _decimals(inst.tick)
    ticks = np.round((before + inst.half_spread * side) / inst.tick)
    price = ticks * round(inst.tick * 10 ** d) / 10 ** d
    if n and price.min() <= 0:
        raise DataError(f"synthetic instrument {inst.ticker}: the price path reached {price.min():.4g} BRL; "
                        "raise price0 or lower sigma / impact")
    return {"time": t_ns, "price": price, "quantity": qty, "side": side, "cancelled": cancelled,
            "trade_id": np.arange(1, n + 1, dtype=np.int64) * 10,
            "buyer": rng.integers(1, 200, n).astype(np.int32), "seller": rng.integers(1, 200, n).astype(np.int32)}


def simulate_session(instruments: list[SyntheticInstrument], *, date: str, seed: int,
                     seconds: float = SESSION_SECONDS) -> pd.DataFrame:
    """One synthetic session, in the schema of :func:`mfg_finance.trades.read_trades`.

    Each instrument draws from its own stream ``(seed, index)``, so adding one does not change the
    others. Rows are sorted by (ticker, time, trade_id); prices are on each instrument's tick.
    """
    if not instruments:
        raise DataError("simulate_session: no instrument given")
    names = [i.ticker for i in instruments]
    if len(set(names)) != len(names):
        raise DataError(f"simulate_session: duplicate tickers in {names}")
    parts = []
    for index, inst in enumerate(instruments):
        inst.check()
        rng = np.random.default_rng([int(seed), index])
        cols = _simulate_instrument(inst, rng, float(seconds))
        cols["ticker"] = np.full(cols["time"].size, inst.ticker, dtype=object)
        parts.append(pd.DataFrame(cols))
    frame = pd.concat(parts, ignore_index=True)
    frame["ticker"] = pd.Categorical(frame["ticker"], categories=sorted(names))
    frame["date"] = np.datetime64(dt.date.fromisoformat(date), "ns")
    frame = frame.sort_values(["ticker", "time", "trade_id"], kind="stable").reset_index(drop=True)
    return frame[list(COLUMNS)]


# ----------------------------------------------------------------------------- writers

def _zip_one(member: str, text: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text)
    return buf.getvalue()


def _clock(t_ns: np.ndarray) -> tuple[np.ndarray, ...]:
    ms = t_ns // 1_000_000
    return ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000


def _session_date(trades: pd.DataFrame) -> dt.date:
    dates = trades["date"].unique()
    if len(dates) != 1:
        raise DataError(f"a session file holds one date; the trades have {len(dates)}")
    return pd.Timestamp(dates[0]).date()


def neg_text(trades: pd.DataFrame) -> bytes:
    """The trades as a NEG file (header, 237-byte trade lines sorted by symbol then time, trailer)."""
    day = _session_date(trades).isoformat()
    h, m, s, ms = _clock(trades["time"].to_numpy())
    micro = np.round(trades["price"].to_numpy() * 1e6).astype(np.int64)
    side = trades["side"].to_numpy()
    buy_cond = np.where(side > 0, 1, 2)
    sell_cond = np.where(side < 0, 1, 2)
    lines = [
        f"{day};{tk:<50};{tid:010d}; {p // 1_000_000:012d}.{p % 1_000_000:06d};{q:018d};"
        f"{hh:02d}:{mm:02d}:{ss:02d}.{mmm:03d};{2 if c else 1};{day};{2 * k + 1:015d};{k + 1:015d};{bc};"
        f"{day};{2 * k + 2:015d};{k + 1:015d};{sc};0;{b:08d};{v:08d}"
        for k, (tk, tid, p, q, hh, mm, ss, mmm, c, bc, sc, b, v) in enumerate(zip(
            trades["ticker"].astype(str), trades["trade_id"], micro, trades["quantity"], h, m, s, ms,
            trades["cancelled"], buy_cond, sell_cond, trades["buyer"], trades["seller"]))
    ]
    n_lines = len(lines) + 2
    frame = f"{'NEG':<20}{day} {day} {n_lines:09d}"
    return ("\n".join([f"RH {frame}", *lines, f"RT {frame}"]) + "\n").encode("ascii")


def _decimals(tick: float) -> int:
    for d in range(10):
        if abs(round(tick * 10 ** d) - tick * 10 ** d) < 1e-9:
            return d
    return 9


def negocios_text(trades: pd.DataFrame, *, tick: float = 0.01) -> bytes:
    """The trades as a NEGOCIOS file (header, lines sorted by time), prices with ``tick``'s decimals."""
    day = _session_date(trades).isoformat()
    order = np.lexsort((trades["trade_id"].to_numpy(), trades["time"].to_numpy()))
    t = trades.iloc[order]
    h, m, s, ms = _clock(t["time"].to_numpy())
    d = _decimals(tick)
    scaled = np.round(t["price"].to_numpy() * 10 ** d).astype(np.int64)
    prices = [f"{v // 10 ** d},{v % 10 ** d:0{d}d}" if d else str(v) for v in scaled]
    lines = [
        f"{day};{tk};{2 if c else 0};{p};{q};{hh * 10_000_000 + mm * 100_000 + ss * 1000 + mmm};{tid};1;{day};{b};{v}"
        for tk, c, p, q, hh, mm, ss, mmm, tid, b, v in zip(
            t["ticker"].astype(str), t["cancelled"], prices, t["quantity"], h, m, s, ms, t["trade_id"],
            t["buyer"], t["seller"])
    ]
    return ("\n".join([NEGOCIOS_HEADER, *lines]) + "\n").encode("ascii")


def write_neg(trades: pd.DataFrame, path: str | os.PathLike, *, zipped: bool = True) -> None:
    """Write a NEG session file (``NEG_YYYYMMDD.zip`` holding ``NEG_YYYYMMDD.TXT``, or the text)."""
    text = neg_text(trades)
    member = f"NEG_{_session_date(trades):%Y%m%d}.TXT"
    write_bytes(path, _zip_one(member, text) if zipped else text)


def write_negocios(trades: pd.DataFrame, path: str | os.PathLike, *, tick: float = 0.01, zipped: bool = True) -> None:
    """Write a NEGOCIOS session file (``DD-MM-YYYY_NEGOCIOSAVISTA.zip`` holding the ``.txt``, or the text)."""
    text = negocios_text(trades, tick=tick)
    member = f"{_session_date(trades):%d-%m-%Y}_NEGOCIOSAVISTA.txt"
    write_bytes(path, _zip_one(member, text) if zipped else text)
