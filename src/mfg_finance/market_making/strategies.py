r"""Built-in quoting strategies as tables of distances to the mid, ``delta[n, q + Q_max]`` (BRL).

All four depend on time and inventory only, so they are tabulated once per backtest and the
simulation reduces to table look-ups:

``hjb``
    GLFT exact optimal quotes (:mod:`.glft`) with the market's ``sigma, A, k, gamma, phi, Q_max``
    and horizon ``T`` = the backtest horizon.
``avellaneda_stoikov``
    A&S (2008) quotes around the reservation price (:mod:`.avellaneda_stoikov`), truncated at the
    inventory limits.
``constant``
    Symmetric ``delta_b = delta_a = h`` around the mid, ``h`` = ``half_spread`` (default
    ``(1/gamma) ln(1 + gamma/k)`` rounded to whole ticks, at least one tick).
``inventory_aware``
    Heuristic linear skew ``delta_b = h + s q``, ``delta_a = h - s q`` with ``s`` = ``skew``
    (default ``h / Q_max``: at the limit the reducing side is quoted at the mid).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.avellaneda_stoikov import as_spreads
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.simulator import QuoteTable

STRATEGIES = ("hjb", "avellaneda_stoikov", "constant", "inventory_aware")


def glft_parameters(market: MarketParameters, horizon_s: float, dt_s: float = 1.0) -> HJBParameters:
    """GLFT parameters of a calibrated market (per-share prices in BRL) over ``horizon_s`` seconds.

    Risk aversion is ``gamma * order_size``: a fill of ``L`` shares is the per-share problem with
    prices scaled by ``L``, which is the same as multiplying ``gamma`` by ``L``.
    """
    return HJBParameters(sigma=market.sigma, A=market.A, k=market.k, gamma=market.effective_gamma,
                         phi=market.phi, T=horizon_s, dt=dt_s, Q_max=market.Q_max)


def constant_half_spread(market: MarketParameters) -> float:
    """Half-spread ``h`` of the heuristics (BRL): ``half_spread`` or the tick-rounded static GLFT quote."""
    if market.half_spread is not None:
        return float(market.half_spread)
    gamma = market.effective_gamma
    static = np.log1p(gamma / market.k) / gamma
    return market.tick_size * max(1.0, float(np.round(static / market.tick_size)))


def hjb_table(market: MarketParameters, times: np.ndarray, horizon_s: float) -> QuoteTable:
    delta_b, delta_a = InventoryHJB(glft_parameters(market, horizon_s)).spread_table(times)
    return QuoteTable(delta_b, delta_a, market.Q_max, name="hjb")


def avellaneda_stoikov_table(market: MarketParameters, times: np.ndarray, horizon_s: float) -> QuoteTable:
    q = np.arange(-market.Q_max, market.Q_max + 1)
    delta_b, delta_a = as_spreads(times[:, None], q[None, :], gamma=market.effective_gamma,
                                  sigma=market.sigma, k=market.k, T=horizon_s)
    return QuoteTable(delta_b, delta_a, market.Q_max, name="avellaneda_stoikov")


def constant_table(market: MarketParameters, times: np.ndarray, horizon_s: float) -> QuoteTable:
    shape = (times.size, 2 * market.Q_max + 1)
    h = constant_half_spread(market)
    return QuoteTable(np.full(shape, h), np.full(shape, h), market.Q_max, name="constant")


def inventory_aware_table(market: MarketParameters, times: np.ndarray, horizon_s: float) -> QuoteTable:
    h = constant_half_spread(market)
    skew = market.skew if market.skew is not None else h / market.Q_max
    q = np.arange(-market.Q_max, market.Q_max + 1, dtype=float)
    delta_b = np.broadcast_to(h + skew * q, (times.size, q.size))
    delta_a = np.broadcast_to(h - skew * q, (times.size, q.size))
    return QuoteTable(delta_b, delta_a, market.Q_max, name="inventory_aware")


_BUILDERS = {
    "hjb": hjb_table,
    "avellaneda_stoikov": avellaneda_stoikov_table,
    "constant": constant_table,
    "inventory_aware": inventory_aware_table,
}


def build_quote_table(strategy: str, market: MarketParameters, times: np.ndarray, horizon_s: float) -> QuoteTable:
    """Quote table of a named strategy at decision times ``times`` (s) for horizon ``horizon_s`` (s)."""
    if strategy not in _BUILDERS:
        raise ConfigError(f"unknown market-making strategy {strategy!r}; allowed: {', '.join(STRATEGIES)} "
                          "or a policy callable policy(t, q, S) -> (bid, ask)")
    return _BUILDERS[strategy](market, np.asarray(times, dtype=float), float(horizon_s))
