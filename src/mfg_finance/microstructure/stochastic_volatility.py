r"""Heston parameters from intraday realized variances (trade files), with bootstrap standard errors.

Model (time in seconds, as :mod:`mfg_finance.market_making.heston`): ``d ln S = -v/2 dt + sqrt(v) dW``,
``dv = kappa (theta - v) dt + xi sqrt(v) dB``, ``d<W, B> = rho dt``.

Series. Each session is cut into clock intervals of ``Delta`` seconds (``calibration.intraday.interval_s``);
interval ``j`` gives ``x_j`` = the two-scale realized variance of the log trade price (unbiased for the
integrated variance ``IV_j = int_j v dt`` under i.i.d. noise, :func:`.volatility.tsrv`) and ``r_j`` =
the log-price change over the interval. With at least :data:`MIN_SESSIONS` sessions the intraday
seasonality is divided out first: ``x_j / f_k`` and ``r_j / sqrt(f_k)``, ``f_k`` the mean of ``x`` at
the ``k``-th interval of the day over the sessions, relative to the overall mean.

Moments. The CIR variance has ``Cov(v_t, v_s) = Var(v) e^{-kappa |t - s|}``, so for lags ``l >= 1``
(pairs inside one session only)::

    c_l = Cov(x_j, x_{j+l}) = Var(v) D^2 b^(l-1),   b = e^{-kappa Delta},  D = (1 - b) / kappa

independent measurement errors of the ``x_j`` enter ``c_0`` only. Hence::

    b     = sum_{l=1..L} c_{l+1} / sum_{l=1..L} c_l      kappa = -ln(b) / Delta   (L = N_LAGS)
    theta = mean(x) / Delta
    Var v = c_1 / D^2                                    xi = sqrt(2 kappa Var v / theta)
    rho   = Cov(r_j, x_{j+1}) / (xi theta D^2)

(the last from ``Cov(int_j sqrt(v) dW, IV_{j+1}) = rho xi E[v] D^2``: the leverage effect of this
interval's return on the next interval's variance, free of the noise of ``x_j`` itself).

Standard errors: bootstrap over whole sessions (``N_BOOTSTRAP`` resamples with replacement, seeded),
the standard deviation of each estimate over the resamples whose fit succeeds. The fit is refused,
with the reason, when there are fewer than :data:`MIN_SESSIONS` sessions, ``c_1 <= 0`` or ``b`` is
outside (0, 1) (no mean reversion visible at this sampling).
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.errors import DataError
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.series import SessionSeries
from mfg_finance.microstructure.volatility import MIN_TRADES_PER_BLOCK, tsrv

#: lags pooled in the lag-ratio estimate of b
N_LAGS = 10
#: fewest sessions for a fit (seasonality, session bootstrap)
MIN_SESSIONS = 10
#: bootstrap resamples of the sessions
N_BOOTSTRAP = 200
UNITS = {"kappa": "1/s", "theta": "1/s", "xi": "1/s", "rho": "1"}


def interval_series(sessions: list[SessionSeries], interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x, r)``, each ``(n_sessions, n_intervals)``: two-scale realized variance of the log price
    (dimensionless) and log-price change per clock interval; NaN where an interval has fewer than
    ``MIN_TRADES_PER_BLOCK`` trades."""
    if not interval_s > 0:
        raise DataError(f"interval_s must be > 0, got {interval_s!r}")
    n_int = int(math.floor((sessions[0].close_s - sessions[0].open_s) / interval_s))
    if n_int < N_LAGS + 2:
        raise DataError(f"{n_int} intervals of {interval_s:g} s per session; the Heston fit needs at least "
                        f"{N_LAGS + 2}")
    x = np.full((len(sessions), n_int), np.nan)
    r = np.full((len(sessions), n_int), np.nan)
    for i, s in enumerate(sessions):
        edges = s.open_s + interval_s * np.arange(n_int + 1)
        idx = np.searchsorted(s.t, edges)
        logp = np.log(s.price)
        for j, (a, b) in enumerate(zip(idx[:-1], idx[1:])):
            if b - a >= MIN_TRADES_PER_BLOCK:
                x[i, j] = tsrv(logp[a:b])
                r[i, j] = logp[b - 1] - logp[a]
    return x, r


def _lag_cov(x: np.ndarray, y: np.ndarray, lag: int) -> float:
    """Mean of x_j y_{j+lag} over the pairs inside a session where both are present."""
    prod = x[:, :x.shape[1] - lag] * y[:, lag:]
    prod = prod[np.isfinite(prod)]
    return float(prod.mean()) if prod.size else math.nan


def moments_fit(x: np.ndarray, r: np.ndarray, interval_s: float) -> dict[str, float]:
    """The moment estimates (module docstring) of one set of sessions; raises DataError when refused."""
    m = np.nanmean(x)
    xc, rc = x - m, r - np.nanmean(r)
    cov = np.array([_lag_cov(xc, xc, lag) for lag in range(1, N_LAGS + 2)])
    if not np.all(np.isfinite(cov)):
        raise DataError("too few intervals with trades for the lagged covariances")
    if not cov[0] > 0:
        raise DataError(f"lag-1 autocovariance of the realized variance is {cov[0]:.3g} <= 0")
    b = float(cov[1:].sum() / cov[:-1].sum())
    if not 0.0 < b < 1.0:
        raise DataError(f"lag ratio {b:.4g} outside (0, 1): no mean reversion visible at {interval_s:g} s")
    kappa = -math.log(b) / interval_s
    theta = float(m) / interval_s
    if not theta > 0:
        raise DataError(f"mean realized variance {m:.3g} <= 0: noise dominates the data")
    d = (1.0 - b) / kappa
    xi = math.sqrt(2.0 * kappa * (cov[0] / d**2) / theta)
    rho = _lag_cov(rc, xc, 1) / (xi * theta * d**2)
    return {"kappa": kappa, "theta": theta, "xi": xi, "rho": rho}


def _deseasonalize(x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    profile = np.nanmean(x, axis=0) / np.nanmean(x)
    if not np.all(np.isfinite(profile) & (profile > 0)):
        raise DataError("an interval of the day has no positive mean realized variance: cannot remove the "
                        "intraday seasonality")
    return x / profile, r / np.sqrt(profile)


def fit_heston_intraday(x: np.ndarray, r: np.ndarray, interval_s: float, *, seed: int = 0,
                        n_bootstrap: int = N_BOOTSTRAP, deseasonalize: bool = True) -> dict[str, Estimate]:
    """kappa, theta, xi, rho (per second) with session-bootstrap SEs from the interval series.

    ``x``, ``r``: ``(n_sessions, n_intervals)`` as :func:`interval_series` returns. Raises
    :class:`~mfg_finance.errors.DataError` with the reason when the fit is refused.
    """
    x, r = np.asarray(x, dtype=float), np.asarray(r, dtype=float)
    n = x.shape[0]
    if n < MIN_SESSIONS:
        raise DataError(f"only {n} session(s) of trades; the intraday Heston fit needs at least {MIN_SESSIONS}")
    if deseasonalize:
        x, r = _deseasonalize(x, r)
    point = moments_fit(x, r, interval_s)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(int(n_bootstrap)):
        pick = rng.integers(0, n, n)
        try:
            draws.append(moments_fit(x[pick], r[pick], interval_s))
        except DataError:
            continue
    if len(draws) < max(10, n_bootstrap // 2):
        raise DataError(f"the fit fails on {n_bootstrap - len(draws)} of {n_bootstrap} bootstrap resamples of the "
                        "sessions: too unstable for a standard error")
    n_obs = int(np.isfinite(x).sum())
    formula = (f"moments of {interval_s:g}-s realized variances (lag ratio over {N_LAGS} lags, stationary CIR "
               f"variance, leverage covariance); SE: bootstrap of {n} sessions ({len(draws)}/{n_bootstrap} resamples)")
    return {k: Estimate(float(v), float(np.std([d[k] for d in draws], ddof=1)), UNITS[k], formula, n_obs, float(n - 1))
            for k, v in point.items()}
