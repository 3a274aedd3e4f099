"""The workflow's numba cache directory follows the kernels' source (stale cross-module machine code)."""

from mfg_finance.numba_cache import kernel_fingerprint, numba_cache_dir


def _package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "kernel.py").write_text("import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x\n")
    (pkg / "sub" / "caller.py").write_text("from numba import njit\n")
    (pkg / "report.py").write_text("def render():\n    return 1\n")
    return pkg


def test_a_kernel_module_change_moves_the_cache_and_other_edits_do_not(tmp_path):
    pkg = _package(tmp_path)
    before = kernel_fingerprint(pkg)
    (pkg / "report.py").write_text("def render():\n    return 2\n")
    assert kernel_fingerprint(pkg) == before
    (pkg / "sub" / "caller.py").write_text("from numba import njit  # changed\n")
    after = kernel_fingerprint(pkg)
    assert after != before
    assert numba_cache_dir(tmp_path / "cache", pkg) == str((tmp_path / "cache" / after).absolute())


def test_the_installed_package_has_kernels_to_fingerprint():
    import mfg_finance

    from pathlib import Path
    assert any(b"numba" in p.read_bytes() for p in Path(mfg_finance.__file__).parent.rglob("*.py"))
    assert len(kernel_fingerprint()) == 16
