"""``compute_stats``: per-session returns, per-asset statistics and a cross-sectional summary.

Every per-asset statistic is a group mean/sum of a per-row term computed once on the whole frame
(no Python loop over tickers), so a full year of B3 (hundreds of tickers x 250 sessions) takes
well under a second.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.stats import liquidity, spread, volatility
from mfg_finance.stats.adjust import ADJUST_MODES, adjust_prices
from mfg_finance.stats.returns import (STATUS_EVENT, STATUS_OK, prepare_equities, rolling_volatility,
                                       session_calendar, session_returns)

#: Quantiles reported in ``summary["quantiles"]``.
SUMMARY_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

#: Per-asset columns summarised across assets in ``summary.json``.
SUMMARY_COLUMNS = (
    "vol_cc_annual", "vol_parkinson_annual", "vol_garman_klass_annual", "adv_brl_mean", "adv_brl_median",
    "adv_shares_mean", "trades_per_session", "avg_trade_size_shares", "amihud_per_brl", "spread_cs",
    "spread_roll", "spread_quoted_close", "last_close_brl", "n_sessions",
)


@dataclass
class StatsResult:
    """Output of :func:`compute_stats`.

    Attributes
    ----------
    returns
        One row per (ticker, session): ``ticker, date, close`` (BRL), ``log_return`` (per session),
        ``gap_sessions`` (int), ``return_status`` (``ok|first|gap|bad_price|event``), ``intraday_range``
        (ln(H/L)), ``rolling_vol_annual`` (1/sqrt(year)).
    asset_stats
        One row per ticker, excluded ones included (``included`` False, ``exclusion_reason`` says why).
    summary
        JSON-able dict: period, settings, counts, exclusions, cross-sectional quantiles, pooled returns.
    """

    returns: pd.DataFrame
    asset_stats: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _check_settings(trading_days_per_year, rolling_window, min_sessions) -> None:
    def integer(x):
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if not (isinstance(trading_days_per_year, numbers.Real) and not isinstance(trading_days_per_year, bool)
            and trading_days_per_year > 0):
        raise DataError(f"stats.trading_days_per_year must be a positive number, got {trading_days_per_year!r}")
    if not (integer(rolling_window) and rolling_window >= 2):
        raise DataError(f"stats.rolling_window must be an integer >= 2 (sessions), got {rolling_window!r}")
    if not (integer(min_sessions) and min_sessions >= 2):
        raise DataError(f"stats.min_sessions must be an integer >= 2, got {min_sessions!r}")


@dataclass
class Tally:
    """What the summary and the final checks need from the returns, accumulated batch by batch of tickers.

    ``pooled`` holds the finite log returns of the included tickers, in returns order (8 bytes a row).
    """

    rows: int = 0
    status: dict[str, int] = field(default_factory=dict)
    missing_sessions: int = 0
    included_rows: int = 0
    rolling_filled: bool = False
    longest: int = 0
    pooled: list[np.ndarray] = field(default_factory=list)

    def add(self, returns: pd.DataFrame, asset_stats: pd.DataFrame) -> None:
        """Count one batch (its tickers appear in no other batch)."""
        self.rows += len(returns)
        for status, n in returns["return_status"].value_counts().items():
            self.status[status] = self.status.get(status, 0) + int(n)
        self.missing_sessions += int(returns["gap_sessions"].sum())
        mine = returns[returns["ticker"].isin(set(asset_stats.loc[asset_stats["included"], "ticker"]))]
        self.included_rows += len(mine)
        if len(mine):
            self.rolling_filled |= bool(mine["rolling_vol_annual"].notna().any())
            self.longest = max(self.longest, int(mine.groupby("ticker", sort=False)["log_return"].count().max()))
        r = mine["log_return"].to_numpy(dtype=float)
        self.pooled.append(r[np.isfinite(r)])


def _check_rolling_window_fits(tally: Tally, rolling_window: int) -> None:
    """Refuse a window that no included ticker's history fills (the column would be all NaN, silently).

    With no included ticker at all the data are too short for anything, which calibration reports.
    """
    if tally.included_rows and not tally.rolling_filled:
        longest = tally.longest
        raise DataError(f"stats.rolling_window = {rolling_window} sessions: no included ticker has enough returns "
                        f"to fill it (the longest history has {longest} valid returns; a value needs 80% of "
                        f"the window), so the rolling volatility would be empty; use a window of at most "
                        f"{max(2, int(longest / 0.8))} sessions or more data")


def check_settings(trading_days_per_year, rolling_window, min_sessions, adjust) -> None:
    """DataError naming the ``stats`` key whose value is invalid."""
    _check_settings(trading_days_per_year, rolling_window, min_sessions)
    if adjust not in ADJUST_MODES:
        raise DataError(f"stats.adjust must be one of {list(ADJUST_MODES)}, got {adjust!r}")


def compute_stats(equities: pd.DataFrame, *, trading_days_per_year: float = 252, rolling_window: int = 21,
                  min_sessions: int = 60, adjust: str = "splits", events: pd.DataFrame | None = None) -> StatsResult:
    """Returns, volatility and liquidity statistics of every ticker in ``equities``.

    Parameters
    ----------
    equities
        One row per (ticker, session) with at least ``date, ticker, open, high, low, close`` (BRL),
        ``n_trades``, ``quantity`` (shares), ``volume`` (BRL); optional ``best_bid, best_ask`` (BRL).
    trading_days_per_year
        Sessions per year used to annualise volatilities (:math:`\\sigma_{year} = \\sigma_{session}
        \\sqrt{N_{year}}`).
    rolling_window
        Window of the rolling volatility, in the ticker's sessions.
    min_sessions
        A ticker with fewer sessions (rows with a positive close) is kept in ``asset_stats`` with
        ``included = False`` and the reason.
    adjust
        ``splits | total_return | none``: backward adjustment of prices and quantities for the
        corporate ``events`` (:mod:`~mfg_finance.stats.adjust`). Returns across ``unexplained``
        events are excluded in every mode (``return_status = "event"``; ``event_breaks`` in the
        per-asset table says which).
    events
        Corporate events (``results/data/corporate_events.parquet``); None = none known.

    Returns
    -------
    StatsResult

    Raises
    ------
    DataError
        Missing columns, empty input, duplicated (ticker, date) rows or invalid settings.

    See :func:`mfg_finance.stats.batched.compute_stats_from_parquet` for the same statistics with
    memory bounded by a batch of tickers (the pipeline's rule).
    """
    check_settings(trading_days_per_year, rolling_window, min_sessions, adjust)
    frame = prepare_equities(equities)
    calendar = session_calendar(frame["date"])
    settings = dict(trading_days_per_year=trading_days_per_year, rolling_window=rolling_window,
                    min_sessions=min_sessions, adjust=adjust)
    returns, asset_stats = ticker_batch_stats(frame, equities, calendar, events, **settings)
    tally = Tally()
    tally.add(returns, asset_stats)
    return StatsResult(returns=returns, asset_stats=asset_stats, summary=finish_stats(asset_stats, tally, calendar,
                                                                                        **settings))


def ticker_batch_stats(frame: pd.DataFrame, equities: pd.DataFrame, calendar: pd.DatetimeIndex,
                       events: pd.DataFrame | None, *, trading_days_per_year: float, rolling_window: int,
                       min_sessions: int, adjust: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns and per-asset rows (exclusions marked) of the tickers of ``frame``.

    ``frame`` is :func:`~.returns.prepare_equities` of ``equities`` (every row of its tickers);
    ``calendar`` the session calendar of *all* tickers. Every statistic is per ticker, so the
    tickers can be taken a batch at a time.
    """
    adjustment = adjust_prices(frame, events, adjust)
    frame = adjustment.frame
    returns = session_returns(frame, calendar)
    breaks = adjustment.break_reason != ""
    returns.loc[breaks, "log_return"] = np.nan
    returns.loc[breaks, "return_status"] = STATUS_EVENT
    returns["rolling_vol_annual"] = rolling_volatility(returns, window=rolling_window,
                                                       trading_days_per_year=trading_days_per_year)
    asset_stats = _asset_stats(frame, returns, trading_days_per_year)
    asset_stats = asset_stats.merge(adjustment.per_ticker, on="ticker", how="left", validate="one_to_one")
    if "instrument_class" in equities.columns:
        classes = equities.groupby(equities["ticker"].astype(str), observed=True)["instrument_class"].last()
        asset_stats.insert(1, "instrument_class", asset_stats["ticker"].map(classes.astype(str)).fillna("").to_numpy())
    _mark_exclusions(asset_stats, min_sessions)
    return returns, asset_stats


def finish_stats(asset_stats: pd.DataFrame, tally: Tally, calendar: pd.DatetimeIndex, *,
                 trading_days_per_year: float, rolling_window: int, min_sessions: int, adjust: str) -> dict:
    """The checks across all tickers and the summary, from the per-asset table and the batches' tally."""
    _check_rolling_window_fits(tally, rolling_window)
    return _summary(asset_stats, tally, calendar, trading_days_per_year=trading_days_per_year,
                    rolling_window=rolling_window, min_sessions=min_sessions, adjust=adjust)


def _row_terms(frame: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """Per-row quantities whose per-ticker means/sums are the asset statistics."""
    r = returns["log_return"].to_numpy()
    ticker = returns["ticker"].to_numpy()
    same_ticker_prev = np.r_[False, ticker[1:] == ticker[:-1]]
    # A pair of sessions across a gap or an unexplained event is not a consecutive pair.
    consecutive = (same_ticker_prev & (returns["gap_sessions"].to_numpy() == 0)
                   & (returns["return_status"].to_numpy() != STATUS_EVENT))

    o, h, l, c = (frame[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    shift = lambda x: np.r_[np.nan, x[:-1]]  # noqa: E731  (previous row, same frame)
    cs = spread.corwin_schultz_pairs(shift(h), shift(l), shift(c), h, l)
    cs[~consecutive] = np.nan

    r_prev = shift(r)
    roll_ok = consecutive & np.isfinite(r) & np.isfinite(r_prev)
    if {"best_bid", "best_ask"} <= set(frame.columns):
        quoted = spread.quoted_spread(frame["best_bid"], frame["best_ask"])
    else:
        quoted = np.full(len(frame), np.nan)

    volume = frame["volume"].to_numpy(dtype=float)
    return pd.DataFrame({
        "ticker": ticker,
        "close_ok": np.isfinite(c) & (c > 0),
        "ret": r,
        "ret_ok": returns["return_status"].to_numpy() == STATUS_OK,
        "gap": returns["gap_sessions"].to_numpy(),
        "parkinson": volatility.parkinson_terms(h, l),
        "garman_klass": volatility.garman_klass_terms(o, h, l, c),
        "range": returns["intraday_range"].to_numpy(),
        "volume": volume,
        "quantity": frame["quantity"].to_numpy(dtype=float),
        "n_trades": frame["n_trades"].to_numpy(dtype=float),
        "amihud": liquidity.amihud_terms(r, volume),
        "cs": cs,
        "quoted": quoted,
        # Roll: sums for cov(r_{t-1}, r_t) over valid consecutive pairs.
        "roll_n": roll_ok.astype(float),
        "roll_a": np.where(roll_ok, r_prev, 0.0),
        "roll_b": np.where(roll_ok, r, 0.0),
        "roll_ab": np.where(roll_ok, r_prev * r, 0.0),
        "date": returns["date"].to_numpy(),
        "close": c,
    })


def _roll_from_sums(n, sa, sb, sab) -> np.ndarray:
    # cov = (sum ab - sum a sum b / n) / (n - 1); Roll needs cov < 0 and at least 3 pairs.
    n, sa, sb, sab = (np.asarray(x, dtype=float) for x in (n, sa, sb, sab))
    out = np.full(n.shape, np.nan)
    ok = n >= 3
    cov = (sab[ok] - sa[ok] * sb[ok] / n[ok]) / (n[ok] - 1.0)
    res = np.full(cov.shape, np.nan)
    neg = cov < 0
    res[neg] = 2.0 * np.sqrt(-cov[neg])
    out[ok] = res
    return out


def _asset_stats(frame: pd.DataFrame, returns: pd.DataFrame, trading_days_per_year: float) -> pd.DataFrame:
    terms = _row_terms(frame, returns)
    g = terms.groupby("ticker", sort=True)
    ret_valid = terms["ret"].where(terms["ret_ok"])
    by_ret = ret_valid.groupby(terms["ticker"], sort=True)

    var_cc = by_ret.var(ddof=1)
    last_close = terms["close"].where(terms["close_ok"]).groupby(terms["ticker"], sort=True).last()
    quantity_sum, trades_sum = g["quantity"].sum(), g["n_trades"].sum()
    sums = g[["roll_n", "roll_a", "roll_b", "roll_ab"]].sum()

    out = pd.DataFrame({
        "n_sessions": g["close_ok"].sum().astype("int64"),
        "n_returns": g["ret_ok"].sum().astype("int64"),
        "n_gap_sessions": g["gap"].sum().astype("int64"),
        "first_date": g["date"].min(),
        "last_date": g["date"].max(),
        "last_close_brl": last_close,
        "mean_log_return_daily": by_ret.mean(),
        "max_abs_log_return": ret_valid.abs().groupby(terms["ticker"], sort=True).max(),
        "vol_cc_daily": np.sqrt(var_cc),
        "vol_cc_annual": volatility.annualise(var_cc.to_numpy(), trading_days_per_year),
        "vol_parkinson_annual": volatility.annualise(g["parkinson"].mean().to_numpy(), trading_days_per_year),
        "vol_garman_klass_annual": volatility.annualise(g["garman_klass"].mean().to_numpy(),
                                                        trading_days_per_year),
        "intraday_range_mean": g["range"].mean(),
        "adv_brl_mean": g["volume"].mean(),
        "adv_brl_median": g["volume"].median(),
        "adv_shares_mean": g["quantity"].mean(),
        "adv_shares_median": g["quantity"].median(),
        "trades_per_session": g["n_trades"].mean(),
        "avg_trade_size_shares": (quantity_sum / trades_sum.where(trades_sum > 0)),
        "amihud_per_brl": g["amihud"].mean(),
        "spread_cs": g["cs"].mean(),
        "spread_roll": _roll_from_sums(sums["roll_n"], sums["roll_a"], sums["roll_b"], sums["roll_ab"]),
        "spread_quoted_close": g["quoted"].median(),
        "total_volume_brl": g["volume"].sum(),
    })
    out.index.name = "ticker"
    out = out.reset_index()
    out.insert(1, "included", True)
    out.insert(2, "exclusion_reason", "")
    return out


def exclusion_reasons(row: pd.Series, min_sessions: int) -> list[str]:
    """Why a ticker cannot enter the cross-section (empty list: it can)."""
    reasons = []
    if row["n_sessions"] < min_sessions:
        reasons.append(f"n_sessions={int(row['n_sessions'])} < min_sessions={min_sessions}")
    if row["n_returns"] < 2:
        reasons.append(f"n_returns={int(row['n_returns'])}: fewer than 2 valid returns")
    if not row["total_volume_brl"] > 0:
        reasons.append("zero traded volume (volume_brl sums to 0)")
    vol = row["vol_cc_annual"]
    if row["n_returns"] >= 2 and not (np.isfinite(vol) and vol > 0):
        reasons.append(f"vol_cc_annual={vol}: constant or invalid closes")
    return reasons


def _mark_exclusions(asset_stats: pd.DataFrame, min_sessions: int) -> None:
    reasons = [exclusion_reasons(row, min_sessions) for _, row in asset_stats.iterrows()]
    asset_stats["included"] = [not r for r in reasons]
    asset_stats["exclusion_reason"] = ["; ".join(r) for r in reasons]


def _quantiles(values: pd.Series) -> dict[str, float | None]:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0}
    out: dict[str, Any] = {"n": int(v.size), "mean": float(v.mean())}
    out.update({f"q{int(round(100 * q)):02d}": float(np.quantile(v, q)) for q in SUMMARY_QUANTILES})
    return out


def _pooled_returns(r: np.ndarray) -> dict[str, float | int | None]:
    """Moments of the pooled finite log returns ``r``."""
    if r.size < 4:
        return {"n": int(r.size)}
    z = (r - r.mean()) / r.std(ddof=1) if r.std(ddof=1) > 0 else np.zeros_like(r)
    return {"n": int(r.size), "mean": float(r.mean()), "std": float(r.std(ddof=1)),
            "skewness": float(np.mean(z ** 3)), "excess_kurtosis": float(np.mean(z ** 4) - 3.0)}


def _summary(asset_stats, tally: Tally, calendar, **settings) -> dict[str, Any]:
    included = asset_stats[asset_stats["included"]]
    excluded = asset_stats[~asset_stats["included"]]
    pooled = np.concatenate(tally.pooled) if tally.pooled else np.empty(0)
    return {
        "period": {"start": f"{calendar[0]:%Y-%m-%d}", "end": f"{calendar[-1]:%Y-%m-%d}",
                   "n_sessions": int(len(calendar))},
        "calendar": "sessions = sorted union of the dates present in the input (any ticker)",
        "settings": dict(settings),
        "counts": {
            "tickers": int(len(asset_stats)), "included": int(len(included)), "excluded": int(len(excluded)),
            "rows": int(tally.rows), "valid_returns": int(tally.status.get("ok", 0)),
            "gap_events": int(tally.status.get("gap", 0)),
            "event_breaks": int(tally.status.get(STATUS_EVENT, 0)),
            "missing_ticker_sessions": int(tally.missing_sessions),
        },
        "excluded": dict(zip(excluded["ticker"].astype(str), excluded["exclusion_reason"])),
        "quantiles": {col: _quantiles(included[col]) for col in SUMMARY_COLUMNS},
        "pooled_returns_included": _pooled_returns(pooled),
    }
