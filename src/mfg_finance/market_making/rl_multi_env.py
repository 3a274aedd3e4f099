r"""Gymnasium environment of the multi-asset market-making problem (one path, one step per ``dt``).

* Observation ``[t/T, q_1/Q_1, ..., q_d/Q_d]`` (float32, in ``[0, 1] x [-1, 1]^d``).
* Action ``a in [-1, 1]^(2d)`` (float32): bid distances of the ``d`` assets, then ask distances,
  mapped to ``delta = max_offset_i (a + 1) / 2`` (price units); a side that would breach a limit is
  not quoted.
* Dynamics as :mod:`.multi_simulator`: each asset and side fills with probability
  ``1 - exp(-A_i e^{-k_i delta} dt)``, then the mids move by ``sqrt(dt) L Z`` (``L L' = Sigma``).
* Reward: ``dW`` = fills' distances + ``q_{n+1} . dS`` (``"pnl"``), or
  ``dW - (gamma/2) q' Sigma q dt`` and ``- sum phi_i q_i^2`` at the end (``"inventory_penalty"``,
  the mean-variance form of the CARA objective).

The episode terminates at ``T``; there is no truncation. ``max_offset`` defaults to 4x the static
half-spread ``(1/gamma) ln(1 + gamma/k_i)``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mfg_finance.market_making import _checks
from mfg_finance.market_making.multi_asset import MultiAssetParameters
from mfg_finance.market_making.multi_simulator import fill_probability

REWARD_TYPES = ("pnl", "inventory_penalty")


class MultiAssetMarketMakingEnv(gym.Env):
    """Market making of ``d`` correlated assets on one path; see the module docstring."""

    metadata = {"render_modes": []}

    def __init__(self, params: MultiAssetParameters, *, dt: float = 1.0, reward_type: str = "pnl",
                 max_offset=None):
        super().__init__()
        self.params = params
        self.dt = _checks.positive("dt", dt, unit="s")
        self.n_steps = max(1, int(round(params.T / self.dt)))
        self.reward_type = _checks.choice("reward_type", reward_type, REWARD_TYPES)
        default = 4.0 * params.static_half_spread
        self.max_offset = np.broadcast_to(np.asarray(default if max_offset is None else max_offset, dtype=float),
                                          (params.d,)).copy()
        if np.any(self.max_offset <= 0):
            raise ValueError(f"max_offset must be > 0 (price units), got {self.max_offset}")
        lam, vec = np.linalg.eigh(params.covariance)
        self._root_t = (np.sqrt(self.dt) * (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T).T
        d = params.d
        self.observation_space = spaces.Box(low=np.r_[0.0, -np.ones(d)].astype(np.float32),
                                            high=np.ones(d + 1, dtype=np.float32), dtype=np.float32)
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(2 * d,), dtype=np.float32)
        self._reset_state()

    def _reset_state(self):
        self.step_index = 0
        self.q = np.zeros(self.params.d, dtype=np.int64)
        self.pnl = 0.0

    def _obs(self) -> np.ndarray:
        t = min(self.step_index * self.dt / self.params.T, 1.0)
        return np.r_[t, self.q / self.params.Q_max].astype(np.float32)

    def _info(self, **extra) -> dict:
        return {"pnl": float(self.pnl), "inventory": self.q.copy(), **extra}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._reset_state()
        return self._obs(), self._info()

    def step(self, action):
        p, d = self.params, self.params.d
        a = np.clip(np.asarray(action, dtype=float).reshape(2 * d), -1.0, 1.0)
        delta = self.max_offset * 0.5 * (a[:d] + 1.0), self.max_offset * 0.5 * (a[d:] + 1.0)
        delta_b = np.where(self.q < p.Q_max, delta[0], np.inf)
        delta_a = np.where(self.q > -p.Q_max, delta[1], np.inf)
        z = self.np_random.standard_normal(d)
        fill_b = self.np_random.random(d) < fill_probability(delta_b, p.A, p.k, self.dt, "exponential")
        fill_a = self.np_random.random(d) < fill_probability(delta_a, p.A, p.k, self.dt, "exponential")
        gain = float(np.where(fill_b, delta_b, 0.0).sum() + np.where(fill_a, delta_a, 0.0).sum())
        self.q = self.q + fill_b - fill_a
        gain += float(self.q @ (self._root_t.T @ z))
        self.pnl += gain
        self.step_index += 1
        terminated = self.step_index >= self.n_steps
        reward = gain
        if self.reward_type == "inventory_penalty":
            reward -= 0.5 * p.gamma * float(self.q @ p.covariance @ self.q) * self.dt
            if terminated:
                reward -= float(p.phi @ self.q**2)
        return self._obs(), float(reward), terminated, False, self._info(delta_b=delta_b, delta_a=delta_a)
