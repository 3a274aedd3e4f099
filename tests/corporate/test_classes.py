"""Instrument classes: one record of each kind, with the codes B3 used in 2016, 2021 and 2023."""

from __future__ import annotations

import pandas as pd
import pytest

from mfg_finance.cotahist import select_equities
from mfg_finance.cotahist.classes import CLASSES, classify_instruments, instrument_class
from mfg_finance.cotahist.universe import class_counts, universe_table
from mfg_finance.errors import DataError

# (codbdi, market_type, ESPECI, ISIN, short name) -> class. ISINs are made up; only characters 7-9 matter.
CASES = [
    ((2, 10, "ON      NM", "BRXXXXACNOR0", "ANY"), "stock"),
    ((2, 10, "PN  EJ  N1", "BRXXXXACNPR0", "ANY"), "stock"),
    ((2, 10, "PNA", "BRXXXXACNPA0", "ANY"), "stock"),
    ((2, 10, "PNE", "BRXXXXACNPE0", "ANY"), "stock"),          # a preferred class traded as ...11
    ((8, 10, "ON", "BRXXXXACNOR0", "ANY"), "stock"),           # judicial recovery: still a share
    ((2, 10, "UNT     N2", "BRXXXXCDAM00", "ANY"), "unit"),
    ((2, 10, "UNT", "BRXXXXUNT000", "ANY"), "unit"),
    ((2, 10, "DRN", "BRXXXXBDR000", "ANY"), "bdr"),            # BDRs under CODBDI 02 (until 2022)
    ((2, 10, "DRN EB", "BRXXXXBDR000", "ANY"), "bdr"),
    ((2, 10, "DR3", "BRXXXXBDR000", "ANY"), "bdr"),
    ((34, 10, "DRN", "BRXXXXBDR000", "ANY"), "bdr"),           # 2023: own BDI codes
    ((36, 10, "DRE", "BRXXXXBDR000", "ANY"), "bdr"),
    ((35, 10, "UNT", "BRXXXXUNT000", "ANY"), "bdr"),           # a BDR of units
    ((14, 10, "CI", "BRXXXXCTF000", "ISHARES BOVA"), "etf"),
    ((14, 10, "CI  ATZ", "BRXXXXCTF000", "IT NOW IBOV"), "etf"),
    ((14, 10, "CI", "BRXXXXCTF000", "FIP BTGDV IE"), "fund"),
    ((14, 10, "FIDC", "BRXXXXCTF000", "FDC INFRA"), "fund"),
    ((14, 10, "CI *", "BRXXXXCTF000", "FINOR"), "fund"),
    ((13, 10, "CI", "BRXXXXCTF000", "FIAGRO X"), "fund"),
    ((12, 10, "CI", "BRXXXXCTF000", "FII X"), "reit"),
    ((12, 10, "CI  ER", "BRXXXXCTF000", "FII X"), "reit"),
    ((12, 10, "DIR", "BRXXXXD04000", "FII X"), "right"),
    ((10, 10, "DIR", "BRXXXXD01000", "ANY"), "right"),
    ((22, 10, "BNS", "BRXXXXN01000", "ANY"), "right"),
    ((78, 70, "ON      NM", "BRXXXXACNOR0", "ANY"), "option"),
    ((2, 10, "IBO", "BRIBOVIND000", "IBOVESPA"), "other"),
    ((2, 10, "ON  P   NM", "BRXXXXA01OR0", "ANY"), "other"),    # an ON line whose ISIN is not a share's
]


@pytest.mark.parametrize("fields, expected", CASES)
def test_one_record_of_each_class(fields, expected):
    assert instrument_class(*fields) == expected


def _quotes():
    rows = [dict(zip(("codbdi", "market_type", "spec", "isin", "short_name"), f), ticker=f"T{i:03d}",
                 date=pd.Timestamp("2023-01-02"), quote_factor=1, term_days=pd.NA,
                 **{c: 10.0 for c in ("open", "high", "low", "avg", "close", "best_bid", "best_ask")})
            for i, (f, _) in enumerate(CASES)]
    frame = pd.DataFrame(rows)
    for column in ("spec", "isin", "short_name", "ticker"):
        frame[column] = frame[column].astype("category")
    return frame


def test_classify_is_vectorised_and_matches_the_scalar_rule():
    labels = classify_instruments(_quotes())
    assert list(labels) == [expected for _, expected in CASES]
    assert list(labels.categories) == list(CLASSES)


def test_selection_by_class_and_universe_counts():
    quotes = _quotes()
    eq = select_equities(quotes, classes=["stock", "unit"])
    assert set(eq["instrument_class"]) == {"stock", "unit"}
    universe = universe_table(quotes, classes=["stock", "unit"])
    assert set(universe.loc[universe["kept"], "ticker"]) == set(eq["ticker"].astype(str))
    dropped = universe[~universe["kept"]]
    assert dropped["reason"].str.startswith("class ").all()
    counts = class_counts(universe).set_index("instrument_class")
    assert counts.loc["stock", "kept"] == 5 and counts.loc["bdr", "dropped"] == 6
    assert "option" not in counts.index  # TPMERC 070 is not in the selected markets


def test_codbdi_stays_an_advanced_filter():
    quotes = _quotes()
    eq = select_equities(quotes, classes=["stock"], codbdi=[2])
    assert (eq["codbdi"] == 2).all() and len(eq) == 4
    universe = universe_table(quotes, classes=["stock"], codbdi=[2])
    assert universe.loc[universe["codbdi"] == 8, "reason"].iloc[0] == "codbdi 8 not in selection.codbdi [2]"


def test_unknown_class_and_empty_selection_are_named():
    with pytest.raises(DataError, match=r"unknown class\(es\) \['shares'\]"):
        select_equities(_quotes(), classes=["shares"])
    with pytest.raises(DataError, match=r"selection.classes = \['etf'\] and selection.codbdi = \[2\].*classes present"):
        select_equities(_quotes(), classes=["etf"], codbdi=[2])
