r"""Conditional value at risk of a PnL sample, with its asymptotic standard error.

For a PnL ``X`` (gains positive) and a level ``alpha`` (e.g. 0.05), the lower-tail mean is
``CVaR_alpha = VaR_alpha - E[(VaR_alpha - X)^+] / alpha`` with ``VaR_alpha`` the ``alpha``-quantile
(Rockafellar-Uryasev; equal to ``E[X | X <= VaR]`` for continuous ``X``). It is reported as a PnL
level (negative = loss); the *loss* is ``-CVaR``. The plug-in estimator uses the empirical quantile;
its asymptotic variance is ``Var((VaR - X)^+) / (alpha^2 n)`` (the influence function of expected
shortfall; the quantile's own error does not enter at first order).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.errors import ConfigError


def cvar(pnl, level: float) -> tuple[float, float]:
    """``(CVaR_level, standard error)`` of a PnL sample (same unit as ``pnl``; NaN se below 3 samples)."""
    if not 0.0 < level < 1.0:
        raise ConfigError(f"cvar_level must lie in (0, 1), got {level!r}")
    x = np.asarray(pnl, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ConfigError("CVaR needs a non-empty sample of finite PnL values")
    var = float(np.quantile(x, level, method="inverted_cdf"))
    shortfall = np.maximum(var - x, 0.0)
    value = var - float(shortfall.mean()) / level
    se = float(shortfall.std(ddof=1) / (level * np.sqrt(x.size))) if x.size >= 3 else float("nan")
    return value, se
