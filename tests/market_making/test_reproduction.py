"""Avellaneda & Stoikov (2008) reproduction against the paper's Tables 1-3."""

import numpy as np
import pandas as pd
import pytest

from mfg_finance.market_making.reproduction import (COLUMNS, PAPER_SETUP, avellaneda_stoikov_2008,
                                                    compare_with_paper, paper_table)


@pytest.fixture(scope="module")
def table():
    return avellaneda_stoikov_2008(n_paths=1000, seed=2008)


def test_layout_and_order(table):
    assert tuple(table.columns) == COLUMNS
    assert table["gamma"].tolist() == [0.1, 0.1, 0.01, 0.01, 0.5, 0.5]
    assert table["strategy"].tolist() == ["inventory", "symmetric"] * 3
    pd.testing.assert_frame_equal(paper_table()[["gamma", "strategy"]], table[["gamma", "strategy"]])
    assert PAPER_SETUP["n_paths"] == 1000


def test_deterministic(table):
    pd.testing.assert_frame_equal(table, avellaneda_stoikov_2008(n_paths=1000, seed=2008))


def test_symmetric_rows_reproduce_the_paper(table):
    merged = compare_with_paper(table)
    sym = merged[merged["strategy"] == "symmetric"]
    np.testing.assert_allclose(sym["spread"], sym["spread_paper"], atol=6e-3)       # paper rounds to 0.01
    np.testing.assert_allclose(sym["profit_mean"], sym["profit_mean_paper"], rtol=0.04)
    np.testing.assert_allclose(sym["profit_std"], sym["profit_std_paper"], rtol=0.10)
    np.testing.assert_allclose(sym["q_std"], sym["q_std_paper"], rtol=0.08)
    assert (sym["q_mean_z"].abs() < 4).all()


def test_inventory_rows_close_to_the_paper(table):
    merged = compare_with_paper(table)
    inv = merged[merged["strategy"] == "inventory"].set_index("gamma")
    # gamma = 0.1 and 0.01 agree within a few per cent; at gamma = 0.5 the published profit (33.92)
    # is below what the paper's formulas give (see docs/market_making.md), only q_std is compared.
    for gamma in (0.1, 0.01):
        row = inv.loc[gamma]
        assert row["profit_mean"] == pytest.approx(row["profit_mean_paper"], rel=0.05)
        assert row["profit_std"] == pytest.approx(row["profit_std_paper"], rel=0.15)
        assert row["q_std"] == pytest.approx(row["q_std_paper"], rel=0.15)
    assert inv.loc[0.5, "q_std"] == pytest.approx(inv.loc[0.5, "q_std_paper"], rel=0.1)
    assert (inv["q_mean_z"].abs() < 4).all()


def test_the_papers_qualitative_findings(table):
    by = table.set_index(["gamma", "strategy"])
    for gamma in (0.1, 0.01, 0.5):
        inv, sym = by.loc[(gamma, "inventory")], by.loc[(gamma, "symmetric")]
        assert inv["profit_std"] < sym["profit_std"] and inv["q_std"] < sym["q_std"]
        assert inv["profit_mean"] <= sym["profit_mean"] + 3 * sym["profit_std"] / np.sqrt(1000)
    q_std = by.xs("inventory", level="strategy")["q_std"]
    assert q_std[0.5] < q_std[0.1] < q_std[0.01]           # more risk aversion, tighter inventory
