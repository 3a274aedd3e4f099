"""Pieces of the report that read well (issue 20): durations, verb agreement, the A&S reproduction notes,
quotes through the mid, figures shown once, tables that fit. Library level: no pipeline run needed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.quote_checks import describe, quotes_through_mid
from mfg_finance.market_making.reproduction import compare_with_paper, paper_table
from mfg_finance.report.formatting import html_tables_fitting
from mfg_finance.report.reproduction_notes import mean_time_term, review, review_sentence
from mfg_finance.report.summary import _subject
from mfg_finance.report.wall_times import clock, for_display


@pytest.mark.parametrize("seconds, text", [(0.4213, "0.421 s"), (12.34, "12.3 s"), (59.9, "59.9 s"),
                                           (1120.4, "18 min 40 s"), (3599.6, "1 h 00 min"), (7322, "2 h 02 min"),
                                           (float("nan"), "—")])
def test_wall_times_read_as_durations(seconds, text):
    assert clock(seconds) == text


def test_wall_time_table_shows_durations_not_exponents():
    shown = for_display(pd.DataFrame({"rule": ["sweep_mfg"], "jobs": [64], "total_wall_s": [1120.0],
                                      "max_wall_s": [31.0], "max_rss_mb": [250.0]}))
    assert list(shown.columns) == ["rule", "jobs", "total wall time", "longest job", "peak memory (MB)"]
    assert shown.iloc[0].tolist()[2:4] == ["18 min 40 s", "31 s"]


def test_strategy_names_agree_with_their_verb():
    assert _subject("inventory_aware", "earn", "earns") == "an inventory-aware heuristic earns"
    assert _subject("constant", "earn", "earns") == "a constant spread earns"
    assert _subject("hjb", "earn", "earns") == "optimal (GLFT/HJB) quotes earn"
    assert _subject("avellaneda_stoikov", "give", "gives") == "Avellaneda-Stoikov quotes give"


def _ours_from_paper(profit_mean_shift: float = 0.0) -> pd.DataFrame:
    """Our table as if it had reproduced the paper exactly, with the A&S spread formula's time term."""
    ours = paper_table().copy()
    inventory = ours["strategy"] == "inventory"
    ours.loc[inventory, "spread"] += [mean_time_term(g) for g in ours.loc[inventory, "gamma"]]
    ours.loc[(ours["gamma"] == 0.5) & inventory, "profit_mean"] += profit_mean_shift
    return ours


def test_spreads_with_the_time_term_are_explained_and_exact_values_agree():
    tally = review(compare_with_paper(_ours_from_paper(), 1000))
    assert tally["n"] == 30 and tally["n_z"] == 24 and tally["z3"] == 24
    assert tally["spread_agree"] == 3 and tally["spread_explained"] == 3
    assert [note["mark"] for note in tally["notes"]] == ["a"]
    inventory_rows = [row for row in tally["rows"] if row["strategy"] == "inventory"]
    assert all(row["cells"][0]["mark"] == "a" and row["cells"][0]["off"] for row in inventory_rows)
    assert "27 of 30 numbers agree" in review_sentence(tally)
    assert mean_time_term(0.5) == pytest.approx(0.5 * 4 * (1 - 0.005 * 199 / 2))


def test_every_highlighted_reproduction_cell_carries_a_note():
    tally = review(compare_with_paper(_ours_from_paper(profit_mean_shift=15.0), 1000))   # the known gamma=0.5 gap
    marks = {note["mark"] for note in tally["notes"]}
    for row in tally["rows"]:
        for cell in row["cells"]:
            assert (cell["mark"] is not None) == bool(cell["off"])
            if cell["mark"]:
                assert cell["mark"] in marks
    gap = next(r for r in tally["rows"] if r["strategy"] == "inventory" and r["gamma"] == "0.5")
    assert gap["cells"][1]["mark"] == "b" and gap["cells"][1]["off"]
    symmetric = _ours_from_paper()
    symmetric.loc[symmetric["strategy"] == "symmetric", "profit_mean"] += 10.0
    assert "c" in {note["mark"] for note in review(compare_with_paper(symmetric, 1000))["notes"]}


def test_avellaneda_stoikov_quoting_through_the_mid_is_found_and_said():
    market = MarketParameters(sigma=0.0152, A=3.66, k=72.9, gamma=0.1, Q_max=10, S0=60.0, tick_size=0.01)
    checks = quotes_through_mid(market, 3600.0)
    # skew q gamma sigma^2 T against half-spread (1/gamma) ln(1 + gamma/k): crosses from |q| = 1 lot on
    half = np.log1p(0.1 / 72.9) / 0.1
    first = int(np.floor(half / (0.1 * 0.0152 ** 2 * 3600.0))) + 1
    assert checks["avellaneda_stoikov"].ask_below_mid[0] == first
    assert checks["avellaneda_stoikov"].bid_above_mid[-1] == -first
    assert not checks["hjb"].crosses
    sentence = describe("VALE3", checks)
    assert sentence.startswith(f"VALE3: at t = 0, Avellaneda-Stoikov offers below the mid when long {first} lot")
    assert "(GLFT never does)" in sentence
    calm = MarketParameters(sigma=0.001, A=3.0, k=100.0, gamma=0.1, Q_max=5, S0=60.0, tick_size=0.01)
    assert describe("X", quotes_through_mid(calm, 60.0)) is None


def test_wide_frames_become_several_tables_with_the_keys_repeated():
    frame = pd.DataFrame({"ticker": ["A", "B"], **{f"c{i}": [i, i + 1] for i in range(11)}})
    html = html_tables_fitting(frame, ["ticker"], max_columns=4, row_classes=["", "failed"])
    tables = re.findall(r"<table.*?</table>", html, flags=re.S)
    assert len(tables) == 3
    assert all("<th>ticker</th>" in t and t.count('<tr class="failed">') == 1 for t in tables)
    assert sum(t.count("<th>") for t in tables) == 11 + 3
