"""Vectorized simulator: fill rates, limits, PnL accounting, engines, determinism, seed-style loop."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import MarketMakingSimulator, SimulatorParameters, create_default_model
from mfg_finance.market_making import simulator as sim
from mfg_finance.market_making.simulator import Dynamics, QuoteTable, fill_probability, simulate_policy, simulate_table


def flat_table(n_steps, Q, delta_b, delta_a=None):
    delta_a = delta_b if delta_a is None else delta_a
    shape = (n_steps, 2 * Q + 1)
    return QuoteTable(np.full(shape, float(delta_b)), np.full(shape, float(delta_a)), Q)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("fill_model", ["exponential", "linear"])
def test_fill_rates_match_intensity_within_monte_carlo_error(fill_model, engine):
    A, k, dt, delta, n_steps, n_paths = 0.9, 0.3, 0.5, 2.0, 400, 500
    Q = n_steps                       # limits never bind
    dyn = Dynamics(sigma=0.3, A=A, k=k, dt=dt, n_steps=n_steps, S0=100.0, fill_model=fill_model)
    result = simulate_table(flat_table(n_steps, Q, delta), dyn, n_paths=n_paths, seed=11, engine=engine)
    rate_dt = A * np.exp(-k * delta) * dt
    p = -np.expm1(-rate_dt) if fill_model == "exponential" else rate_dt
    trials = n_steps * n_paths
    for fills in (result.n_bid_fills, result.n_ask_fills):
        p_hat = fills.sum() / trials
        assert abs(p_hat - p) < 4 * np.sqrt(p * (1 - p) / trials)
    if fill_model == "exponential":           # implied Poisson intensity -ln(1 - p)/dt = A exp(-k delta)
        p_hat = result.n_bid_fills.sum() / trials
        assert -np.log1p(-p_hat) / dt == pytest.approx(A * np.exp(-k * delta), rel=0.03)


def test_fill_probability_limits():
    assert fill_probability(np.inf, A=1.0, k=1.0, dt=1.0) == 0.0
    assert fill_probability(-1e6, A=1.0, k=1.0, dt=1.0, model="linear") == 1.0
    assert fill_probability(-1e6, A=1.0, k=1.0, dt=1.0) == 1.0
    with pytest.raises(ConfigError, match="fill_model"):
        fill_probability(1.0, A=1.0, k=1.0, dt=1.0, model="poisson")


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_inventory_limits_are_never_breached(engine):
    # quotes far through the mid fill (almost) every step: inventory would run away without limits
    dyn = Dynamics(sigma=0.3, A=5.0, k=0.3, dt=1.0, n_steps=300, S0=100.0)
    table = flat_table(300, 3, -20.0, 50.0)             # buy always, sell almost never
    result = simulate_table(table, dyn, n_paths=200, seed=5, engine=engine)
    assert result.max_abs_inventory.max() == 3
    assert (result.final_inventory == 3).all()

    def reckless(t, q, S):                               # a user policy that ignores the limits
        return S + 20.0, S + 50.0
    result = simulate_policy(reckless, dyn, Q_max=3, n_paths=200, seed=5)
    assert result.max_abs_inventory.max() == 3


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_pnl_is_spread_income_when_the_mid_does_not_move(engine):
    h = 1.5
    dyn = Dynamics(sigma=0.0, A=0.9, k=0.3, dt=1.0, n_steps=200, S0=10.0)
    result = simulate_table(flat_table(200, 50, h), dyn, n_paths=100, seed=2, engine=engine)
    np.testing.assert_allclose(result.final_pnl, h * (result.n_bid_fills + result.n_ask_fills))
    np.testing.assert_allclose(result.mean_spread, 2 * h)


def test_pnl_is_cash_plus_inventory_marked_to_the_mid():
    # A policy quoting one side at a time makes every fill identifiable from the inventory path, so
    # the cash account can be rebuilt: final PnL = cash + q_T S_T (q_0 = 0).
    def one_sided(t, q, S):
        return (S - 2.0, np.inf) if q <= 0 else (-np.inf, S + 2.5)
    out = MarketMakingSimulator(SimulatorParameters(T=200.0, dt=0.5, seed=4)).run_simulation(one_sided)
    q, prices = out["inventory"], out["prices"]
    cash = 0.0
    for n in range(len(q) - 1):
        if q[n + 1] > q[n]:
            cash -= prices[n] - 2.0
        elif q[n + 1] < q[n]:
            cash += prices[n] + 2.5
    assert out["n_trades"] > 20
    assert out["final_pnl"] == pytest.approx(cash + q[-1] * prices[-1], rel=1e-10)
    assert out["n_trades"] == out["n_bid_fills"] + out["n_ask_fills"]


def two_sample_z(a, b):
    """Difference of two independent sample means in units of its standard error."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)


def test_engines_agree_within_monte_carlo_error():
    # The engines draw different random numbers (NumPy streams vs per-path streams in the kernel),
    # so they agree in law: the means of every output differ by less than 4.5 standard errors
    # (a 7e-6 chance each for correct engines), the PnL distributions pass a two-sample KS test,
    # and both reproduce the mid's exact law S_T ~ N(S0, sigma^2 T).
    model = create_default_model()
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=300, S0=100.0)
    table = QuoteTable(*model.spread_table(dyn.times), 30)
    n_paths = 4000
    a = simulate_table(table, dyn, n_paths=n_paths, seed=9, engine="numpy")
    b = simulate_table(table, dyn, n_paths=n_paths, seed=9, engine="numba")
    for name in ("final_pnl", "n_bid_fills", "n_ask_fills", "final_inventory", "mean_spread", "final_price"):
        assert abs(two_sample_z(getattr(a, name), getattr(b, name))) < 4.5, name
    assert abs(two_sample_z(a.final_pnl ** 2, b.final_pnl ** 2)) < 4.5
    assert stats.ks_2samp(a.final_pnl, b.final_pnl).pvalue > 1e-4
    var_T = dyn.sigma ** 2 * dyn.n_steps * dyn.dt
    for result in (a, b):
        assert abs(result.final_price.mean() - dyn.S0) < 4.5 * np.sqrt(var_T / n_paths)
        # the sample variance of n normals has standard error var * sqrt(2 / (n - 1))
        assert abs(result.final_price.var(ddof=1) - var_T) < 4.5 * var_T * np.sqrt(2 / (n_paths - 1))


def test_numba_engine_is_byte_identical_for_any_thread_count():
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba allows a single thread here (NUMBA_NUM_THREADS=1)")
    model = create_default_model()
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=200, S0=100.0)
    table = QuoteTable(*model.spread_table(dyn.times), 30)
    before = numba.get_num_threads()
    frames = []
    try:
        for threads in sorted({1, 2, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            # 300 paths: three blocks of unequal size, split differently by each thread count
            frames.append(simulate_table(table, dyn, n_paths=300, seed=17, engine="numba").to_frame())
    finally:
        numba.set_num_threads(before)
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0], check_exact=True)


def test_numba_paths_do_not_depend_on_the_number_of_paths():
    # path p's stream is seeded from (seed, p): the first 50 of 300 paths are the 50 of a 50-path run
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=150, S0=100.0, mid_model="binomial")
    table = flat_table(150, 10, 2.0, 3.0)
    many = simulate_table(table, dyn, n_paths=300, seed=4, engine="numba").to_frame()
    few = simulate_table(table, dyn, n_paths=50, seed=4, engine="numba").to_frame()
    pd.testing.assert_frame_equal(many.iloc[:50], few, check_exact=True)
    other_seed = simulate_table(table, dyn, n_paths=50, seed=5, engine="numba").to_frame()
    assert not few["final_pnl"].equals(other_seed["final_pnl"])


def test_results_do_not_depend_on_memory_blocks(monkeypatch):
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=97, S0=100.0, mid_model="binomial")
    table = flat_table(97, 10, 3.0)
    reference = simulate_table(table, dyn, n_paths=50, seed=3, engine="numpy").to_frame()
    monkeypatch.setattr(sim, "_BLOCK_ELEMENTS", 7 * 50)
    pd.testing.assert_frame_equal(simulate_table(table, dyn, n_paths=50, seed=3, engine="numpy").to_frame(), reference)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_determinism_by_seed_and_common_random_numbers(engine):
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=120, S0=100.0)
    table = flat_table(120, 10, 3.0)
    a = simulate_table(table, dyn, n_paths=40, seed=21, engine=engine).to_frame()
    b = simulate_table(table, dyn, n_paths=40, seed=21, engine=engine).to_frame()
    c = simulate_table(table, dyn, n_paths=40, seed=22, engine=engine).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not a["final_pnl"].equals(c["final_pnl"])
    # same seed, different strategy: same mid paths (the kernel's mid draws come after the fills'
    # two uniforms in each path's stream, so they too are the same whatever the quotes)
    wide = simulate_table(flat_table(120, 10, 5.0), dyn, n_paths=40, seed=21, engine=engine)
    np.testing.assert_array_equal(wide.final_price,
                                  simulate_table(table, dyn, n_paths=40, seed=21, engine=engine).final_price)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_binomial_mid_moves_by_plus_minus_sigma_sqrt_dt(engine):
    dyn = Dynamics(sigma=0.4, A=0.9, k=0.3, dt=0.25, n_steps=10, S0=50.0, mid_model="binomial")
    result = simulate_table(flat_table(10, 10, 3.0), dyn, n_paths=500, seed=1, engine=engine)
    steps = (result.final_price - 50.0) / (0.4 * 0.5)
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert set(np.round(steps).astype(int) % 2) == {0}          # 10 steps of +-1: even
    # a sum of 10 fair signs: mean 0, variance 10 (4.5 standard errors)
    assert abs(np.round(steps).mean()) < 4.5 * np.sqrt(10 / 500)
    gaussian = simulate_table(flat_table(10, 10, 3.0), Dynamics(sigma=0.4, A=0.9, k=0.3, dt=0.25, n_steps=10,
                                                                 S0=50.0), n_paths=500, seed=1, engine=engine)
    assert np.std(gaussian.final_price - 50.0) == pytest.approx(0.4 * np.sqrt(2.5), rel=0.1)


def test_policy_engine_matches_table_engine():
    model = create_default_model()
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=100, S0=100.0)
    table = QuoteTable(*model.spread_table(dyn.times), 30)
    by_table = simulate_table(table, dyn, n_paths=30, seed=8, engine="numpy").to_frame()
    by_policy = simulate_policy(model.get_quotes, dyn, Q_max=30, n_paths=30, seed=8).to_frame()
    pd.testing.assert_frame_equal(by_table, by_policy, check_exact=False, rtol=1e-9, atol=1e-9)


def test_scalar_policy_is_looped_per_path():
    def scalar_policy(t, q, S):
        if q > 0:                                   # fails on arrays: evaluated path by path
            return S - 4.0, S + 2.0
        return S - 2.0, S + 4.0
    dyn = Dynamics(sigma=0.3, A=0.9, k=0.3, dt=1.0, n_steps=50, S0=100.0)
    result = simulate_policy(scalar_policy, dyn, Q_max=5, n_paths=8, seed=1)
    assert result.final_pnl.shape == (8,)


def test_seed_style_loop_reproduces_vectorized_path_zero():
    simulator = MarketMakingSimulator(SimulatorParameters(T=60.0, dt=0.5, seed=17))
    model = create_default_model()
    single = simulator.run_simulation(model.get_quotes)
    frame = simulator.run_paths(model, 1)
    assert single["final_pnl"] == pytest.approx(frame["final_pnl"].iloc[0], rel=1e-12)
    assert single["final_inventory"] == frame["final_inventory"].iloc[0]
    assert single["n_trades"] == frame["n_trades"].iloc[0]
    assert single["max_abs_inventory"] == frame["max_abs_inventory"].iloc[0]


def test_quote_table_validation():
    with pytest.raises(ConfigError, match="shape"):
        QuoteTable(np.zeros((3, 4)), np.zeros((3, 4)), 2)
    with pytest.raises(ConfigError, match="NaN"):
        QuoteTable(np.full((3, 5), np.nan), np.zeros((3, 5)), 2)
    with pytest.raises(ConfigError, match="q0"):
        simulate_table(flat_table(5, 2, 1.0), Dynamics(sigma=0.1, A=1.0, k=1.0, dt=1.0, n_steps=5),
                       n_paths=2, seed=0, q0=3)
    with pytest.raises(ConfigError, match="mid_model"):
        Dynamics(sigma=0.1, A=1.0, k=1.0, dt=1.0, n_steps=5, mid_model="levy")
