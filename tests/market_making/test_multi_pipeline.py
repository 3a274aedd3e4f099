"""Pipeline glue of issue 18: portfolio documents, quote surfaces, figures and the report section."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.io import read_yaml, write_json, write_parquet, write_text, write_yaml
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.multi_asset import MultiAssetParameters, parameters_from_document
from mfg_finance.market_making.multi_backtest import multi_backtest_statistics, portfolio_document, run_multi_backtest
from mfg_finance.market_making.multi_surface import quote_surface
from mfg_finance.market_making.risk_limit import cvar_frontier_search
from mfg_finance.report.figures.multi_asset import plot_frontier, plot_quote_surface
from mfg_finance.report.multi_asset_section import multi_asset_section


def _returns(n=120, seed=2):
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(n)
    dates = list(pd.bdate_range("2024-01-01", periods=n))
    frame = [pd.DataFrame({"ticker": t, "date": dates, "log_return": 0.01 * (common + rng.standard_normal(n))})
             for t in ("AAAA3", "BBBB4")]
    return pd.concat(frame, ignore_index=True)


def _markets():
    return [MarketParameters(sigma=s, A=0.9, k=30.0, gamma=0.5, Q_max=4, S0=20.0, tick_size=0.01)
            for s in (0.003, 0.005)]


def test_portfolio_document_round_trips_through_yaml(tmp_path):
    doc = portfolio_document(["AAAA3", "BBBB4"], _markets(), _returns(), gamma=0.5, horizon_s=120.0)
    write_yaml(tmp_path / "params.yaml", doc)
    params = parameters_from_document(read_yaml(tmp_path / "params.yaml"))
    assert params.d == 2 and params.T == 120.0 and params.gamma == 0.5
    assert 0.3 < doc["correlation"][0][1] < 0.7          # two halves common noise: ~0.5
    np.testing.assert_allclose(params.covariance[0, 1], doc["correlation"][0][1] * 0.003 * 0.005, rtol=1e-12)
    with pytest.raises(ConfigError, match="lacks"):
        parameters_from_document({"covariance": [[1.0]]})


def test_quote_surface_exact_for_small_d_and_approximate_beyond():
    pair = MultiAssetParameters(covariance=[[0.09, 0.05], [0.05, 0.16]], A=0.9, k=0.3, gamma=0.01, Q_max=4,
                                T=300.0)
    surface = quote_surface(pair)
    assert surface["exact_bid"].shape == (9, 9) and surface["method"] == "exact"
    assert surface["error"]["max_error_near_zero"] <= surface["error"]["max_error_lattice"]
    assert np.isinf(surface["exact_bid"][-1]).all() and np.isinf(surface["approx_bid"][-1]).all()
    four = MultiAssetParameters(covariance=0.09 * np.eye(4) + 0.02, A=0.9, k=0.3, gamma=0.01, Q_max=20, T=300.0)
    wide = quote_surface(four)
    assert wide["exact_bid"] is None and wide["error"] is None and wide["approx_bid"].shape == (41, 41)


def test_figures_and_report_section_from_artefacts(tmp_path):
    doc = portfolio_document(["AAAA3", "BBBB4"], _markets(), _returns(), gamma=0.5, horizon_s=60.0)
    folder = tmp_path / "portfolios" / "AAAA3-BBBB4"
    folder.mkdir(parents=True)
    write_yaml(folder / "params.yaml", doc)
    params = parameters_from_document(doc)
    surface = quote_surface(params)
    plot_quote_surface(surface, doc["tickers"], 0.01, folder / "quote_surface.png")
    write_json(folder / "approximation.json", {"error": surface["error"], "exact_method": surface["method"],
                                               "error_ticks": {"max_error_near_zero": 1.0, "max_error_lattice": 2.0}})
    frontier, choice = cvar_frontier_search(params, strategy="multi_approx", gammas=[0.1, 1.0], cvar_level=0.1,
                                            max_loss=1e9, dt_s=1.0, n_paths=30, seed=1, table_dt_s=10.0,
                                            n_bisect=0)
    plot_frontier(frontier, choice, folder / "frontier.png", title="test")
    write_text(folder / "frontier.csv", frontier.to_csv(index=False))
    write_json(folder / "risk_limit.json", choice)
    runs = {("AAAA3-BBBB4", s): run_multi_backtest(s, params, dt_s=1.0, n_paths=30, seed=1, table_dt_s=10.0)
            for s in ("multi_approx", "independent_glft")}
    write_parquet(tmp_path / "stats.parquet", multi_backtest_statistics(runs))
    for name in ("quote_surface.png", "frontier.png"):
        assert (folder / name).read_bytes().startswith(b"\x89PNG")
    section = multi_asset_section({
        "multi_asset_params": [folder / "params.yaml"], "multi_asset_solves": [folder / "approximation.json"],
        "multi_asset_surfaces": [folder / "quote_surface.png"], "risk_limit_choices": [folder / "risk_limit.json"],
        "risk_limit_frontiers": [folder / "frontier.csv"], "risk_limit_figures": [folder / "frontier.png"],
        "multi_asset_stats": tmp_path / "stats.parquet", "heston_params": [], "heston_tables": []})
    (portfolio,) = section["portfolios"]
    assert portfolio["name"] == "AAAA3-BBBB4" and portfolio["choice"]["gamma"] is not None
    assert portfolio["surface"]["src"].startswith("data:image/png;base64,")
    assert "independent_glft" in section["stats_table"] and " ± " in section["stats_table"]
    assert multi_asset_section({}) is None


@pytest.mark.parametrize("edit, message", [
    (lambda mm: mm.update(portfolios=[["SYNA3", "PETR4"]]), r"portfolios\[0\]: \['PETR4'\] not in"),
    (lambda mm: mm.update(portfolios=[["SYNA3", "SYNB4", "SYNC3", "SYND4"]], tickers=["SYNA3", "SYNB4", "SYNC3",
                                                                                      "SYND4"]), "at most 3"),
    (lambda mm: mm["heston"].update(ticker="ZZZZ3"), "heston.ticker"),
    (lambda mm: mm["multi_asset"].update(table_dt_s=1.5), "whole multiple"),
])
def test_issue18_config_cross_checks_name_the_key(repo_root, edit, message):
    import yaml
    from snakemake.utils import validate

    from mfg_finance.config import check_config

    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    validate(cfg, str(repo_root / "workflow" / "schemas" / "config.schema.yaml"))
    check_config(cfg)
    edit(cfg["market_making"])
    with pytest.raises(ConfigError, match=message):
        check_config(cfg)


def test_portfolios_default_to_the_first_two_tickers():
    from mfg_finance.config import market_making_portfolios

    assert market_making_portfolios({"tickers": ["PETR4", "VALE3", "ITUB4"], "portfolios": None}) == [["PETR4", "VALE3"]]
    assert market_making_portfolios({"tickers": ["PETR4"], "portfolios": None}) == []
    assert market_making_portfolios({"tickers": ["A1B2", "C3D4"], "portfolios": [["C3D4", "A1B2"]]}) == [["C3D4", "A1B2"]]
