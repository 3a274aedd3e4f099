"""The replay against the simulator: the simulator's own tape replays to its own fills and PnL."""

import numpy as np
import pytest

from mfg_finance.market_making.backtest import run_backtest
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay import ReplaySettings, replay_session, replay_statistics, sessions_frame
from mfg_finance.market_making.replay.synthetic import poisson_tapes, simulator_tapes
from mfg_finance.market_making.strategies import STRATEGIES

PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01}
HORIZON, DT = 300.0, 1.0
# front queue, zero latency, no tick grid, no fees: the simulator's rules
SIM_RULES = ReplaySettings(dt_s=DT, tick_size=0.0, queue="front")


def replay_tapes(tapes, strategy, market, settings=SIM_RULES):
    return sessions_frame([replay_session(tape, strategy, market, settings, reference=ref, session_start_s=0.0,
                                          session_end_s=HORIZON, session=str(i))
                           for i, (tape, ref) in enumerate(tapes)])


def assert_same_paths(replayed, simulated):
    for column in ("n_bid_fills", "n_ask_fills", "n_trades"):
        np.testing.assert_array_equal(replayed[column].to_numpy(), simulated[column].to_numpy(), err_msg=column)
    # the simulator sees the inventory at step ends, the replay after every fill (a bid and an ask
    # filled in one step pass through q +- 1): the replay's maximum is the same or one lot more
    extra = replayed["max_abs_inventory"].to_numpy() - simulated["max_abs_inventory"].to_numpy()
    assert set(np.unique(extra)) <= {0, 1}
    np.testing.assert_array_equal(replayed["final_inventory"].to_numpy(), simulated["final_inventory"].to_numpy())
    np.testing.assert_allclose(replayed["final_pnl"], simulated["final_pnl"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(replayed["mean_spread"], simulated["mean_spread"], rtol=1e-12)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_simulator_tape_replays_to_the_simulators_fills_and_pnl(strategy):
    market = MarketParameters.from_mapping(PARAMS)
    simulated = run_backtest(strategy, market, horizon_s=HORIZON, dt_s=DT, n_paths=30, seed=7)
    tapes = simulator_tapes(market, horizon_s=HORIZON, dt_s=DT, n_paths=30, seed=7)
    replayed = replay_tapes(tapes, strategy, market)
    assert replayed["n_trades"].sum() > 1000          # the check is not vacuous
    assert_same_paths(replayed, simulated)


def test_exact_agreement_holds_for_the_other_fill_and_mid_models_and_lots():
    market = MarketParameters.from_mapping({**PARAMS, "order_size": 100})
    kw = dict(fill_model="linear", mid_model="binomial")
    simulated = run_backtest("hjb", market, horizon_s=HORIZON, dt_s=DT, n_paths=20, seed=3, **kw)
    replayed = replay_tapes(simulator_tapes(market, horizon_s=HORIZON, dt_s=DT, n_paths=20, seed=3, **kw), "hjb",
                            market)
    assert_same_paths(replayed, simulated)


def test_a_policy_callable_replays_like_the_simulator():
    market = MarketParameters.from_mapping(PARAMS)

    def skewed(t, q, S):
        return S - 0.02 - 0.002 * q, S + 0.02 - 0.002 * q

    simulated = run_backtest(skewed, market, horizon_s=HORIZON, dt_s=DT, n_paths=10, seed=5)
    replayed = replay_tapes(simulator_tapes(market, horizon_s=HORIZON, dt_s=DT, n_paths=10, seed=5), skewed, market)
    assert_same_paths(replayed, simulated)


@pytest.mark.parametrize("strategy", ["hjb", "constant"])
def test_continuous_time_poisson_tape_agrees_within_monte_carlo_error(strategy):
    # Fresh random numbers, orders arriving in continuous time: the same law as the simulator's, not the
    # same paths; mean PnL and fill counts agree within 3.5 combined standard errors.
    market = MarketParameters.from_mapping(PARAMS)
    simulated = run_backtest(strategy, market, horizon_s=HORIZON, dt_s=DT, n_paths=2000, seed=7)
    replayed = replay_tapes(poisson_tapes(market, horizon_s=HORIZON, dt_s=DT, n_paths=300, seed=11), strategy,
                            market)
    for column in ("final_pnl", "n_bid_fills", "n_ask_fills"):
        a, b = replayed[column].to_numpy(float), simulated[column].to_numpy(float)
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) < 3.5 * se, (column, a.mean(), b.mean(), se)


def test_statistics_table_is_the_backtests_with_sessions():
    market = MarketParameters.from_mapping(PARAMS)
    tapes = simulator_tapes(market, horizon_s=HORIZON, dt_s=DT, n_paths=12, seed=1)
    replayed = replay_tapes(tapes, "hjb", market)
    table = replay_statistics({("SIM", "hjb"): replayed})
    assert table.loc[0, "n_sessions"] == 12
    assert table.loc[0, "pnl_mean"] == pytest.approx(replayed["final_pnl"].mean())
    assert table.loc[0, "pnl_mean_se"] == pytest.approx(replayed["final_pnl"].std(ddof=1) / np.sqrt(12))
