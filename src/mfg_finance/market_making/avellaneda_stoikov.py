r"""Avellaneda & Stoikov (2008) approximate quotes.

Mid ``dS = sigma dW``, fills at intensity ``A exp(-k delta)``, CARA risk aversion ``gamma``, horizon
``T``, no inventory limit in the original paper. The reservation (indifference) price and the
total spread of the quotes around it are (paper eqs. 29-30)::

    r(s, q, t)      = s - q gamma sigma^2 (T - t)
    delta_a + delta_b = gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)

so the distances to the *mid* are::

    delta_b(t, q) = spread(t)/2 + q gamma sigma^2 (T - t)
    delta_a(t, q) = spread(t)/2 - q gamma sigma^2 (T - t)

Units: prices and distances in price units (ticks or BRL), ``sigma`` per sqrt(s), ``k`` and ``gamma``
per price unit, times in seconds (or the paper's time unit).
"""

from __future__ import annotations

import numpy as np


def _remaining(t, T):
    return np.maximum(T - np.asarray(t, dtype=float), 0.0)


def reservation_price(s, q, t, *, gamma: float, sigma: float, T: float):
    """``r = s - q gamma sigma^2 (T - t)`` (price units)."""
    return np.asarray(s, dtype=float) - np.asarray(q, dtype=float) * gamma * sigma**2 * _remaining(t, T)


def optimal_spread(t, *, gamma: float, sigma: float, k: float, T: float):
    """Total spread ``gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)`` (price units)."""
    return gamma * sigma**2 * _remaining(t, T) + 2.0 / gamma * np.log1p(gamma / k)


def as_spreads(t, q, *, gamma: float, sigma: float, k: float, T: float):
    """Distances to the mid ``(delta_b, delta_a)`` of the A&S quotes (price units)."""
    half = 0.5 * optimal_spread(t, gamma=gamma, sigma=sigma, k=k, T=T)
    skew = np.asarray(q, dtype=float) * gamma * sigma**2 * _remaining(t, T)
    return half + skew, half - skew


def as_quotes(t, q, s, *, gamma: float, sigma: float, k: float, T: float):
    """Bid and ask prices ``r -+ spread/2`` (price units)."""
    delta_b, delta_a = as_spreads(t, q, gamma=gamma, sigma=sigma, k=k, T=T)
    s = np.asarray(s, dtype=float)
    return s - delta_b, s + delta_a
