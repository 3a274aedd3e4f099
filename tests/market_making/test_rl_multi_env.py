"""Multi-asset Gymnasium environment: check_env, limits, reward accounting."""

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from mfg_finance.market_making.multi_asset import MultiAssetParameters  # noqa: E402
from mfg_finance.market_making.rl_multi_env import MultiAssetMarketMakingEnv  # noqa: E402

PARAMS = MultiAssetParameters(covariance=[[0.09, 0.05], [0.05, 0.16]], A=[0.9, 0.7], k=0.3, gamma=0.01,
                              Q_max=[2, 3], T=50.0, phi=0.01)


def test_passes_check_env():
    check_env(MultiAssetMarketMakingEnv(PARAMS), skip_render_check=True)


def test_episode_respects_limits_and_penalty_reward_equals_pnl_minus_penalties():
    env = MultiAssetMarketMakingEnv(PARAMS, reward_type="inventory_penalty")
    obs, _ = env.reset(seed=3)
    total, penalty, done = 0.0, 0.0, False
    while not done:
        obs, reward, done, _, info = env.step(-np.ones(4, dtype=np.float32))   # quote at the mid: many fills
        q = info["inventory"]
        assert np.all(np.abs(q) <= PARAMS.Q_max) and env.observation_space.contains(obs)
        penalty += 0.5 * PARAMS.gamma * q @ PARAMS.covariance @ q * env.dt
        total += reward
    penalty += PARAMS.phi @ q**2
    assert total == pytest.approx(info["pnl"] - penalty, rel=1e-12, abs=1e-9)
    assert env.step_index == 50
