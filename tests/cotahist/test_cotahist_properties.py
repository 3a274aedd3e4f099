"""Property tests: any valid record round-trips; any corruption is caught or harmless.

"Harmless" is judged by the naive reference parser of cotahist_testing: after random byte
replacements, insertions and deletions, the fast parser either raises CotahistError (and then the
reference also finds the file invalid) or returns exactly the reference's records. In quarantine
mode it never raises and keeps exactly the records the reference finds valid.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cotahist_testing import frame_rows, record_rows, ref_parse, valid_file_bytes
from mfg_finance.cotahist import ingest, read_cotahist
from mfg_finance.cotahist.encode import cotahist_bytes, encode_records
from mfg_finance.cotahist.fields import POSITIVE_FIELDS
from mfg_finance.cotahist.layout import DETAIL_FIELDS
from mfg_finance.errors import CotahistError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PRINTABLE = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA0, 0x100)]


def _yyyymmdd(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def field_strategy(f):
    dates = st.dates(dt.date(1678, 1, 1), dt.date(2261, 12, 31)).map(_yyyymmdd)
    if f.kind == "text":
        return st.text(alphabet=PRINTABLE, max_size=f.width)
    if f.kind == "int_or_blank":
        return st.one_of(st.none(), st.integers(0, 10 ** f.width - 1))
    if f.kind == "date":
        return dates
    if f.kind == "date_or_never":
        return st.one_of(dates, st.just(99991231))
    return st.integers(1 if f.name in POSITIVE_FIELDS else 0, 10 ** f.width - 1)


RECORD = st.fixed_dictionaries({f.name: field_strategy(f) for f in DETAIL_FIELDS if f.kind != "const"})


def _expected(raw: dict) -> dict:
    out = {}
    for f in DETAIL_FIELDS:
        if not f.column:
            continue
        v = raw[f.name]
        if f.kind == "text":
            v = v.rstrip(" ")
        elif f.kind in ("date", "date_or_never"):
            v = None if v == 99991231 and f.kind == "date_or_never" else dt.date(v // 10000, v // 100 % 100, v % 100)
        elif v is not None and f.decimals:
            v = v / 10 ** f.decimals
        out[f.column] = v
    return out


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=5))
def test_valid_records_round_trip(tmp_path, records):
    columns = {name: np.array([r[name] for r in records], dtype=object) for name in records[0]}
    path = tmp_path / "R.TXT"
    path.write_bytes(cotahist_bytes(encode_records("01", columns, len(records))))
    assert frame_rows(read_cotahist(path)) == record_rows([_expected(r) for r in records])


BASE = valid_file_bytes(4)
INTERESTING = st.one_of(st.sampled_from(b"0123456789 \r\n\x00\x7f\xffA-.9"), st.integers(0, 255))
EDIT = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, len(BASE) - 1), INTERESTING),
    st.tuples(st.just("insert"), st.integers(0, len(BASE)), INTERESTING),
    st.tuples(st.just("delete"), st.integers(0, len(BASE) - 1), st.just(0)),
)


def corrupt(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for op, pos, byte in edits:
        pos = min(pos, len(out) - (op != "insert"))
        if pos < 0:
            continue
        if op == "replace":
            out[pos] = byte
        elif op == "insert":
            out.insert(pos, byte)
        else:
            del out[pos]
    return bytes(out)


@SETTINGS
@given(edits=st.lists(EDIT, min_size=1, max_size=4))
def test_corruption_raises_cotahist_error_or_yields_correct_values(tmp_path, edits):
    data = corrupt(BASE, edits)
    path = tmp_path / "C.TXT"
    path.write_bytes(data)
    valid, kept = ref_parse(data)
    try:
        quotes = read_cotahist(path)
    except CotahistError:
        assert not valid, "the reference parser accepts this file"
    else:
        assert valid, "a file the reference parser rejects was accepted"
        assert frame_rows(quotes) == record_rows(kept)
    result = ingest(path, strict=False)  # quarantine: never raises on a readable file
    assert frame_rows(result.quotes) == record_rows(kept)
    assert bool(result.rejects) == (not valid)


@SETTINGS
@given(edits=st.lists(EDIT, min_size=1, max_size=3), cut=st.floats(0.0, 1.0))
def test_corrupt_or_truncated_zip_raises_only_cotahist_error(tmp_path, edits, cut):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("COTAHIST.TXT", BASE)
    raw = buf.getvalue()
    data = corrupt(raw, [(op, pos % len(raw), b) for op, pos, b in edits])[:max(1, int(len(raw) * cut))]
    path = tmp_path / "Z.ZIP"
    path.write_bytes(data)
    try:
        quotes = read_cotahist(path)
    except CotahistError:
        return
    valid, kept = ref_parse(BASE)  # the ZIP layer either fails loudly or delivers the exact text
    assert frame_rows(quotes) == record_rows(kept)
