"""Which build of the solve path's kernels runs: the C extension compiled at install, else numba's.

The MFG solve spends its time in two kernels, one HJB/FP sweep and the LQ moment recursions
(:mod:`mfg_finance.mfg.sweep_kernel`, numba). The same two are compiled from ``_solve_kernels.c`` when the package
is installed with a C compiler (``pip install -e .``; the build is optional, pyproject.toml): with that build a
process that solves never imports numba, which costs about 0.45 s of a fresh process's start (import and the
target's initialisation at the first cached call); the C build runs the same arithmetic, so the results are the
same bits (``tests/mfg/test_mfg_kernels_c.py``).

``MFG_FINANCE_KERNELS=numba`` in the environment selects the numba build even where the C one is installed
(benchmarks, comparisons); ``MFG_FINANCE_KERNELS=c`` makes a missing C build an error instead of a fallback.
A C build older than its source beside it (an editable install after ``git pull`` or an edit, not yet rebuilt
with ``pip install -e .``) is not used: numba's build, compiled from the current source, runs instead, with a
warning. Imports neither numpy nor numba itself.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

#: The environment variable that chooses the build: ``c``, ``numba`` or unset (C if installed, else numba).
ENV = "MFG_FINANCE_KERNELS"


@functools.cache
def backend() -> ModuleType:
    """The module with ``sweep_into`` and ``moment_recursions_into`` (same signatures in both builds)."""
    choice = os.environ.get(ENV, "").strip().lower()
    if choice not in ("", "c", "numba"):
        from mfg_finance.errors import ConfigError

        raise ConfigError(f"{ENV}={choice!r}: expected 'c', 'numba' or unset")
    if choice != "numba":
        try:
            module = importlib.import_module("mfg_finance.mfg._solve_kernels")
        except ImportError:
            if choice == "c":
                raise
        else:
            if not is_stale(module.__file__):
                return module
            message = (f"{module.__file__} is older than its source _solve_kernels.c: rebuild it with "
                       "`pip install -e .`; the numba build runs meanwhile")
            if choice == "c":
                raise ImportError(message)
            import warnings

            warnings.warn(message, RuntimeWarning, stacklevel=2)
    return importlib.import_module("mfg_finance.mfg.sweep_kernel")


def is_stale(built: str) -> bool:
    """Whether the compiled file ``built`` is older than ``_solve_kernels.c`` beside it (absent: not stale)."""
    source = os.path.join(os.path.dirname(built), "_solve_kernels.c")
    try:
        return os.stat(source).st_mtime_ns > os.stat(built).st_mtime_ns
    except FileNotFoundError:
        return False


def backend_name() -> str:
    """``"c"`` or ``"numba"``: the build :func:`backend` uses (recorded with benchmark figures)."""
    return "numba" if backend().__name__.endswith("sweep_kernel") else "c"
