"""Large plain files are read in parallel pieces: the same bytes, and a file that changed size is refused."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_finance.cotahist import source


def test_pieces_give_the_file_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(source, "PARALLEL_READ_BYTES", 1)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    data = np.random.default_rng(5).integers(0, 256, size=100_003, dtype=np.uint8).tobytes()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        assert source._read_file(fh, len(data)).tobytes() == data


@pytest.mark.parametrize("announced", [99_000, 101_000])
def test_a_file_of_another_size_than_announced_is_refused(tmp_path, monkeypatch, announced):
    monkeypatch.setattr(source, "PARALLEL_READ_BYTES", 1)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100_000)
    with open(path, "rb") as fh, pytest.raises(EOFError):
        source._read_file(fh, announced)


def test_a_one_thread_job_reads_in_one_piece(monkeypatch):
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert source._thread_budget() == 1
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    assert source._thread_budget() == 2
