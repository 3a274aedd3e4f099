"""Seed-compatible simulator API: ``SimulatorParameters`` and ``MarketMakingSimulator``.

``run_simulation(policy)`` is the original one-path, step-by-step Python loop (kept for
compatibility, for inspection of a single path, and as the speed baseline); ``run_paths`` runs
many paths at once through :mod:`.simulator`. Both draw the same random numbers, so
``run_simulation(policy, seed=s)`` reproduces path 0 of ``run_paths(policy, 1, seed=s)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mfg_finance.market_making import _checks
from mfg_finance.market_making.glft import InventoryHJB
from mfg_finance.market_making.simulator import (Dynamics, Policy, QuoteTable, random_streams,
                                                 simulate_policy, simulate_table)


@dataclass(frozen=True)
class SimulatorParameters:
    """Simulation settings; defaults follow the GLFT (2013) example (ticks, seconds).

    Attributes
    ----------
    sigma : mid volatility (price units/sqrt(s)), default 0.3.
    mu : mid drift (price units/s), default 0.
    S0 : initial mid (price units), default 100.
    A : fill intensity at the mid (1/s), default 0.9.
    k : intensity decay (1/price unit), default 0.3.
    T : horizon (s), default 600.
    dt : time step (s), default 0.1.
    Q_max : inventory limit (lots), default 30.
    order_size : shares per fill (PnL multiplier), default 1.
    seed : default seed of the random streams, default 42.
    fill_model : "exponential" (default) or "linear".
    mid_model : "gaussian" (default) or "binomial".
    """

    sigma: float = 0.3
    mu: float = 0.0
    S0: float = 100.0
    A: float = 0.9
    k: float = 0.3
    T: float = 600.0
    dt: float = 0.1
    Q_max: int = 30
    order_size: float = 1.0
    seed: int | None = 42
    fill_model: str = "exponential"
    mid_model: str = "gaussian"

    def __post_init__(self):
        _checks.positive("T", self.T, unit="s")
        _checks.positive("dt", self.dt, unit="s")
        object.__setattr__(self, "Q_max", _checks.positive_int("Q_max", self.Q_max, unit="lots"))
        self.dynamics  # validates the remaining fields

    @property
    def n_steps(self) -> int:
        return max(1, int(round(self.T / self.dt)))

    @property
    def dynamics(self) -> Dynamics:
        return Dynamics(sigma=self.sigma, A=self.A, k=self.k, dt=self.dt, n_steps=self.n_steps, S0=self.S0,
                        mu=self.mu, fill_model=self.fill_model, mid_model=self.mid_model,
                        order_size=self.order_size)

    def to_dict(self) -> dict:
        return asdict(self)


class MarketMakingSimulator:
    """Simulate a market maker quoting around a random mid with Poisson fills."""

    def __init__(self, params: SimulatorParameters | None = None):
        self.params = params if params is not None else SimulatorParameters()

    def run_simulation(self, policy: Policy, *, seed=None, q0: int = 0) -> dict:
        """One path, one Python step at a time, with a scalar policy ``policy(t, q, S) -> (bid, ask)``.

        Returns a dict with ``final_pnl, final_inventory, n_trades, n_bid_fills, n_ask_fills,
        max_abs_inventory, final_price`` and the paths ``times, prices, inventory, pnl`` (length N+1).
        """
        p = self.params
        dyn = p.dynamics
        mid_rng, bid_rng, ask_rng = random_streams(p.seed if seed is None else seed)
        n = dyn.n_steps
        prices, inventory, pnl = np.empty(n + 1), np.empty(n + 1, dtype=np.int64), np.empty(n + 1)
        S, q, wealth = float(p.S0), int(q0), 0.0
        prices[0], inventory[0], pnl[0] = S, q, wealth
        n_bid = n_ask = 0
        max_abs = abs(q)
        scale, drift = p.sigma * math.sqrt(p.dt), p.mu * p.dt
        for step in range(n):
            z, u_b, u_a = mid_rng.standard_normal(), bid_rng.random(), ask_rng.random()
            bid, ask = policy(step * p.dt, q, S)
            delta_b = S - bid if (q < p.Q_max and math.isfinite(bid)) else math.inf
            delta_a = ask - S if (q > -p.Q_max and math.isfinite(ask)) else math.inf
            new_q = q
            if u_b < self._fill_probability(delta_b):
                new_q += 1
                wealth += delta_b
                n_bid += 1
            if u_a < self._fill_probability(delta_a):
                new_q -= 1
                wealth += delta_a
                n_ask += 1
            if p.mid_model == "binomial":
                d_price = drift + (scale if z >= 0.0 else -scale)
            else:
                d_price = drift + scale * z
            wealth += new_q * d_price
            S += d_price
            q = new_q
            max_abs = max(max_abs, abs(q))
            prices[step + 1], inventory[step + 1], pnl[step + 1] = S, q, wealth * p.order_size
        return {"final_pnl": wealth * p.order_size, "final_inventory": q, "n_trades": n_bid + n_ask,
                "n_bid_fills": n_bid, "n_ask_fills": n_ask, "max_abs_inventory": max_abs, "final_price": S,
                "times": np.arange(n + 1) * p.dt, "prices": prices, "inventory": inventory, "pnl": pnl}

    def _fill_probability(self, delta: float) -> float:
        p = self.params
        if delta == math.inf:
            return 0.0
        rate_dt = p.A * p.dt * math.exp(min(-p.k * delta, 700.0))
        return -math.expm1(-rate_dt) if p.fill_model == "exponential" else min(rate_dt, 1.0)

    def run_paths(self, strategy: InventoryHJB | QuoteTable | Policy, n_paths: int, *, seed=None,
                  q0: int = 0, engine: str = "auto") -> pd.DataFrame:
        """Vectorized run of ``n_paths`` paths; one row per path (see ``backtest.run_backtest``).

        ``strategy`` is an :class:`InventoryHJB` (tabulated on the simulation grid), a
        :class:`QuoteTable`, or a policy ``policy(t, q, S) -> (bid, ask)``.
        """
        p = self.params
        dyn = p.dynamics
        seed = p.seed if seed is None else seed
        if isinstance(strategy, InventoryHJB):
            if strategy.params.Q_max != p.Q_max:
                strategy = InventoryHJB(type(strategy.params)(**{**strategy.params.to_dict(), "Q_max": p.Q_max}),
                                        method=strategy.method)
            strategy = QuoteTable(*strategy.spread_table(dyn.times), p.Q_max, name="hjb")
        if isinstance(strategy, QuoteTable):
            result = simulate_table(strategy, dyn, n_paths=n_paths, seed=seed, q0=q0, engine=engine)
        else:
            result = simulate_policy(strategy, dyn, Q_max=p.Q_max, n_paths=n_paths, seed=seed, q0=q0)
        return result.to_frame()


def create_default_simulator(**overrides) -> MarketMakingSimulator:
    """``MarketMakingSimulator`` with the default (GLFT example) settings, optionally overridden."""
    return MarketMakingSimulator(SimulatorParameters(**overrides))
