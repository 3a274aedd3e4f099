"""Endogenous price: instantaneous clearing of the crowd's net order flow against a linear supply.

The crowd's net flow is ``m_t`` (inventory units per trading day, > 0 = net buying); the rest of
the market contributes the net flow ``S_t(p) = s_t + kappa (p - p_ref)``, with ``s_t`` the
exogenous flow at the reference price ``p_ref`` (BRL) and ``kappa`` its slope (inventory units per
trading day per BRL). The clearing price ``p_t`` (BRL) solves::

    m_t + S_t(p_t) = 0   <=>   p_t = p_ref - (m_t + s_t) / kappa .

With ``kappa < 0`` (the others buy less as the price rises) a selling crowd (``m < 0``) pushes the
price below ``p_ref``. ``kappa`` must be nonzero, and large enough for the flow: a price at or
below zero (``|kappa| <= |m_t + s_t| / p_ref`` somewhere) is refused with the bound, not returned.
"""

from __future__ import annotations

import numpy as np

from mfg_finance.errors import ConfigError


def supply_path(supply: float | list, n: int) -> np.ndarray:
    """Exogenous supply ``s_t`` on the ``n`` time nodes: a constant or an explicit path."""
    s = np.asarray(supply, dtype=float)
    if s.ndim == 0:
        return np.full(n, float(s))
    if s.shape != (n,):
        raise ConfigError(f"mfg.price.supply: a path needs {n} values, got {s.size}")
    return s


def clearing_price(mean_flow: np.ndarray, supply: np.ndarray | float, *, kappa: float,
                   p_ref: float) -> np.ndarray:
    """Price that clears ``m_t + s_t + kappa (p_t - p_ref) = 0`` at each time node (BRL)."""
    if kappa == 0.0:
        raise ConfigError("mfg.price.kappa: must be nonzero")
    excess = np.asarray(mean_flow, dtype=float) + supply
    price = p_ref - excess / kappa
    if not np.all(price > 0.0):   # also catches NaN
        worst = int(np.nanargmin(np.where(np.isfinite(price), price, -np.inf)))
        finite = np.abs(excess[np.isfinite(excess)])
        largest = float(finite.max()) if finite.size else float("nan")
        raise ConfigError(
            f"mfg.price.kappa: the clearing price p = p_ref - (m + s) / kappa falls to "
            f"{price.flat[worst]:.6g} BRL (<= 0) with kappa = {kappa:.6g} and p_ref = {p_ref:.6g} BRL: the "
            f"crowd's net flow |m + s| reaches {largest:.6g} inventory units/day, so a positive price needs "
            f"|kappa| > {largest / p_ref:.6g}; raise |mfg.price.kappa| (or check its calibrated value)")
    return price


def clearing_residual(price: np.ndarray, mean_flow: np.ndarray, supply: np.ndarray | float, *,
                      kappa: float, p_ref: float) -> np.ndarray:
    """Excess supply ``m_t + s_t + kappa (p_t - p_ref)`` (zero at a clearing price)."""
    return mean_flow + supply + kappa * (price - p_ref)
