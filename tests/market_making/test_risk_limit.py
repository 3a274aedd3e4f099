"""CVaR-limited choice of the risk aversion: common random numbers, frontier with standard errors."""

import dataclasses

import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.market_making.multi_asset import MultiAssetParameters
from mfg_finance.market_making.risk_limit import cvar_frontier_search

PARAMS = MultiAssetParameters(covariance=0.09 * np.array([[1.0, 0.8], [0.8, 1.0]]), A=0.9, k=0.3, gamma=0.05,
                              Q_max=6, T=300.0)
SEARCH = dict(strategy="multi_approx", gammas=[0.001, 0.01, 0.1], cvar_level=0.1, dt_s=1.0, n_paths=200, seed=1,
              table_dt_s=10.0, n_bisect=2)


def test_chosen_gamma_meets_the_limit_within_its_standard_error():
    loose, _ = cvar_frontier_search(PARAMS, max_loss=1e9, **SEARCH)
    # a limit between the grid's losses, so that it binds
    target = float(np.median(loose["loss"] + loose["loss_se"]))
    frontier, choice = cvar_frontier_search(PARAMS, max_loss=target, **SEARCH)
    assert choice["admissible_found"]
    chosen = frontier.set_index("gamma").loc[choice["gamma"]]
    assert chosen["loss"] + chosen["loss_se"] <= target
    assert choice["meets_limit_out_of_sample"]
    assert choice["out_of_sample_loss"] <= target + choice["out_of_sample_loss_se"]
    assert chosen["pnl_mean"] == frontier.loc[frontier["admissible"], "pnl_mean"].max()
    assert {"pnl_mean_se", "pnl_cvar_se", "sharpe_se"} <= set(frontier.columns)
    # common random numbers: the same gamma gives the same point in both searches
    same = loose.set_index("gamma").loc[0.01]
    assert same["pnl_cvar"] == frontier.set_index("gamma").loc[0.01, "pnl_cvar"]


def test_unreachable_limit_is_reported_not_hidden():
    frontier, choice = cvar_frontier_search(PARAMS, max_loss=-1e9, **SEARCH)
    assert not choice["admissible_found"] and choice["gamma"] is None and "no gamma" in choice["reason"]
    assert "keeps CVaR 10% - se at or above 1e+09 BRL" in choice["reason"]       # a gain the worst paths must make
    assert not frontier["admissible"].any()
    with pytest.raises(ConfigError, match="gammas"):
        cvar_frontier_search(PARAMS, max_loss=0.0, **dict(SEARCH, gammas=[0.1]))


def test_an_unreachable_zero_limit_reads_zero_not_minus_zero():
    """A hundred times the volatility: the worst 10% of paths lose at every gamma, so "must not lose" (max_loss =
    0) admits none, and the reason states the bound as 0 (it read "-0")."""
    volatile = dataclasses.replace(PARAMS, covariance=1e4 * PARAMS.covariance)
    frontier, choice = cvar_frontier_search(volatile, max_loss=0.0, **SEARCH)
    assert (frontier["loss"] > 0.0).all() and choice["gamma"] is None
    assert "at or above 0 BRL (loss + se <= max_loss = 0 BRL)" in choice["reason"] and "-0" not in choice["reason"]


def test_relative_limit_is_scaled_by_the_least_constrained_strategy():
    loose, _ = cvar_frontier_search(PARAMS, max_loss=1e9, **SEARCH)
    ref = loose.iloc[0]                                    # the smallest gamma
    frontier, choice = cvar_frontier_search(PARAMS, max_loss_sd=1.0, **SEARCH)
    expected = 1.0 * ref["pnl_std"] - ref["pnl_mean"]
    assert choice["max_loss"] == pytest.approx(expected)
    assert choice["limit"]["form"] == "relative" and choice["limit"]["reference_gamma"] == 0.001
    # the same search with that number as an absolute limit gives the same choice (common random numbers)
    same_frontier, same = cvar_frontier_search(PARAMS, max_loss=expected, **SEARCH)
    assert same["gamma"] == choice["gamma"] and same["limit"]["form"] == "absolute"
    with pytest.raises(ConfigError, match="exactly one"):
        cvar_frontier_search(PARAMS, max_loss=0.0, max_loss_sd=1.0, **SEARCH)
    with pytest.raises(ConfigError, match="exactly one"):
        cvar_frontier_search(PARAMS, **SEARCH)
    with pytest.raises(ConfigError, match="max_loss_sd"):
        cvar_frontier_search(PARAMS, max_loss_sd=-1.0, **SEARCH)
