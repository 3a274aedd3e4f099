"""The fast trade-line kernels agree with the exact per-field kernels, line by line, on damaged lines too.

:mod:`mfg_finance.trades.fast_kernels` accepts a line only if it obeys every rule and hands any
other line to :mod:`mfg_finance.trades.kernels`: whatever the damage, both must flag the same first
field for the same reason, and give the same values for the lines they accept.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest

from mfg_finance.trades import fast_kernels, kernels, reader
from mfg_finance.trades.layout import NEG_LINE_BYTES, NEGOCIOS_MAX_DECIMALS
from trades_testing import negocios_lines, neg_lines, small_session

REPLACEMENTS = b"0159 ;-:.,A\x7f\x80\r"


@pytest.fixture(scope="module")
def session():
    return small_session()


def _buffer(lines: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = b"\n".join(lines) + b"\n"
    buf = np.frombuffer(text, dtype=np.uint8).copy()
    lengths = np.array([len(line) + 1 for line in lines], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return buf, starts, starts + lengths - 1


def _run(module, buf, starts, ends, fixed):
    o, err_field, err_reason = reader._allocate(starts.size, conditions=fixed)
    if fixed:
        module.parse_fixed(buf, starts, o, err_field, err_reason)
    else:
        module.parse_delimited(buf, starts, ends, NEGOCIOS_MAX_DECIMALS, o, err_field, err_reason)
    return o, err_field, err_reason


def _assert_same(buf, starts, ends, *, fixed):
    exact, exact_field, exact_reason = _run(kernels, buf, starts, ends, fixed)
    fast, fast_field, fast_reason = _run(fast_kernels, buf, starts, ends, fixed)
    np.testing.assert_array_equal(fast_field, exact_field)
    np.testing.assert_array_equal(fast_reason, exact_reason)
    ok = exact_field < 0
    for name in exact._fields:
        if name == "sym_start" or ("condition" in name and not fixed):
            continue   # the fast kernel may point a repeated code at an earlier copy of the same bytes
        np.testing.assert_array_equal(getattr(fast, name)[ok], getattr(exact, name)[ok], err_msg=name)
    for i in np.flatnonzero(ok):
        a, b, n = exact.sym_start[i], fast.sym_start[i], exact.sym_len[i]
        assert bytes(buf[a:a + n]) == bytes(buf[b:b + n])
    return ok


def _corruptions(line: bytes):
    """Every single-byte replacement (a few bytes each), deletion and digit insertion of ``line``."""
    for pos in range(len(line)):
        for byte in REPLACEMENTS:
            if line[pos] != byte:
                yield line[:pos] + bytes([byte]) + line[pos + 1:]
        yield line[:pos] + line[pos + 1:]
        yield line[:pos] + b"7" + line[pos:]


def _paired(lines: list[bytes]) -> list[bytes]:
    """Each damaged line right after its clean original (so the fast kernel's caches hold its values)."""
    out = []
    for clean in lines:
        for bad in _corruptions(clean):
            out += [clean, bad]
    return out


def test_neg_fast_kernel_agrees_with_the_exact_one_on_every_single_byte_damage(session):
    lines = neg_lines(session)[1:4] + [neg_lines(session)[-2]]    # trade lines of both instruments
    damaged = [line for line in _paired(lines) if len(line) == NEG_LINE_BYTES]   # the reader frames by length
    buf, starts, ends = _buffer(neg_lines(session)[:1] + damaged)
    ok = _assert_same(buf, starts[1:], ends[1:], fixed=True)
    assert ok.sum() > len(damaged) // 2 and not ok.all()


def test_negocios_fast_kernel_agrees_with_the_exact_one_on_every_single_byte_damage(session):
    lines = negocios_lines(session)[1:3] + [negocios_lines(session)[-1]]
    buf, starts, ends = _buffer(_paired(lines))
    ok = _assert_same(buf, starts, ends, fixed=False)
    assert ok.sum() > len(ok) // 2 and not ok.all()


def test_negocios_fast_kernel_agrees_at_the_edges_of_each_rule():
    base = [b"2024-07-01", b"PETR4", b"0", b"38,45", b"100", b"100000003", b"10", b"1", b"2024-07-01", b"34", b"126"]
    variants = {
        1: [b"A" * 50, b"A" * 51, b"", b"P R", b"\xe9"],
        2: [b"2", b"1", b"00", b""],
        3: [b"38", b"0", b"0,0", b"0,01", b"1," + b"1" * 9, b"1," + b"1" * 10, b"1" * 18, b"1" * 19,
            b"1" * 9 + b"," + b"1" * 9, b"1" * 10 + b"," + b"1" * 9, b",5", b"5,", b"1,2,3", b"9" * 16 + b",99"],
        4: [b"0", b"1" * 18, b"1" * 19, b""],
        5: [b"0", b"3", b"235959999", b"240000000", b"96000000", b"1000000000", b"006000000", b""],
        6: [b"0", b"1" * 18, b"1" * 19, b""],
        7: [b"", b"12"],
        8: [b"2024-02-30", b"2024-07-1", b"2024-07-011", b"2023-07-01"],
        9: [b"", b"2147483647", b"2147483648", b"0" * 18 + b"1", b"x"],
        10: [b"", b"2147483647", b"2147483648", b"1 "],
    }
    lines = [b";".join(base)]
    for field, values in variants.items():
        for value in values:
            line = b";".join(base[:field] + [value] + base[field + 1:])
            lines += [b";".join(base), line, line]          # also after a line with the same date/code
    lines += [b"2024-07-01;PETR4;0;38,45", b"", b"2024-07-01", b";" * 10, b";".join(base) + b";"]
    _assert_same(*_buffer(lines), fixed=False)


def test_fast_kernels_give_the_same_output_for_any_thread_count(session):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one numba thread only")
    lines = negocios_lines(session)[1:]
    many = (lines * (2 * fast_kernels.LINES_PER_BLOCK // len(lines) + 2))
    buf, starts, ends = _buffer(many)
    outputs = []
    for threads in (1, 2):
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            outputs.append(_run(fast_kernels, buf, starts, ends, False))
        finally:
            numba.set_num_threads(previous)
    (a, fa, ra), (b, fb, rb) = outputs
    np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(ra, rb)
    for name in a._fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("line_bounds", [fast_kernels.line_bounds, reader.line_bounds], ids=["compiled", "numpy"])
def test_line_bounds_match_a_plain_split(line_bounds):
    rng = np.random.default_rng(3)
    texts = [b"", b"\n", b"\r", b"\r\n", b"a", b"a\r", b"\n\n", b"ab\r\ncd", b"ab\ncd\r", b"x\r\n\r\n"]
    texts += [bytes(rng.choice(list(b"\n\r\x8aA;"), size=int(rng.integers(0, 70)))) for _ in range(300)]
    texts.append(bytes(rng.choice(list(b"\n\rAB"), size=2 * fast_kernels.BYTES_PER_BLOCK + 13)))
    for text in texts:
        starts, ends = line_bounds(np.frombuffer(text, dtype=np.uint8))
        lines = text.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        got = [text[s:e] for s, e in zip(starts, ends)]
        assert got == [line[:-1] if line.endswith(b"\r") else line for line in lines]


def test_neg_fast_kernel_agrees_at_the_edges_of_each_rule(session):
    clean = neg_lines(session)[1]
    variants = [(113, b"24:00:00.000"), (113, b"23:59:59.999"), (113, b"23:60:00.000"), (113, b"00:00:60.000"),
                (73, b" 000000000000.000000"), (73, b" 999999999999.999999"), (94, b"0" * 18), (94, b"9" * 18),
                (0, b"2024-02-30"), (0, b"2024-02-29"), (0, b"2023-02-29"), (128, b"2024-13-01"), (173, b"0000-01-01"),
                (11, b" " * 50), (11, b"AB CD" + b" " * 45), (11, b"X" * 50), (11, b"\xe9" + b" " * 49),
                (126, b"0"), (126, b"3"), (171, b"3"), (216, b"3"), (218, b"2"), (220, b"9" * 8), (229, b"0" * 8)]
    lines = [neg_lines(session)[0]]
    for offset, value in variants:
        line = clean[:offset] + value + clean[offset + len(value):]
        lines += [clean, line, line]
    buf, starts, ends = _buffer(lines)
    _assert_same(buf, starts[1:], ends[1:], fixed=True)


@pytest.mark.parametrize("layout", ["neg", "negocios"])
def test_a_session_reads_the_same_with_the_fast_or_the_exact_kernels(tmp_path, session, layout, monkeypatch):
    # parse_session picks the exact kernels and NumPy line ends for small files (reader.FAST_KERNELS_MIN_BYTES),
    # and the fast kernels' one-block bodies with one numba thread: the frame, summary and rejects must not
    # depend on those choices, damaged lines and CRLF ends included
    lines = (neg_lines if layout == "neg" else negocios_lines)(session)
    rng = np.random.default_rng(11)
    body = [bytearray(x) for x in lines[1:-1]]
    for i in rng.choice(len(body), size=min(40, len(body)), replace=False):
        body[i][rng.integers(0, len(body[i]))] = rng.choice(list(b"X ;,.:-0123456789"))
    text = b"\n".join([lines[0], *map(bytes, body), lines[-1]]) + b"\n"
    if layout == "negocios":
        text = text.replace(b"\n", b"\r\n")
    path = tmp_path / ("NEG_20240701.TXT" if layout == "neg" else "01-07-2024_NEGOCIOSAVISTA.txt")
    path.write_bytes(text)
    exact, fast, chosen = (reader.parse_session(path, strict=False, fast=f) for f in (False, True, None))
    monkeypatch.setattr(reader, "parallel_kernels", lambda nbytes: False)
    serial = reader.parse_session(path, strict=False, fast=True)
    assert exact.rejects and len(exact.trades) > 100
    for other in (fast, chosen, serial):
        pd.testing.assert_frame_equal(other.trades, exact.trades)
        assert other.summary == exact.summary and other.rejects == exact.rejects
