r"""Heston parameters of one ticker from daily bars (method of moments), with a fallback to the config.

When trade files are present the intraday fit comes first
(:mod:`mfg_finance.microstructure.stochastic_volatility`: moments of realized variances over
``calibration.intraday.interval_s`` intervals, with session-bootstrap standard errors); the daily fit
below is used when it is refused (e.g. fewer than 10 sessions of trades), and the config after that.

Time is *trading* time: one session = ``session_seconds`` (B3: 25,200 s), so rates are per trading
second and a one-hour backtest sees the variance of an hour of trading.

Variance proxy: Parkinson's range estimator per session ``p_t = ln(H_t/L_t)^2 / (4 ln 2)``, i.e. the
session's integrated variance plus independent measurement noise. With ``v`` a CIR process sampled
once a session (``Delta`` = one session), its autocovariances are ``c_j = b^j Var(v)`` with
``b = exp(-kappa Delta)``; i.i.d. proxy noise only inflates ``c_0``. Hence (all per second)::

    theta = mean(p) / session_seconds
    b     = sum_{j=1..L} c_{j+1} / sum_{j=1..L} c_j,  kappa = -ln(b) / session_seconds
            (ratio of lagged autocovariances, L = n_lags = 10: immune to the noise, pooled for stability)
    Var v = c_1 / b / session_seconds^2,  xi = sqrt(2 kappa Var v / theta)   (stationary CIR variance)
    rho   = corr(r_t, p_{t+1} - p_t)                           (leverage proxy, attenuated by the noise)

and ``v0 = theta``. The fit is rejected -- and the config fallback used, with the reason recorded --
when fewer than ``min_sessions`` sessions have both a return and a range, or ``c_1 <= 0``, or
``b`` is outside ``(0, 1)`` (no detectable mean reversion at a daily frequency).

Fallback (config ``market_making.heston``): ``theta = (sigma / S0)^2`` from the calibrated GLFT
``sigma`` (BRL/sqrt(s)), ``kappa = mean_reversion_per_session / session_seconds``, ``xi =
variance_cv sqrt(2 kappa theta)`` (``variance_cv`` = stationary std/mean of the variance), ``rho``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError, DataError
from mfg_finance.market_making.heston import HestonParameters

#: session length of B3's continuous trading, 10:00-17:00 (s); same constant as the GLFT calibration
SESSION_SECONDS = 7 * 3600


def parkinson_variance(intraday_range) -> np.ndarray:
    """``ln(H/L)^2 / (4 ln 2)`` per session (dimensionless variance of the session's log-price)."""
    r = np.asarray(intraday_range, dtype=float)
    return r**2 / (4.0 * math.log(2.0))


def fit_heston_moments(log_return, intraday_range, *, session_seconds: float = SESSION_SECONDS,
                       min_sessions: int = 60, n_lags: int = 10) -> tuple[HestonParameters | None, str]:
    """Method-of-moments Heston fit (module docstring); ``(None, reason)`` when it is rejected."""
    r = np.asarray(log_return, dtype=float)
    p = parkinson_variance(intraday_range)
    keep = np.isfinite(r) & np.isfinite(p)
    if keep.sum() < min_sessions:
        return None, f"only {int(keep.sum())} sessions with a return and a range (< {min_sessions})"
    # series kept in session order; sessions without data break no lag because we use what is there
    r, p = r[keep], p[keep]
    centred = p - p.mean()
    cov = np.array([np.mean(centred[j:] * centred[:p.size - j]) for j in range(1, n_lags + 2)])
    c1 = float(cov[0])
    if not c1 > 0.0:
        return None, f"lag-1 autocovariance of the range variance is {c1:.3g} <= 0"
    b = float(cov[1:].sum() / cov[:-1].sum())
    if not 0.0 < b < 1.0:
        return None, f"lag ratio {b:.3g} outside (0, 1): no mean reversion detectable"
    theta = float(p.mean()) / session_seconds
    kappa = -math.log(b) / session_seconds
    var_v = c1 / b / session_seconds**2
    xi = math.sqrt(2.0 * kappa * var_v / theta)
    dp = p[1:] - p[:-1]
    rho = float(np.corrcoef(r[:-1], dp)[0, 1]) if np.std(dp) > 0 and np.std(r[:-1]) > 0 else 0.0
    rho = float(np.clip(rho, -0.99, 0.99))
    return HestonParameters(kappa=kappa, theta=theta, xi=xi, rho=rho, v0=theta), "daily Parkinson moments"


def fallback_heston(sigma: float, S0: float, settings: Mapping[str, Any], *,
                    session_seconds: float = SESSION_SECONDS) -> HestonParameters:
    """Heston parameters from the GLFT calibration and the config (module docstring)."""
    theta = (float(sigma) / float(S0)) ** 2
    kappa = float(settings["mean_reversion_per_session"]) / session_seconds
    xi = float(settings["variance_cv"]) * math.sqrt(2.0 * kappa * theta)
    return HestonParameters(kappa=kappa, theta=theta, xi=xi, rho=float(settings["rho"]), v0=theta)


def calibrate_heston(returns: pd.DataFrame, ticker: str, *, sigma: float, S0: float, settings: Mapping[str, Any],
                     where: str = "returns", intraday: Mapping[str, Any] | None = None,
                     intraday_reason: str | None = None) -> dict:
    """Heston parameters of ``ticker``: the intraday fit when trade files gave one (``intraday``: the
    ``heston`` entry of the intraday estimates, :mod:`mfg_finance.microstructure.stochastic_volatility`,
    with standard errors), else the daily fit when ``settings['calibrate']`` and it succeeds, else the
    fallback. Returns ``{parameters: {...}, source: "intraday" | "daily" | "config", reason: str}`` and,
    for the intraday fit, ``se`` per parameter. ``intraday_reason``: why there is no intraday fit.
    """
    if settings.get("calibrate", True) and intraday:
        values = {k: float(intraday[k]["value"]) for k in ("kappa", "theta", "xi", "rho")}
        clipped = min(max(values["rho"], -0.99), 0.99)
        try:
            fitted = HestonParameters(**{**values, "rho": clipped}, v0=values["theta"])
        except ConfigError as exc:
            intraday_reason = f"intraday fit unusable: {exc}"
        else:
            reason = "intraday realized-variance moments" + (
                f" (rho {values['rho']:.3g} clipped to {clipped:g})" if clipped != values["rho"] else "")
            return {"parameters": fitted.to_dict(), "source": "intraday", "reason": reason,
                    "se": {k: float(intraday[k]["se"]) for k in values}}
    for column in ("ticker", "log_return", "intraday_range"):
        if column not in returns:
            raise DataError(f"{where}: missing column {column!r}; present: {list(returns.columns)}")
    rows = returns[returns["ticker"].astype(str) == str(ticker)]
    if "date" in rows:
        rows = rows.sort_values("date", kind="stable")
    fitted, reason = (None, "calibrate: false in the config")
    if settings.get("calibrate", True):
        fitted, reason = fit_heston_moments(rows["log_return"], rows["intraday_range"],
                                            min_sessions=int(settings.get("min_sessions", 60)))
    if intraday_reason and settings.get("calibrate", True):
        reason = f"intraday: {intraday_reason}; daily: {reason}"
    if fitted is not None:
        return {"parameters": fitted.to_dict(), "source": "daily", "reason": reason}
    return {"parameters": fallback_heston(sigma, S0, settings).to_dict(), "source": "config", "reason": reason}
