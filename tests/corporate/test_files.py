"""Event files (B3 JSON shapes, CSV) and their merge with the inferred events."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from corporate_testing import inject, series
from mfg_finance.corporate import infer_events, merge_events, read_event_files
from mfg_finance.cotahist.sample import sample_truth, write_sample_cotahist
from mfg_finance.cotahist import read_cotahist, select_equities
from mfg_finance.errors import DataError


def _equities():
    a = series("SYNA3", seed=1)                                  # ON: ISIN BRSYNAACNOR0
    b = series("SYNA4", seed=2, spec="PN      N1")
    b["isin"] = "BRSYNAACNPR0"
    return pd.concat([a, b], ignore_index=True)


def _cash_document(records):
    # The shape of B3's GetListedCashDividends response (numbers as text with a decimal comma).
    return {"page": {"pageNumber": 1, "pageSize": 9999, "totalRecords": len(records), "totalPages": 1},
            "results": [{"typeStock": t, "valueCash": v, "ratio": "1", "corporateAction": a,
                         "lastDatePriorEx": d, "quotedPerShares": q} for t, v, a, d, q in records]}


def test_cash_dividends_map_class_to_ticker_and_ex_date_to_the_next_session(tmp_path):
    eq = _equities()
    dates = eq["date"].drop_duplicates().sort_values().reset_index(drop=True)
    path = tmp_path / "cash.json"
    path.write_text(json.dumps(_cash_document([
        ("ON", "0,25", "DIVIDENDO", f"{dates[4]:%d/%m/%Y}", "1"),
        ("PN", "1.234,50", "JRS CAP PROPRIO", f"{dates[6]:%d/%m/%Y}", "1000"),
        ("ON", "0,10", "DIVIDENDO", "02/01/2019", "1"),             # before the data: left out, noted
        ("PNB", "0,10", "DIVIDENDO", f"{dates[6]:%d/%m/%Y}", "1")])))  # no such class: noted
    events, notes = read_event_files([{"path": str(path), "issuer": "SYNA"}], eq)
    assert list(zip(events["ticker"], events["ex_date"], events["kind"])) == [
        ("SYNA3", dates[5], "dividend"), ("SYNA4", dates[7], "jcp")]
    np.testing.assert_allclose(events["amount"], [0.25, 1.2345])
    assert (events["source"] == "file").all()
    assert any("1 of 4 record(s) have their ex-date outside" in n for n in notes)
    assert any("['PNB']" in n for n in notes)
    with pytest.raises(DataError, match="give its issuer code"):
        read_event_files([str(path)], eq)


def test_supplement_stock_dividends_are_read_by_isin(tmp_path):
    eq = _equities()
    dates = eq["date"].drop_duplicates().sort_values().reset_index(drop=True)
    doc = [{"code": "SYNA", "cashDividends": [],
            "stockDividends": [
                {"isinCode": "BRSYNAACNOR0", "label": "DESDOBRAMENTO", "factor": "100,00000000000",
                 "lastDatePrior": f"{dates[3]:%d/%m/%Y}"},
                {"isinCode": "BRSYNAACNPR0", "label": "GRUPAMENTO", "factor": "0,10000000000",
                 "lastDatePrior": f"{dates[8]:%d/%m/%Y}"}]}]
    path = tmp_path / "supplement.json"
    path.write_text(json.dumps(doc))
    events, _ = read_event_files([str(path)], eq)
    assert list(zip(events["ticker"], events["kind"], events["factor"])) == [
        ("SYNA3", "split", 2.0), ("SYNA4", "reverse_split", 0.1)]


def test_csv_events_and_their_errors_name_the_line(tmp_path):
    eq = _equities()
    good = tmp_path / "events.csv"
    good.write_text("ticker,ex_date,kind,factor,amount\nSYNA3,2023-01-10,split,2,\nSYNA4,2023-01-12,dividend,,0.5\n")
    events, _ = read_event_files([str(good)], eq)
    assert list(events["factor"]) == [2.0, 1.0] and np.isnan(events["amount"].iat[0])
    bad = tmp_path / "bad.csv"
    bad.write_text("ticker,ex_date,kind,factor,amount\nSYNA3,10/01/2023,split,2,\n")
    with pytest.raises(DataError, match=r"bad.csv, line 2, ex_date: '10/01/2023'"):
        read_event_files([str(bad)], eq)
    bad.write_text("ticker,date,kind,factor,amount\n")
    with pytest.raises(DataError, match="line 1: header"):
        read_event_files([str(bad)], eq)
    bad.write_text("ticker,ex_date,kind,factor,amount\nSYNA3,2023-01-10,spinoff,1,\n")
    with pytest.raises(DataError, match="bad.csv, line 2, kind: 'spinoff'"):
        read_event_files([str(bad)], eq)
    bad.write_text("ticker,ex_date,kind,factor,amount\nSYNA3,2023-01-10,split,2,\nSYNA3,2023-01-11,split,-2,\n")
    with pytest.raises(DataError, match="bad.csv, line 3, factor: -2.0"):
        read_event_files([str(bad)], eq)
    with pytest.raises(DataError, match="does not exist"):
        read_event_files([str(tmp_path / "missing.json")], eq)


def test_file_events_override_inferred_ones_and_disagreements_are_listed(tmp_path):
    frame = inject(series("SYNA3", seed=21), 10, factor=2.0, marker="EB")
    frame = inject(frame, 20, cash=0.3, marker="ED")
    inferred = infer_events(frame)
    d10, d20, d25 = (frame["date"].iat[i] for i in (10, 20, 25))
    files = pd.DataFrame({"ticker": "SYNA3", "ex_date": [d10, d20, d25], "kind": ["split", "dividend", "split"],
                          "factor": [3.0, 1.0, 2.0], "amount": [np.nan, 0.3, np.nan], "source": "file",
                          "evidence": "test"})
    events, disagreements = merge_events(inferred, files)
    assert list(zip(events["ex_date"], events["kind"], events["factor"], events["source"])) == [
        (d10, "split", 3.0, "file"), (d20, "dividend", 1.0, "file"), (d25, "split", 2.0, "file")]
    notes = dict(zip(disagreements["ex_date"], disagreements["note"]))
    assert notes[d10] == "file overrides the inferred event"
    assert notes[d25] == "no DISMES change or ex-marker in the quotes that session"
    assert d20 not in notes   # same kind: the file only adds the amount


@pytest.mark.parametrize("size", [dict(seed=11, n_tickers=12, n_sessions=90),
                                  dict(seed=20230102, n_tickers=40, n_sessions=250)])
def test_sample_events_are_inferred_as_the_generator_put_them(tmp_path, size):
    path, truth_path = tmp_path / "S.TXT", tmp_path / "S_events.csv"
    write_sample_cotahist(path, truth_path=truth_path, **size)
    assert truth_path.read_text() == sample_truth(**size)
    truth = pd.read_csv(truth_path, parse_dates=["ex_date"])
    assert set(truth["kind"]) == {"split", "reverse_split", "bonus", "dividend", "jcp"}
    inferred = infer_events(select_equities(read_cotahist([path]), classes=["stock"]))
    got = set(zip(inferred["ticker"], inferred["ex_date"], inferred["kind"], inferred["factor"]))
    assert got == set(zip(truth["ticker"], truth["ex_date"], truth["kind"], truth["factor"]))
    # The truth is itself a valid events file: given as one, it overrides with the amounts and agrees.
    eq = select_equities(read_cotahist([path]), classes=["stock"])
    files, _ = read_event_files([str(truth_path)], eq)
    events, disagreements = merge_events(inferred, files)
    assert disagreements.empty and (events["source"] == "file").all()
