"""Helpers of the corporate-event tests: a small synthetic equities frame with events put in by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
