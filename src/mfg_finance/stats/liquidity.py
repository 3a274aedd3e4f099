"""Liquidity statistics: traded value and size, trade counts, Amihud illiquidity.

* Average daily volume, over the sessions the ticker traded (COTAHIST has no row for a session
  without trades, so these are *per traded session*): mean and median of ``volume`` (BRL) and of
  ``quantity`` (shares). The median is robust to block-trade days and is what calibration uses.
* Trades per session: mean of ``n_trades``.
* Average trade size (shares per trade): :math:`\\sum_t Q_t / \\sum_t N_t`, a ratio of sums, so
  quiet sessions with one odd trade do not dominate it.
* Amihud (2002) illiquidity, fraction of price per BRL traded:

  .. math:: \\mathrm{ILLIQ} = \\frac{1}{n}\\sum_t \\frac{|r_t|}{V_t}

  over sessions with a valid return and :math:`V_t > 0`. ``ILLIQ * V`` approximates the absolute
  return that trading ``V`` BRL in a session goes with, the price-impact reading used by calibration.
"""

from __future__ import annotations

import numpy as np


def amihud_terms(log_returns, volume_brl) -> np.ndarray:
    """Per-session :math:`|r_t| / V_t` (1/BRL); NaN when the return is NaN or :math:`V_t \\le 0`."""
    r = np.asarray(log_returns, dtype=float)
    v = np.asarray(volume_brl, dtype=float)
    ok = np.isfinite(r) & np.isfinite(v) & (v > 0)
    out = np.full(r.shape, np.nan)
    out[ok] = np.abs(r[ok]) / v[ok]
    return out


def amihud(log_returns, volume_brl) -> float:
    """Amihud illiquidity (1/BRL): mean of :func:`amihud_terms`; NaN when no term is valid."""
    t = amihud_terms(log_returns, volume_brl)
    t = t[np.isfinite(t)]
    return float(t.mean()) if t.size else float("nan")


def average_trade_size(quantity, n_trades) -> float:
    """Shares per trade, :math:`\\sum Q / \\sum N`; NaN when there is no trade."""
    q = np.asarray(quantity, dtype=float)
    n = np.asarray(n_trades, dtype=float)
    total = float(np.nansum(n))
    return float(np.nansum(q)) / total if total > 0 else float("nan")
