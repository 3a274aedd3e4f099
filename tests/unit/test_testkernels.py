"""The background warm-up of the tests' own numba kernels (tests/testkernels.py, docs/testing.md)."""

from __future__ import annotations

import importlib
import pickle

import pytest
import testkernels


@pytest.mark.parametrize("directory", list(testkernels.SIGNATURES))
def test_every_listed_signature_names_a_cached_kernel(directory):
    """A renamed kernel or a changed argument list must show here, not only as a slower test session."""
    from numba.core.caching import FunctionCache
    from numba.core.registry import CPUDispatcher

    for module, name, signature in testkernels.SIGNATURES[directory]:
        kernel = getattr(importlib.import_module(module), name, None)
        assert isinstance(kernel, CPUDispatcher), f"{module}.{name} is not a numba kernel"
        assert isinstance(kernel._cache, FunctionCache), f"{module}.{name} is not compiled with cache=True"
        params = kernel.py_func.__code__.co_argcount
        assert len(testkernels.numba_types(signature)) == params, f"{module}.{name} takes {params} arguments"


def test_steps_follow_the_session_order_and_skip_the_first_directory_families():
    dirs = ["mfg", "unit", "equilibrium", "market_making", "corporate", "cotahist", "trades", "workflow"]
    assert testkernels.steps_for(dirs, "mfg") == [
        "signatures:mfg", "equilibrium", "signatures:equilibrium", "trades", "market_making", "replay",
        "signatures:market_making", "cotahist", "signatures:cotahist", "signatures:trades"]
    assert testkernels.steps_for(["trades"], "trades") == ["signatures:trades"]
    assert testkernels.steps_for(["unit", "stats"], "unit") == []


def _write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_index(path, overloads, stamp=(1.5, 100), version="0.68.1"):
    """An index in numba's format: the version, then the pickled (source stamp, {key: data file name})."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(version, fh, protocol=-1)
        fh.write(pickle.dumps((stamp, overloads)))


def test_merge_copies_new_functions_and_adds_new_signatures_under_free_names(tmp_path):
    source, target = tmp_path / "warm", tmp_path / "tests"
    folder_in, folder = source / "pkg_abc", target / "pkg_abc"
    _write_index(folder_in / "mod.f-10.py311.nbi", {"f64": "mod.f-10.py311.1.nbc"})
    _write(folder_in / "mod.f-10.py311.1.nbc", b"warm f f64")
    _write_index(folder_in / "mod.g-20.py311.nbi", {"i64": "mod.g-20.py311.1.nbc", "f64": "mod.g-20.py311.2.nbc",
                                                    "u8": "mod.g-20.py311.3.nbc"})
    _write(folder_in / "mod.g-20.py311.1.nbc", b"warm g i64")
    _write(folder_in / "mod.g-20.py311.2.nbc", b"warm g f64")          # u8's data not written yet: not copied
    # the tests compiled g for f64 themselves; an orphan data file from an earlier source sits at number 2
    _write_index(folder / "mod.g-20.py311.nbi", {"f64": "mod.g-20.py311.1.nbc"})
    _write(folder / "mod.g-20.py311.1.nbc", b"tests g f64")
    _write(folder / "mod.g-20.py311.2.nbc", b"orphan")

    testkernels.merge_cache(source, target)

    assert testkernels._read_index(folder / "mod.f-10.py311.nbi")[2] == {"f64": "mod.f-10.py311.1.nbc"}
    assert (folder / "mod.f-10.py311.1.nbc").read_bytes() == b"warm f f64"
    version, stamp, overloads = testkernels._read_index(folder / "mod.g-20.py311.nbi")
    assert (version, stamp) == ("0.68.1", (1.5, 100))
    assert overloads == {"f64": "mod.g-20.py311.1.nbc", "i64": "mod.g-20.py311.3.nbc"}
    assert (folder / "mod.g-20.py311.1.nbc").read_bytes() == b"tests g f64"    # the tests' own kept
    assert (folder / "mod.g-20.py311.2.nbc").read_bytes() == b"orphan"
    assert (folder / "mod.g-20.py311.3.nbc").read_bytes() == b"warm g i64"
    assert not list(target.rglob("*.merge"))


def test_merge_leaves_an_index_of_another_source_alone(tmp_path):
    source, target = tmp_path / "warm", tmp_path / "tests"
    _write_index(source / "p" / "m.f-1.py311.nbi", {"i64": "m.f-1.py311.1.nbc"}, stamp=(2.0, 7))
    _write(source / "p" / "m.f-1.py311.1.nbc", b"warm")
    _write_index(target / "p" / "m.f-1.py311.nbi", {"f64": "m.f-1.py311.1.nbc"}, stamp=(1.0, 7))
    before = (target / "p" / "m.f-1.py311.nbi").read_bytes()

    testkernels.merge_cache(source, target)

    assert (target / "p" / "m.f-1.py311.nbi").read_bytes() == before
    assert not (target / "p" / "m.f-1.py311.2.nbc").exists()
