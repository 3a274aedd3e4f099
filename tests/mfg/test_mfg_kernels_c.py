"""The solve path's two kernel builds (mfg_finance.mfg.kernels): the C extension gives numba's bits, and the
selection falls back to numba without it.

The C tests skip where the package was installed without a C compiler (the extension is optional); CI installs
with one (`pip install -e ".[test]"` builds it), so they run there.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from mfg_cases import STIFF, make, must_hold_config
from mfg_finance.errors import ConfigError
from mfg_finance.mfg import hjb, kernels, sweep_kernel
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.solver import Problem, initial_eta

try:
    from mfg_finance.mfg import _solve_kernels
except ImportError:        # installed without a C compiler: the numba build serves alone
    _solve_kernels = None

needs_c = pytest.mark.skipif(_solve_kernels is None, reason="the C kernels were not built at install (no compiler)")

CASES = {
    "stiff, graded meshes": make(STIFF, grid={"nx": 101, "nt": 60}),
    "uniform meshes": make(STIFF, grid={"nx": 81, "nt": 40, "inventory_mesh": "uniform", "time_mesh": "uniform"}),
    "gamma_T = 1e8, uniform time mesh": make(STIFF, grid={"nx": 61, "nt": 30, "time_mesh": "uniform"},
                                             params={"gamma_T": 1e8}),
    "transport-dominated, selling": make(must_hold_config(1, -1.5, 0, 50, 0.02, 5), grid={"nx": 61, "nt": 30}),
}


def _inputs(config):
    problem = Problem.from_config(validate_config(config))
    g = problem.grid
    eta = initial_eta(problem) * (1.0 + 0.3 * np.sin(np.linspace(0.0, 3.0, g.nt + 1)) ** 2)
    return problem, eta


def _run(module, problem, eta, start, *, keep_rates=True):
    """``sweep_into`` of one build on fresh arrays: everything it writes, and its return value."""
    g = problem.grid
    nt, nx = g.nt, g.q.size
    rows = nt if keep_rates else 0
    out = [np.full((nt + 1, nx), np.nan), np.full((nt + 1, nx), np.nan), np.full((nt + 1, nx), np.nan),
           np.full(nt + 1, np.nan), np.zeros(nt, dtype=np.int64), np.full((rows, nx - 1), np.nan),
           np.full((rows, nx - 1), np.nan), np.full((nt, nx), np.nan), np.full((nt, nx - 1), np.nan),
           np.full((nt, nx), np.nan), np.full(nx, np.nan)]
    finite = module.sweep_into(eta, g.q, g.dts, problem.sigma, problem.phi, problem.gamma_T, hjb.HOWARD_TOL,
                               hjb.HOWARD_MAX_ITER, problem.mu0 * problem.weights, problem.weights, 0.25,
                               start.alpha, start.piv, start.mult, start.outer, *out)
    return finite, out


def _cold(nx):
    return hjb.WarmStart(np.empty((0, nx)), np.empty((0, nx)), np.empty((0, nx - 1)), np.empty((0, nx)))


@needs_c
@pytest.mark.parametrize("name", list(CASES))
def test_c_sweep_gives_the_numba_sweeps_bits(name):
    problem, eta = _inputs(CASES[name])
    nx = problem.grid.q.size
    finite, c = _run(_solve_kernels, problem, eta, _cold(nx))
    finite_numba, ref = _run(sweep_kernel, problem, eta, _cold(nx))
    assert finite is True and finite_numba is True
    for got, want in zip(c, ref):
        assert np.array_equal(got, want)
    # started from a previous sweep's feedback and factors (another cost path), and without the rates
    warm = hjb.WarmStart(ref[1], ref[7], ref[8], ref[9])
    _, c = _run(_solve_kernels, problem, 1.1 * eta, warm, keep_rates=False)
    _, ref = _run(sweep_kernel, problem, 1.1 * eta, warm, keep_rates=False)
    for got, want in zip(c, ref):
        assert np.array_equal(got, want)


@needs_c
def test_c_moment_recursions_give_the_numba_bits():
    problem, eta = _inputs(CASES["stiff, graded meshes"])
    results = []
    for module in (_solve_kernels, sweep_kernel):
        out = [np.empty(eta.size) for _ in range(4)]
        module.moment_recursions_into(eta, problem.grid.dts, problem.phi, problem.gamma_T, 0.5, 0.25, problem.sigma,
                                      *out)
        results.append(out)
    assert all(np.array_equal(a, b) for a, b in zip(*results))


@needs_c
def test_c_sweep_refuses_arrays_of_the_wrong_size_or_type():
    problem, eta = _inputs(CASES["transport-dominated, selling"])
    with pytest.raises(ValueError, match="dts"):
        _run(_solve_kernels, problem, np.append(eta, eta[-1]), _cold(problem.grid.q.size))
    g = problem.grid
    with pytest.raises(TypeError, match="eta"):
        _solve_kernels.moment_recursions_into(eta.astype(np.float32), g.dts, 0.1, 1.0, 0.0, 0.0, 0.5,
                                              *[np.empty(eta.size) for _ in range(4)])


def test_warm_start_with_factors_gives_the_bits_of_the_plain_start():
    """Reusing the previous sweep's factors changes nothing: the matrix of a step depends on the policy only."""
    problem, eta = _inputs(CASES["stiff, graded meshes"])
    g = problem.grid
    kw = dict(sigma=problem.sigma, phi=problem.phi, gamma_T=problem.gamma_T)
    previous = hjb.run_sweep(1.3 * eta, g.q, g.dts, problem.mu0 * problem.weights, problem.weights, **kw)
    plain = hjb.run_sweep(eta, g.q, g.dts, problem.mu0 * problem.weights, problem.weights, start=previous.alpha, **kw)
    reused = hjb.run_sweep(eta, g.q, g.dts, problem.mu0 * problem.weights, problem.weights, start=previous.warm, **kw)
    for name in ("u", "alpha", "density", "flow", "last_mass"):
        assert np.array_equal(getattr(plain, name), getattr(reused, name)), name
    assert np.array_equal(plain.warm.piv, reused.warm.piv)


def test_selection_falls_back_to_numba_and_refuses_an_unknown_build(monkeypatch):
    monkeypatch.setitem(sys.modules, "mfg_finance.mfg._solve_kernels", None)     # as if never built
    kernels.backend.cache_clear()
    try:
        monkeypatch.delenv(kernels.ENV, raising=False)
        assert kernels.backend() is sweep_kernel and kernels.backend_name() == "numba"
        kernels.backend.cache_clear()
        monkeypatch.setenv(kernels.ENV, "c")
        with pytest.raises(ImportError):
            kernels.backend()
        kernels.backend.cache_clear()
        monkeypatch.setenv(kernels.ENV, "fortran")
        with pytest.raises(ConfigError, match="MFG_FINANCE_KERNELS"):
            kernels.backend()
    finally:
        kernels.backend.cache_clear()


@needs_c
def test_a_solve_with_the_c_build_never_imports_numba():
    code = ("import sys; from mfg_finance.mfg import solve; "
            "solve({'grid': {'nx': 41, 'nt': 20, 'T': 0.5}, 'params': {'sigma': 0.5, 'eta0': 5e-4, 'eta1': 1e-3, "
            "'phi': 0.035, 'gamma_T': 0.57}}, estimate_errors=True); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'scipy')))")
    env = {k: v for k, v in os.environ.items() if k != kernels.ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


def test_workspace_recycles_only_arrays_nobody_holds_and_caps_its_memory():
    workspace = hjb.Workspace(max_bytes=3 * 800)
    held = workspace.empty((10, 10))
    other = workspace.empty((10, 10))
    assert other is not held                           # `held` is referenced here: never handed out twice
    other_id = id(other)
    del other
    again = workspace.empty((10, 10))
    assert id(again) == other_id                       # dropped, so recycled
    assert workspace.empty((5, 2)).shape == (5, 2)     # another shape: a new array
    del again
    spare = [workspace.empty((10, 10)) for _ in range(3)]
    del spare                                          # free, but kept: 4 x 800 bytes of (10, 10) and the (5, 2)
    big = workspace.empty((20, 20))                    # past the cap: the free ones are let go, not `held`
    assert {id(a) for a in workspace._arrays} == {id(held), id(big)}


def test_a_c_build_older_than_its_source_is_stale(tmp_path):
    built, source = tmp_path / "_solve_kernels.so", tmp_path / "_solve_kernels.c"
    built.write_bytes(b"")
    assert not kernels.is_stale(str(built))                 # no source beside it (a wheel): used
    source.write_text("/* edited */")
    os.utime(built, ns=(10 ** 18, 10 ** 18))
    os.utime(source, ns=(2 * 10 ** 18, 2 * 10 ** 18))
    assert kernels.is_stale(str(built))                     # edited after the build: not used
    os.utime(built, ns=(3 * 10 ** 18, 3 * 10 ** 18))
    assert not kernels.is_stale(str(built))
