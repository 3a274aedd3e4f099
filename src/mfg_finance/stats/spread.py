"""Bid-ask spread proxies from daily prices, as a fraction of the price.

Corwin-Schultz (2012) -- the primary proxy
------------------------------------------
A day's high is usually a buy at the ask and its low a sell at the bid, so :math:`\\ln(H/L)^2`
holds variance (which grows with the length of the window) plus a spread term (which does not).
Comparing two single-day ranges with the range over the two days separates them. For days
:math:`t, t+1`:

.. math::
    \\beta = \\ln(H_t/L_t)^2 + \\ln(H_{t+1}/L_{t+1})^2, \\qquad
    \\gamma = \\ln\\!\\big(\\max(H_t,H_{t+1}) / \\min(L_t,L_{t+1})\\big)^2,

    \\alpha = \\frac{\\sqrt{2\\beta} - \\sqrt{\\beta}}{3 - 2\\sqrt2} - \\sqrt{\\frac{\\gamma}{3-2\\sqrt2}},
    \\qquad S = \\frac{2(e^{\\alpha} - 1)}{1 + e^{\\alpha}}.

As Corwin and Schultz recommend, day :math:`t+1`'s high and low are first shifted by the overnight
move when the whole day lies above (or below) the previous close, and negative two-day estimates are
set to 0 before averaging. Only pairs of *consecutive* sessions of the ticker are used (a gap
would put extra variance into :math:`\\gamma`).

Why primary: it uses the high and low that COTAHIST provides on every row, it is defined on every
pair of sessions (Roll is undefined whenever the return autocovariance is positive, which is about
half the time on short samples) and it was built and validated for daily data.

Roll (1984) -- the secondary proxy
----------------------------------
Bid-ask bounce makes consecutive price changes negatively correlated:
:math:`S = 2\\sqrt{-\\mathrm{cov}(r_t, r_{t-1})}` (log returns, so S is a fraction of price);
NaN when the covariance is not negative.

Quoted closing spread -- a check, not a proxy
---------------------------------------------
COTAHIST also gives the best bid and ask standing at the close (PREOFC/PREOFV):
:math:`(a - b)/((a+b)/2)` where both are positive and :math:`a > b`. It is a snapshot at one instant,
so it is reported beside the proxies for comparison only.
"""

from __future__ import annotations

import numpy as np

_CS_DENOMINATOR = 3.0 - 2.0 * np.sqrt(2.0)


def corwin_schultz_pairs(high_prev, low_prev, close_prev, high, low) -> np.ndarray:
    """Two-day Corwin-Schultz spread estimates (fraction of price), negatives set to 0.

    Parameters
    ----------
    high_prev, low_prev, close_prev
        Day :math:`t` high, low, close (BRL).
    high, low
        Day :math:`t+1` high and low (BRL).

    Returns
    -------
    ndarray of :math:`S \\ge 0` per pair; NaN where a price is missing or not positive.
    """
    hp, lp, cp, h, l = (np.asarray(a, dtype=float) for a in (high_prev, low_prev, close_prev, high, low))
    ok = (np.isfinite(hp) & np.isfinite(lp) & np.isfinite(cp) & np.isfinite(h) & np.isfinite(l)
          & (lp > 0) & (l > 0) & (cp > 0) & (hp >= lp) & (h >= l))
    out = np.full(hp.shape, np.nan)
    hp, lp, cp, h, l = hp[ok], lp[ok], cp[ok], h[ok], l[ok]

    # Overnight adjustment: a day that opens wholly above (below) the previous close is shifted down
    # (up) so that the overnight jump is not mistaken for spread.
    up = l > cp
    down = h < cp
    shift = np.where(up, l - cp, np.where(down, h - cp, 0.0))
    h, l = h - shift, l - shift

    beta = np.log(hp / lp) ** 2 + np.log(h / l) ** 2
    gamma = np.log(np.maximum(hp, h) / np.minimum(lp, l)) ** 2
    alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / _CS_DENOMINATOR - np.sqrt(gamma / _CS_DENOMINATOR)
    spread = 2.0 * np.expm1(alpha) / (1.0 + np.exp(alpha))
    out[ok] = np.maximum(spread, 0.0)
    return out


def corwin_schultz(high, low, close, consecutive=None) -> float:
    """Mean Corwin-Schultz spread of one ticker's daily series (fraction of price).

    ``consecutive[i]`` says whether row ``i`` directly follows row ``i-1`` (no gap); by default all
    rows do. NaN when no valid pair exists.
    """
    high, low, close = (np.asarray(a, dtype=float) for a in (high, low, close))
    if high.size < 2:
        return float("nan")
    pair_ok = np.ones(high.size - 1, bool) if consecutive is None else np.asarray(consecutive, bool)[1:]
    s = corwin_schultz_pairs(high[:-1], low[:-1], close[:-1], high[1:], low[1:])[pair_ok]
    s = s[np.isfinite(s)]
    return float(s.mean()) if s.size else float("nan")


def roll_spread(log_returns) -> float:
    """Roll spread (fraction of price) from a ticker's consecutive log returns.

    NaN returns break the series: only pairs :math:`(r_{t-1}, r_t)` where both are finite enter the
    covariance. NaN when fewer than 3 pairs or the covariance is not negative.
    """
    r = np.asarray(log_returns, dtype=float)
    if r.size < 2:
        return float("nan")
    a, b = r[:-1], r[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    cov = float(np.cov(a[ok], b[ok], ddof=1)[0, 1])
    return 2.0 * np.sqrt(-cov) if cov < 0 else float("nan")


def quoted_spread(best_bid, best_ask) -> np.ndarray:
    """Relative quoted spread :math:`(a-b)/((a+b)/2)` per row; NaN when a side is missing or crossed."""
    b, a = np.asarray(best_bid, dtype=float), np.asarray(best_ask, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b) & (b > 0) & (a > b)
    out = np.full(b.shape, np.nan)
    out[ok] = (a[ok] - b[ok]) / (0.5 * (a[ok] + b[ok]))
    return out
