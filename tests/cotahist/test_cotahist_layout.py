"""The layout table against B3's document (as transcribed in issue 3) and against the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfg_finance.cotahist.layout import (COLUMNS, DETAIL_FIELDS, HEADER_FIELDS, LAYOUT, RECORD_BYTES,
                                         TRAILER_FIELDS, field_by_column, markdown_table)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cotahist.md"

# Positions exactly as written in issue 3 ("SeriesHistoricas_Layout").
ISSUE_DETAIL = {
    "DATPRE": (3, 10), "CODBDI": (11, 12), "CODNEG": (13, 24), "TPMERC": (25, 27), "NOMRES": (28, 39),
    "ESPECI": (40, 49), "PRAZOT": (50, 52), "MODREF": (53, 56), "PREABE": (57, 69), "PREMAX": (70, 82),
    "PREMIN": (83, 95), "PREMED": (96, 108), "PREULT": (109, 121), "PREOFC": (122, 134),
    "PREOFV": (135, 147), "TOTNEG": (148, 152), "QUATOT": (153, 170), "VOLTOT": (171, 188),
    "PREEXE": (189, 201), "INDOPC": (202, 202), "DATVEN": (203, 210), "FATCOT": (211, 217),
    "PTOEXE": (218, 230), "CODISI": (231, 242), "DISMES": (243, 245),
}
ISSUE_COLUMNS = ("date", "codbdi", "ticker", "market_type", "short_name", "spec", "term_days", "currency",
                 "open", "high", "low", "avg", "close", "best_bid", "best_ask", "n_trades", "quantity",
                 "volume", "strike", "strike_correction", "expiry", "quote_factor", "strike_points", "isin",
                 "distribution")
IMPLIED_DECIMALS = {"PREABE": 2, "PREMAX": 2, "PREMIN": 2, "PREMED": 2, "PREULT": 2, "PREOFC": 2, "PREOFV": 2,
                    "VOLTOT": 2, "PREEXE": 2, "PTOEXE": 6}


def test_detail_positions_match_the_issue():
    got = {f.name: (f.start, f.end) for f in DETAIL_FIELDS if f.name != "TIPREG"}
    assert got == ISSUE_DETAIL


def test_header_and_trailer_positions_match_the_issue():
    header = {f.name: (f.start, f.end) for f in HEADER_FIELDS}
    trailer = {f.name: (f.start, f.end) for f in TRAILER_FIELDS}
    assert (header["NOMARQ"], header["CODORI"], header["DATGER"]) == ((3, 15), (16, 23), (24, 31))
    assert trailer["TOTREG"] == (32, 42)


@pytest.mark.parametrize("fields", [HEADER_FIELDS, DETAIL_FIELDS, TRAILER_FIELDS], ids=["00", "01", "99"])
def test_every_record_is_covered_without_gap_or_overlap(fields):
    assert fields[0].start == 1 and fields[0].name == "TIPREG" and fields[0].kind == "const"
    for before, after in zip(fields, fields[1:]):
        assert after.start == before.end + 1, (before, after)
    assert fields[-1].end == RECORD_BYTES


def test_implied_decimals_and_pictures():
    assert {f.name: f.decimals for f in DETAIL_FIELDS if f.decimals} == IMPLIED_DECIMALS
    assert field_by_column("open").picture == "(11)V99"
    assert field_by_column("volume").picture == "(16)V99"
    assert field_by_column("strike_points").picture == "(07)V06"
    assert field_by_column("ticker").picture == "X(12)"


def test_columns_are_the_issue_columns_in_order():
    assert COLUMNS == ISSUE_COLUMNS


def test_layout_is_one_table_with_unique_names_per_record():
    for record in ("00", "01", "99"):
        names = [f.name for f in LAYOUT if f.record == record]
        assert len(names) == len(set(names))


def test_docs_table_is_generated_from_the_layout():
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/cotahist.md: regenerate the table with layout.markdown_table()"
