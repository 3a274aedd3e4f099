"""Trade signs: the aggressor flag where the file gives it, else the tick rule.

Sign convention: +1 buyer-initiated (the buyer was the aggressor), -1 seller-initiated.
Tick rule (Lee and Ready 1991, without quotes): a trade above the previous trade's price is a buy,
below a sell, at the same price it takes the sign of the last price change; the first trades of a
session before any price change stay unsigned (0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def tick_rule(price: np.ndarray) -> np.ndarray:
    """Tick-rule signs (int8) of one instrument's trades in time order."""
    step = np.sign(np.diff(price, prepend=price[:1] if price.size else price))
    index = np.where(step != 0, np.arange(step.size), -1)
    last = np.maximum.accumulate(index) if index.size else index
    return np.where(last >= 0, step[np.maximum(last, 0)], 0).astype(np.int8)


def trade_signs(trades: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Signs of the standing trades of ONE instrument and session (time order), and their source.

    Returns (signs int8, ``"aggressor flag"`` or ``"tick rule"``). The flag is used when every
    trade carries it (NEG files); where some trades lack it (direct/auction trades) the tick rule
    fills them in.
    """
    side = trades["side"].to_numpy()
    if (side != 0).all():
        return side.astype(np.int8), "aggressor flag"
    ticks = tick_rule(trades["price"].to_numpy())
    if (side == 0).all():
        return ticks, "tick rule"
    return np.where(side != 0, side, ticks).astype(np.int8), "aggressor flag (tick rule where missing)"
