"""``mfg-finance backtest`` and the market-making figures."""

import numpy as np
import pandas as pd
import pytest
import yaml

from mfg_finance.cli import main
from mfg_finance.market_making.backtest import backtest_statistics, run_backtest
from mfg_finance.market_making.market import default_market_parameters
from mfg_finance.report.figures.market_making import (plot_backtest_comparison, plot_backtest_distributions,
                                                      plot_quotes, plot_statistics_table)

PARAMS = {"sigma": 0.004, "A": 0.5, "k": 60.0, "gamma": 0.1, "Q_max": 10, "S0": 25.0, "tick_size": 0.01}
PNG = b"\x89PNG"


def test_backtest_command_writes_figures_and_per_path_results(tmp_path, capsys):
    code = main(["backtest", "--strategies", "hjb", "constant", "--seed", "123", "--n-runs", "10",
                 "--output-dir", str(tmp_path)])
    assert code == 0
    for name in ("backtest_comparison.png", "statistics_table.png"):
        assert (tmp_path / name).read_bytes()[:4] == PNG
    frame = pd.read_parquet(tmp_path / "backtest_results.parquet")
    assert len(frame) == 20 and set(frame["strategy"]) == {"hjb", "constant"}
    expected = run_backtest("hjb", default_market_parameters(), horizon_s=600.0, dt_s=1.0, n_paths=10, seed=123)
    np.testing.assert_allclose(frame.loc[frame["strategy"] == "hjb", "final_pnl"], expected["final_pnl"])
    assert "hjb" in capsys.readouterr().out


def test_backtest_command_reads_params_per_ticker(tmp_path):
    path = tmp_path / "mm_params.yaml"
    path.write_text(yaml.safe_dump({"tickers": {"SYNA3": PARAMS, "SYNB4": {**PARAMS, "S0": 10.0}}}))
    out = tmp_path / "out"
    assert main(["backtest", "--strategies", "avellaneda_stoikov", "--n-runs", "5", "--params", str(path),
                 "--ticker", "SYNB4", "--horizon-s", "60", "--output-dir", str(out)]) == 0
    assert set(pd.read_parquet(out / "backtest_results.parquet")["ticker"]) == {"SYNB4"}
    assert main(["backtest", "--n-runs", "5", "--params", str(path), "--ticker", "NOPE",
                 "--output-dir", str(out)]) == 2


def test_unknown_strategy_is_rejected_by_the_parser(tmp_path):
    with pytest.raises(SystemExit):
        main(["backtest", "--strategies", "glft", "--output-dir", str(tmp_path)])


def test_figures(tmp_path):
    plot_quotes(dict(PARAMS, T=600.0), tmp_path / "quotes.png")
    results = {(t, s): run_backtest(s, PARAMS, horizon_s=120.0, dt_s=1.0, n_paths=40, seed=1)
               for t in ("SYNA3", "SYNB4") for s in ("hjb", "constant")}
    plot_backtest_distributions(results, tmp_path / "pnl.png", tmp_path / "inventory.png")
    plot_backtest_comparison({s: results[("SYNA3", s)] for s in ("hjb", "constant")}, tmp_path / "cmp.png")
    plot_statistics_table(backtest_statistics(results), tmp_path / "table.png")
    for name in ("quotes.png", "pnl.png", "inventory.png", "cmp.png", "table.png"):
        assert (tmp_path / name).read_bytes()[:4] == PNG
