"""select_equities: filters, prices per share, de-duplication, order, empty result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cotahist_testing import valid_file_bytes
from mfg_finance.cotahist import read_cotahist, select_equities
from mfg_finance.errors import DataError


def quotes(tmp_path, name="Q.TXT", **overrides):
    path = tmp_path / name
    path.write_bytes(valid_file_bytes(6, **overrides))
    return path


def test_filters_divide_by_quote_factor_and_sort(tmp_path):
    path = quotes(tmp_path, CODNEG=["BBBB3", "AAAA4", "BBBB3", "AAAA4", "OPTN1", "ETFS11"],
                  DATPRE=[20210105, 20210105, 20210104, 20210104, 20210104, 20210104],
                  CODBDI=[2, 2, 2, 2, 78, 14], TPMERC=[10, 10, 10, 10, 70, 10],
                  FATCOT=[1, 1000, 1, 1000, 1, 1])
    raw = read_cotahist(path)
    eq = select_equities(raw, codbdi=[2], market_types=[10])
    assert list(zip(eq["ticker"], eq["date"].dt.day)) == [("AAAA4", 4), ("AAAA4", 5), ("BBBB3", 4), ("BBBB3", 5)]
    aaaa = eq[eq["ticker"] == "AAAA4"]
    raw_aaaa = raw[raw["ticker"] == "AAAA4"].sort_values("date")
    for column in ("open", "high", "low", "avg", "close", "best_bid", "best_ask"):
        assert np.allclose(aaaa[column].to_numpy(), raw_aaaa[column].to_numpy() / 1000), column
    assert (aaaa["volume"].to_numpy() == raw_aaaa["volume"].to_numpy()).all()  # BRL, unchanged
    assert list(eq["ticker"].cat.categories) == ["AAAA4", "BBBB3"]
    assert eq.index.tolist() == [0, 1, 2, 3]
    both = select_equities(raw, codbdi=[2, 14], market_types=[10])
    assert "ETFS11" in set(both["ticker"])


def test_overlapping_files_are_deduplicated_keeping_the_last(tmp_path):
    first = quotes(tmp_path, "A.TXT")
    second = quotes(tmp_path, "B.TXT", PREULT=[5000] * 6)
    eq = select_equities(read_cotahist([first, second]), codbdi=[2], market_types=[10])
    assert len(eq) == 6 and (eq["close"] == 50.0).all()
    assert not eq.duplicated(["date", "ticker", "market_type", "term_days"]).any()


def test_term_days_is_part_of_the_key(tmp_path):
    path = quotes(tmp_path, CODNEG=["TERM3"] * 6, DATPRE=[20210104] * 6, TPMERC=30,
                  PRAZOT=np.array([30, 60, 90, 30, None, None], dtype=object))
    eq = select_equities(read_cotahist(path), codbdi=[2], market_types=[30])
    assert len(eq) == 4


def test_nothing_left_names_the_filters(tmp_path):
    raw = read_cotahist(quotes(tmp_path))
    with pytest.raises(DataError, match=r"selection.codbdi = \[14\] and selection.market_types = \[10\]"):
        select_equities(raw, codbdi=[14], market_types=[10])


def test_unsorted_categories_still_sort_by_text(tmp_path):
    raw = read_cotahist(quotes(tmp_path, CODNEG=["B3", "A3", "C3", "B3", "A3", "C3"]))
    raw["ticker"] = raw["ticker"].cat.reorder_categories(["C3", "B3", "A3"])
    eq = select_equities(raw, codbdi=[2], market_types=[10])
    assert eq["ticker"].astype(str).is_monotonic_increasing
    assert isinstance(eq["ticker"].dtype, pd.CategoricalDtype)
