"""The parser on B3's real files (../shared/data/cotahist, skipped when absent).

Nothing from these files is stored in the repository: tests read them in place and build any
corrupted variant in tmp_path.
"""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import pandas as pd
import pytest

from mfg_finance.cotahist import ingest, read_cotahist, select_equities
from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.layout import DATE, DATE_OR_NEVER, DETAIL_FIELDS, INT_OR_BLANK, TEXT
from mfg_finance.errors import CotahistError

pytestmark = pytest.mark.realdata

# Quote (01) records per file, as listed in the folder's SOURCE.md.
RECORDS = {"COTAHIST_D04012016.TXT": 1_743, "COTAHIST_M012021.ZIP": 129_292, "COTAHIST_A2021.ZIP": 110_290,
           "COTAHIST_D25062021.TXT": 7_518, "COTAHIST_D03022022.TXT.zip": 7_261,
           "COTAHIST_D04022022.TXT.zip": 7_522, "COTAHIST_A2023.ZIP": 104_390}


def real(cotahist_dir, name):
    path = cotahist_dir / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="module")
def january_2021(cotahist_dir):
    return ingest(real(cotahist_dir, "COTAHIST_M012021.ZIP"))


@pytest.mark.parametrize("name", list(RECORDS))
def test_trailer_counts_and_records(cotahist_dir, name):
    result = ingest(real(cotahist_dir, name))
    f = result.summary["files"][0]
    assert f["trailer_count"] == f["lines"] == RECORDS[name] + 2
    assert f["records"] == RECORDS[name] and f["rejected"] == 0 and result.rejects == []
    assert f["header_file_name"].startswith("COTAHIST.")
    assert f["sha256"] == hashlib.sha256((cotahist_dir / name).read_bytes()).hexdigest()


def test_petr4_volume_on_2021_01_04(january_2021, cotahist_dir):
    for quotes in (january_2021.quotes, read_cotahist(real(cotahist_dir, "COTAHIST_A2021.ZIP"))):
        petr4 = quotes[(quotes["ticker"] == "PETR4") & (quotes["date"] == "2021-01-04")
                       & (quotes["market_type"] == 10)]
        assert len(petr4) == 1
        assert petr4["volume"].iloc[0] == 2_153_768_758.00


def test_annual_and_monthly_files_hold_identical_records(january_2021, cotahist_dir):
    annual = read_cotahist(real(cotahist_dir, "COTAHIST_A2021.ZIP"))
    monthly = january_2021.quotes
    monthly = monthly[monthly["date"] <= "2021-01-26"]
    assert len(annual) == len(monthly) == 110_290

    def canonical(frame):
        plain = frame.astype({c: str for c in frame.select_dtypes("category").columns})
        return plain.sort_values(list(plain.columns), kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(canonical(annual), canonical(monthly))


def _file_units(quotes: pd.DataFrame) -> dict:
    """The parsed columns converted back to the file's own units (inverse of the parser)."""
    out = {}
    for f in DETAIL_FIELDS:
        if not f.column:
            continue
        col = quotes[f.column]
        if f.kind == TEXT:
            out[f.name] = col.astype(str).to_numpy(dtype=object)
        elif f.kind in (DATE, DATE_OR_NEVER):
            ymd = col.dt.year * 10000 + col.dt.month * 100 + col.dt.day
            out[f.name] = ymd.fillna(99991231).astype(np.int64).to_numpy()
        elif f.kind == INT_OR_BLANK:
            out[f.name] = np.array([None if pd.isna(v) else int(v) for v in col], dtype=object)
        elif f.decimals:
            out[f.name] = np.round(col.to_numpy() * 10 ** f.decimals).astype(np.int64)
        else:
            out[f.name] = col.to_numpy(dtype=np.int64)
    return out


@pytest.mark.parametrize("name", ["COTAHIST_M012021.ZIP", "COTAHIST_D04012016.TXT"])
def test_every_field_round_trips_byte_for_byte(cotahist_dir, name):
    """Re-encoding the parsed values gives back the original file, byte for byte."""
    path = real(cotahist_dir, name)
    result = ingest(path)
    f = result.summary["files"][0]
    details = encode_records("01", _file_units(result.quotes), len(result.quotes))
    header_date = int(f["header_generation_date"].replace("-", ""))
    rebuilt = cotahist_bytes(details, file_name=f["header_file_name"], origin="BOVESPA",
                             generation_date=header_date)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            original = zf.read(zf.infolist()[0])
    else:
        original = path.read_bytes()
    assert hashlib.sha256(rebuilt).hexdigest() == hashlib.sha256(original).hexdigest()


def test_daily_files_in_sequence(cotahist_dir):
    files = [real(cotahist_dir, n) for n in ("COTAHIST_D03022022.TXT.zip", "COTAHIST_D04022022.TXT.zip")]
    result = ingest(files)
    assert (result.summary["date_min"], result.summary["date_max"]) == ("2022-02-03", "2022-02-04")
    assert result.summary["records"] == 7_261 + 7_522
    eq = select_equities(result.quotes, codbdi=[2], market_types=[10])
    petr4 = eq[eq["ticker"] == "PETR4"]
    assert len(petr4) == 2 and (petr4["low"] <= petr4["close"]).all() and (petr4["close"] <= petr4["high"]).all()


def test_selection_on_unsorted_monthly_file(january_2021):
    eq = select_equities(january_2021.quotes, codbdi=[2], market_types=[10])
    for ticker in ("PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3"):
        rows = eq[eq["ticker"] == ticker]
        assert len(rows) == 19 and rows["date"].is_monotonic_increasing
    assert "BOVA11" not in set(eq["ticker"])  # an ETF: CODBDI 14
    assert eq["ticker"].astype(str).is_monotonic_increasing
    assert not eq.duplicated(["date", "ticker", "market_type", "term_days"]).any()


def test_corrupted_copy_of_a_real_file(cotahist_dir, tmp_path):
    lines = real(cotahist_dir, "COTAHIST_D04012016.TXT").read_bytes().split(b"\r\n")
    lines[100] = lines[100][:100] + b"X" + lines[100][101:]   # PREMED of line 101
    lines[200] = lines[200][:-1]                                  # line 201 one byte short
    path = tmp_path / "CORRUPT.TXT"
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(CotahistError, match=r"line 101, field PREMED \(avg\): non-digit"):
        read_cotahist(path)
    result = ingest(path, strict=False)
    assert result.summary["records"] == 1_743 - 2 and result.summary["rejected"] == 2
    assert [r.split(":")[1] for r in result.rejects] == ["101", "201"]
