"""Volatility estimators from daily close and OHLC prices.

All three estimate the variance of log price per session; multiply the standard deviation by
:math:`\\sqrt{N_{year}}` (``trading_days_per_year``) for an annual figure. Under a driftless GBM
:math:`d\\ln S = \\sigma\\, dW` with :math:`\\sigma` per session:

* close-to-close: :math:`\\hat\\sigma^2_{cc} = \\frac{1}{n-1}\\sum (r_t - \\bar r)^2`, with
  :math:`r_t = \\ln(C_t/C_{t-1})`. Includes the overnight move. Efficiency 1 (reference).
* Parkinson (1980): :math:`\\hat\\sigma^2_{P} = \\frac{1}{4\\ln 2}\\,\\overline{\\ln(H_t/L_t)^2}`,
  since :math:`E[\\ln(H/L)^2] = 4\\ln 2\\,\\sigma^2` for a Brownian path. About 5x more efficient.
* Garman-Klass (1980): :math:`\\hat\\sigma^2_{GK} = \\overline{\\tfrac12 \\ln(H_t/L_t)^2 -
  (2\\ln 2 - 1)\\ln(C_t/O_t)^2}`. About 7x more efficient.

Parkinson and Garman-Klass see only the open-to-close part of the day (no overnight jump), and a
discretely traded price understates the true high-low range, so on real data they usually come out
below close-to-close; the gap between them is itself informative (chart ``vol_estimators.png``).
"""

from __future__ import annotations

import numpy as np

LN2 = float(np.log(2.0))
#: :math:`E[\\ln(H/L)^2] = 4 \\ln 2\\, \\sigma^2` for Brownian motion over one session.
PARKINSON_FACTOR = 4.0 * LN2
#: Weight of :math:`\\ln(C/O)^2` in the Garman-Klass estimator.
GARMAN_KLASS_CO_WEIGHT = 2.0 * LN2 - 1.0


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def close_to_close_variance(log_returns) -> float:
    """Sample variance (ddof=1) of the finite log returns, per session. NaN with < 2 returns."""
    r = _finite(log_returns)
    return float(np.var(r, ddof=1)) if r.size >= 2 else float("nan")


def parkinson_terms(high, low) -> np.ndarray:
    """Per-session :math:`\\ln(H/L)^2 / (4\\ln 2)`; NaN where H or L is not positive or H < L."""
    high, low = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    ok = np.isfinite(high) & np.isfinite(low) & (low > 0) & (high >= low)
    out = np.full(high.shape, np.nan)
    out[ok] = np.log(high[ok] / low[ok]) ** 2 / PARKINSON_FACTOR
    return out


def garman_klass_terms(open_, high, low, close) -> np.ndarray:
    """Per-session :math:`\\tfrac12\\ln(H/L)^2 - (2\\ln2-1)\\ln(C/O)^2`; NaN on invalid prices."""
    o, h, l, c = (np.asarray(a, dtype=float) for a in (open_, high, low, close))
    ok = (np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c)
          & (o > 0) & (c > 0) & (l > 0) & (h >= l))
    out = np.full(h.shape, np.nan)
    out[ok] = 0.5 * np.log(h[ok] / l[ok]) ** 2 - GARMAN_KLASS_CO_WEIGHT * np.log(c[ok] / o[ok]) ** 2
    return out


def parkinson_variance(high, low) -> float:
    """Parkinson variance per session (mean of :func:`parkinson_terms`)."""
    t = _finite(parkinson_terms(high, low))
    return float(t.mean()) if t.size else float("nan")


def garman_klass_variance(open_, high, low, close) -> float:
    """Garman-Klass variance per session (mean of :func:`garman_klass_terms`)."""
    t = _finite(garman_klass_terms(open_, high, low, close))
    return float(t.mean()) if t.size else float("nan")


def annualise(variance_per_session, trading_days_per_year: float):
    """:math:`\\sigma_{year} = \\sqrt{\\max(v, 0)\\, N_{year}}`; NaN stays NaN.

    A mean Garman-Klass term can be slightly negative on tiny samples; it is floored at 0.
    """
    v = np.asarray(variance_per_session, dtype=float)
    out = np.sqrt(np.clip(v, 0.0, None) * trading_days_per_year, where=np.isfinite(v),
                  out=np.full(v.shape, np.nan))
    return out if out.ndim else float(out)
