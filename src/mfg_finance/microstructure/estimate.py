"""The result type of every estimator, and the shared statistics: OLS with HAC errors, block means.

Every estimator returns :class:`Estimate` objects: a value, its standard error, the unit, the
formula, the number of observations behind it and the degrees of freedom used for intervals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from mfg_finance.errors import DataError


@dataclass(frozen=True)
class Estimate:
    """One estimated parameter with its uncertainty.

    ``se`` is the standard error (same unit as ``value``); ``dof`` the degrees of freedom of the
    t distribution used by :meth:`ci` (``inf``: normal). ``n`` counts the observations used
    (trades, intervals or blocks, as ``formula`` says).
    """

    value: float
    se: float
    unit: str
    formula: str
    n: int
    dof: float = math.inf

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided confidence interval at ``level``."""
        from scipy import stats  # imported here: scipy.stats is the slowest import of all, few jobs need it

        q = stats.norm.ppf(0.5 + level / 2) if math.isinf(self.dof) else stats.t.ppf(0.5 + level / 2, self.dof)
        return self.value - q * self.se, self.value + q * self.se

    def as_dict(self) -> dict:
        return asdict(self)


def block_mean(values: np.ndarray, *, unit: str, formula: str, what: str) -> Estimate:
    """Mean of independent block estimates, SE = sample sd / sqrt(B), t with B - 1 dof."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 3:
        raise DataError(f"{what}: {values.size} usable blocks, at least 3 needed for a standard error")
    return Estimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size)), unit,
                    formula, int(values.size), float(values.size - 1))


def ols_hac(X: np.ndarray, y: np.ndarray, *, lags: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and their Newey-West (Bartlett kernel, ``lags``) standard errors.

    ``X`` (n, p) without an implicit intercept. Raises DataError when X is rank deficient.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    if n <= p + 1:
        raise DataError(f"regression with {n} observations and {p} regressors: not enough data")
    xtx = X.T @ X
    if np.linalg.matrix_rank(xtx) < p:
        raise DataError("regressors are collinear (e.g. no variation in signed flow)")
    inv = np.linalg.inv(xtx)
    beta = inv @ (X.T @ y)
    u = X * (y - X @ beta)[:, None]
    meat = u.T @ u
    for lag in range(1, min(lags, n - 1) + 1):
        w = 1.0 - lag / (lags + 1.0)
        g = u[lag:].T @ u[:-lag]
        meat += w * (g + g.T)
    cov = inv @ meat @ inv * n / (n - p)
    return beta, np.sqrt(np.diag(cov))
