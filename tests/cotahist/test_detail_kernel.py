"""The fast quote-record kernel agrees with the generic, field-table kernel on every byte.

The generic kernel (:func:`kernel.parse_records`) is the reference: the fast one must give the same
values, the same first bad field and reason for every record (valid, randomly generated, or with
any single byte replaced by any value at any position), the same text-key partition, and the same
output for any thread count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cotahist_testing import detail_lines
from mfg_finance.cotahist import detail_kernel, kernel
from mfg_finance.cotahist.layout import LINE_BYTES, RECORD_BYTES

SPEC = detail_kernel.SPEC


def outputs(n):
    return (np.zeros((len(SPEC.int_fields), n), dtype=np.int64), np.zeros((len(SPEC.float_fields), n)),
            np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int16), np.zeros(n, dtype=np.int8))


def parse_both(records: np.ndarray):
    """Both kernels on records (uint8, shape (n, 245)) laid out as a file's lines."""
    n = records.shape[0]
    lines = np.full((n, LINE_BYTES), 10, dtype=np.uint8)
    lines[:, :RECORD_BYTES] = records
    lines[:, RECORD_BYTES] = 13
    buf = np.concatenate([np.zeros(LINE_BYTES, dtype=np.uint8), lines.reshape(-1)])   # a header line first
    starts = (np.arange(n, dtype=np.int64) + 1) * LINE_BYTES
    generic, fast = outputs(n), outputs(n)
    kernel.parse_records(buf, starts, SPEC.offsets, SPEC.widths, SPEC.kinds, SPEC.rows, SPEC.scales,
                         detail_kernel.RECORD_TYPE, *generic)
    detail_kernel.parse_detail_records(buf, starts, *fast)
    return generic, fast


def assert_same(generic, fast):
    ints_g, floats_g, keys_g, field_g, reason_g = generic
    ints_f, floats_f, keys_f, field_f, reason_f = fast
    np.testing.assert_array_equal(field_f, field_g)
    np.testing.assert_array_equal(reason_f, reason_g)
    ok = field_g < 0
    np.testing.assert_array_equal(ints_f[:, ok], ints_g[:, ok])
    np.testing.assert_array_equal(floats_f[:, ok].view(np.int64), floats_g[:, ok].view(np.int64))  # bit for bit
    # rejected records: the fields before the first bad one hold the same values (later checks read them)
    for i in np.flatnonzero(~ok):
        bad = field_g[i]
        for j in range(bad):
            row = SPEC.rows[j]
            if row < 0:
                continue
            out_f, out_g = (floats_f, floats_g) if SPEC.scales[j] > 0 else (ints_f, ints_g)
            assert out_f[row, i] == out_g[row, i], (i, j)
    # keys: another hash, the same partition of the valid records
    np.testing.assert_array_equal(pd.factorize(keys_f[ok])[0], pd.factorize(keys_g[ok])[0])


def valid_records(n, seed):
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 3000, n)
    dates = [int((np.datetime64("2001-01-01") + int(d)).astype(object).strftime("%Y%m%d")) for d in days]
    prazot = np.array([None if b else int(v) for b, v in zip(rng.random(n) < 0.5, rng.integers(0, 999, n))],
                      dtype=object)
    lines = detail_lines(
        n, DATPRE=np.array(dates), CODNEG=[f"T{v}" for v in rng.integers(0, 7, n)], PRAZOT=prazot,
        PREABE=rng.integers(0, 10 ** 13, n), PREMAX=rng.integers(0, 10 ** 13, n), TOTNEG=rng.integers(0, 10 ** 5, n),
        QUATOT=rng.integers(0, 10 ** 18, n, dtype=np.int64), VOLTOT=rng.integers(0, 10 ** 18, n, dtype=np.int64),
        PTOEXE=rng.integers(0, 10 ** 13, n), DISMES=rng.integers(0, 1000, n),
        DATVEN=np.where(rng.random(n) < 0.5, 99991231, 20300615))
    return np.frombuffer(b"".join(lines), dtype=np.uint8).reshape(n, RECORD_BYTES).copy()


def test_valid_records_give_the_reference_values():
    generic, fast = parse_both(valid_records(2000, seed=1))
    assert (generic[3] < 0).all()
    assert_same(generic, fast)


@pytest.mark.parametrize("values", [b"0 9/:A\x00", b"\x1f\x7f\x9f\xa0\xff\r\n", bytes(range(0, 256, 7))])
def test_every_single_byte_corruption_gets_the_reference_verdict(values):
    base = valid_records(1, seed=2)[0]
    records = []
    for position in range(RECORD_BYTES):
        for value in values:
            record = base.copy()
            record[position] = value
            records.append(record)
    generic, fast = parse_both(np.array(records))
    assert (generic[3] >= 0).any() and (generic[3] < 0).any()
    assert_same(generic, fast)


def test_bad_dates_and_blank_term_are_decided_as_the_reference_does():
    base = valid_records(1, seed=3)[0]
    date_off = next(f.offset for f in detail_kernel.DETAIL_FIELDS if f.name == "DATPRE")
    term_off = next(f.offset for f in detail_kernel.DETAIL_FIELDS if f.name == "PRAZOT")
    records = []
    for date in (b"20210229", b"20200229", b"20211301", b"20210100", b"16771231", b"22620101", b"99991231"):
        for term in (b"   ", b"007", b" 07", b"07 "):
            record = base.copy()
            record[date_off:date_off + 8] = np.frombuffer(date, dtype=np.uint8)
            record[term_off:term_off + 3] = np.frombuffer(term, dtype=np.uint8)
            records.append(record)
    generic, fast = parse_both(np.array(records))
    assert_same(generic, fast)


def test_output_is_identical_for_any_thread_count():
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba allows a single thread here (NUMBA_NUM_THREADS=1)")
    records = valid_records(3 * detail_kernel.RECORDS_PER_BLOCK + 17, seed=4)
    records[5000, 60] = ord("x")                           # one rejected record, in the second block
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = parse_both(records)[1]
        numba.set_num_threads(2)
        two = parse_both(records)[1]
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    assert one[3][5000] >= 0 and (np.delete(one[3], 5000) < 0).all()


def first_text_mismatch(buf, starts, first_starts, codes):
    """detail_kernel.renumber_and_check with the codes already global (one chunk, nothing to renumber)."""
    bounds = np.array([0, starts.size], dtype=np.int64)
    return detail_kernel.renumber_and_check(buf, starts, codes.copy(), bounds, np.empty(0, dtype=np.int64),
                                            first_starts)


def test_text_mismatch_is_found_at_its_first_record():
    records = valid_records(20_000, seed=5)
    buf = np.concatenate([np.zeros(LINE_BYTES, dtype=np.uint8),
                          np.pad(records, ((0, 0), (0, 2)), constant_values=10).reshape(-1)])
    starts = (np.arange(records.shape[0], dtype=np.int64) + 1) * LINE_BYTES
    keys = outputs(records.shape[0])[2]
    detail_kernel.parse_detail_records(buf, starts, *outputs(records.shape[0])[:2], keys,
                                       *outputs(records.shape[0])[3:])
    codes, uniques = pd.factorize(keys)
    first = np.array([np.flatnonzero(codes == c)[0] for c in range(uniques.size)])
    assert first_text_mismatch(buf, starts, starts[first], codes.astype(np.int64)) == -1
    # claim that record 12345 holds another record's text: found there, whichever field differs
    other = (codes[12345] + 1) % uniques.size
    wrong = codes.astype(np.int64)
    wrong[12345] = other
    wrong[17000] = (codes[17000] + 1) % uniques.size
    assert first_text_mismatch(buf, starts, starts[first], wrong) == 12345


def test_text_mismatch_covers_every_text_byte():
    from mfg_finance.cotahist.textcodes import text_columns
    records = valid_records(64, seed=6)
    records[:] = records[0]                                 # one text for all: code 0, first record 0
    buf0 = np.concatenate([np.zeros(LINE_BYTES, dtype=np.uint8),
                           np.pad(records, ((0, 0), (0, 2)), constant_values=10).reshape(-1)])
    starts = (np.arange(64, dtype=np.int64) + 1) * LINE_BYTES
    codes = np.zeros(64, dtype=np.int64)
    first_starts = starts[:1]
    assert first_text_mismatch(buf0, starts, first_starts, codes) == -1
    for column in text_columns(detail_kernel.DETAIL_FIELDS):
        buf = buf0.copy()
        buf[starts[40] + column] ^= 0x01                    # another printable byte
        assert first_text_mismatch(buf, starts, first_starts, codes) == 40, column
    # bytes outside the text fields are not compared
    buf = buf0.copy()
    others = np.setdiff1d(np.arange(RECORD_BYTES), text_columns(detail_kernel.DETAIL_FIELDS))
    buf[starts[40] + others] = ord("7")
    assert first_text_mismatch(buf, starts, first_starts, codes) == -1


def test_word_checks_match_the_byte_rules_for_every_byte_value_and_position():
    from mfg_finance.cotahist.fields import is_text_byte
    digits_word = int.from_bytes(b"01234567", "little")
    text_word = int.from_bytes(b"AB z~\xa0\xff ", "little")
    for position in range(8):
        for value in range(256):
            shift = 8 * position
            word = np.uint64((text_word & ~(0xFF << shift)) | (value << shift))
            assert (detail_kernel.text_word_bad(word) != 0) == (not is_text_byte(value)), (position, value)
            word = np.uint64((digits_word & ~(0xFF << shift)) | (value << shift))
            number, bad = detail_kernel._eight_digits(word)
            assert (bad != 0) == (not 0x30 <= value <= 0x39), (position, value)
            if not bad:
                assert number == int(bytes(np.uint64(word).tobytes()).decode())


def test_a_file_parses_the_same_on_the_serial_and_the_parallel_route(tmp_path, monkeypatch):
    # With one numba thread and a small input parse_file runs the kernels' serial bodies (parse_block over every record, the
    # byte-loop text check, NumPy framing) so that no parallel variant is compiled: the same ParsedFile
    from mfg_finance.cotahist import framing, parser, textcodes

    records = valid_records(2 * detail_kernel.RECORDS_PER_BLOCK + 5, seed=8)
    records[9000, 60] = ord("x")                            # one rejected record, in the second block
    lines = np.pad(records, ((0, 0), (0, 2)), constant_values=10)
    lines[:, RECORD_BYTES] = 13
    path = tmp_path / "COTAHIST_A2001.TXT"
    path.write_bytes(lines.tobytes())
    results = []
    for parallel in (True, False):
        for module in (framing, parser, textcodes):
            monkeypatch.setattr(module, "parallel_kernels", lambda nbytes, parallel=parallel: parallel)
        results.append(parser.parse_file(path, strict=False))
    a, b = results
    assert a.summary == b.summary and a.rejects == b.rejects and a.summary["rejected"] == 1
    for x, y in ((a.ints, b.ints), (a.floats, b.floats), (a.text.codes, b.text.codes), (a.text.rows, b.text.rows),
                 (a.text.keys, b.text.keys)):
        np.testing.assert_array_equal(x, y)
