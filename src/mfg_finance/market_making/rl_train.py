"""PPO training on :class:`MarketMakingEnv` (optional extra ``rl``: stable-baselines3, imported lazily).

``train_ppo`` returns a :class:`QuotingPolicy`, a vectorized ``policy(t, q, S) -> (bid, ask)`` that
``backtest.run_backtest`` accepts like any user policy, so a trained agent is backtested beside
``hjb`` on the same random numbers and in the same market (fill and mid models).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import MfgFinanceError
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.rl_env import EnvParameters, MarketMakingEnv

log = logging.getLogger(__name__)


class MissingDependencyError(MfgFinanceError, ImportError):
    """An optional dependency is not installed; the message says which extra provides it."""


def _import_sb3():
    try:
        import stable_baselines3
    except ImportError as exc:
        raise MissingDependencyError(
            "PPO training needs stable-baselines3, which is not installed; install the optional "
            "extra: pip install 'mfg-finance[rl]'") from exc
    return stable_baselines3


class QuotingPolicy:
    """Vectorized quoting policy from any model with ``predict(obs, deterministic=True) -> (actions, _)``.

    ``obs`` is ``[t/T, q/Q_max]`` per path (see :class:`EnvParameters`); actions map to distances in
    the environment's price units, which must be those of the backtest (build the environment with
    :func:`env_parameters_from_market` for a calibrated ticker).
    """

    vectorized = True

    def __init__(self, model: Any, params: EnvParameters):
        self.model = model
        self.params = params

    def __call__(self, t, q, S):
        obs = self.params.observation(np.full(np.shape(q), float(t)), q)
        actions, _ = self.model.predict(obs.reshape(-1, 2), deterministic=True)
        delta_b, delta_a = self.params.action_to_distances(np.asarray(actions).reshape(np.shape(q) + (2,)))
        S = np.asarray(S, dtype=float)
        return S - delta_b, S + delta_a

    def save(self, path) -> None:
        """Save the underlying stable-baselines3 model (zip), atomically (temporary name, then rename).

        As with stable-baselines3, a path without a suffix gets ``.zip``.
        """
        from mfg_finance.io import atomic_path

        dest = Path(path)
        if dest.suffix == "":
            dest = dest.with_name(dest.name + ".zip")
        with atomic_path(dest) as tmp:
            with open(tmp, "wb") as fh:  # a file object: stable-baselines3 adds no suffix to it
                self.model.save(fh)


def env_parameters_from_market(params: Mapping | MarketParameters, *, horizon_s: float, dt_s: float,
                               **overrides) -> EnvParameters:
    """Environment parameters (per-share BRL, seconds) of one calibrated ticker (gamma * order_size)."""
    market = params if isinstance(params, MarketParameters) else MarketParameters.from_mapping(params)
    return EnvParameters(sigma=market.sigma, A=market.A, k=market.k, gamma=market.effective_gamma,
                         phi=market.phi, T=float(horizon_s), dt=float(dt_s), Q_max=market.Q_max, S0=market.S0,
                         **overrides)


def train_ppo(params: EnvParameters | Mapping | MarketParameters | None = None, *, reward_type: str = "pnl",
              total_timesteps: int = 50_000, seed: int = 3, horizon_s: float | None = None,
              dt_s: float | None = None, ppo_kwargs: Mapping | None = None) -> QuotingPolicy:
    """Train PPO (stable-baselines3, CPU) on the market-making environment.

    Parameters
    ----------
    params : EnvParameters, or calibrated market parameters with ``horizon_s`` and ``dt_s`` (s);
        default ``EnvParameters()`` (GLFT example, ticks).
    reward_type : "pnl", "sharpe" or "inventory_penalty".
    total_timesteps : environment steps of training.
    seed : seed of PPO and of the environment.
    ppo_kwargs : extra keyword arguments of ``stable_baselines3.PPO``.

    Returns
    -------
    QuotingPolicy usable as ``run_backtest(policy, ...)``.

    Raises
    ------
    MissingDependencyError if stable-baselines3 is not installed (extra ``rl``).
    """
    sb3 = _import_sb3()
    if params is None:
        env_params = EnvParameters()
    elif isinstance(params, EnvParameters):
        env_params = params
    else:
        if horizon_s is None or dt_s is None:
            raise MfgFinanceError("train_ppo on calibrated parameters needs horizon_s and dt_s (s)")
        env_params = env_parameters_from_market(params, horizon_s=horizon_s, dt_s=dt_s)
    env = MarketMakingEnv(env_params, reward_type=reward_type)
    env.reset(seed=seed)
    kwargs = {"verbose": 0, "seed": seed, "device": "cpu", **dict(ppo_kwargs or {})}
    model = sb3.PPO("MlpPolicy", env, **kwargs)
    log.info("training PPO for %d steps (reward %s)", total_timesteps, reward_type)
    model.learn(total_timesteps=int(total_timesteps))
    return QuotingPolicy(model, env_params)


def load_ppo(path, params: EnvParameters) -> QuotingPolicy:
    """Load a policy saved with :meth:`QuotingPolicy.save`."""
    sb3 = _import_sb3()
    return QuotingPolicy(sb3.PPO.load(str(path), device="cpu"), params)


def backtest_ppo(params: Mapping | MarketParameters, *, horizon_s: float, dt_s: float, n_paths: int, seed: int,
                 fill_model: str = "exponential", mid_model: str = "gaussian", timesteps: int = 50_000,
                 train_seed: int = 3, reward_type: str = "inventory_penalty", baselines: tuple[str, ...] = ()):
    """Train PPO on one ticker's market, then backtest it (and the ``baselines`` strategies).

    Training and backtest share the market: the environment is built with the backtest's
    ``fill_model`` and ``mid_model`` (see ``run_backtest``), and every strategy is backtested with
    the same ``seed``, so on the same random numbers. Returns a DataFrame of per-path results
    (see ``run_backtest``) with a first column ``strategy`` (``ppo``, then the baselines). Needs the
    optional extra ``rl``.
    """
    import pandas as pd

    from mfg_finance.market_making.backtest import run_backtest

    env_params = env_parameters_from_market(params, horizon_s=horizon_s, dt_s=dt_s, fill_model=fill_model,
                                            mid_model=mid_model)
    policy = train_ppo(env_params, reward_type=reward_type, total_timesteps=timesteps, seed=train_seed)
    frames = []
    for name, strategy in (("ppo", policy), *((b, b) for b in baselines)):
        frame = run_backtest(strategy, params, horizon_s=horizon_s, dt_s=dt_s, n_paths=n_paths, seed=seed,
                             fill_model=fill_model, mid_model=mid_model)
        frame.insert(0, "strategy", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
