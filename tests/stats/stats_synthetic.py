"""Synthetic equities frames with known parameters, for the statistics and calibration tests.

Prices follow a driftless GBM in log space, simulated on ``n_steps`` sub-steps per session; the
high and low of each sub-step are drawn exactly from the Brownian-bridge extreme distribution,
so the session high/low are those of the *continuous* path and the range estimators have no
discretisation bias. The open equals the previous close (no overnight move), so close-to-close,
Parkinson and Garman-Klass all estimate the same variance.
"""

from __future__ import annotations

from pathlib import Path
import os

import numpy as np
import pandas as pd


def shared_cotahist_dir() -> Path:
    """Real COTAHIST folder beside the checkout; ``MFG_SHARED_DATA`` overrides."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cotahist"
    return Path(os.environ.get("MFG_SHARED_DATA", default))


def gbm_ohlc(n_sessions: int, sigma_daily: float, *, seed: int, s0: float = 30.0, n_steps: int = 16,
             drift_daily: float = 0.0) -> pd.DataFrame:
    """OHLC of a GBM with log-volatility ``sigma_daily`` per session (exact continuous high/low)."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / n_steps
    inc = drift_daily * dt + sigma_daily * np.sqrt(dt) * rng.standard_normal((n_sessions, n_steps))
    x_end = np.log(s0) + np.cumsum(inc.ravel()).reshape(n_sessions, n_steps)
    x_start = np.concatenate([[np.log(s0)], x_end.ravel()[:-1]]).reshape(n_sessions, n_steps)
    d = x_end - x_start
    var = sigma_daily ** 2 * dt
    # Max / min of a Brownian bridge from x_start to x_end over dt (exact, by inversion).
    top = 0.5 * (x_start + x_end + np.sqrt(d ** 2 - 2 * var * np.log(rng.uniform(size=d.shape))))
    bottom = 0.5 * (x_start + x_end - np.sqrt(d ** 2 - 2 * var * np.log(rng.uniform(size=d.shape))))
    return pd.DataFrame({
        "open": np.exp(x_start[:, 0]),
        "high": np.exp(top.max(axis=1)),
        "low": np.exp(bottom.min(axis=1)),
        "close": np.exp(x_end[:, -1]),
    })


def equities_frame(specs: dict[str, dict], *, n_sessions: int = 250, start: str = "2023-01-02",
                   seed: int = 0) -> pd.DataFrame:
    """An ``equities``-like frame, one ticker per entry of ``specs``.

    Each spec may give ``sigma_annual`` (default 0.3), ``s0`` (BRL, 30), ``adv_shares`` (shares
    per session, 1e6), ``trades`` (trades per session, 5000), ``spread`` (quoted relative spread
    at the close, 5e-4), ``sessions`` (how many of the calendar sessions it trades, default all),
    ``drop`` (indices of sessions it misses).
    """
    calendar = pd.bdate_range(start, periods=n_sessions)
    frames = []
    for i, (ticker, spec) in enumerate(sorted(specs.items())):
        rng = np.random.default_rng(seed + 1000 + i)
        n = int(spec.get("sessions", n_sessions))
        sigma_daily = spec.get("sigma_annual", 0.3) / np.sqrt(252)
        px = gbm_ohlc(n, sigma_daily, seed=seed + i, s0=spec.get("s0", 30.0))
        qty = np.maximum(1, rng.lognormal(np.log(spec.get("adv_shares", 1e6)), 0.3, n)).astype(np.int64)
        trades = np.maximum(1, rng.poisson(spec.get("trades", 5000), n)).astype(np.int64)
        half = 0.5 * spec.get("spread", 5e-4) * px["close"].to_numpy()
        frame = pd.DataFrame({
            "date": calendar[:n],
            "codbdi": 2,
            "ticker": ticker,
            "market_type": 10,
            **{k: px[k].to_numpy() for k in ("open", "high", "low", "close")},
            "avg": 0.5 * (px["high"] + px["low"]).to_numpy(),
            "best_bid": px["close"].to_numpy() - half,
            "best_ask": px["close"].to_numpy() + half,
            "n_trades": trades,
            "quantity": qty,
            "volume": qty * px["close"].to_numpy(),
        })
        drop = spec.get("drop", ())
        if drop:
            frame = frame.drop(index=list(drop))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["ticker"] = out["ticker"].astype("category")
    return out.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)


def hand_frame(ticker: str, rows: list[tuple]) -> pd.DataFrame:
    """Frame from ``(date, open, high, low, close, volume, quantity, n_trades)`` tuples."""
    frame = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume", "quantity", "n_trades"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["ticker"] = ticker
    return frame
