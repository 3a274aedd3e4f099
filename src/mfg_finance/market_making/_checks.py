"""Parameter checks shared by the market-making modules: one clear ConfigError per bad value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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


#: Largest inventory limit (lots): the quote tables hold 2 Q_max + 1 columns per time step.
MAX_Q_MAX = 10_000


def bounded_scales(*, sigma: float, gamma: float, k: float, Q_max: int, S0: float = 1.0) -> None:
    """Refuse scales whose products overflow double precision before any solve or simulation.

    The GLFT generator holds ``k gamma sigma^2 q^2 / 2`` (1/s) up to ``q = Q_max``; the A&S
    reservation price holds ``gamma sigma^2 q`` (BRL/s). Beyond ~1e300 these are ``inf`` (or a
    Python ``OverflowError``) and every quote NaN.
    """
    if Q_max > MAX_Q_MAX:
        raise ConfigError(f"Q_max must be <= {MAX_Q_MAX} lots (quote tables have 2 Q_max + 1 columns "
                          f"per step), got {Q_max}")
    try:
        rate = 0.5 * k * gamma * sigma * sigma * Q_max * Q_max
        drift = gamma * sigma * sigma * Q_max * S0
    except OverflowError:
        rate = drift = math.inf
    if not (math.isfinite(rate) and rate < 1e300 and math.isfinite(drift) and drift < 1e300):
        raise ConfigError(f"sigma ({sigma!r} BRL/sqrt(s)), gamma ({gamma!r} 1/BRL) and k ({k!r} 1/BRL) "
                          f"are out of range: the inventory-risk rate k gamma sigma^2 Q_max^2 / 2 = "
                          f"{rate:.3g} 1/s overflows double precision")


def seed_value(name: str, value: Any) -> int:
    """A random seed: an integer in [0, 2**63) (NumPy's SeedSequence takes no negative entropy)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**63:
        raise ConfigError(f"{name} must be an integer in [0, 2**63), got {value!r}")
    return int(value)


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _in(unit: str) -> str:
    return f" (in {unit})" if unit else ""


def n_steps_of(horizon_s: float, dt_s: float) -> int:
    """Number of steps ``horizon_s / dt_s``; it must be a whole number. (Here, not in :mod:`.backtest`: the
    config checks use it when Snakemake plans the jobs, which must not import pandas.)"""
    horizon_s = positive("horizon_s", horizon_s, unit="s")
    dt_s = positive("dt_s", dt_s, unit="s")
    ratio = horizon_s / dt_s
    n_steps = int(round(ratio))
    if n_steps < 1 or abs(ratio - n_steps) > 1e-9 * max(1.0, ratio):
        raise ConfigError(f"horizon_s / dt_s must be a whole number of steps; got {horizon_s} / {dt_s} = {ratio}")
    return n_steps
