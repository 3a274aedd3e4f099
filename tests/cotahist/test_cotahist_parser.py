"""read_cotahist / ingest on files built in tmp_path: values, types, ZIPs, errors, quarantine."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from cotahist_testing import (detail_lines, frame_rows, join_lines, lines_of, record_rows, ref_parse,
                              valid_file_bytes)
from mfg_finance.cotahist import COLUMNS, ingest, read_cotahist
from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.layout import DETAIL_FIELDS
from mfg_finance.cotahist.textcodes import factorize_records, text_columns
from mfg_finance.errors import CotahistError
from mfg_finance.io import dumps_json


def write(tmp_path, data: bytes, name: str = "COTAHIST_TEST.TXT"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_values_types_and_order(tmp_path):
    quotes = read_cotahist(write(tmp_path, valid_file_bytes(3)))
    assert tuple(quotes.columns) == COLUMNS
    row = quotes.iloc[0]
    assert row["date"] == pd.Timestamp("2021-01-04") and row["ticker"] == "TEST3"
    assert row["volume"] == 2_153_768_758.00            # VOLTOT has 2 implied decimals
    assert row["open"] == 28.65 and row["close"] == 28.91
    assert row["quantity"] == 74_719_700 and row["n_trades"] == 9323
    assert pd.isna(row["expiry"]) and pd.isna(row["term_days"])  # 99991231 and blank PRAZOT
    assert row["short_name"] == "TEST SA" and row["spec"] == "PN      N2" and row["currency"] == "R$"
    assert str(quotes["date"].dtype) == "datetime64[ns]" and str(quotes["expiry"].dtype) == "datetime64[ns]"
    for column in ("ticker", "short_name", "spec", "currency", "isin"):
        assert isinstance(quotes[column].dtype, pd.CategoricalDtype), column
    for column in ("open", "high", "low", "avg", "close", "best_bid", "best_ask", "volume", "strike",
                   "strike_points"):
        assert quotes[column].dtype == np.float64, column
    assert quotes["n_trades"].dtype == np.int64 and quotes["quantity"].dtype == np.int64
    assert quotes["market_type"].iloc[0] == 10 and quotes["codbdi"].iloc[0] == 2


def test_options_fields(tmp_path):
    lines = detail_lines(1, CODBDI=74, TPMERC=70, PRAZOT=np.array([0], dtype=object), PREEXE=11_000_000,
                         DATVEN=20210118, PTOEXE=110_000_000_000, INDOPC=2, FATCOT=1000)
    row = read_cotahist(write(tmp_path, cotahist_bytes(lines))).iloc[0]
    assert row["strike"] == 110_000.00 and row["strike_points"] == 110_000.0  # PTOEXE: 6 decimals
    assert row["expiry"] == pd.Timestamp("2021-01-18") and row["term_days"] == 0
    assert row["strike_correction"] == 2 and row["quote_factor"] == 1000


def test_largest_values_are_exact(tmp_path):
    lines = detail_lines(1, QUATOT=10 ** 18 - 1, TOTNEG=99_999, VOLTOT=10 ** 18 - 1)
    row = read_cotahist(write(tmp_path, cotahist_bytes(lines))).iloc[0]
    assert row["quantity"] == 10 ** 18 - 1 and row["n_trades"] == 99_999
    assert row["volume"] == (10 ** 18 - 1) / 100


def test_summary(tmp_path):
    data = valid_file_bytes(5)
    result = ingest(write(tmp_path, data))
    f = result.summary["files"][0]
    assert f["name"] == "COTAHIST_TEST.TXT" and f["size_bytes"] == len(data) and len(f["sha256"]) == 64
    assert f["header_file_name"] == "COTAHIST.2021" and f["header_generation_date"] == "2021-01-29"
    assert f["trailer_count"] == 7 and f["records"] == 5 and f["rejected"] == 0
    assert (f["date_min"], f["date_max"]) == ("2021-01-04", "2021-01-06")
    assert result.summary["records"] == 5 and result.summary["rejected"] == 0
    assert (result.summary["date_min"], result.summary["date_max"]) == ("2021-01-04", "2021-01-06")
    assert result.summary["n_tickers"] == 5 and result.rejects == []
    json.loads(dumps_json(result.summary))


def test_zip_member_of_any_name_gives_the_same_records(tmp_path):
    data = valid_file_bytes(4)
    plain = read_cotahist(write(tmp_path, data))
    zipped = write(tmp_path, zip_bytes({"some/odd name.txt": data}), "ANY.zip")
    pd.testing.assert_frame_equal(read_cotahist(zipped), plain)
    assert ingest(zipped).summary["files"][0]["zip_member"] == "some/odd name.txt"


def test_several_files_are_concatenated_with_merged_categories(tmp_path):
    a = write(tmp_path, valid_file_bytes(2), "A.TXT")
    b = write(tmp_path, valid_file_bytes(3, CODNEG=["ZZZZ3", "TEST3", "AAAA4"]), "B.TXT")
    quotes = read_cotahist([a, b])
    assert quotes["ticker"].tolist() == ["TEST3", "TEST4", "ZZZZ3", "TEST3", "AAAA4"]
    assert list(quotes["ticker"].cat.categories) == ["AAAA4", "TEST3", "TEST4", "ZZZZ3"]


def test_lf_line_ends_and_missing_final_line_end_are_accepted(tmp_path):
    data = valid_file_bytes(3)
    expected = read_cotahist(write(tmp_path, data))
    pd.testing.assert_frame_equal(read_cotahist(write(tmp_path, data.replace(b"\r\n", b"\n"), "LF.TXT")), expected)
    pd.testing.assert_frame_equal(read_cotahist(write(tmp_path, data[:-2], "NOEOL.TXT")), expected)


def test_text_bytes_latin1(tmp_path):
    lines = detail_lines(1, NOMRES="AÇÚCAR")
    assert read_cotahist(write(tmp_path, cotahist_bytes(lines))).iloc[0]["short_name"] == "AÇÚCAR"


def _replace(data: bytes, line: int, start: int, new: bytes) -> bytes:
    """Replace bytes at 1-based ``start`` of 1-based ``line``."""
    lines = lines_of(data)
    old = lines[line - 1]
    lines[line - 1] = old[:start - 1] + new + old[start - 1 + len(new):]
    return join_lines(lines)


GOOD = valid_file_bytes(4)   # lines: 1 header, 2-5 quotes, 6 trailer
BAD_FILES = {
    "short line": (join_lines(lines_of(GOOD)[:2] + [lines_of(GOOD)[2][:-1]] + lines_of(GOOD)[3:]), 3,
                   "RECORD_LENGTH", "244 bytes"),
    "unknown record type": (_replace(GOOD, 4, 1, b"02"), 4, "TIPREG", "unknown record type '02'"),
    "non-digit price": (_replace(GOOD, 3, 60, b"x"), 3, "PREABE (open)", "non-digit"),
    "blank volume": (_replace(GOOD, 2, 171, b" "), 2, "VOLTOT (volume)", "non-digit"),
    "half-blank term": (_replace(GOOD, 2, 50, b"0 "), 2, "PRAZOT (term_days)", "or all blanks"),
    "invalid date": (_replace(GOOD, 5, 3, b"20210230"), 5, "DATPRE (date)", "invalid date 20210230"),
    "invalid expiry": (_replace(GOOD, 5, 203, b"20211301"), 5, "DATVEN (expiry)", "invalid date"),
    "control byte in text": (_replace(GOOD, 2, 14, b"\x00"), 2, "CODNEG (ticker)", "non-printable byte 0x00"),
    "missing header": (join_lines(lines_of(GOOD)[1:]), 1, "TIPREG", "missing header"),
    "missing trailer": (join_lines(lines_of(GOOD)[:-1]), 5, "TIPREG", "missing trailer"),
    "trailer count": (_replace(GOOD, 6, 32, b"00000000007"), 6, "TOTREG", "trailer counts 7 records but the "
                      "file has 6 lines"),
    "non-digit trailer count": (_replace(GOOD, 6, 40, b"A"), 6, "TOTREG", "non-digit"),
    "header twice": (join_lines(lines_of(GOOD)[:3] + lines_of(GOOD)[:1] + lines_of(GOOD)[3:]), 4, "TIPREG",
                     "header record"),
    "lines after trailer": (GOOD + lines_of(GOOD)[1] + b"\r\n", 6, "TIPREG", "trailer record"),
    "invalid header date": (_replace(GOOD, 1, 24, b"20219999"), 1, "DATGER", "invalid date"),
    "empty file": (b"", 1, "TIPREG", "empty file"),
    "CR only": (GOOD.replace(b"\r\n", b"\r"), 1, "RECORD_LENGTH", "bytes, expected 245"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_strict_errors_name_file_line_and_field(tmp_path, case):
    data, line, field, reason = BAD_FILES[case]
    path = write(tmp_path, data)
    with pytest.raises(CotahistError) as info:
        read_cotahist(path)
    message = str(info.value)
    assert str(path) in message and f"line {line}" in message and f"field {field}" in message, message
    assert reason in message, message
    assert (info.value.line, info.value.field) == (line, field)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_quarantine_keeps_good_lines_and_lists_bad_ones(tmp_path, case):
    data, line, field, reason = BAD_FILES[case]
    path = write(tmp_path, data)
    result = ingest(path, strict=False)
    assert any(r.startswith(f"{path}:{line}: field {field}: ") and reason in r for r in result.rejects), \
        result.rejects
    valid, kept = ref_parse(data)
    assert not valid
    assert frame_rows(result.quotes) == record_rows(kept)
    assert result.summary["records"] == len(kept)
    assert result.summary["files"][0]["rejected"] == result.summary["rejected"] <= len(result.rejects)


def test_strict_reports_the_first_problem_in_line_order(tmp_path):
    data = _replace(_replace(GOOD, 5, 60, b"x"), 3, 203, b"20210230")  # line 3 then line 5
    data = join_lines(lines_of(data)[:3] + [lines_of(data)[3][:10]] + lines_of(data)[4:])  # line 4 short
    with pytest.raises(CotahistError, match=r"line 3, field DATVEN"):
        read_cotahist(write(tmp_path, data))
    result = ingest(write(tmp_path, data), strict=False)
    assert [r.split(": field")[0].rsplit(":", 1)[1] for r in result.rejects] == ["3", "4", "5"]


@pytest.mark.parametrize("members, reason", [({}, "holds 0 files"),
                                             ({"a.txt": GOOD, "b.txt": GOOD}, r"holds 2 files \(a.txt, b.txt\)")])
def test_zip_with_no_or_several_members(tmp_path, members, reason):
    path = write(tmp_path, zip_bytes(members), "X.ZIP")
    for strict in (True, False):
        with pytest.raises(CotahistError, match=reason):
            ingest(path, strict=strict)


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_zip(tmp_path, cut):
    data = zip_bytes({"COTAHIST.TXT": valid_file_bytes(200)})
    path = write(tmp_path, data[:int(len(data) * cut)], "T.ZIP")
    with pytest.raises(CotahistError, match="unreadable ZIP archive") as info:
        read_cotahist(path)
    assert str(path) in str(info.value)


def test_file_named_zip_that_is_not_a_zip(tmp_path):
    text = valid_file_bytes(5)
    assert len(read_cotahist(write(tmp_path, text, "plain.dat"))) == 5   # text may have any name
    path = write(tmp_path, b"%PDF-1.4\n%...", "COTAHIST_A2023.ZIP")
    with pytest.raises(CotahistError, match=r"named like a ZIP archive but is not one \(starts with b'%PDF-1.4"):
        read_cotahist(path)
    with pytest.raises(CotahistError, match="named like a ZIP archive"):
        read_cotahist(write(tmp_path, text, "text.zip"))

def test_corrupt_zip_data_fails_crc(tmp_path):
    data = bytearray(zip_bytes({"COTAHIST.TXT": valid_file_bytes(50)}))
    data[len(data) // 3] ^= 0xFF
    with pytest.raises(CotahistError, match="ZIP"):
        read_cotahist(write(tmp_path, bytes(data), "C.ZIP"))


def test_missing_file(tmp_path):
    with pytest.raises(CotahistError, match="cannot read file"):
        read_cotahist(tmp_path / "nope.TXT")
    with pytest.raises(CotahistError, match="no COTAHIST file"):
        read_cotahist([])


def test_hash_collisions_never_merge_different_texts():
    lines = detail_lines(6)
    data = bytes(join_lines([bytes(r) for r in lines]))
    buf = np.frombuffer(data, dtype=np.uint8)
    starts = np.arange(6, dtype=np.int64) * 247
    colliding = np.zeros(6, dtype=np.uint64)  # every record hashes to the same key
    table = factorize_records(buf, starts, colliding, text_columns(DETAIL_FIELDS))
    tickers = [bytes(table.rows[c, :12]).decode().strip() for c in table.codes]
    assert tickers == [f"TEST{i % 9 + 3}" for i in range(6)]


def test_encoder_rejects_values_that_do_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        encode_records("01", {"DATPRE": 20210104, "TOTNEG": 100_000}, 1)
    with pytest.raises(ValueError, match="longer than"):
        encode_records("01", {"DATPRE": 20210104, "CODNEG": "X" * 13}, 1)
