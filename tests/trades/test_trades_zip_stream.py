"""Zipped trade files parsed while they are inflated (trades.streaming, trades.inflate): the same frame, summary,
rejects and error messages as the reference reader (zipfile + whole-text parse), whatever the pieces, the thread
budget, the inflate library or the ZIP's compression."""

from __future__ import annotations

import zipfile
import zlib

import pandas as pd
import pytest

from mfg_finance.errors import TradesError
from mfg_finance.trades import inflate, parse_session, reader, streaming
from trades_testing import neg_lines, negocios_lines, small_session


def _zip(path, text: bytes, *, method=zipfile.ZIP_DEFLATED, member="inner/SESSION.TXT"):
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr(member, text)
    return path


def _reference(path, **kw):
    """The reader before streaming: zipfile's inflate, then the whole-text parse."""
    original = reader._read
    reader._read = lambda p, checksum: (reader._source(p, checksum), None, None, None)
    try:
        return parse_session(path, **kw)
    finally:
        reader._read = original


def _outcome(path, **kw):
    try:
        s = parse_session(path, **kw)
    except TradesError as exc:
        return ("error", str(exc))
    return (s.trades, s.summary, [str(r) for r in s.rejects])


def _same(a, b):
    if isinstance(a[0], str) or isinstance(b[0], str):           # ("error", message)
        assert a == b
        return
    pd.testing.assert_frame_equal(a[0], b[0])
    assert a[1] == b[1] and a[2] == b[2]


@pytest.fixture
def streamed(monkeypatch):
    """Force the streaming path on small files: every member, 2 threads, pieces of ``piece`` bytes."""
    def configure(piece: int, budget: int = 2):
        monkeypatch.setattr(streaming, "STREAM_MIN_BYTES", 0)
        monkeypatch.setattr(streaming, "PIECE_BYTES", piece)
        monkeypatch.setattr(streaming, "_thread_budget", lambda: budget)
        monkeypatch.setattr(inflate, "STEP_BYTES", 997)    # many small inflate steps, not aligned with lines
    return configure


def _texts():
    session = small_session()
    neg = b"\n".join(neg_lines(session)) + b"\n"
    neg_ng = negocios_lines(session)
    return {"neg": neg, "negocios_crlf": b"\r\n".join(neg_ng) + b"\r\n",
            "negocios_no_final_lf": b"\n".join(neg_ng)}


@pytest.mark.parametrize("piece, budget", [(64, 2), (5000, 2), (1 << 20, 2), (5000, 1)])
@pytest.mark.parametrize("kind", ["neg", "negocios_crlf", "negocios_no_final_lf"])
def test_streamed_read_equals_the_reference(tmp_path, streamed, kind, piece, budget):
    streamed(piece, budget)
    path = _zip(tmp_path / f"{kind}.zip", _texts()[kind])
    ref = _reference(path)
    src, starts, _, parsed = streaming.read_zip(path, checksum=False, sniff=reader._sniff,
                                                allocate=reader._allocate)
    assert (parsed is not None and parsed.count == len(ref.trades)) == (budget == 2)   # the path under test
    assert bytes(src.data) == zipfile.ZipFile(path).read(src.member)
    got = parse_session(path)
    pd.testing.assert_frame_equal(got.trades, ref.trades)
    assert got.summary == ref.summary and got.summary["sha256"] == ref.summary["sha256"] is not None


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_damaged_lines_give_the_reference_messages_and_rejects(tmp_path, streamed, method):
    streamed(3000)
    lines = _texts()["neg"].split(b"\n")
    lines[40] = lines[40][:100] + b"X" + lines[40][101:]          # a bad byte in a field
    lines[90] = lines[90][:-3]                                     # a short line
    path = _zip(tmp_path / "bad.zip", b"\n".join(lines), method=method)
    for kw in ({"strict": True}, {"strict": False}):
        ref, got = _outcome_ref(path, **kw), _outcome(path, **kw)
        _same(got, ref)
    with pytest.raises(TradesError, match=r"bad\.zip.*line 41"):
        parse_session(path)


def _outcome_ref(path, **kw):
    try:
        s = _reference(path, **kw)
    except TradesError as exc:
        return ("error", str(exc))
    return (s.trades, s.summary, [str(r) for r in s.rejects])


def test_corrupt_or_unusual_zips_are_left_to_the_reference_reader(tmp_path, streamed):
    streamed(4096)
    text = _texts()["neg"]
    good = _zip(tmp_path / "good.zip", text)
    raw = bytearray(good.read_bytes())
    raw[200] ^= 0xFF                                               # inside the deflate stream
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(TradesError, match=r"corrupt\.zip.*unreadable ZIP"):
        parse_session(corrupt)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: len(raw) // 2])
    with pytest.raises(TradesError, match=r"cut\.zip.*unreadable ZIP"):
        parse_session(cut)
    bz = _zip(tmp_path / "bz.zip", text, method=zipfile.ZIP_BZIP2)  # not deflate: zipfile reads it
    assert inflate.open_member(bz, checksum=False) is None
    pd.testing.assert_frame_equal(parse_session(bz).trades, parse_session(good).trades)
    other = _zip(tmp_path / "other.zip", b"a;b;c\n1;2;3\n")
    with pytest.raises(TradesError, match=r"line 1: unknown layout"):
        parse_session(other)


def test_standard_zlib_when_isal_is_absent(tmp_path, streamed, monkeypatch):
    streamed(4096)
    monkeypatch.setattr(inflate, "_lib", zlib)
    path = _zip(tmp_path / "s.zip", _texts()["negocios_crlf"])
    pd.testing.assert_frame_equal(parse_session(path).trades, _reference(path).trades)


def test_the_crc_is_checked(tmp_path, streamed):
    streamed(4096)
    path = _zip(tmp_path / "s.zip", _texts()["neg"], method=zipfile.ZIP_STORED)
    inflater = inflate.open_member(path, checksum=False)
    raw = bytearray(path.read_bytes())
    raw[inflater._offset + 500] ^= 0x01                             # a data byte: only the CRC can tell
    path.write_bytes(bytes(raw))
    with pytest.raises(inflate.InflateError, match="CRC-32"):
        m = inflate.open_member(path, checksum=False)
        m.run()
        m.join()
    with pytest.raises(TradesError, match="unreadable ZIP"):       # the reference reader says so too
        parse_session(path)
