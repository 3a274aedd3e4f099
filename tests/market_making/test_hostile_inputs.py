"""Issue 21 reproducers: parameters that used to hang or end in a traceback get a clear answer."""

import numpy as np
import pytest

from mfg_finance.cli import main
from mfg_finance.errors import ConfigError
from mfg_finance.market_making import glft
from mfg_finance.market_making.backtest import run_backtest
from mfg_finance.market_making.glft import HJBParameters, InventoryHJB, QuoteSolverError
from mfg_finance.market_making.market import MarketParameters, market_parameters_from_file
from mfg_finance.market_making.simulator import QuoteTable
from mfg_finance.user_yaml import loads_user_yaml

PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 5, "S0": 25.0, "tick_size": 0.01}
STIFF = "sigma: 1.0e6\nA: 0.9\nk: 30\ngamma: 1\nQ_max: 30\nS0: 100\ntick_size: 0.01\n"


def test_stiff_glft_problem_is_refused_quickly_not_solved_for_minutes():
    # sigma 1e6 BRL/sqrt(s): uniformization alone would take ~1e16 steps over 60 s
    model = InventoryHJB(HJBParameters(sigma=1e6, A=0.9, k=30.0, gamma=1.0, Q_max=30, T=60.0))
    with pytest.raises(QuoteSolverError, match="double range"):
        model.spread_table(np.array([0.0, 30.0, 59.0]))


def test_uniformization_work_is_capped_with_the_estimate(monkeypatch):
    monkeypatch.setattr(glft, "MAX_UNIFORMIZATION_STEPS", 3)
    params = HJBParameters(sigma=1.0, A=0.109375, k=2.0, gamma=0.25, T=300.0, Q_max=8)
    with pytest.raises(QuoteSolverError, match=r"too stiff: uniformization needs ~[0-9.e+]+ steps"):
        glft._uniformized_log_v(params, np.array([300.0]))


def test_huge_risk_aversion_in_the_pipeline_settings_fails_fast():
    market = MarketParameters(**{**PARAMS, "gamma": 1.0e300})
    with pytest.raises(QuoteSolverError):
        run_backtest("hjb", market, horizon_s=600.0, dt_s=1.0, n_paths=4, seed=1)


@pytest.mark.parametrize("strategy", ["inventory_aware", "constant", "hjb", "avellaneda_stoikov"])
def test_one_step_horizon_runs(strategy):
    frame = run_backtest(strategy, PARAMS, horizon_s=1.0, dt_s=1.0, n_paths=8, seed=3)
    assert len(frame) == 8 and np.isfinite(frame["final_pnl"]).all()


def test_quote_table_never_writes_into_the_callers_array():
    delta = np.ones((3, 5))
    QuoteTable(delta, delta.copy(), 2)
    assert np.all(delta == 1.0)


def test_overflowing_scales_are_a_config_error():
    with pytest.raises(ConfigError, match="overflows double precision"):
        MarketParameters(**{**PARAMS, "sigma": 1e200})
    with pytest.raises(ConfigError, match="overflows double precision"):
        HJBParameters(sigma=1e200)
    with pytest.raises(ConfigError, match="Q_max must be <="):
        MarketParameters(**{**PARAMS, "Q_max": 10**6})


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "7"])
def test_bad_seeds_are_a_config_error(seed):
    with pytest.raises(ConfigError, match="seed"):
        run_backtest("constant", PARAMS, horizon_s=2.0, dt_s=1.0, n_paths=2, seed=seed)


@pytest.mark.parametrize("text, expected", [
    ("1.0e6", 1.0e6), ("1e200", 1e200), ("1E-3", 1e-3), (".5e2", 50.0), ("30", 30), ("1.5", 1.5),
    ("+2e0", 2.0), ("1.0e+6", 1.0e6), ("abc", "abc"), ("2023-01-02", None),
])
def test_user_yaml_reads_the_exponent_forms_users_write(text, expected):
    value = loads_user_yaml(f"x: {text}\n")["x"]
    if expected is None:
        assert not isinstance(value, float)
    else:
        assert value == expected and type(value) is type(expected)


def test_user_yaml_refuses_duplicates_and_names_the_line():
    with pytest.raises(ConfigError, match=r"f.yaml, line 3, column 1: .*duplicate key 'sigma' \(first given on line 1"):
        loads_user_yaml("sigma: 1\nA: 2\nsigma: 3\n", source="f.yaml")
    with pytest.raises(ConfigError, match=r"f.yaml, line 2"):
        loads_user_yaml("a: [1\nb: 2\n", source="f.yaml")


def test_parameter_file_with_yaml11_exponent_is_read_as_numbers(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(STIFF.replace("1.0e6", "1.0e-3"))
    _, market = market_parameters_from_file(path)
    assert market.sigma == 1.0e-3 and isinstance(market.sigma, float)


def test_parameter_file_that_is_a_fifo_is_refused(tmp_path):
    import os

    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        market_parameters_from_file(fifo)


@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "--seed: expected an integer >= 0"),
    (["--n-runs", "0"], "--n-runs: expected an integer >= 2"),
])
def test_cli_refuses_bad_numbers_with_a_usage_error(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["backtest", "--output-dir", str(tmp_path), *argv])
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("sigma, message", [("1.0e6", "double range"), ("1e200", "overflows double precision"),
                                            (".nan", "must be finite")])
def test_cli_with_extreme_parameter_files_ends_in_a_clear_error(tmp_path, capsys, sigma, message):
    path = tmp_path / "p.yaml"
    path.write_text(STIFF.replace("1.0e6", sigma))
    code = main(["backtest", "--strategies", "hjb", "--params", str(path), "--horizon-s", "60",
                 "--n-runs", "4", "--output-dir", str(tmp_path / "out")])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
