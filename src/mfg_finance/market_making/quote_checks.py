"""Where a strategy quotes through the mid: a bid above it or an ask below it (negative distance).

Avellaneda-Stoikov skews both quotes by ``q gamma sigma^2 (T - t)`` around the mid; once that skew
exceeds the half-spread ``(1/gamma) ln(1 + gamma/k)`` one side crosses the mid (a long trader then
offers below the mid to unload). GLFT's exact quotes come from the capped inventory problem and
stay bounded. The report states this beside the quotes figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.market_making.avellaneda_stoikov import as_spreads
from mfg_finance.market_making.glft import InventoryHJB
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.strategies import glft_parameters


@dataclass(frozen=True)
class ThroughMid:
    """Inventories (lots) at which a strategy's quote crosses the mid at t = 0."""

    strategy: str
    bid_above_mid: tuple[int, ...]   # bid distance < 0: bidding above the mid
    ask_below_mid: tuple[int, ...]   # ask distance < 0: offering below the mid

    @property
    def crosses(self) -> bool:
        return bool(self.bid_above_mid or self.ask_below_mid)


def _negative(q: np.ndarray, distance: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in q[np.asarray(distance) < 0])


def quotes_through_mid(market: MarketParameters, horizon_s: float) -> dict[str, ThroughMid]:
    """For GLFT (exact) and Avellaneda-Stoikov, the inventories in ``[-Q_max, Q_max]`` where a quote at
    ``t = 0`` is on the wrong side of the mid (BRL distances, the backtests' conventions)."""
    Q = market.Q_max
    q = np.arange(-Q, Q + 1)
    exact_b, exact_a = InventoryHJB(glft_parameters(market, horizon_s)).spread_table([0.0])
    as_b, as_a = as_spreads(0.0, q, gamma=market.effective_gamma, sigma=market.sigma, k=market.k, T=horizon_s)
    return {
        # no bid at q = Q_max and no ask at q = -Q_max (the limit)
        "hjb": ThroughMid("hjb", _negative(q[:-1], exact_b[0, :-1]), _negative(q[1:], exact_a[0, 1:])),
        "avellaneda_stoikov": ThroughMid("avellaneda_stoikov", _negative(q, as_b), _negative(q, as_a)),
    }


def _lots(n: int) -> str:
    return f"{n} lot" if n == 1 else f"{n} lots"


def describe(ticker: str, checks: dict[str, ThroughMid]) -> str | None:
    """One sentence for the report, or None when no strategy quotes through the mid."""
    names = {"hjb": "GLFT", "avellaneda_stoikov": "Avellaneda-Stoikov"}
    parts = []
    for key, check in checks.items():
        if not check.crosses:
            continue
        sides = []
        if check.ask_below_mid:
            sides.append(f"offers below the mid when long {_lots(min(check.ask_below_mid))} or more")
        if check.bid_above_mid:
            sides.append(f"bids above the mid when short {_lots(abs(max(check.bid_above_mid)))} or more")
        parts.append(f"{names.get(key, key)} {' and '.join(sides)}")
    if not parts:
        return None
    quiet = [names[k] for k, c in checks.items() if not c.crosses]
    return (f"{ticker}: at t = 0, " + "; ".join(parts)
            + (f" ({', '.join(quiet)} never does)" if quiet else "")
            + ": its inventory skew q gamma sigma^2 (T - t) exceeds the half-spread, so it quotes through the "
              "mid to unload inventory.")
