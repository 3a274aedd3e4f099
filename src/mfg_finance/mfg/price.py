"""Endogenous price: instantaneous clearing of the crowd's net order flow against a linear supply.

The crowd's net flow is ``m_t`` (inventory units per trading day, > 0 = net buying); the rest of
the market contributes the net flow ``S_t(p) = s_t + kappa (p - p_ref)``, with ``s_t`` the
exogenous flow at the reference price ``p_ref`` (BRL) and ``kappa`` its slope (inventory units per
trading day per BRL). The clearing price ``p_t`` (BRL) solves::

    m_t + S_t(p_t) = 0   <=>   p_t = p_ref - (m_t + s_t) / kappa .

With ``kappa < 0`` (the others buy less as the price rises) a selling crowd (``m < 0``) pushes the
price below ``p_ref``. ``kappa`` must be nonzero.
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
    return p_ref - (np.asarray(mean_flow, dtype=float) + supply) / kappa


def clearing_residual(price: np.ndarray, mean_flow: np.ndarray, supply: np.ndarray | float, *,
                      kappa: float, p_ref: float) -> np.ndarray:
    """Excess supply ``m_t + s_t + kappa (p_t - p_ref)`` (zero at a clearing price)."""
    return mean_flow + supply + kappa * (price - p_ref)
