"""Atomic, deterministic writers (mfg_finance.io): no partial file ever stands at the destination."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mfg_finance.io import atomic_path, remove_stale_temporaries, write_json, write_npz, write_parquet


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_success_renames_into_place_and_leaves_no_temporary(tmp_path):
    dest = tmp_path / "out" / "a.json"
    write_json(dest, {"b": 1, "a": [1.5, 2]})
    assert dest.read_text() == '{\n  "a": [\n    1.5,\n    2\n  ],\n  "b": 1\n}\n'
    assert [p.name for p in dest.parent.iterdir()] == ["a.json"]


def test_failure_keeps_the_previous_file_and_removes_the_temporary(tmp_path):
    dest = tmp_path / "a.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_temporary_of_a_killed_writer_is_removed_by_the_next_writer(tmp_path):
    dest = tmp_path / "solution.npz"
    stale = tmp_path / f".solution.npz.{dead_pid()}.abcd1234.tmp"
    stale.write_bytes(b"partial")
    alive = tmp_path / f".solution.npz.{os.getpid()}.efgh5678.tmp"   # a writer still at work
    alive.write_bytes(b"in progress")
    other = tmp_path / f".other.npz.{dead_pid()}.abcd1234.tmp"       # another destination's
    other.write_bytes(b"partial")

    write_npz(dest, x=np.arange(3))

    assert not stale.exists()
    assert alive.exists() and other.exists()
    assert np.load(dest)["x"].tolist() == [0, 1, 2]
    assert remove_stale_temporaries(tmp_path / "other.npz") == [other]


def test_names_with_glob_characters_are_matched_literally(tmp_path):
    stale = tmp_path / f".a[1].csv.{dead_pid()}.x.tmp"
    stale.write_text("partial")
    lookalike = tmp_path / f".a1.csv.{dead_pid()}.x.tmp"
    lookalike.write_text("partial")
    assert remove_stale_temporaries(tmp_path / "a[1].csv") == [stale]
    assert lookalike.exists()


def test_same_content_same_bytes(tmp_path):
    frame = pd.DataFrame({"ticker": ["A", "B"], "x": [1.0, np.nan]})
    for name in ("one", "two"):
        write_parquet(tmp_path / f"{name}.parquet", frame)
        write_npz(tmp_path / f"{name}.npz", u=np.linspace(0, 1, 5), q=np.arange(4))
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
