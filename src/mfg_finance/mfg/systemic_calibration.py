r"""Calibration of the common noise ``sigma0`` from the market-wide component of daily returns.

The calibrated inventory noise ``sigma`` (:mod:`mfg_finance.calibration`) is the random imbalance
of each asset's order flow. Part of it is market-wide: the same shocks move every stock's flow.
Daily returns are the observable proxy of signed flow (price impact), so the market-wide share of
the flow's variance is taken as the share of daily-return variance common to all assets. In a
one-factor model ``r_i = f + e_i`` with ``var(e_i) = s_e^2`` the correlation of two assets is
``rho = var(f) / (var(f) + s_e^2)``, exactly that share, so::

    rho = mean over pairs (i < j) of corr(r_i, r_j)      (pairwise-complete daily log returns),
    sigma0 = sqrt(rho) sigma,      sigma_idiosyncratic = sqrt(1 - rho) sigma,

which keeps each agent's total noise ``sigma_idio^2 + sigma0^2 = sigma^2``. Pairs need
``min_sessions`` common sessions; ``rho`` is clipped to ``[0, 1)``. The average pairwise
correlation has no bias from the market proxy (a regression on an equal-weighted index would count
1/K of each asset's own noise as common). With fewer than two usable assets the data do not allow a
calibration: ``rho = 0`` is returned with the reason recorded, never silently.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import CalibrationError


def market_share_of_variance(returns: pd.DataFrame, *, min_sessions: int) -> dict[str, Any]:
    """``rho`` from a long table ``ticker, date, log_return`` (NaN returns are gaps, not zeros).

    Returns ``{rho, n_assets, n_pairs, n_sessions, source, reason}``.
    """
    missing = sorted({"ticker", "date", "log_return"} - set(returns.columns))
    if missing:
        raise CalibrationError(f"returns: missing column(s) {missing} (expected ticker, date, log_return)")
    wide = returns.pivot_table(index="date", columns="ticker", values="log_return", aggfunc="first")
    counts = wide.notna().sum()
    wide = wide.loc[:, counts >= min_sessions]
    corr = wide.corr(min_periods=min_sessions).to_numpy()
    upper = corr[np.triu_indices_from(corr, k=1)] if corr.size else np.array([])
    upper = upper[np.isfinite(upper)]
    out = {"n_assets": int(wide.shape[1]), "n_pairs": int(upper.size), "n_sessions": int(wide.shape[0])}
    if upper.size == 0:
        return {**out, "rho": 0.0, "source": "default",
                "reason": f"fewer than two assets with {min_sessions} common sessions: no market-wide "
                          f"component measurable, sigma0 = 0"}
    rho = float(np.clip(upper.mean(), 0.0, 1.0 - 1e-12))
    return {**out, "rho": rho, "source": "data",
            "reason": "mean pairwise correlation of daily log returns (one-factor share of variance)"}


def calibrate_sigma0(returns: pd.DataFrame, calibrated: Mapping[str, float], *, min_sessions: int) -> dict[str, Any]:
    """The ``systemic_params.yaml`` document: ``rho``, ``sigma0``, ``sigma_idiosyncratic`` (units of
    ``sigma``: inventory units / sqrt(trading day)) with source, formula and sample sizes."""
    if "sigma" not in calibrated or not math.isfinite(float(calibrated["sigma"])):
        raise CalibrationError("mfg_params.yaml: no finite calibrated 'sigma' to split into common and "
                               "idiosyncratic noise")
    sigma = float(calibrated["sigma"])
    share = market_share_of_variance(returns, min_sessions=min_sessions)
    rho = share["rho"]
    return {
        "sigma0": {"value": math.sqrt(rho) * sigma, "unit": "inventory units / sqrt(trading day)",
                   "source": share["source"], "formula": "sqrt(rho) * sigma"},
        "sigma_idiosyncratic": {"value": math.sqrt(1.0 - rho) * sigma,
                                "unit": "inventory units / sqrt(trading day)", "source": share["source"],
                                "formula": "sqrt(1 - rho) * sigma"},
        "rho": {"value": rho, "unit": "dimensionless", "source": share["source"], "reason": share["reason"]},
        "sigma": {"value": sigma, "unit": "inventory units / sqrt(trading day)", "source": "mfg_params.yaml"},
        "sample": {k: share[k] for k in ("n_assets", "n_pairs", "n_sessions")},
        "min_sessions": int(min_sessions),
    }
