r"""Monte Carlo backtests of quoting strategies on calibrated parameters, and their statistics.

``run_backtest`` simulates one strategy on one ticker (all paths vectorized) and returns one row
per path; ``backtest_statistics`` summarises many such frames with Monte Carlo standard errors.
Money is in BRL (per share when ``order_size`` = 1), inventory in lots, time in seconds.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.simulator import (FILL_MODELS, MID_MODELS, Dynamics, simulate_policy,
                                                 simulate_table)
from mfg_finance.market_making.strategies import STRATEGIES, build_quote_table
from mfg_finance.market_making._checks import n_steps_of  # also imported from here by other modules

#: columns of a per-path result frame
RESULT_COLUMNS = ("path", "final_pnl", "final_inventory", "n_trades", "n_bid_fills", "n_ask_fills",
                  "max_abs_inventory", "mean_spread", "horizon_s")


def run_backtest(strategy: str | Callable, params: Mapping | MarketParameters, *, horizon_s: float,
                 dt_s: float, n_paths: int, seed, fill_model: str = "exponential",
                 mid_model: str = "gaussian", q0: int = 0, engine: str = "auto") -> pd.DataFrame:
    """Monte Carlo backtest of one strategy on one ticker's calibrated parameters.

    Parameters
    ----------
    strategy : str or callable
        ``"hjb"`` (GLFT exact quotes), ``"avellaneda_stoikov"``, ``"constant"``,
        ``"inventory_aware"``, or a policy ``policy(t, q, S) -> (bid, ask)`` (BRL; arrays over paths).
    params : mapping or MarketParameters
        ``sigma`` (BRL/sqrt(s)), ``A`` (1/s), ``k`` (1/BRL), ``gamma`` (1/BRL), ``Q_max`` (lots),
        ``S0`` (BRL), ``tick_size`` (BRL); optional ``phi`` (BRL/lot^2, default 0), ``order_size``,
        ``half_spread``, ``skew`` (see :class:`MarketParameters`).
    horizon_s, dt_s : float
        Horizon and time step (s); ``horizon_s / dt_s`` must be whole.
    n_paths : int
        Number of Monte Carlo paths.
    seed : int
        Seed of the random streams (same seed, same mid paths for every strategy).
    fill_model : {"exponential", "linear"}
        Fill probability per step ``1 - exp(-lambda dt)`` or ``min(lambda dt, 1)``.
    mid_model : {"gaussian", "binomial"}
        Mid increments ``sigma sqrt(dt) Z`` or ``+-sigma sqrt(dt)``.
    q0 : int
        Initial inventory (lots).
    engine : {"auto", "numba", "numpy"}
        Simulation engine for the table strategies: the engines draw different random numbers and
        agree within Monte Carlo error (see :mod:`.simulator`); each is deterministic given the seed.

    Returns
    -------
    pandas.DataFrame
        One row per path: ``path, final_pnl`` (BRL, marked to the mid), ``final_inventory`` (lots),
        ``n_trades, n_bid_fills, n_ask_fills, max_abs_inventory`` (lots), ``mean_spread`` (BRL, mean
        of ``delta_b + delta_a`` over the steps where both sides are quoted), ``horizon_s``.
    """
    market = params if isinstance(params, MarketParameters) else MarketParameters.from_mapping(params)
    n_steps = n_steps_of(horizon_s, dt_s)
    _checks.choice("fill_model", fill_model, FILL_MODELS)
    _checks.choice("mid_model", mid_model, MID_MODELS)
    dyn = Dynamics(sigma=market.sigma, A=market.A, k=market.k, dt=float(dt_s), n_steps=n_steps,
                   S0=market.S0, fill_model=fill_model, mid_model=mid_model, order_size=market.order_size)
    if callable(strategy):
        result = simulate_policy(strategy, dyn, Q_max=market.Q_max, n_paths=n_paths, seed=seed, q0=q0)
    elif isinstance(strategy, str):
        table = build_quote_table(strategy, market, dyn.times, float(horizon_s))
        result = simulate_table(table, dyn, n_paths=n_paths, seed=seed, q0=q0, engine=engine)
    else:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)} or a callable, got {strategy!r}")
    return result.to_frame()


# -- statistics ------------------------------------------------------------------------------
def sharpe_standard_error(pnl: np.ndarray) -> float:
    """Delta-method standard error of ``mean/std`` for i.i.d. paths (Mertens 2002).

    ``se^2 = (1 - SR * skew + SR^2 (kurt - 1) / 4) / n`` with the sample skewness and (non-excess)
    kurtosis; it reduces to ``(1 + SR^2/2)/n`` for Gaussian PnL.
    """
    pnl = np.asarray(pnl, dtype=float)
    n = pnl.size
    std = pnl.std(ddof=1) if n > 1 else 0.0
    if n < 3 or std == 0.0:
        return float("nan")
    sr = pnl.mean() / std
    centred = (pnl - pnl.mean()) / pnl.std()
    skew, kurt = np.mean(centred**3), np.mean(centred**4)
    return float(np.sqrt(max(1.0 - sr * skew + sr**2 * (kurt - 1.0) / 4.0, 0.0) / n))


def std_standard_error(x: np.ndarray) -> float:
    """Delta-method standard error of the sample standard deviation ``s`` for i.i.d. samples.

    ``Var(s^2) ~ (m4 - s^4) / n`` with the central fourth moment ``m4 = mean((x - xbar)^4)``, and
    ``s = sqrt(s^2)`` gives ``se(s) = sqrt((m4 - s^4) / (4 s^2 n))``; for Gaussian samples
    (``m4 = 3 s^4``) it is ``s / sqrt(2 n)``. Same unit as ``x``; NaN for fewer than 3 samples or ``s = 0``.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 3:
        return float("nan")
    var = x.var(ddof=1)
    if var == 0.0:
        return float("nan")
    m4 = np.mean((x - x.mean()) ** 4)
    return float(np.sqrt(max(m4 - var**2, 0.0) / (4.0 * var * n)))


def quantile_standard_error(x: np.ndarray, p: float) -> float:
    """Asymptotic standard error of the sample ``p``-quantile ``x_p`` for i.i.d. samples.

    ``se(x_p) = sqrt(p (1 - p) / n) / f(x_p)``, with the density ``f`` estimated by a Gaussian kernel
    density estimate at ``x_p``: ``f(x) = mean(phi((x - x_i) / h)) / h``, Silverman's bandwidth
    ``h = 0.9 min(s, IQR / 1.349) n^(-1/5)``. Deterministic (no bootstrap). For Gaussian samples the
    median's se is ``sqrt(pi / 2) s / sqrt(n) ~ 1.2533 s / sqrt(n)``. Same unit as ``x``; NaN for fewer
    than 3 samples or a degenerate spread.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 3:
        return float("nan")
    q25, x_p, q75 = np.quantile(x, [0.25, p, 0.75])
    spread = min(x.std(ddof=1), (q75 - q25) / 1.349) or x.std(ddof=1)
    h = 0.9 * spread * n ** (-0.2)
    if not h > 0.0:
        return float("nan")
    density = np.mean(np.exp(-0.5 * ((x_p - x) / h) ** 2)) / (h * np.sqrt(2.0 * np.pi))
    return float(np.sqrt(p * (1.0 - p) / n) / density)


def _mean_se(x: np.ndarray) -> float:
    """``std(x) / sqrt(n)`` (NaN for one sample)."""
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def _summary(frame: pd.DataFrame) -> dict:
    pnl = frame["final_pnl"].to_numpy(dtype=float)
    n = pnl.size
    std = float(pnl.std(ddof=1)) if n > 1 else float("nan")
    p5, p50, p95 = np.percentile(pnl, [5, 50, 95])
    bid_fills = frame["n_bid_fills"].to_numpy(dtype=float)
    ask_fills = frame["n_ask_fills"].to_numpy(dtype=float)
    tail = pnl[pnl <= p5]
    q_final = frame["final_inventory"].to_numpy(dtype=float)
    horizon = float(frame["horizon_s"].iloc[0]) if "horizon_s" in frame else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        sharpe = float(pnl.mean() / std) if std > 0 else float("nan")
        rate = 1.0 / horizon if horizon > 0 else float("nan")
    return {
        "n_paths": n,
        "pnl_mean": float(pnl.mean()),
        "pnl_mean_se": _mean_se(pnl),
        "pnl_std": std,
        "pnl_std_se": std_standard_error(pnl),
        "pnl_p5": float(p5),
        "pnl_p5_se": quantile_standard_error(pnl, 0.05),
        "pnl_p50": float(p50),
        "pnl_p50_se": quantile_standard_error(pnl, 0.50),
        "pnl_p95": float(p95),
        "pnl_p95_se": quantile_standard_error(pnl, 0.95),
        "pnl_cvar5": float(tail.mean()),
        "pnl_cvar5_se": float(tail.std(ddof=1) / np.sqrt(tail.size)) if tail.size > 1 else float("nan"),
        "sharpe": sharpe,
        "sharpe_se": sharpe_standard_error(pnl),
        "trades_mean": float(frame["n_trades"].mean()),
        "bid_fills_mean": float(frame["n_bid_fills"].mean()),
        "ask_fills_mean": float(frame["n_ask_fills"].mean()),
        "bid_fill_rate_per_s": float(bid_fills.mean()) * rate,
        "bid_fill_rate_per_s_se": _mean_se(bid_fills) * rate,
        "ask_fill_rate_per_s": float(ask_fills.mean()) * rate,
        "ask_fill_rate_per_s_se": _mean_se(ask_fills) * rate,
        "final_inventory_mean": float(q_final.mean()),
        "final_inventory_std": float(q_final.std(ddof=1)) if n > 1 else float("nan"),
        "mean_abs_final_inventory": float(np.abs(q_final).mean()),
        "mean_abs_final_inventory_se": _mean_se(np.abs(q_final)),
        "max_abs_inventory": int(frame["max_abs_inventory"].max()),
        "mean_max_abs_inventory": float(frame["max_abs_inventory"].mean()),
        "mean_spread": float(frame["mean_spread"].mean()),
        "horizon_s": horizon,
    }


def backtest_statistics(results: Mapping[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Summary statistics per (ticker, strategy), with Monte Carlo standard errors.

    Columns (money in BRL): ``ticker, strategy, n_paths``; final PnL ``pnl_mean`` (``pnl_mean_se`` =
    std/sqrt(n)), ``pnl_std`` (``pnl_std_se``: delta method, :func:`std_standard_error`),
    ``pnl_p5/p50/p95`` (``pnl_p5_se`` ...: asymptotic quantile se with a kernel density estimate,
    :func:`quantile_standard_error`), ``pnl_cvar5`` (mean PnL of the worst 5 % of paths,
    a PnL level: negative = loss; ``pnl_cvar5_se`` ignores the error of the 5 % quantile);
    ``sharpe`` = mean/std of final PnL over the horizon (not annualised) with ``sharpe_se`` (delta
    method); fills per path and per second, ``bid/ask_fill_rate_per_s_se`` = std of the per-path fill
    counts / sqrt(n) / horizon (paths are i.i.d., fills within a path are not); final inventory
    mean/std and mean |q_T| (with se);
    ``max_abs_inventory`` (over all paths), ``mean_max_abs_inventory``; ``mean_spread``; ``horizon_s``.
    Rows are sorted by ticker then strategy.
    """
    if not results:
        raise ConfigError("backtest_statistics needs at least one (ticker, strategy) result")
    rows = []
    for (ticker, strategy), frame in results.items():
        missing = [c for c in ("final_pnl", "final_inventory", "n_trades", "n_bid_fills", "n_ask_fills",
                               "max_abs_inventory", "mean_spread") if c not in frame]
        if missing or frame.empty:
            raise ConfigError(f"backtest result ({ticker}, {strategy}) is empty or lacks columns {missing}")
        rows.append({"ticker": str(ticker), "strategy": str(strategy), **_summary(frame)})
    return pd.DataFrame(rows).sort_values(["ticker", "strategy"], kind="stable").reset_index(drop=True)
