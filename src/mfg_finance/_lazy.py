"""Lazy re-exports for the package ``__init__`` modules (PEP 562).

A package such as :mod:`mfg_finance.calibration` re-exports names from its submodules for convenience.
Importing them eagerly would make every ``import mfg_finance.calibration.daily`` pay for scipy.stats,
matplotlib or numba through a sibling submodule, and a pipeline job starts many times: each name is
imported from its submodule on first use instead, then kept in the package's namespace.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to its submodule."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
