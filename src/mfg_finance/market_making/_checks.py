"""Parameter checks shared by the market-making modules: one clear ConfigError per bad value."""

from __future__ import annotations

import math
from typing import Any

from mfg_finance.errors import ConfigError


def as_float(name: str, value: Any, *, unit: str = "") -> float:
    """``value`` as a finite float, or a ConfigError naming ``name`` and the expected unit."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number{_in(unit)}, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be finite{_in(unit)}, got {value!r}")
    return number


def positive(name: str, value: Any, *, unit: str = "") -> float:
    number = as_float(name, value, unit=unit)
    if number <= 0.0:
        raise ConfigError(f"{name} must be > 0{_in(unit)}, got {value!r}")
    return number


def non_negative(name: str, value: Any, *, unit: str = "") -> float:
    number = as_float(name, value, unit=unit)
    if number < 0.0:
        raise ConfigError(f"{name} must be >= 0{_in(unit)}, got {value!r}")
    return number


def positive_int(name: str, value: Any, *, unit: str = "") -> int:
    number = as_float(name, value, unit=unit)
    if number != int(number) or number < 1:
        raise ConfigError(f"{name} must be a positive integer{_in(unit)}, got {value!r}")
    return int(number)


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _in(unit: str) -> str:
    return f" (in {unit})" if unit else ""
