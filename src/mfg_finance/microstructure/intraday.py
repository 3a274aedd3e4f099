"""All intraday estimates of one instrument, as one JSON-able document.

:func:`estimate_instrument` runs every estimator of this package on an instrument's sessions and
returns ``{"estimates": {name: Estimate-as-dict or {"error": reason}}, "profile": ...,
"signature": ..., "sizes": ...}``. An estimator that cannot run on the data (too few trades, no
bounce, collinear flow) records why instead of a value; callers fall back to the daily heuristics
for the parameters that depend on it, and say so.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.microstructure import arrivals, impact, spread, stochastic_volatility, volatility
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.series import instrument_sessions

SIGNATURE_INTERVALS_S = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200)


def _attempt(fn: Callable[[], dict | Estimate], errors: dict, name: str) -> dict | Estimate | None:
    try:
        return fn()
    except DataError as exc:
        errors[name] = str(exc)
        return None


def estimate_instrument(trades: pd.DataFrame, ticker: str, *, interval_s: float = 300.0, n_blocks: int = 12,
                        lot: int = 100, open_s: float = 36000.0, close_s: float = 61200.0,
                        profile_bin_s: float = 1800.0) -> dict:
    """Every intraday estimate of ``ticker`` (see module docstring).

    Parameters
    ----------
    trades
        As :func:`mfg_finance.trades.read_trades` returns (any number of sessions).
    interval_s
        Clock interval of the impact regressions (s).
    n_blocks
        Clock blocks per session for the block-mean estimators (volatility, Roll).
    lot
        Shares per lot for the geometric size fit.
    open_s, close_s
        Window of the continuous session, seconds since midnight (default 10:00-17:00).
    profile_bin_s
        Bin of the nonparametric intraday profile (s).
    """
    sessions = instrument_sessions(trades, ticker, open_s=open_s, close_s=close_s)
    errors: dict[str, str] = {}
    est: dict[str, Estimate] = {}
    var = _attempt(lambda: volatility.variance_per_second(sessions, n_blocks=n_blocks), errors, "variance_per_second")
    if var is not None:
        est["variance_per_second"] = var
        sigma = _attempt(lambda: volatility.volatility_per_sqrt_second(var), errors, "sigma")
        if sigma is not None:
            est["sigma"] = sigma
    roll = _attempt(lambda: spread.roll_half_spread(sessions, n_blocks=n_blocks), errors, "roll_half_spread")
    if roll is not None:
        est["roll_half_spread"] = roll
    signed = _attempt(lambda: spread.signed_trade_regression(sessions), errors, "signed_half_spread")
    if signed is not None:
        est["signed_half_spread"] = signed["half_spread"]
        est["impact_per_trade_share"] = signed["impact_per_share"]
    rates = arrivals.arrival_rates(sessions)
    est.update({f"rate_{k}": v for k, v in rates.items()})
    shape = _attempt(lambda: arrivals.profile_shape(sessions), errors, "profile_shape")
    if shape is not None:
        est["profile_shape"] = shape
    sizes = _attempt(lambda: arrivals.trade_sizes(sessions, lot=lot), errors, "trade_sizes")
    if sizes is not None:
        est["size_mean"], est["size_mean_square"] = sizes["mean"], sizes["mean_square"]
        if sizes["geometric_p"] is not None:
            est["size_geometric_p"] = sizes["geometric_p"]
    flow = _attempt(lambda: impact.interval_flow(sessions, interval_s), errors, "interval_flow")
    curve = None
    if flow is not None:
        kyle = _attempt(lambda: impact.kyle_lambda(flow), errors, "kyle_lambda")
        if kyle is not None:
            est["kyle_lambda"] = kyle["lambda"]
        if "sigma" in est:
            y = _attempt(lambda: impact.sqrt_law(flow, est["sigma"].value), errors, "sqrt_law_y")
            if y is not None:
                est["sqrt_law_y"] = y
        else:
            errors["sqrt_law_y"] = "needs the intraday volatility, which could not be estimated"
        delta = _attempt(lambda: impact.impact_exponent(flow), errors, "impact_exponent")
        if delta is not None:
            est["impact_exponent"] = delta
        c = kyle["half_spread"].value if kyle is not None else 0.0
        curve = impact.impact_curve(flow, c)
    heston = _attempt(lambda: stochastic_volatility.fit_heston_intraday(
        *stochastic_volatility.interval_series(sessions, interval_s), interval_s), errors, "heston")
    return {
        "ticker": ticker,
        "sessions": [s.date for s in sessions],
        # Heston kappa, theta, xi, rho (1/s) from the interval realized variances, or None (errors["heston"])
        "heston": None if heston is None else {k: v.as_dict() for k, v in heston.items()},
        "n_trades": int(sum(s.t.size for s in sessions)),
        "sign_source": sorted({s.sign_source for s in sessions}),
        "settings": {"interval_s": interval_s, "n_blocks": n_blocks, "lot": lot, "open_s": open_s,
                     "close_s": close_s, "profile_bin_s": profile_bin_s},
        "estimates": {k: v.as_dict() for k, v in est.items()},
        "errors": errors,
        "quantiles_shares": sizes["quantiles"] if sizes is not None else None,
        "profile": arrivals.binned_profile(sessions, bin_s=profile_bin_s),
        "signature": volatility.signature_plot(sessions, SIGNATURE_INTERVALS_S),
        "impact_curve": curve,
    }


def estimate_from_dict(entry: dict) -> Estimate:
    """An :class:`Estimate` back from its dict (as stored by :func:`estimate_instrument`)."""
    return Estimate(**entry)


def estimate_sessions(paths, tickers, *, source: str = "", **settings) -> dict:
    """:func:`estimate_instrument` for each ticker over the session Parquet files ``paths``.

    Returns ``{"source", "sessions" (files read), "tickers": {TICKER: estimates}, "missing":
    {TICKER: reason}}``; a ticker without standing trades in the session window is listed in
    ``missing`` (its parameters keep the daily heuristics).
    """
    frames = [pd.read_parquet(p) for p in paths]
    for f in frames:
        f["ticker"] = f["ticker"].astype(str)
    trades = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out: dict = {"source": source, "sessions": [str(p) for p in paths], "tickers": {}, "missing": {}}
    for ticker in tickers:
        if trades.empty or not (trades["ticker"] == ticker).any():
            out["missing"][ticker] = "no trade of this ticker in the session files"
            continue
        try:
            out["tickers"][ticker] = estimate_instrument(trades, ticker, **settings)
        except DataError as exc:
            out["missing"][ticker] = str(exc)
    return out
