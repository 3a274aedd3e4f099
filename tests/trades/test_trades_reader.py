"""Readers of both layouts: exact round trips, and every kind of damage named by file, line and field."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from mfg_finance.errors import TradesError
from mfg_finance.trades import iter_sessions, parse_session, read_trades
from mfg_finance.trades.layout import NEG_FIELDS, NEG_LINE_BYTES, NEG_OFFSETS, NEGOCIOS_HEADER
from mfg_finance.trades.synthetic import write_neg, write_negocios
from trades_testing import negocios_lines, neg_lines, small_session, write_lines


@pytest.fixture(scope="module")
def session():
    return small_session()


def test_neg_round_trip_is_exact(tmp_path, session):
    write_neg(session, tmp_path / "NEG_20240701.zip")
    pd.testing.assert_frame_equal(read_trades(tmp_path / "NEG_20240701.zip"), session)
    write_neg(session, tmp_path / "NEG_20240701.TXT", zipped=False)
    pd.testing.assert_frame_equal(read_trades(tmp_path / "NEG_20240701.TXT"), session)


def test_negocios_round_trip_is_exact_without_side(tmp_path, session):
    write_negocios(session, tmp_path / "01-07-2024_NEGOCIOSAVISTA.zip")
    got = read_trades(tmp_path / "01-07-2024_NEGOCIOSAVISTA.zip")
    expected = session.assign(side=np.zeros(len(session), dtype=np.int8))
    pd.testing.assert_frame_equal(got, expected)
    summary = parse_session(tmp_path / "01-07-2024_NEGOCIOSAVISTA.zip").summary
    assert summary["layout"] == "negocios" and not summary["has_side"]
    assert summary["cancelled"] == int(session["cancelled"].sum()) > 0


def test_schema_and_order(session, tmp_path):
    write_neg(session, tmp_path / "a.zip")
    t = read_trades(tmp_path / "a.zip")
    assert [str(d) for d in t.dtypes] == ["datetime64[ns]", "category", "int64", "float64", "int64", "int8",
                                          "bool", "int64", "int32", "int32"]
    assert list(t["ticker"].cat.categories) == sorted(t["ticker"].cat.categories)
    key = t[["ticker", "time", "trade_id"]].assign(ticker=t["ticker"].cat.codes)
    assert key.equals(key.sort_values(["ticker", "time", "trade_id"]))


def test_unsorted_file_is_sorted_by_ticker_time_and_trade_number(tmp_path, session):
    lines = neg_lines(session)
    body = lines[1:-1][::-1]  # reversed: the general sort path
    write_lines(tmp_path / "r.TXT", [lines[0], *body, lines[-1]])
    pd.testing.assert_frame_equal(read_trades(tmp_path / "r.TXT"), session)


def test_several_sessions_concatenate_with_union_of_tickers(tmp_path, session):
    other = small_session(seed=8).assign(date=np.datetime64("2024-07-02", "ns"))
    other = other[other["ticker"] == "SYNA3"]
    write_neg(session, tmp_path / "NEG_20240701.zip")
    write_negocios(other, tmp_path / "02-07-2024_NEGOCIOSAVISTA.zip")
    t = read_trades([tmp_path / "NEG_20240701.zip", tmp_path / "02-07-2024_NEGOCIOSAVISTA.zip"])
    assert len(t) == len(session) + len(other)
    assert list(t["ticker"].cat.categories) == ["SYNA3", "SYNB11"]
    assert [s.summary["session_date"] for s in iter_sessions([tmp_path / "NEG_20240701.zip",
                                                              tmp_path / "02-07-2024_NEGOCIOSAVISTA.zip"])] \
        == ["2024-07-01", "2024-07-02"]
    dropped = read_trades(tmp_path / "NEG_20240701.zip", drop_cancelled=True)
    assert not dropped["cancelled"].any() and len(dropped) == int((~session["cancelled"]).sum())


def _corrupt_neg(lines, line_index, field_index, byte=b"\x01"):
    line = bytearray(lines[line_index])
    line[NEG_OFFSETS[field_index]] = byte[0]
    out = list(lines)
    out[line_index] = bytes(line)
    return out


@pytest.mark.parametrize("field_index", [i for i, f in enumerate(NEG_FIELDS)])
def test_neg_damaged_field_is_named_with_file_and_line(tmp_path, session, field_index):
    lines = neg_lines(session)
    path = write_lines(tmp_path / "NEG_20240701.TXT", _corrupt_neg(lines, 5, field_index))
    name = NEG_FIELDS[field_index].name
    with pytest.raises(TradesError, match=rf"NEG_20240701.TXT, line 6, field {name}: "):
        read_trades(path)
    quarantined = parse_session(path, strict=False)
    assert [(r.line, r.field) for r in quarantined.rejects] == [(6, name)]
    assert len(quarantined.trades) == len(session) - 1


@pytest.mark.parametrize("edit, field, message", [
    (lambda l: l[:NEG_OFFSETS[5]] + b"25:00:00.000" + l[NEG_OFFSETS[5] + 12:], "HoraNegocio", "out of range"),
    (lambda l: l[:NEG_OFFSETS[0]] + b"2024-02-30" + l[10:], "DataSessao", "invalid date"),
    (lambda l: l[:NEG_OFFSETS[0]] + b"2024-07-02" + l[10:], "DataSessao", "expected the session date 20240701"),
    (lambda l: l[:NEG_OFFSETS[4]] + b"0" * 18 + l[NEG_OFFSETS[4] + 18:], "QuantidadeNegociada", "quantity 0"),
    (lambda l: l[:NEG_OFFSETS[3]] + b" 000000000000.000000" + l[NEG_OFFSETS[3] + 20:], "PrecoNegocio", "price 0"),
    (lambda l: l[:NEG_OFFSETS[6]] + b"3" + l[NEG_OFFSETS[6] + 1:], "IndicadorAnulacao", "expected 1"),
    (lambda l: l[:NEG_OFFSETS[1]] + b" SYNA3" + l[NEG_OFFSETS[1] + 6:], "SimboloInstrumento", "instrument code"),
    (lambda l: l[:NEG_OFFSETS[2] - 1] + b"," + l[NEG_OFFSETS[2]:], "SimboloInstrumento", "after the field"),
    (lambda l: l[:-1], "line", f"expected {NEG_LINE_BYTES}"),
])
def test_neg_damage_messages(tmp_path, session, edit, field, message):
    lines = neg_lines(session)
    lines[3] = edit(lines[3])
    path = write_lines(tmp_path / "n.TXT", lines)
    with pytest.raises(TradesError, match=rf"line 4, field {field}: .*{message}"):
        read_trades(path)


def test_neg_header_and_trailer_checks(tmp_path, session):
    lines = neg_lines(session)
    with pytest.raises(TradesError, match=r"line 1, field header: header counts"):
        read_trades(write_lines(tmp_path / "a.TXT", [lines[0], *lines[2:]]))
    no_trailer = write_lines(tmp_path / "b.TXT", lines[:-1])
    with pytest.raises(TradesError, match=rf"line 1, field header: header counts {len(session) + 2} lines but the file has {len(session) + 1}"):
        read_trades(no_trailer)
    # quarantine: file-level problems are reported but drop no line
    result = parse_session(no_trailer, strict=False)
    assert len(result.trades) == len(session) and result.summary["rejected"] == 0
    assert [r.field for r in result.rejects] == ["header", "trailer"]
    assert "missing trailer" in str(result.rejects[1])


@pytest.mark.parametrize("edit, field, message", [
    (lambda p: p[:3] + [p[3].replace(b",", b".")] + p[4:], "PrecoNegocio", "decimal comma"),
    (lambda p: p[:2] + [b"1"] + p[3:], "AcaoAtualizacao", "expected 0"),
    (lambda p: p[:5] + [b"246000000"] + p[6:], "HoraFechamento", "out of range"),
    (lambda p: p[:5] + [b"1000000000"] + p[6:], "HoraFechamento", "HHMMSSmmm"),
    (lambda p: p[:4] + [b"-5"] + p[5:], "QuantidadeNegociada", "unsigned integer"),
    (lambda p: p[:1] + [b""] + p[2:], "CodigoInstrumento", "instrument code"),
    (lambda p: p[:8] + [b"2024-07-02"] + p[9:], "DataNegocio", "session date"),
    (lambda p: p[:10], "line", "10 ';'-separated fields, expected 11"),
])
def test_negocios_damage_messages(tmp_path, session, edit, field, message):
    lines = negocios_lines(session)
    lines[3] = b";".join(edit(lines[3].split(b";")))
    path = write_lines(tmp_path / "x_NEGOCIOSAVISTA.txt", lines)
    with pytest.raises(TradesError, match=rf"line 4, field {field}: .*{message}"):
        read_trades(path)
    assert len(parse_session(path, strict=False).trades) == len(session) - 1


def test_negocios_accepts_empty_participants_crlf_and_bom(tmp_path, session):
    lines = negocios_lines(session)
    parts = lines[1].split(b";")
    lines[1] = b";".join(parts[:9] + [b"", b""])
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    path = tmp_path / "c.txt"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    t = read_trades(path)
    assert len(t) == len(session) and (t["buyer"] == -1).sum() == 1 and (t["seller"] == -1).sum() == 1


def test_unreadable_inputs(tmp_path):
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    with pytest.raises(TradesError, match="empty file"):
        read_trades(empty)
    other = write_lines(tmp_path / "o.txt", [b"a;b;c", b"1;2;3"])
    with pytest.raises(TradesError, match=r"line 1: unknown layout"):
        read_trades(other)
    bad_zip = tmp_path / "z.zip"
    bad_zip.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(TradesError, match="unreadable ZIP"):
        read_trades(bad_zip)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.txt", NEGOCIOS_HEADER)
        zf.writestr("b.txt", NEGOCIOS_HEADER)
    with pytest.raises(TradesError, match="holds 2 files"):
        read_trades(two)
    with pytest.raises(TradesError, match="no trade file"):
        read_trades([])


def test_random_damage_kernel_and_field_rules_agree(tmp_path, session):
    """Random byte damage: every line the kernel flags is confirmed by the scalar rules (else AssertionError)."""
    rng = np.random.default_rng(3)
    for lines, name in ((neg_lines(session), "n.TXT"), (negocios_lines(session), "m.txt")):
        body = [bytearray(x) for x in lines[1:-1]]
        for i in rng.choice(len(body), size=min(60, len(body)), replace=False):
            pos = rng.integers(0, len(body[i]))
            body[i][pos] = rng.choice(list(b"X ;,.:-0123456789\x01"))
        path = write_lines(tmp_path / name, [lines[0], *map(bytes, body), lines[-1]])
        result = parse_session(path, strict=False)
        assert len(result.trades) + result.summary["rejected"] >= len(session) - 1


def test_line_break_inside_a_neg_line_is_numbered_as_an_editor_shows_it(tmp_path, session):
    lines = neg_lines(session)
    broken = bytearray(lines[4])
    broken[100] = 10  # an LF inside line 5: the file keeps its size, the editor sees one more line
    path = write_lines(tmp_path / "lf.TXT", [*lines[:4], bytes(broken), *lines[5:]])
    result = parse_session(path, strict=False)
    assert [r.line for r in result.rejects if r.line_dropped] == [5, 6]


def test_a_hash_collision_never_merges_two_instruments(tmp_path, session, monkeypatch):
    from mfg_finance.trades import tickers

    def colliding(keys):  # every code hashed alike: the byte check must catch it
        return np.zeros(keys.size, dtype=np.int32), np.zeros(1, dtype=np.int64)

    write_neg(session, tmp_path / "a.zip")
    monkeypatch.setattr(tickers, "factorize_keys", colliding)
    pd.testing.assert_frame_equal(read_trades(tmp_path / "a.zip"), session)
