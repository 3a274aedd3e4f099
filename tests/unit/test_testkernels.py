"""The background warm-up of the tests' own numba kernels (tests/testkernels.py, docs/testing.md)."""

from __future__ import annotations

import importlib

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


def test_merge_copies_only_functions_the_target_has_no_index_for(tmp_path):
    source, target = tmp_path / "warm", tmp_path / "tests"
    for name in ("mod.f-10.py311", "mod.g-20.py311"):
        _write(source / "pkg_abc" / f"{name}.nbi", b"index " + name.encode())
        _write(source / "pkg_abc" / f"{name}.1.nbc", b"data 1 " + name.encode())
        _write(source / "pkg_abc" / f"{name}.2.nbc", b"data 2 " + name.encode())
    _write(target / "pkg_abc" / "mod.g-20.py311.nbi", b"the tests' own index")
    _write(target / "pkg_abc" / "mod.g-20.py311.1.nbc", b"the tests' own data")

    testkernels.merge_cache(source, target)

    folder = target / "pkg_abc"
    assert (folder / "mod.f-10.py311.nbi").read_bytes() == b"index mod.f-10.py311"
    assert (folder / "mod.f-10.py311.2.nbc").read_bytes() == b"data 2 mod.f-10.py311"
    assert (folder / "mod.g-20.py311.nbi").read_bytes() == b"the tests' own index"       # left alone
    assert (folder / "mod.g-20.py311.1.nbc").read_bytes() == b"the tests' own data"
    assert not (folder / "mod.g-20.py311.2.nbc").exists()
    assert not list(target.rglob("*.merge"))
