"""Helpers of the corporate-event tests: a small synthetic equities frame with events put in by hand, and
the same frames as a COTAHIST file in B3's exact layout (written by the project's own encoder)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.sample_bars import to_ticks, yyyymmdd


def series(ticker: str = "SYNX3", n: int = 30, *, seed: int = 0, vol: float = 0.015, price: float = 20.0,
           spec: str = "ON      NM", distribution: int = 120) -> pd.DataFrame:
    """``n`` business days of one ticker: random-walk closes, consistent OHLC, quantities in lots of 100."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, vol, n)))
    prev = np.r_[price, close[:-1]]
    open_ = prev * np.exp(rng.normal(0, vol / 4, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol / 3, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol / 3, n)))
    quantity = 100 * rng.integers(500, 1500, n)
    avg = np.clip((open_ + high + low + close) / 4, low, high)
    return pd.DataFrame({
        "date": pd.bdate_range("2023-01-02", periods=n), "ticker": ticker, "market_type": 10,
        "spec": spec, "distribution": distribution, "open": open_, "high": high, "low": low, "avg": avg,
        "close": close, "best_bid": close * 0.999, "best_ask": close * 1.001, "n_trades": quantity // 200,
        "quantity": quantity, "volume": quantity * avg, "isin": f"BR{ticker[:4]}ACNOR0",
    })


def inject(frame: pd.DataFrame, at: int, *, factor: float = 1.0, cash: float = 0.0, marker: str = "",
           bump_distribution: bool = True, marker_sessions: int = 3) -> pd.DataFrame:
    """Put an event on row ``at``: prices from ``at`` on divided by ``factor`` and lowered by ``cash``
    (BRL per old share, as a fraction of the previous close), quantities times ``factor``; DISMES + 1;
    ESPECI carries ``marker`` for ``marker_sessions`` sessions."""
    out = frame.copy()
    out["spec"] = out["spec"].astype(str)           # real frames hold it as a categorical
    out["distribution"] = out["distribution"].astype(np.int64)
    before = out["close"].iat[at - 1]
    scale = (1.0 - cash / before) / factor
    for column in ("open", "high", "low", "avg", "close", "best_bid", "best_ask"):
        out.loc[out.index[at:], column] = out[column].iloc[at:] * scale
    out.loc[out.index[at:], "quantity"] = np.round(out["quantity"].iloc[at:] * factor).astype(np.int64)
    if bump_distribution:
        out.loc[out.index[at:], "distribution"] = out["distribution"].iloc[at:] + 1
    if marker:
        words = str(out["spec"].iat[at]).split()
        marked = f"{words[0]:<4}{marker:<4}{words[1] if len(words) > 1 else ''}".rstrip()
        out.loc[out.index[at:at + marker_sessions], "spec"] = marked
    return out


def cotahist_file(frames: list[pd.DataFrame]) -> bytes:
    """The rows of ``frames`` (:func:`series` / :func:`inject` output) as a COTAHIST file: prices on the
    0.01 BRL tick (high rounded up, low down, open/close/avg kept inside), CODBDI 02, TPMERC 010."""
    frame = pd.concat(frames, ignore_index=True)
    close, open_ = to_ticks(frame["close"].to_numpy()), to_ticks(frame["open"].to_numpy())
    high = np.maximum(to_ticks(frame["high"].to_numpy(), np.ceil), np.maximum(open_, close))
    low = np.minimum(to_ticks(frame["low"].to_numpy(), np.floor), np.minimum(open_, close))
    avg = np.clip(to_ticks(frame["avg"].to_numpy()), low, high)
    quantity = frame["quantity"].to_numpy(dtype=np.int64)
    text = lambda column: frame[column].astype(str).to_numpy(dtype=object)  # noqa: E731
    values = {"DATPRE": yyyymmdd(frame["date"].to_numpy(dtype="datetime64[D]")), "CODBDI": 2,
              "CODNEG": text("ticker"), "TPMERC": 10, "NOMRES": "SYNTHETIC", "ESPECI": text("spec"),
              "PRAZOT": np.full(len(frame), None, dtype=object), "MODREF": "R$", "PREABE": open_, "PREMAX": high,
              "PREMIN": low, "PREMED": avg, "PREULT": close, "PREOFC": close, "PREOFV": close + 1,
              "TOTNEG": np.maximum(quantity // 200, 1), "QUATOT": quantity, "VOLTOT": quantity * avg, "FATCOT": 1,
              "CODISI": text("isin"), "DISMES": frame["distribution"].to_numpy(dtype=np.int64)}
    return cotahist_bytes(encode_records("01", values, len(frame)), file_name="COTAHIST.2023")
