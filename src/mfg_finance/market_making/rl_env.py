r"""Gymnasium environment of the GLFT market-making problem (one path, one step per ``dt``).

* Observation ``[t/T, q/Q_max]`` (float32, in ``[0, 1] x [-1, 1]``): the quotes of the model
  depend on time and inventory only (the mid enters as a level, not as information).
* Action ``a in [-1, 1]^2`` (float32), mapped to distances from the mid
  ``delta = max_offset (a + 1) / 2`` (price units) for the bid and the ask; actions outside the box
  are clipped. The side that would breach ``|q| <= Q_max`` is not quoted.
* Dynamics as :mod:`.simulator`: each side fills with probability ``1 - exp(-A e^{-k delta} dt)``
  (or ``min(lambda dt, 1)``, ``fill_model``), then the mid moves by ``sigma sqrt(dt) Z`` (or
  ``+-sigma sqrt(dt)``, the sign of the same ``Z``, ``mid_model = "binomial"``).
* Rewards (``reward_type``), with ``dW = fills' distances + q_{n+1} dS`` the mark-to-market PnL
  increment (price units):

  - ``pnl``: ``dW``;
  - ``inventory_penalty``: ``dW - (gamma sigma^2 / 2) q_{n+1}^2 dt`` and ``- phi q_T^2`` at the end
    (the mean-variance form of the CARA objective);
  - ``sharpe``: the differential Sharpe ratio of ``dW`` (Moody & Saffell 1998) with EMA rate
    ``sharpe_eta``, clipped to ``[-10, 10]``.

The episode terminates at ``T`` (``T/dt`` steps); there is no truncation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks
from mfg_finance.market_making.simulator import FILL_MODELS, MID_MODELS, fill_probability

REWARD_TYPES = ("pnl", "sharpe", "inventory_penalty")


@dataclass(frozen=True)
class EnvParameters:
    """Parameters of :class:`MarketMakingEnv` (defaults: GLFT example in ticks, 1 s steps, 10 min).

    ``max_offset`` (price units) is the largest quoted distance; default 4x the static GLFT
    half-spread ``(1/gamma) ln(1 + gamma/k)``. ``fill_model`` and ``mid_model`` have the meaning
    (and values) of :func:`.backtest.run_backtest`'s, so an agent can be trained in the market it is
    backtested in.
    """

    sigma: float = 0.3
    A: float = 0.9
    k: float = 0.3
    gamma: float = 0.01
    phi: float = 0.0
    T: float = 600.0
    dt: float = 1.0
    Q_max: int = 30
    S0: float = 100.0
    max_offset: float | None = None
    fill_model: str = "exponential"
    mid_model: str = "gaussian"
    sharpe_eta: float = 0.01

    def __post_init__(self):
        for name in ("A", "k", "gamma", "T", "dt", "S0"):
            _checks.positive(name, getattr(self, name))
        _checks.non_negative("sigma", self.sigma)
        _checks.non_negative("phi", self.phi)
        object.__setattr__(self, "Q_max", _checks.positive_int("Q_max", self.Q_max, unit="lots"))
        _checks.choice("fill_model", self.fill_model, FILL_MODELS)
        _checks.choice("mid_model", self.mid_model, MID_MODELS)
        if _checks.positive("sharpe_eta", self.sharpe_eta) >= 1.0:
            raise ConfigError(f"sharpe_eta must be in (0, 1), got {self.sharpe_eta!r}")
        if self.max_offset is None:
            object.__setattr__(self, "max_offset", 4.0 * float(np.log1p(self.gamma / self.k) / self.gamma))
        _checks.positive("max_offset", self.max_offset)

    @property
    def n_steps(self) -> int:
        return max(1, int(round(self.T / self.dt)))

    def to_dict(self) -> dict:
        return asdict(self)

    def action_to_distances(self, action) -> tuple[np.ndarray, np.ndarray]:
        """Map actions in ``[-1, 1]`` (last axis: bid, ask) to distances ``[0, max_offset]``."""
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        delta = self.max_offset * 0.5 * (a + 1.0)
        return delta[..., 0], delta[..., 1]

    def distances_to_action(self, delta_b, delta_a) -> np.ndarray:
        """Inverse of :meth:`action_to_distances` (distances clipped to ``[0, max_offset]``)."""
        delta = np.stack([np.asarray(delta_b, dtype=float), np.asarray(delta_a, dtype=float)], axis=-1)
        return np.clip(2.0 * delta / self.max_offset - 1.0, -1.0, 1.0).astype(np.float32)

    def observation(self, t, q) -> np.ndarray:
        """``[t/T, q/Q_max]`` as float32 (broadcast over arrays)."""
        t_arr, q_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(q, dtype=float))
        return np.stack([np.clip(t_arr / self.T, 0.0, 1.0), q_arr / self.Q_max], axis=-1).astype(np.float32)


class MarketMakingEnv(gym.Env):
    """Market making on one mid path; see the module docstring for spaces and rewards."""

    metadata = {"render_modes": []}

    def __init__(self, params: EnvParameters | None = None, reward_type: str = "pnl"):
        super().__init__()
        self.params = params if params is not None else EnvParameters()
        self.reward_type = _checks.choice("reward_type", reward_type, REWARD_TYPES)
        self.observation_space = spaces.Box(low=np.array([0.0, -1.0], dtype=np.float32),
                                            high=np.array([1.0, 1.0], dtype=np.float32), dtype=np.float32)
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)
        self._reset_state()

    def _reset_state(self):
        self.step_index = 0
        self.q = 0
        self.mid = float(self.params.S0)
        self.pnl = 0.0
        self.n_bid_fills = 0
        self.n_ask_fills = 0
        self._ema_mean = 0.0
        self._ema_square = 0.0

    def _obs(self) -> np.ndarray:
        return self.params.observation(self.step_index * self.params.dt, self.q)

    def _info(self, **extra) -> dict:
        return {"pnl": float(self.pnl), "inventory": int(self.q), "mid": float(self.mid),
                "n_bid_fills": self.n_bid_fills, "n_ask_fills": self.n_ask_fills, **extra}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._reset_state()
        return self._obs(), self._info()

    def step(self, action):
        p = self.params
        delta_b, delta_a = (float(d) for d in p.action_to_distances(action))
        if self.q >= p.Q_max:
            delta_b = np.inf
        if self.q <= -p.Q_max:
            delta_a = np.inf
        prob_b = float(fill_probability(delta_b, A=p.A, k=p.k, dt=p.dt, model=p.fill_model))
        prob_a = float(fill_probability(delta_a, A=p.A, k=p.k, dt=p.dt, model=p.fill_model))
        z, u_b, u_a = self.np_random.standard_normal(), self.np_random.random(), self.np_random.random()
        gain = 0.0
        if u_b < prob_b:
            self.q += 1
            gain += delta_b
            self.n_bid_fills += 1
        if u_a < prob_a:
            self.q -= 1
            gain += delta_a
            self.n_ask_fills += 1
        if p.mid_model == "binomial":
            z = 1.0 if z >= 0.0 else -1.0           # as the simulator: the sign of the same draw
        d_price = float(p.sigma * np.sqrt(p.dt) * z)
        gain += self.q * d_price
        self.mid += d_price
        self.pnl += gain
        self.step_index += 1
        terminated = self.step_index >= p.n_steps
        reward = self._reward(gain, terminated)
        return self._obs(), float(reward), terminated, False, self._info(delta_b=delta_b, delta_a=delta_a)

    def _reward(self, gain: float, terminated: bool) -> float:
        p = self.params
        if self.reward_type == "pnl":
            return gain
        if self.reward_type == "inventory_penalty":
            reward = gain - 0.5 * p.gamma * p.sigma**2 * self.q**2 * p.dt
            return reward - p.phi * self.q**2 if terminated else reward
        # differential Sharpe ratio: first-order change of the EMA Sharpe ratio due to this gain
        mean, square = self._ema_mean, self._ema_square
        variance = square - mean**2
        eta = p.sharpe_eta
        self._ema_mean = mean + eta * (gain - mean)
        self._ema_square = square + eta * (gain**2 - square)
        if variance <= 1e-12:
            return 0.0
        value = (square * (gain - mean) - 0.5 * mean * (gain**2 - square)) / variance**1.5
        return float(np.clip(value, -10.0, 10.0))


def create_default_env(reward_type: str = "pnl", seed: int | None = None, **overrides) -> MarketMakingEnv:
    """Environment with the default parameters (``EnvParameters`` fields may be overridden), reset with ``seed``."""
    env = MarketMakingEnv(EnvParameters(**overrides), reward_type=reward_type)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env
