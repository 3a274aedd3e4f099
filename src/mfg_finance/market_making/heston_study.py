r"""What ignoring volatility changes costs a GLFT market maker when the mid follows Heston.

Two one-asset strategies run on the same Heston paths (common random numbers, :mod:`.heston`):

``glft_constant``
    GLFT exact quotes (:mod:`.glft`) with the constant ``sigma = S0 sqrt(theta)`` (price units /
    sqrt(s)): the long-run volatility, what a constant-volatility calibration would use.
``glft_variance_aware``
    GLFT exact quotes re-evaluated for the current variance: quote tables are solved once on a grid
    of variances ``v_j`` (log-spaced over ``theta exp(+-3 s)``, ``s`` the stationary standard
    deviation of ``ln v`` under a log-normal approximation, at least ``theta/8 .. 8 theta``) with
    ``sigma_j = S0 sqrt(v_j)``, and each step every path uses the grid point nearest (in ``ln v``) to
    its current ``max(v, 0)``. It treats the current variance as if it would persist (the quotes of
    the true Heston control problem would also price the variance's mean reversion).

PnL is marked to the mid, in price units times ``order_size``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.market_making.backtest import n_steps_of
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB
from mfg_finance.market_making.heston import HestonMids, HestonParameters
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.multi_backtest import pnl_statistics
from mfg_finance.market_making.multi_simulator import MultiDynamics, simulate_multi
from mfg_finance.market_making.multi_strategies import IndependentStrategy, table_rows

HESTON_STRATEGIES = ("glft_constant", "glft_variance_aware")


def variance_grid(p: HestonParameters, n_grid: int) -> np.ndarray:
    """Log-spaced variances (1/s) covering the variance's typical range (see the module docstring)."""
    spread = np.sqrt(np.log1p(p.xi**2 / (2.0 * p.kappa * p.theta)))       # sd of ln v, log-normal approx
    lo, hi = min(np.exp(-3.0 * spread), 1.0 / 8.0), max(np.exp(3.0 * spread), 8.0)
    return p.theta * np.geomspace(lo, hi, int(n_grid))


class VarianceAwareStrategy:
    """GLFT tables per variance grid point; the nearest grid point to each path's variance is used."""

    name = "glft_variance_aware"

    def __init__(self, tables_b, tables_a, grid, Q_max, row_of_step, mids: HestonMids):
        self.tables_b, self.tables_a = tables_b, tables_a             # (n_grid, n_rows, 2Q+1)
        self.log_mid = 0.5 * (np.log(grid[1:]) + np.log(grid[:-1]))     # nearest in ln v
        self.Q_max, self.row_of_step, self.mids = int(Q_max), row_of_step, mids

    def quotes(self, n, q):
        with np.errstate(divide="ignore"):
            j = np.searchsorted(self.log_mid, np.log(self.mids.variance))
        row, col = self.row_of_step[n], q[:, 0] + self.Q_max
        return self.tables_b[j, row, col][:, None], self.tables_a[j, row, col][:, None]


def _glft(market: MarketParameters, sigma: float, horizon_s: float) -> HJBParameters:
    return HJBParameters(sigma=sigma, A=market.A, k=market.k, gamma=market.effective_gamma, phi=market.phi,
                         T=horizon_s, Q_max=market.Q_max)


def heston_study(market: MarketParameters, heston: HestonParameters, *, horizon_s: float, dt_s: float,
                 n_paths: int, seed, table_dt_s: float, n_grid: int = 15,
                 fill_model: str = "exponential", stationary_start: bool = True) -> pd.DataFrame:
    """Both strategies on the same Heston paths; one row per strategy plus the paired difference.

    Columns: ``strategy`` and :func:`.multi_backtest.pnl_statistics` (PnL in BRL times order_size);
    ``stationary_start`` (default) starts every path at a variance drawn from its stationary law, so
    the study covers sessions of every volatility regime (daily-calibrated variance reverts over
    days, so within one hour it is mostly the *level* that differs from ``theta``). The row
    ``variance_aware_minus_constant`` holds the paired per-path difference (its ``pnl_mean``
    and ``pnl_mean_se`` are the gain from tracking the variance and its standard error).
    """
    n_steps = n_steps_of(horizon_s, dt_s)
    times, rows = table_rows(n_steps, dt_s, table_dt_s)
    base_sigma = market.S0 * np.sqrt(heston.theta)
    dyn = MultiDynamics(covariance=[[base_sigma**2]], A=market.A, k=market.k, Q_max=market.Q_max, dt=dt_s,
                        n_steps=n_steps, S0=market.S0, fill_model=fill_model)
    pnl = {}
    for name in HESTON_STRATEGIES:
        mids = HestonMids(heston, S0=market.S0, dt=dt_s, n_paths=n_paths, seed=seed,
                          stationary_start=stationary_start)
        if name == "glft_constant":
            strategy = IndependentStrategy([InventoryHJB(_glft(market, base_sigma, horizon_s)).spread_table(times)],
                                           [market.Q_max], rows)
        else:
            grid = variance_grid(heston, n_grid)
            tables = [InventoryHJB(_glft(market, market.S0 * np.sqrt(v), horizon_s)).spread_table(times)
                      for v in grid]
            strategy = VarianceAwareStrategy(np.stack([t[0] for t in tables]), np.stack([t[1] for t in tables]),
                                             grid, market.Q_max, rows, mids)
        result = simulate_multi(strategy, dyn, n_paths=n_paths, seed=seed, mids=mids)
        pnl[name] = result.final_pnl * market.order_size
    out = [{"strategy": name, **pnl_statistics(values)} for name, values in pnl.items()]
    diff = pnl["glft_variance_aware"] - pnl["glft_constant"]
    out.append({"strategy": "variance_aware_minus_constant", **pnl_statistics(diff)})
    return pd.DataFrame(out)
