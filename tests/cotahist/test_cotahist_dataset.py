"""The per-file, year-partitioned dataset gives exactly what the one-DataFrame ingestion gave.

Overlapping files (annual, monthly, daily covering the same sessions) are the case that matters: the
last record of a (date, ticker, market_type, term_days) key in input-file order must win, and the
selection, the universe table and the summary must come out byte for byte as before.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mfg_finance.cotahist import ingest, read_cotahist, select_equities, universe_table
from mfg_finance.cotahist.dataset import FRAGMENT, dataset_years, read_year
from mfg_finance.cotahist.dataset_select import select_from_dataset, select_to_parquet
from mfg_finance.cotahist.file_ingest import ingest_file
from mfg_finance.cotahist.ingest_records import combine_records
from mfg_finance.cotahist.local_files import file_keys
from mfg_finance.cotahist.sample import sample_cotahist_bytes
from mfg_finance.errors import ConfigError, CotahistError, DataError
from mfg_finance.io import atomic_directory


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes the pipeline's writer (mfg_finance.io.write_parquet) gives for ``frame``."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf, compression="zstd", write_statistics=True)
    return buf.getvalue()


def ingest_all(paths, root: Path, strict: bool = True) -> tuple[list[Path], list[dict]]:
    folders = [root / key for key in file_keys([str(p) for p in paths])]
    records = [ingest_file(p, f, strict=strict) for p, f in zip(paths, folders)]
    return folders, records


SELECTIONS = [dict(classes=["stock"]), dict(classes=None), dict(classes=["stock", "etf", "bdr"], market_types=[10, 20]),
              dict(classes=["stock"], codbdi=[2])]


def assert_same_as_one_frame(paths, folders, records, strict=True, selections=SELECTIONS):
    whole = ingest(paths, strict=strict)
    summary, rejects = combine_records(records)
    assert summary == whole.summary
    assert rejects == whole.rejects
    for selection in selections:
        equities, universe = select_from_dataset(folders, **selection)
        expected = parquet_bytes(select_equities(whole.quotes, **selection))
        assert parquet_bytes(equities) == expected, selection
        assert parquet_bytes(universe) == parquet_bytes(universe_table(whole.quotes, **selection)), selection
        # streamed to the file, a few tickers at a time: the same bytes, and no temporary file left
        out = Path(folders[0]).parent / "streamed" / "equities.parquet"
        streamed_universe, counts = select_to_parquet(folders, out, batch_rows=700, **selection)
        assert out.read_bytes() == expected, selection
        assert parquet_bytes(streamed_universe) == parquet_bytes(universe), selection
        assert counts == {"rows": len(equities), "tickers": equities["ticker"].nunique()}
        assert os.listdir(out.parent) == ["equities.parquet"]


# -- real B3 files that overlap ----------------------------------------------------------------------

@pytest.mark.parametrize("order", [("COTAHIST_A2021.ZIP", "COTAHIST_M012021.ZIP", "COTAHIST_D25062021.TXT"),
                                   ("COTAHIST_M012021.ZIP", "COTAHIST_A2021.ZIP", "COTAHIST_D04012016.TXT")],
                         ids=["annual_first", "monthly_first"])
def test_overlapping_real_files_give_the_one_frame_answer(cotahist_dir, tmp_path, order):
    paths = [cotahist_dir / name for name in order]
    folders, records = ingest_all(paths, tmp_path)
    assert_same_as_one_frame(paths, folders, records, selections=SELECTIONS[:2])
    # the annual file holds 16 sessions the monthly file holds too: both are kept in the dataset
    assert records[0]["file"]["records"] + records[1]["file"]["records"] == 110_290 + 129_292


def test_last_file_wins_on_overlap_with_real_files(cotahist_dir, tmp_path):
    """Give a one-record file after the monthly one, with PETR4's close of 2021-01-05 changed: it wins."""
    monthly = cotahist_dir / "COTAHIST_M012021.ZIP"
    quotes = read_cotahist([monthly])
    with zipfile.ZipFile(monthly) as zf:
        text = zf.read(zf.infolist()[0])
    start = text.index(b"01" + b"20210105" + b"02" + b"PETR4       " + b"010")
    record = text[start:start + 108] + b"%013d" % 1234 + text[start + 121:start + 245]   # PREULT, 109-121
    header, trailer = text[:245], text[-247:-2]
    trailer = trailer[:31] + b"%011d" % 3 + trailer[42:]                                 # TOTREG: 3 lines
    edited = tmp_path / "COTAHIST_D05012021.TXT"
    edited.write_bytes(b"\r\n".join([header, record, trailer]) + b"\r\n")
    paths = [monthly, edited]
    folders, records = ingest_all(paths, tmp_path / "ds")
    equities, _ = select_from_dataset(folders, classes=["stock"])
    row = equities[(equities["ticker"] == "PETR4") & (equities["date"] == "2021-01-05")]
    assert row["close"].tolist() == [12.34]                 # the last file's record
    reference = select_equities(pd.concat([quotes, read_cotahist([edited])], ignore_index=True), classes=["stock"])
    assert parquet_bytes(equities.drop(columns=[c for c in equities if c in ("ticker", "short_name", "spec",
                                                                              "currency", "isin")]))\
        == parquet_bytes(reference.drop(columns=["ticker", "short_name", "spec", "currency", "isin"]))


# -- synthetic files: years, quarantine, atomicity -------------------------------------------------------

def test_a_file_spanning_two_years_is_split_by_year_and_read_back_in_order(tmp_path):
    across = tmp_path / "COTAHIST_ACROSS.TXT"
    across.write_bytes(sample_cotahist_bytes(seed=3, n_tickers=6, n_sessions=30, start_date="2022-12-12"))
    later = tmp_path / "COTAHIST_LATER.TXT"   # overlaps the first file's 2023 sessions, other prices
    later.write_bytes(sample_cotahist_bytes(seed=4, n_tickers=6, n_sessions=10, start_date="2023-01-02"))
    folders, records = ingest_all([across, later], tmp_path / "ds")
    assert records[0]["years"] == [2022, 2023] and records[1]["years"] == [2023]
    assert dataset_years(folders) == [2022, 2023]
    assert sorted(p.relative_to(tmp_path / "ds").as_posix() for p in (tmp_path / "ds").rglob("*.parquet")) == [
        f"COTAHIST_ACROSS.TXT/year=2022/{FRAGMENT}", f"COTAHIST_ACROSS.TXT/year=2023/{FRAGMENT}",
        f"COTAHIST_LATER.TXT/year=2023/{FRAGMENT}"]
    whole = read_cotahist([across, later])
    by_year = [read_year(folders, 2022), read_year(folders, 2023)]
    for frame in by_year:                # categoricals as the parser makes them: sorted, only values present
        for column in frame.select_dtypes("category").columns:
            categories = list(frame[column].cat.categories)
            assert categories == sorted(set(frame[column].astype(str))), column
    years = pd.concat(by_year, ignore_index=True)
    for column in whole.columns:         # same rows in the same order (categoricals compared as text)
        left, right = whole[column], years[column]
        if isinstance(left.dtype, pd.CategoricalDtype):
            left, right = left.astype(str), right.astype(str)
        pd.testing.assert_series_equal(left, right, check_names=False)
    assert_same_as_one_frame([across, later], folders, records)


def test_read_year_pushes_columns_and_rows_down(tmp_path):
    path = tmp_path / "COTAHIST_A2023.TXT"
    path.write_bytes(sample_cotahist_bytes(seed=5, n_tickers=8, n_sessions=20))
    folders, _ = ingest_all([path], tmp_path / "ds")
    part = read_year(folders, 2023, columns=["ticker", "close"], filter=pc.field("market_type").isin([20]))
    assert list(part.columns) == ["ticker", "close"]
    whole = read_cotahist([path])
    assert len(part) == int((whole["market_type"] == 20).sum()) > 0
    assert set(part["ticker"].astype(str)) == set(whole.loc[whole["market_type"] == 20, "ticker"].astype(str))
    assert list(part["ticker"].cat.categories) == sorted(set(part["ticker"].astype(str)))   # only those present


def test_quarantine_per_file_gives_the_same_rejects_and_summary(tmp_path):
    lines = sample_cotahist_bytes(seed=6, n_tickers=5, n_sessions=10).split(b"\n")
    lines[4] = lines[4][:56] + b"00000000X0123" + lines[4][69:]
    lines[7] = lines[7][:100] + lines[7][101:]
    bad = tmp_path / "COTAHIST_BAD.TXT"
    bad.write_bytes(b"\n".join(lines))
    good = tmp_path / "COTAHIST_GOOD.TXT"
    good.write_bytes(sample_cotahist_bytes(seed=7, n_tickers=5, n_sessions=10))
    folders, records = ingest_all([bad, good], tmp_path / "ds", strict=False)
    assert len(records[0]["rejects"]) == 2 and records[1]["rejects"] == []
    assert_same_as_one_frame([bad, good], folders, records, strict=False)


def test_a_bad_file_in_strict_mode_leaves_no_folder(tmp_path):
    lines = sample_cotahist_bytes(seed=6, n_tickers=5, n_sessions=10).split(b"\n")
    lines[4] = lines[4][:56] + b"00000000X0123" + lines[4][69:]
    bad = tmp_path / "COTAHIST_BAD.TXT"
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(CotahistError, match="line 5, field PREABE"):
        ingest_file(bad, tmp_path / "ds" / "COTAHIST_BAD.TXT", strict=True)
    assert not (tmp_path / "ds").exists() or list((tmp_path / "ds").iterdir()) == []


def test_atomic_directory_replaces_whole_or_not_at_all(tmp_path):
    dest = tmp_path / "out"
    with atomic_directory(dest) as tmp:
        (tmp / "a").write_text("1")
    assert (dest / "a").read_text() == "1"
    with pytest.raises(RuntimeError):
        with atomic_directory(dest) as tmp:
            (tmp / "b").write_text("2")
            raise RuntimeError("killed halfway")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not (dest / "b").exists()
    # a temporary folder of a writer that died (PID gone) is removed by the next writer
    stale = tmp_path / f".out.{2 ** 22 + 12345}.abcd.tmp"
    stale.mkdir()
    (stale / "x").write_text("partial")
    with atomic_directory(dest) as tmp:
        (tmp / "c").write_text("3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and sorted(os.listdir(dest)) == ["c"]


def test_nothing_selected_names_the_filters_and_what_is_present(tmp_path):
    path = tmp_path / "COTAHIST_A2023.TXT"
    path.write_bytes(sample_cotahist_bytes(seed=5, n_tickers=8, n_sessions=20))
    folders, _ = ingest_all([path], tmp_path / "ds")
    with pytest.raises(DataError) as caught:
        select_from_dataset(folders, classes=["stock"], codbdi=[99])
    with pytest.raises(DataError) as reference:
        select_equities(read_cotahist([path]), classes=["stock"], codbdi=[99])
    assert str(caught.value) == str(reference.value)
    with pytest.raises(DataError) as streamed:
        select_to_parquet(folders, tmp_path / "out" / "equities.parquet", classes=["stock"], codbdi=[99])
    assert str(streamed.value) == str(reference.value)
    assert os.listdir(tmp_path / "out") == []       # no output, no temporary file left
    with pytest.raises(DataError, match="unknown class"):
        select_from_dataset(folders, classes=["stocks"])


def test_file_keys_are_the_file_names_unique_and_stable():
    assert file_keys(["r/COTAHIST_A2021.ZIP", "r/COTAHIST_D04012016.TXT"]) == ["COTAHIST_A2021.ZIP",
                                                                              "COTAHIST_D04012016.TXT"]
    twins = file_keys(["a/COTAHIST_A2021.ZIP", "b/COTAHIST_A2021.ZIP"])
    assert len(set(twins)) == 2 and all(k.startswith("COTAHIST_A2021.ZIP-") for k in twins)
    assert file_keys(["a/COTAHIST_A2021.ZIP", "b/COTAHIST_A2021.ZIP", "c/X.TXT"])[:2] == twins  # adding a file
    assert file_keys(["x/my file (1).txt"]) == ["my_file__1_.txt"]
    with pytest.raises(ConfigError, match="same file twice"):
        file_keys(["a/X.TXT", "a/X.TXT"])


# -- old files: sessions before the real (1994-07-01) ------------------------------------------------------

def _old_file(tmp_path: Path, start: str, modref_before: str, modref_after: str, change: str) -> Path:
    """A sample file whose MODREF and prices follow a currency change on ``change`` (prices before it
    in the old currency, i.e. multiplied by its units per BRL, as B3 quoted them)."""
    from mfg_finance.cotahist.currency import REGIMES
    from mfg_finance.cotahist.encode import cotahist_bytes
    from mfg_finance.cotahist.sample import sample_records

    records, _ = sample_records(seed=8, n_tickers=4, n_sessions=20, start_date=start)
    units = next(r[3] for r in REGIMES[::-1] if r[0] < change) / next(r[3] for r in REGIMES[::-1] if r[0] <= change)
    records = records.copy()
    before = records[:, 2:10].view("S8").ravel() < change.replace("-", "").encode()
    for start_byte, end_byte in [(56, 69), (69, 82), (82, 95), (95, 108), (108, 121), (121, 134), (134, 147),
                                 (170, 188)]:   # the seven prices and VOLTOT
        width = end_byte - start_byte
        values = records[before, start_byte:end_byte].copy().view(f"S{width}").ravel().astype(np.int64)
        records[before, start_byte:end_byte] = np.frombuffer(
            b"".join(b"%0*d" % (width, v * int(units)) for v in values), dtype=np.uint8).reshape(-1, width)
    modref = np.where(before, modref_before.ljust(4), modref_after.ljust(4)).astype("S4")
    records[:, 52:56] = np.frombuffer(modref.tobytes(), dtype=np.uint8).reshape(-1, 4)
    path = tmp_path / f"COTAHIST_A{start[:4]}.TXT"
    path.write_bytes(cotahist_bytes(records))
    return path


@pytest.mark.parametrize("start, before, after, change", [
    ("1994-06-20", "CR$", "R$", "1994-07-01"),         # CR$ 2,750 = R$ 1
    ("1993-07-20", "CR$", "CR$", "1993-08-01"),        # Cr$ 1,000 = CR$ 1, both written CR$
    ("1989-01-05", "CZ$", "NCZ$", "1989-01-16"),       # Cz$ 1,000 = NCz$ 1
])
def test_prices_before_the_real_come_out_in_brl_and_run_on_across_the_change(tmp_path, start, before, after,
                                                                             change):
    modern = tmp_path / "modern"
    modern.mkdir()
    old = _old_file(tmp_path, start, before, after, change)
    same = _old_file(modern, "2023-01-02", "R$", "R$", "2023-01-02")
    got = select_equities(read_cotahist([old]), classes=["stock"])
    ref = select_equities(read_cotahist([same]), classes=["stock"])
    for column in ("open", "high", "low", "avg", "close", "best_bid", "best_ask", "volume"):
        regime_units = got[column].to_numpy() / ref[column].to_numpy()
        # the same series as the modern file, scaled once by the units per BRL of the last session's currency
        np.testing.assert_allclose(regime_units, regime_units[0], rtol=1e-12, err_msg=column)
    folders, _ = ingest_all([old], tmp_path / "ds")
    equities, _ = select_from_dataset(folders, classes=["stock"])
    assert parquet_bytes(equities) == parquet_bytes(got)


def test_a_modref_that_is_not_the_currency_of_its_date_is_refused(tmp_path):
    restated = _old_file(tmp_path, "1994-06-20", "R$", "R$", "1994-07-01")   # old sessions said to be in R$
    with pytest.raises(DataError, match=r"MODREF \(currency\) 'R\$' on SYN.* 1994-06-2.: the currency in force "
                                        r"that day was the cruzeiro real \(CR\$\), written CR\$"):
        select_equities(read_cotahist([restated]), classes=["stock"])


def test_value_identity_holds_on_real_files(cotahist_dir, tmp_path):
    """volume = avg * quantity / quote_factor on B3's cash records (QUATOT in shares, prices per FATCOT shares)."""
    record = ingest_file(cotahist_dir / "COTAHIST_D04012016.TXT", tmp_path / "d", strict=True)
    assert record["value_identity"]["records"] > 400
    assert 0.999 <= record["value_identity"]["median_ratio"] <= 1.01
