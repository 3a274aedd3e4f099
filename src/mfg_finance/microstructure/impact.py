"""Price impact of signed order flow over clock intervals: Kyle's lambda and the square-root law.

Intervals of ``interval_s`` seconds; for consecutive intervals with trades, the change of the
last trade price :math:`\\Delta P_k` (BRL) is regressed on the signed volume :math:`Q_k` (shares)
traded between those two prices (from the earlier last trade, inclusive, to the later one,
exclusive: the flow whose impact the price change contains) and on the change of the last trade's
sign :math:`\\Delta s_k` (the bid-ask bounce at both ends, which would otherwise bias the slope):

* Kyle (1985): :math:`\\Delta P_k = \\lambda Q_k + c\\,\\Delta s_k + e_k` -- :math:`\\lambda` in
  BRL per share of signed flow, permanent.
* Square-root law: :math:`\\Delta P_k = Y \\sigma \\sqrt{\\tau_k}\\,\\mathrm{sign}(Q_k)
  \\sqrt{|Q_k| / \\bar V} + c\\,\\Delta s_k + e_k`, :math:`\\sigma` the intraday volatility
  (BRL/sqrt(s)), :math:`\\tau_k` the time between the two prices, :math:`\\bar V` the mean volume
  per interval (shares); :math:`Y` is dimensionless (about 0.5-1 in the empirical literature).
  The law is scale-free, so the same :math:`Y` prices a metaorder of :math:`Q` shares over a day:
  impact :math:`Y \\sigma_d P \\sqrt{Q / ADV}`.
* Impact exponent: :math:`\\Delta P_k = a\\,\\mathrm{sign}(Q_k) |Q_k/\\bar V|^{\\delta} + c\\,\\Delta s_k`
  by nonlinear least squares (sandwich SE); :math:`\\delta = 1` linear (Kyle), 1/2 square root.

Standard errors: Newey-West with 1 lag (sandwich for the exponent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from mfg_finance.errors import DataError
from mfg_finance.microstructure.estimate import Estimate, ols_hac
from mfg_finance.microstructure.series import SessionSeries


@dataclass(frozen=True)
class IntervalFlow:
    """Per pair of consecutive non-empty intervals: dP (BRL), Q (shares), ds, tau (s); vbar (shares)."""

    dP: np.ndarray
    Q: np.ndarray
    ds: np.ndarray
    tau: np.ndarray
    vbar: float


def interval_flow(sessions: list[SessionSeries], interval_s: float = 300.0) -> IntervalFlow:
    """Price changes and signed flow over consecutive clock intervals (see module docstring)."""
    if not interval_s > 0:
        raise DataError(f"impact interval must be > 0 s, got {interval_s!r}")
    parts, volume, n_intervals = [], 0.0, 0
    for s in sessions:
        edges = np.arange(s.open_s, s.close_s + 1e-9, interval_s)
        bins = np.searchsorted(edges, s.t, side="right") - 1
        last = np.flatnonzero(np.append(bins[1:] != bins[:-1], True))  # last trade of each non-empty bin
        cum = np.concatenate(([0.0], np.cumsum(s.sign * s.qty)))        # cum[i] = flow of trades < i
        a, b = last[:-1], last[1:]
        parts.append((s.price[b] - s.price[a], cum[b] - cum[a], (s.sign[b] - s.sign[a]).astype(float),
                      s.t[b] - s.t[a]))
        volume += float(s.qty.sum())
        n_intervals += edges.size - 1
    dP, Q, ds, tau = (np.concatenate(x) for x in zip(*parts))
    keep = tau > 0
    return IntervalFlow(dP[keep], Q[keep], ds[keep], tau[keep], volume / max(n_intervals, 1))


def kyle_lambda(flow: IntervalFlow) -> dict[str, Estimate]:
    """``lambda`` (BRL/share) and the interval regression's ``half_spread`` (BRL)."""
    beta, se = ols_hac(np.column_stack([flow.Q, flow.ds]), flow.dP, lags=1)
    formula = "OLS of dP_k on (Q_k, ds_k) over consecutive clock intervals, Newey-West(1) SE"
    n = int(flow.dP.size)
    return {"lambda": Estimate(float(beta[0]), float(se[0]), "BRL/share", formula, n),
            "half_spread": Estimate(float(beta[1]), float(se[1]), "BRL", formula, n)}


def sqrt_law(flow: IntervalFlow, sigma: float) -> Estimate:
    """Square-root-law prefactor Y (dimensionless), given the intraday volatility sigma (BRL/sqrt(s))."""
    if not sigma > 0:
        raise DataError(f"square-root law needs a volatility > 0, got {sigma!r}")
    x = sigma * np.sqrt(flow.tau) * np.sign(flow.Q) * np.sqrt(np.abs(flow.Q) / flow.vbar)
    beta, se = ols_hac(np.column_stack([x, flow.ds]), flow.dP, lags=1)
    return Estimate(float(beta[0]), float(se[0]), "1",
                    "OLS of dP_k on (sigma sqrt(tau_k) sign(Q_k) sqrt(|Q_k|/Vbar), ds_k), Newey-West(1) SE "
                    "(sigma taken as known)", int(flow.dP.size))


def impact_exponent(flow: IntervalFlow) -> Estimate:
    """delta of dP = a sign(Q) |Q/Vbar|^delta + c ds (nonlinear least squares, sandwich SE)."""
    z = flow.Q / flow.vbar
    scale = float(np.std(flow.dP)) or 1.0

    def residual(theta):
        a, delta, c = theta
        return (a * np.sign(z) * np.abs(z) ** delta + c * flow.ds - flow.dP) / scale

    start = kyle_lambda(flow)
    a0 = start["lambda"].value * flow.vbar
    fit = least_squares(residual, x0=[a0, 1.0, start["half_spread"].value], bounds=([-np.inf, 0.05, -np.inf],
                                                                                     [np.inf, 3.0, np.inf]))
    J, r = fit.jac, fit.fun
    n, p = J.shape
    bread = np.linalg.pinv(J.T @ J)
    meat = (J * r[:, None]).T @ (J * r[:, None])
    cov = bread @ meat @ bread * n / (n - p)
    return Estimate(float(fit.x[1]), float(math.sqrt(cov[1, 1])), "1",
                    "nonlinear LS of dP_k = a sign(Q_k)|Q_k/Vbar|^delta + c ds_k, sandwich SE", int(n))


def impact_curve(flow: IntervalFlow, half_spread: float, *, n_bins: int = 10) -> dict[str, list[float]]:
    """Binned impact curve for plots: mean bounce-corrected price change (dP - c ds, BRL) against the
    signed flow Q (shares), in quantile bins of Q, with the standard error of each bin's mean."""
    adjusted = flow.dP - half_spread * flow.ds
    edges = np.unique(np.quantile(flow.Q, np.linspace(0, 1, n_bins + 1)))
    bins = np.clip(np.searchsorted(edges, flow.Q, side="right") - 1, 0, max(edges.size - 2, 0))
    out: dict[str, list[float]] = {"Q": [], "dP": [], "se": [], "n": []}
    for b in np.unique(bins):
        sel = bins == b
        n = int(sel.sum())
        out["Q"].append(float(flow.Q[sel].mean()))
        out["dP"].append(float(adjusted[sel].mean()))
        out["se"].append(float(adjusted[sel].std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"))
        out["n"].append(n)
    out["vbar"] = [flow.vbar]
    out["tau_mean"] = [float(flow.tau.mean())]
    return out
