"""The large inputs' parallel steps after the record kernel give what the serial NumPy/pandas steps give.

Text keys factorized in chunks (:mod:`mfg_finance.cotahist.hashcodes`) against ``pandas.factorize``, the
categorical codes taken in one pass and the typed integer columns narrowed in one pass against their NumPy
versions, and a whole file read both ways, on one and two threads.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
import pandas as pd
import pytest

from cotahist_testing import detail_lines
from mfg_finance import job_threads
from mfg_finance.cotahist import hashcodes, read_cotahist, textcodes
from mfg_finance.cotahist.encode import cotahist_bytes


def renumbered(part: hashcodes.ChunkCodes) -> np.ndarray:
    codes = part.codes.copy()
    for k in range(part.bounds.size - 1):
        lo, hi = part.bounds[k], part.bounds[k + 1]
        if part.global_of.size:
            codes[lo:hi] = part.global_of[lo + codes[lo:hi]]
    return codes


@pytest.mark.parametrize("n_distinct", [1, 7, 5000, 150_000])
@pytest.mark.parametrize("n_chunks", [1, 2, 3, 5])
def test_chunked_factorization_is_pandas_factorize(n_distinct, n_chunks):
    rng = np.random.default_rng(n_distinct)
    values = rng.integers(0, 2 ** 63, n_distinct, dtype=np.int64).astype(np.uint64)
    keys = values[rng.integers(0, n_distinct, 200_000)]
    keys[-1] = np.uint64(2 ** 64 - 1)                     # a key only the last chunk holds
    part = hashcodes.factorize_chunks(keys, n_chunks)
    expected, uniques = pd.factorize(keys)
    np.testing.assert_array_equal(renumbered(part), expected)
    np.testing.assert_array_equal(keys[part.first], uniques)
    first = np.full(uniques.size, keys.size)
    np.minimum.at(first, expected, np.arange(keys.size))
    np.testing.assert_array_equal(part.first, first)        # the first key of each code


def test_chunks_follow_the_thread_count_but_not_below_a_minimum():
    keys = np.arange(3 * hashcodes.MIN_CHUNK, dtype=np.uint64)
    assert hashcodes.factorize_chunks(keys, 8).bounds.size - 1 == 3
    assert hashcodes.factorize_chunks(keys[:100], 8).bounds.size - 1 == 1
    assert hashcodes.factorize_chunks(keys[:0], 2).first.size == 0


def test_sorted_unique_rows_is_numpy_unique():
    rng = np.random.default_rng(3)
    for width in (1, 4, 8, 10, 12, 17):
        block = rng.choice(np.frombuffer(b" AZ09\xe9", dtype=np.uint8), size=(3000, width))
        uniques, inverse = textcodes._sorted_unique_rows(block)
        expected, expected_inverse = np.unique(block.view(f"S{width}").reshape(-1), return_inverse=True)
        np.testing.assert_array_equal(uniques.view(f"S{width}").reshape(-1), expected)
        np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
    uniques, inverse = textcodes._sorted_unique_rows(np.empty((0, 12), dtype=np.uint8))
    assert uniques.shape == (0, 12) and inverse.size == 0


def test_code_widths_are_pandas_own():
    for n in (1, 126, 127, 128, 32766, 32767, 40000):
        codes = pd.Categorical.from_codes(np.zeros(1, dtype=np.int64), categories=[f"c{i}" for i in range(n)]).codes
        assert textcodes._CODE_DTYPES[textcodes._code_width(n)] == codes.dtype


@contextlib.contextmanager
def kernels(large: bool, threads: int):
    """The large inputs' parallel steps (``large``) or the serial NumPy ones, on ``threads`` numba threads."""
    before = numba.get_num_threads()
    saved = job_threads.LARGE_INPUT_BYTES
    job_threads.LARGE_INPUT_BYTES = 0 if large else 1 << 62
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        job_threads.LARGE_INPUT_BYTES = saved
        numba.set_num_threads(before)


@pytest.fixture(scope="module")
def varied_file(tmp_path_factory):
    """70,000 records (two factorization chunks), 3,000 tickers (int16 codes), optional term days."""
    n = 70_000
    rng = np.random.default_rng(11)
    ticker = rng.integers(0, 3000, n)
    lines = detail_lines(n, CODNEG=[f"TK{t:04d}" for t in ticker], NOMRES=[f"NAME {t % 400}" for t in ticker],
                         ESPECI=[("ON", "PN", "UNT N2")[t % 3] for t in ticker],
                         PRAZOT=np.array([None if t % 2 else int(t % 999) for t in ticker], dtype=object),
                         CODISI=[f"BRTK{t:04d}PR0" for t in ticker], FATCOT=1 + ticker % 3,
                         QUATOT=rng.integers(0, 10 ** 18, n, dtype=np.int64), TOTNEG=rng.integers(0, 10 ** 5, n))
    path = tmp_path_factory.mktemp("parallel") / "COTAHIST_VARIED.TXT"
    path.write_bytes(cotahist_bytes(lines))
    return path


def test_large_input_steps_give_the_serial_frame(varied_file):
    with kernels(large=False, threads=1):
        expected = read_cotahist(varied_file)
    assert expected["ticker"].cat.codes.dtype == np.int16 and expected["term_days"].isna().any()
    for threads in (1, 2):
        with kernels(large=True, threads=threads):
            got = read_cotahist(varied_file)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        for column in ("ticker", "short_name", "spec", "isin", "currency"):
            assert got[column].cat.codes.dtype == expected[column].cat.codes.dtype
