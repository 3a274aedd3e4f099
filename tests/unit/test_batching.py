"""Stable batches of work items (mfg_finance.batching) and the sweep-batch config helpers."""

import pytest

from mfg_finance.batching import BATCH_NAME_PATTERN, batch_index, batch_of, batches
from mfg_finance.config import sweep_run_overrides
from mfg_finance.errors import ConfigError, MissingOutputError
from mfg_finance.sweeps import batch_overrides, batch_point_files, point_overrides, sweep_points

SPEC = {"phi": {"start": 0.01, "stop": 0.5, "num": 6, "scale": "log"}, "gamma_T": [0.1, 1.0, 3.0]}


def ids_of(spec):
    return [p["point_id"] for p in sweep_points(spec, name="s")]


def test_every_item_in_exactly_one_batch_named_by_pattern():
    import re

    ids = ids_of(SPEC)
    grouped = batches(ids, 4)
    assert sorted(i for items in grouped.values() for i in items) == sorted(ids)
    assert all(re.fullmatch(BATCH_NAME_PATTERN, name) for name in grouped)
    assert list(grouped) == sorted(grouped, key=lambda n: int(n[1:].split("of")[0]))
    assert batch_of(ids, 4) == {i: name for name, items in grouped.items() for i in items}


def test_adding_values_changes_only_the_batches_that_gain_points():
    before = batches(ids_of(SPEC), 4)
    after = batches(ids_of(dict(SPEC, gamma_T=[0.1, 1.0, 3.0, 7.0])), 4)   # 6 new points
    new_ids = set(ids_of(dict(SPEC, gamma_T=[7.0])))
    for name, items in after.items():
        if not new_ids & set(items):
            assert items == before[name]                   # untouched batch: same points, same order
        else:
            assert [i for i in items if i not in new_ids] == before.get(name, [])


def test_one_batch_per_item_without_a_batch_count():
    ids = ids_of(SPEC)
    assert batches(ids, None) == {i: [i] for i in ids}


def test_assignment_is_the_ids_hash_modulo_the_batch_count():
    # the first 8 bytes of sha256(id), big-endian, modulo n: fixed values guard the outputs' paths
    import hashlib

    digest = int.from_bytes(hashlib.sha256(b"a3f1c2d4e5f6").digest()[:8], "big")
    assert [batch_index("a3f1c2d4e5f6", n) for n in (1, 2, 3, 7, 1000)] == [digest % n for n in (1, 2, 3, 7, 1000)]
    assert {batch_index(f"id{i}", 2) for i in range(50)} == {0, 1}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_batch_count_is_refused(bad):
    with pytest.raises(ConfigError, match="number of batches"):
        batches(["a", "b"], bad)


def test_repeated_ids_are_refused():
    with pytest.raises(ConfigError, match="repeated"):
        batches(["a", "b", "a"], 2)


def test_point_overrides_equal_the_one_point_job_overrides():
    mfg = {"grid": {"nx": 61, "nt": 40, "T": 0.5}, "params": {"phi": 0.05, "sigma": None, "eta1": 0.001},
           "solver": {"method": "newton", "tol": 1e-9}, "price": {"enabled": False, "kappa": None},
           "scenarios": {"baseline": {}}}
    batch_run = batch_overrides(mfg, ["phi", "gamma_T"])
    assert "phi" not in batch_run["params"]          # every point sets phi: a baseline phi edit does not rerun
    for point in sweep_points(SPEC, name="s"):
        assert point_overrides(batch_run, point["params"]) == sweep_run_overrides(mfg, point["params"])
    assert batch_overrides(dict(mfg, params=dict(mfg["params"], phi=0.2)), ["phi", "gamma_T"]) == batch_run
    assert batch_overrides(dict(mfg, params=dict(mfg["params"], eta1=0.002)), ["phi", "gamma_T"]) != batch_run


def test_batch_point_files_finds_every_point_once(tmp_path):
    (tmp_path / "b0of2").mkdir()
    (tmp_path / "b1of2").mkdir()
    for folder, pid in [("b0of2", "aaa"), ("b1of2", "bbb"), ("b1of2", "stale")]:
        (tmp_path / folder / f"{pid}.json").write_text("{}")
    folders = [tmp_path / "b0of2", tmp_path / "b1of2"]
    assert [p.stem for p in batch_point_files(folders, ["bbb", "aaa"])] == ["aaa", "bbb"]
    with pytest.raises(MissingOutputError, match="no file for point"):
        batch_point_files(folders, ["aaa", "ccc"])
    (tmp_path / "b0of2" / "bbb.json").write_text("{}")
    with pytest.raises(MissingOutputError, match="more than one batch"):
        batch_point_files(folders, ["aaa", "bbb"])
