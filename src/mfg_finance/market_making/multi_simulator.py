r"""Vectorized Monte Carlo of a market maker quoting ``d`` correlated assets (all paths advance together).

On the grid ``t_n = n dt`` (n = 0..N-1), for every path at once:

1. the strategy quotes distances ``delta_b, delta_a`` (shape ``(n_paths, d)``, price units; ``inf``
   = no quote) from the step ``n`` and the inventories ``q`` (lots);
2. each asset and side fills independently with probability ``1 - exp(-A_i exp(-k_i delta) dt)``
   (exact Poisson probability of at least one arrival; ``"linear"``: ``min(lambda dt, 1)``); a side
   whose fill would breach ``|q_i| <= Q_i`` is never quoted;
3. the mids move jointly: ``S_{n+1} = S_n + L Z sqrt(dt)``, ``L L' = Sigma`` (``Sigma`` in price
   units^2 / s; ``L`` from the eigendecomposition, so a singular ``Sigma`` is allowed),
   ``Z ~ N(0, I_d)``; another mid process (e.g. Heston, :mod:`.heston`) can replace this step.

PnL is marked to the mids: each fill earns its distance, inventory earns ``q_{n+1} . (S_{n+1} - S_n)``.
Besides PnL the engine records the inventory risk rate ``q' Sigma q`` (price units^2 / s) averaged
over the steps: the variance per second of the book the strategy carries.

Randomness: three PCG64 streams spawned from ``seed`` (mids, bid fills, ask fills), each drawn
step-major with shape ``(n_paths, d)``: the same seed gives the same mid paths and the same uniforms
to every strategy (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks
from mfg_finance.market_making.multi_asset import check_covariance
from mfg_finance.market_making.simulator import FILL_MODELS, random_streams


class MultiStrategy(Protocol):
    name: str

    def quotes(self, n: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(delta_b, delta_a)`` of shape ``q.shape`` at step ``n`` for inventories ``q``."""


@dataclass(frozen=True)
class MultiDynamics:
    """Market of ``d`` assets and simulation grid.

    Attributes
    ----------
    covariance : (d, d) covariance of mid increments (price units^2 / s).
    A, k : fill intensity at zero distance (1/s) and its decay (1/price unit), per asset.
    Q_max : inventory limit per asset (lots).
    dt : time step (s); n_steps : number of steps.
    S0 : initial mids (price units), per asset; default 0.
    fill_model : "exponential" (default) or "linear".
    """

    covariance: np.ndarray
    A: np.ndarray
    k: np.ndarray
    Q_max: np.ndarray
    dt: float
    n_steps: int
    S0: np.ndarray = 0.0
    fill_model: str = "exponential"

    def __post_init__(self):
        cov = check_covariance(self.covariance)
        d = cov.shape[0]
        object.__setattr__(self, "covariance", cov)
        for name in ("A", "k", "S0", "Q_max"):
            arr = np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (d,)).copy()
            if not np.all(np.isfinite(arr)):
                raise ConfigError(f"{name} must be finite, got {getattr(self, name)!r}")
            object.__setattr__(self, name, arr)
        if np.any(self.A <= 0) or np.any(self.k <= 0):
            raise ConfigError(f"A (1/s) and k (1/price unit) must be > 0, got A={self.A}, k={self.k}")
        if np.any(self.Q_max < 1) or np.any(self.Q_max != np.round(self.Q_max)):
            raise ConfigError(f"Q_max must be positive integers (lots), got {self.Q_max}")
        object.__setattr__(self, "Q_max", self.Q_max.astype(np.int64))
        _checks.positive("dt", self.dt, unit="s")
        object.__setattr__(self, "n_steps", _checks.positive_int("n_steps", self.n_steps))
        _checks.choice("fill_model", self.fill_model, FILL_MODELS)

    @property
    def d(self) -> int:
        return self.covariance.shape[0]

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_steps) * self.dt

    def root(self) -> np.ndarray:
        """``L`` with ``L L' = Sigma`` (symmetric square root; exact for singular ``Sigma``)."""
        lam, vec = np.linalg.eigh(self.covariance)
        return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T


@dataclass
class MultiPathResults:
    """Per-path outcomes (arrays over paths; per-asset arrays have shape ``(n_paths, d)``)."""

    final_pnl: np.ndarray
    final_inventory: np.ndarray
    n_bid_fills: np.ndarray
    n_ask_fills: np.ndarray
    max_abs_inventory: np.ndarray
    mean_risk_rate: np.ndarray
    horizon_s: float

    def to_frame(self, tickers: list[str] | None = None) -> pd.DataFrame:
        n, d = self.final_inventory.shape
        names = tickers or [f"asset{i}" for i in range(d)]
        frame = {"path": np.arange(n, dtype=np.int64), "final_pnl": self.final_pnl,
                 "n_trades": (self.n_bid_fills + self.n_ask_fills).sum(axis=1).astype(np.int64),
                 "mean_risk_rate": self.mean_risk_rate,
                 "max_abs_inventory": self.max_abs_inventory.max(axis=1).astype(np.int64)}
        for i, name in enumerate(names):
            frame[f"final_inventory_{name}"] = self.final_inventory[:, i].astype(np.int64)
            frame[f"n_fills_{name}"] = (self.n_bid_fills[:, i] + self.n_ask_fills[:, i]).astype(np.int64)
        frame["horizon_s"] = np.full(n, float(self.horizon_s))
        return pd.DataFrame(frame)


def fill_probability(delta: np.ndarray, A: np.ndarray, k: np.ndarray, dt: float, model: str) -> np.ndarray:
    rate_dt = (A * dt) * np.exp(np.minimum(-k * delta, 700.0))    # delta << 0: probability 1, no overflow
    return -np.expm1(-rate_dt) if model == "exponential" else np.minimum(rate_dt, 1.0)


class GaussianMids:
    """Arithmetic Brownian mids: increments ``sqrt(dt) L Z`` with ``L L' = Sigma``."""

    def __init__(self, dyn: MultiDynamics):
        self.scaled_root_t = np.sqrt(dyn.dt) * dyn.root().T

    def increments(self, n: int, z: np.ndarray) -> np.ndarray:
        return z @ self.scaled_root_t


def simulate_multi(strategy: MultiStrategy, dyn: MultiDynamics, *, n_paths: int, seed,
                   mids=None) -> MultiPathResults:
    """Simulate ``n_paths`` paths of ``strategy`` in the market ``dyn``.

    ``mids``: object with ``increments(n, z) -> (n_paths, d)`` price changes over step ``n`` from the
    standard normals ``z`` of the mid stream (default :class:`GaussianMids`; a stochastic-volatility
    process keeps its own state, which a variance-aware strategy may read).
    """
    n_paths = _checks.positive_int("n_paths", n_paths)
    d, dt = dyn.d, dyn.dt
    mids = mids if mids is not None else GaussianMids(dyn)
    q = np.zeros((n_paths, d), dtype=np.int64)
    pnl = np.zeros(n_paths)
    n_bid = np.zeros((n_paths, d), dtype=np.int64)
    n_ask = np.zeros((n_paths, d), dtype=np.int64)
    max_abs = np.zeros((n_paths, d), dtype=np.int64)
    risk_sum = np.zeros(n_paths)
    limit = dyn.Q_max[None, :]
    mid_rng, bid_rng, ask_rng = random_streams(seed)
    for n in range(dyn.n_steps):
        delta_b, delta_a = strategy.quotes(n, q)
        delta_b = np.where(q < limit, delta_b, np.inf)
        delta_a = np.where(q > -limit, delta_a, np.inf)
        if np.isnan(delta_b).any() or np.isnan(delta_a).any():
            raise ConfigError(f"strategy {strategy.name!r} returned NaN quotes at step {n}")
        z = mid_rng.standard_normal((n_paths, d))
        fill_b = (bid_rng.random((n_paths, d)) < fill_probability(delta_b, dyn.A, dyn.k, dt, dyn.fill_model))
        fill_a = (ask_rng.random((n_paths, d)) < fill_probability(delta_a, dyn.A, dyn.k, dt, dyn.fill_model))
        pnl += (np.where(fill_b, delta_b, 0.0) + np.where(fill_a, delta_a, 0.0)).sum(axis=1)
        q = q + fill_b - fill_a
        n_bid += fill_b
        n_ask += fill_a
        np.maximum(max_abs, np.abs(q), out=max_abs)
        d_price = mids.increments(n, z)
        pnl += (q * d_price).sum(axis=1)
        risk_sum += ((q @ dyn.covariance) * q).sum(axis=1)
    return MultiPathResults(final_pnl=pnl, final_inventory=q, n_bid_fills=n_bid, n_ask_fills=n_ask,
                            max_abs_inventory=max_abs, mean_risk_rate=risk_sum / dyn.n_steps,
                            horizon_s=dyn.n_steps * dt)
