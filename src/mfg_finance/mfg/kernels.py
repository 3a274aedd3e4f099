"""Which build of the solve path's kernels runs: the C extension compiled at install, else numba's.

The MFG solve spends its time in two kernels, one HJB/FP sweep and the LQ moment recursions
(:mod:`mfg_finance.mfg.sweep_kernel`, numba). The same two are compiled from ``_solve_kernels.c`` when the package
is installed with a C compiler (``pip install -e .``; the build is optional, pyproject.toml): with that build a
process that solves never imports numba, which costs about 0.45 s of a fresh process's start (import and the
target's initialisation at the first cached call); the C build runs the same arithmetic, so the results are the
same bits (``tests/mfg/test_mfg_kernels_c.py``).

``MFG_FINANCE_KERNELS=numba`` in the environment selects the numba build even where the C one is installed
(benchmarks, comparisons); ``MFG_FINANCE_KERNELS=c`` makes a missing C build an error instead of a fallback.
Imports neither numpy nor numba itself.
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
            return importlib.import_module("mfg_finance.mfg._solve_kernels")
        except ImportError:
            if choice == "c":
                raise
    return importlib.import_module("mfg_finance.mfg.sweep_kernel")


def backend_name() -> str:
    """``"c"`` or ``"numba"``: the build :func:`backend` uses (recorded with benchmark figures)."""
    return "numba" if backend().__name__.endswith("sweep_kernel") else "c"
