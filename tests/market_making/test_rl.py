"""Gymnasium environment (check_env, limits, rewards) and the PPO policy adapter."""

import importlib.util

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import create_default_model
from mfg_finance.market_making.backtest import run_backtest
from mfg_finance.market_making.rl_env import REWARD_TYPES, EnvParameters, MarketMakingEnv, create_default_env
from mfg_finance.market_making import rl_train
from mfg_finance.market_making.rl_train import (MissingDependencyError, QuotingPolicy, backtest_ppo,
                                                env_parameters_from_market, train_ppo)

HAS_SB3 = importlib.util.find_spec("stable_baselines3") is not None
PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01}


@pytest.mark.parametrize("reward_type", REWARD_TYPES)
def test_env_passes_gymnasium_checker(reward_type):
    env = create_default_env(reward_type=reward_type, seed=0)
    check_env(env, skip_render_check=True)


def test_episode_runs_to_horizon_and_respects_limits():
    env = create_default_env(seed=3, T=200.0, Q_max=4)
    obs, _ = env.reset(seed=3)
    steps, done = 0, False
    buy_everything = env.params.distances_to_action(0.0, env.params.max_offset)
    while not done:
        obs, reward, done, truncated, info = env.step(buy_everything)
        assert not truncated and env.observation_space.contains(obs)
        assert abs(info["inventory"]) <= 4
        steps += 1
    assert steps == 200 and info["inventory"] == 4


def test_same_seed_same_episode():
    def rollout(seed):
        env = create_default_env(reward_type="sharpe", seed=seed, T=50.0)
        env.reset(seed=seed)
        return [env.step(np.array([0.1, -0.2], dtype=np.float32))[1] for _ in range(50)]
    assert rollout(5) == rollout(5)
    assert rollout(5) != rollout(6)


def test_binomial_mid_moves_by_one_sigma_sqrt_dt():
    env = create_default_env(seed=2, T=100.0, dt=0.5, mid_model="binomial")
    env.reset(seed=2)
    mids = [env.params.S0] + [env.step(np.array([1.0, 1.0], dtype=np.float32))[4]["mid"] for _ in range(200)]
    steps = np.abs(np.diff(mids))
    np.testing.assert_allclose(steps, env.params.sigma * np.sqrt(0.5), rtol=1e-9)
    with pytest.raises(ConfigError, match="mid_model"):
        EnvParameters(mid_model="gbm")


def test_rewards():
    action = np.array([0.0, 0.0], dtype=np.float32)
    pnl_env = create_default_env("pnl", seed=1, T=300.0)
    pen_env = create_default_env("inventory_penalty", seed=1, T=300.0, phi=0.5)
    for _ in range(300):
        _, r_pnl, done, _, info = pnl_env.step(action)
        _, r_pen, _, _, _ = pen_env.step(action)
        p = pen_env.params
        q = info["inventory"]
        penalty = 0.5 * p.gamma * p.sigma**2 * q**2 * p.dt + (p.phi * q**2 if done else 0.0)
        assert r_pen == pytest.approx(r_pnl - penalty)
    assert pnl_env.pnl == pytest.approx(info["pnl"])


def test_action_mapping_round_trip():
    params = EnvParameters()
    delta_b, delta_a = params.action_to_distances(params.distances_to_action(2.0, 5.0))
    assert (float(delta_b), float(delta_a)) == pytest.approx((2.0, 5.0), rel=1e-6)
    assert params.action_to_distances(np.array([-5.0, 5.0])) == (0.0, params.max_offset)
    with pytest.raises(ConfigError, match="reward_type"):
        MarketMakingEnv(reward_type="utility")


class TabulatedGLFT:
    """Stand-in for a trained model: predicts the GLFT action from the observation (vectorized)."""

    def __init__(self, params: EnvParameters):
        self.params = params
        self.model = create_default_model(sigma=params.sigma, A=params.A, k=params.k, gamma=params.gamma,
                                          T=params.T, Q_max=params.Q_max)

    def predict(self, obs, deterministic=True):
        t = obs[:, 0].astype(float) * self.params.T
        q = np.rint(obs[:, 1].astype(float) * self.params.Q_max).astype(int)
        delta_b, delta_a = self.model.get_optimal_spreads(t, q)
        return self.params.distances_to_action(np.minimum(delta_b, self.params.max_offset), delta_a), None


def test_quoting_policy_is_backtested_like_a_strategy():
    env_params = env_parameters_from_market(PARAMS, horizon_s=300.0, dt_s=1.0)
    assert env_params.sigma == PARAMS["sigma"] and env_params.Q_max == PARAMS["Q_max"]
    policy = QuotingPolicy(TabulatedGLFT(env_params), env_params)
    frame = run_backtest(policy, PARAMS, horizon_s=300.0, dt_s=1.0, n_paths=50, seed=4)
    hjb = run_backtest("hjb", PARAMS, horizon_s=300.0, dt_s=1.0, n_paths=50, seed=4)
    # float32 observations/actions: nearly the GLFT quotes, so nearly the same paths
    assert frame["final_pnl"].mean() == pytest.approx(hjb["final_pnl"].mean(), rel=0.05)
    assert frame["max_abs_inventory"].max() <= PARAMS["Q_max"]


def test_backtest_ppo_trains_and_backtests_in_the_configured_market(monkeypatch):
    trained_in = []

    def fake_train(env_params, **kwargs):                      # GLFT stand-in for PPO: no stable-baselines3
        trained_in.append(env_params)
        return QuotingPolicy(TabulatedGLFT(env_params), env_params)

    monkeypatch.setattr(rl_train, "train_ppo", fake_train)
    market = dict(horizon_s=300.0, dt_s=1.0, n_paths=40, seed=4, fill_model="linear", mid_model="binomial")
    frame = backtest_ppo(PARAMS, **market, timesteps=10)
    assert (trained_in[0].fill_model, trained_in[0].mid_model) == ("linear", "binomial")
    assert frame["strategy"].unique().tolist() == ["ppo"]               # no baseline computed unless asked
    policy = QuotingPolicy(TabulatedGLFT(trained_in[0]), trained_in[0])
    expected = run_backtest(policy, PARAMS, **market)
    np.testing.assert_array_equal(frame["final_pnl"], expected["final_pnl"])
    default_market = run_backtest(policy, PARAMS, **{**market, "fill_model": "exponential", "mid_model": "gaussian"})
    assert not np.array_equal(frame["final_pnl"], default_market["final_pnl"])
    both = rl_train.backtest_ppo(PARAMS, **market, timesteps=10, baselines=("hjb",))
    assert both["strategy"].unique().tolist() == ["ppo", "hjb"]
    np.testing.assert_array_equal(both.loc[both["strategy"] == "hjb", "final_pnl"],
                                  run_backtest("hjb", PARAMS, **market)["final_pnl"])


@pytest.mark.skipif(HAS_SB3, reason="stable-baselines3 installed")
def test_train_ppo_without_the_rl_extra_says_how_to_install_it():
    with pytest.raises(MissingDependencyError, match=r"mfg-finance\[rl\]"):
        train_ppo(total_timesteps=10)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SB3, reason="needs the optional extra rl (stable-baselines3)")
def test_train_ppo_returns_a_backtestable_policy():
    env_params = env_parameters_from_market(PARAMS, horizon_s=100.0, dt_s=1.0)
    policy = train_ppo(env_params, total_timesteps=512, seed=0, ppo_kwargs={"n_steps": 256, "batch_size": 64})
    frame = run_backtest(policy, PARAMS, horizon_s=100.0, dt_s=1.0, n_paths=20, seed=1)
    assert len(frame) == 20 and np.isfinite(frame["final_pnl"]).all()
