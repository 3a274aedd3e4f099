r"""Portfolios of correlated tickers: parameters from the calibration, backtests and their statistics.

A portfolio is a list of tickers with calibrated one-asset parameters (``mm_params.yaml``: ``sigma``
BRL/sqrt(s), ``A`` 1/s, ``k`` 1/BRL, ``Q_max`` lots, ``S0`` BRL) and the correlation ``R`` of their
daily log-returns (sessions where every ticker has a return). The mid covariance in BRL^2/s is
``Sigma = diag(sigma) R diag(sigma)``: the calibrated ``sigma_i = vol_daily_i S0_i / sqrt(session
seconds)`` already scales the daily volatility to seconds, and a correlation is the same at every
horizon under Brownian mids. Risk aversion ``gamma`` (1/BRL) is the portfolio's, times ``order_size``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError, DataError
from mfg_finance.market_making.backtest import n_steps_of, sharpe_standard_error, std_standard_error
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.multi_asset import MultiAssetParameters
from mfg_finance.market_making.multi_simulator import MultiDynamics, simulate_multi
from mfg_finance.market_making.multi_strategies import build_multi_strategy
from mfg_finance.market_making.portfolio_names import portfolio_name
from mfg_finance.market_making.risk_measures import cvar

#: fewest sessions with a return for every ticker of a portfolio before a correlation is estimated
#: (a month of B3 data has ~19 sessions; config market_making.multi_asset.min_common_sessions)
MIN_COMMON_SESSIONS = 10


def return_correlation(returns: pd.DataFrame, tickers: Sequence[str], *, column: str = "log_return",
                       min_sessions: int = MIN_COMMON_SESSIONS, where: str = "returns") -> tuple[np.ndarray, int]:
    """Correlation of daily returns of ``tickers`` over the sessions where all have one; and that count.

    ``returns`` is long (``ticker, date, <column>``), as ``results/stats/returns.parquet``; NaN returns
    (first session, gaps) are left out, never filled.
    """
    for name in ("ticker", "date", column):
        if name not in returns:
            raise DataError(f"{where}: missing column {name!r}; present: {list(returns.columns)}")
    tickers = [str(t) for t in tickers]
    missing = [t for t in tickers if t not in set(returns["ticker"].astype(str))]
    if missing:
        raise ConfigError(f"market_making.portfolios: ticker(s) {missing} not in {where}")
    subset = returns[returns["ticker"].astype(str).isin(tickers)]
    wide = subset.pivot_table(index="date", columns="ticker", values=column, aggfunc="first")[tickers]
    common = wide.dropna()
    if len(common) < max(int(min_sessions), 3):
        raise DataError(f"{where}: tickers {tickers} share only {len(common)} sessions with a return; need at "
                        f"least {min_sessions} (market_making.multi_asset.min_common_sessions) to estimate "
                        "their correlation")
    corr = np.corrcoef(common.to_numpy(dtype=float), rowvar=False)
    if not np.all(np.isfinite(corr)):
        raise DataError(f"{where}: correlation of {tickers} is undefined (a ticker's return never varies)")
    return np.atleast_2d(corr), len(common)


def portfolio_parameters(markets: Sequence[MarketParameters], correlation: np.ndarray, *, horizon_s: float,
                         gamma: float | None = None) -> MultiAssetParameters:
    """Joint problem of calibrated one-asset markets with return correlation ``correlation``.

    ``gamma`` (1/BRL) defaults to the first market's; ``order_size`` multiplies it as in one-asset GLFT.
    """
    sigma = np.array([m.sigma for m in markets])
    correlation = np.asarray(correlation, dtype=float)
    if correlation.shape != (len(markets), len(markets)):
        raise ConfigError(f"correlation must be {len(markets)} x {len(markets)}, got {correlation.shape}")
    size = markets[0].order_size
    g = (markets[0].gamma if gamma is None else float(gamma)) * size
    return MultiAssetParameters(covariance=correlation * np.outer(sigma, sigma), A=[m.A for m in markets],
                                k=[m.k for m in markets], gamma=g, Q_max=[m.Q_max for m in markets],
                                T=float(horizon_s), phi=[m.phi for m in markets])


def run_multi_backtest(strategy: str, params: MultiAssetParameters, *, dt_s: float, n_paths: int, seed,
                       table_dt_s: float, fill_model: str = "exponential", S0=0.0, order_size: float = 1.0,
                       tickers: Sequence[str] | None = None, mids=None) -> pd.DataFrame:
    """Monte Carlo backtest of one multi-asset strategy over the horizon ``params.T``; one row per path.

    ``final_pnl`` (BRL, times ``order_size``), ``mean_risk_rate`` (time average of ``q' Sigma q``,
    BRL^2/s), ``n_trades``, ``max_abs_inventory`` (lots, over assets), per-ticker final inventory and
    fill counts.
    """
    n_steps = n_steps_of(params.T, dt_s)
    dyn = MultiDynamics(covariance=params.covariance, A=params.A, k=params.k, Q_max=params.Q_max,
                        dt=float(dt_s), n_steps=n_steps, S0=S0, fill_model=fill_model)
    quoting = build_multi_strategy(strategy, params, n_steps=n_steps, dt=float(dt_s), table_dt=float(table_dt_s))
    result = simulate_multi(quoting, dyn, n_paths=n_paths, seed=seed, mids=mids)
    frame = result.to_frame(list(tickers) if tickers is not None else None)
    frame["final_pnl"] *= float(order_size)
    return frame


def _mean_se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def pnl_statistics(pnl: np.ndarray, *, cvar_level: float = 0.05) -> dict:
    """Mean, std, Sharpe (mean/std over the horizon) and CVaR of a PnL sample, each with its standard error."""
    pnl = np.asarray(pnl, dtype=float)
    std = float(pnl.std(ddof=1)) if pnl.size > 1 else float("nan")
    value, value_se = cvar(pnl, cvar_level)
    return {"n_paths": int(pnl.size), "pnl_mean": float(pnl.mean()), "pnl_mean_se": _mean_se(pnl),
            "pnl_std": std, "pnl_std_se": std_standard_error(pnl),
            "sharpe": float(pnl.mean() / std) if std > 0 else float("nan"),
            "sharpe_se": sharpe_standard_error(pnl), "pnl_cvar": value, "pnl_cvar_se": value_se}


def _paired(frame: pd.DataFrame, base: pd.DataFrame | None) -> dict:
    if base is None or len(base) != len(frame):
        nan = float("nan")
        return {"pnl_minus_baseline": nan, "pnl_minus_baseline_se": nan,
                "risk_rate_minus_baseline": nan, "risk_rate_minus_baseline_se": nan}
    pnl = frame["final_pnl"].to_numpy(dtype=float) - base["final_pnl"].to_numpy(dtype=float)
    risk = frame["mean_risk_rate"].to_numpy(dtype=float) - base["mean_risk_rate"].to_numpy(dtype=float)
    return {"pnl_minus_baseline": float(pnl.mean()), "pnl_minus_baseline_se": _mean_se(pnl),
            "risk_rate_minus_baseline": float(risk.mean()), "risk_rate_minus_baseline_se": _mean_se(risk)}


def multi_backtest_statistics(results: Mapping[tuple[str, str], pd.DataFrame], *,
                              cvar_level: float = 0.05, baseline: str = "independent_glft") -> pd.DataFrame:
    """One row per (portfolio, strategy): PnL statistics with standard errors (:func:`pnl_statistics`),
    the inventory risk ``sqrt(mean q' Sigma q)`` (BRL/sqrt(s)) with its se (delta method), trades per path.

    When the ``baseline`` strategy ran on the same portfolio (same seed, hence the same paths), the
    paired per-path differences against it are added: ``pnl_minus_baseline`` (BRL) and
    ``risk_rate_minus_baseline`` (mean ``q' Sigma q``, BRL^2/s), each with the standard error of a
    paired mean (far smaller than the two separate se's: the paths are shared).
    """
    if not results:
        raise ConfigError("multi_backtest_statistics needs at least one (portfolio, strategy) result")
    rows = []
    for (portfolio, strategy), frame in results.items():
        if frame.empty or "final_pnl" not in frame or "mean_risk_rate" not in frame:
            raise ConfigError(f"multi-asset backtest ({portfolio}, {strategy}) is empty or lacks columns")
        risk = frame["mean_risk_rate"].to_numpy(dtype=float)
        risk_mean = float(risk.mean())
        root = float(np.sqrt(risk_mean))
        rows.append({"portfolio": str(portfolio), "strategy": str(strategy),
                     **pnl_statistics(frame["final_pnl"].to_numpy(), cvar_level=cvar_level),
                     "cvar_level": float(cvar_level),
                     "risk_rate_sqrt": root,
                     "risk_rate_sqrt_se": _mean_se(risk) / (2.0 * root) if root > 0 else float("nan"),
                     "trades_mean": float(frame["n_trades"].mean()),
                     "trades_mean_se": _mean_se(frame["n_trades"].to_numpy(dtype=float)),
                     "horizon_s": float(frame["horizon_s"].iloc[0]),
                     **_paired(frame, results.get((portfolio, baseline)))})
    return pd.DataFrame(rows).sort_values(["portfolio", "strategy"], kind="stable").reset_index(drop=True)


# -- pipeline documents ------------------------------------------------------------------------------
def portfolio_document(tickers: Sequence[str], markets: Sequence[MarketParameters], returns: pd.DataFrame, *,
                       gamma: float, horizon_s: float, return_column: str = "log_return",
                       min_sessions: int = MIN_COMMON_SESSIONS, where: str = "returns") -> dict:
    """The calibrated joint problem of a portfolio, as written to ``portfolios/<name>/params.yaml``."""
    corr, n_common = return_correlation(returns, tickers, column=return_column, min_sessions=min_sessions,
                                        where=where)
    params = portfolio_parameters(markets, corr, horizon_s=horizon_s, gamma=gamma)
    return {
        "portfolio": portfolio_name(tickers),
        "tickers": [str(t) for t in tickers],
        "units": {"covariance": "BRL^2/s", "sigma": "BRL/sqrt(s)", "A": "1/s", "k": "1/BRL", "gamma": "1/BRL",
                  "Q_max": "lots", "S0": "BRL", "horizon_s": "s"},
        "correlation": corr.tolist(),
        "n_common_sessions": int(n_common),
        "return_column": return_column,
        "covariance": params.covariance.tolist(),
        "sigma": [m.sigma for m in markets], "A": params.A.tolist(), "k": params.k.tolist(),
        "Q_max": params.Q_max.tolist(), "phi": params.phi.tolist(), "S0": [m.S0 for m in markets],
        "tick_size": [m.tick_size for m in markets], "order_size": float(markets[0].order_size),
        "gamma": float(gamma), "gamma_effective": float(params.gamma), "horizon_s": float(horizon_s),
        "method": "Sigma = diag(sigma) R diag(sigma); R = correlation of daily log-returns over common sessions",
    }
