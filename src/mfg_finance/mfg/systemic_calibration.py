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

Uncertainty. ``rho`` is estimated from few sessions (a month of data is ~20), and the sessions, not
the assets, are the independent units (the market factor is one draw per session). Its standard
error is the delete-one-session jackknife: with ``rho_(d)`` the same estimator (same
``min_sessions`` rule) without session ``d`` and ``D`` the sessions with at least two assets' returns,
``SE(rho) = sqrt((D - 1)/D * sum_d (rho_(d) - mean_d rho_(d))^2)`` (of the mean pairwise correlation
before clipping). ``sigma0``'s follows by the delta method through ``sigma0 = sqrt(rho) sigma``:
``SE(sigma0) = sigma SE(rho) / (2 sqrt(rho)) = sigma0 SE(rho) / (2 rho)`` (and
``SE(sigma_idiosyncratic) = sigma SE(rho) / (2 sqrt(1 - rho))``), conditional on the calibrated
``sigma``; undefined (``None``, with the reason) at ``rho = 0``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import CalibrationError

#: A pair's variance below this fraction of its sum of squares is a constant series (pandas gives NaN).
_CONSTANT = 1e-12


def market_share_of_variance(returns: pd.DataFrame, *, min_sessions: int) -> dict[str, Any]:
    """``rho`` from a long table ``ticker, date, log_return`` (NaN returns are gaps, not zeros).

    Returns ``{rho, n_assets, n_pairs, n_sessions, source, reason}``.
    """
    wide = _usable_wide(returns, min_sessions)
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


def _usable_wide(returns: pd.DataFrame, min_sessions: int) -> pd.DataFrame:
    """Sessions x assets table of the returns, assets with at least ``min_sessions`` returns."""
    missing = sorted({"ticker", "date", "log_return"} - set(returns.columns))
    if missing:
        raise CalibrationError(f"returns: missing column(s) {missing} (expected ticker, date, log_return)")
    wide = returns.pivot_table(index="date", columns="ticker", values="log_return", aggfunc="first")
    return wide.loc[:, wide.notna().sum() >= min_sessions]


def _mean_pair_correlation(n, s_i, s_j, ss_i, ss_j, s_ij, min_sessions: int) -> float:
    """Mean pairwise-complete correlation over the pairs ``(i, j)`` with ``n >= min_sessions`` common sessions, from
    the pairs' sums over those sessions (vectors over pairs): ``s_i``, ``ss_i`` of ``x_i`` and ``x_i^2`` (``s_j``,
    ``ss_j`` likewise), ``s_ij`` of ``x_i x_j``; NaN without any pair (a constant series has none, as in pandas)."""
    ok = n >= min_sessions
    n, s_i, s_j, ss_i, ss_j, s_ij = n[ok], s_i[ok], s_j[ok], ss_i[ok], ss_j[ok], s_ij[ok]
    var_i, var_j = ss_i - s_i ** 2 / n, ss_j - s_j ** 2 / n
    varying = (var_i > _CONSTANT * ss_i) & (var_j > _CONSTANT * ss_j)
    if not varying.any():
        return math.nan
    cov = s_ij - s_i * s_j / n
    return float(np.mean(cov[varying] / np.sqrt(var_i[varying] * var_j[varying])))


def market_share_jackknife(returns: pd.DataFrame, *, min_sessions: int) -> dict[str, Any]:
    """Delete-one-session jackknife of :func:`market_share_of_variance`'s ``rho`` (module docstring).

    Returns ``{rho_se, n_sessions, rho_full}`` (``rho_full`` unclipped, as the replicates), ``rho_se`` ``None``
    with ``reason`` when a replicate has no usable pair. Raises :class:`CalibrationError` with fewer than 3
    sessions carrying at least two assets' returns (the jackknife needs 3)."""
    wide = _usable_wide(returns, min_sessions)
    present = wide.notna().to_numpy()
    rows = present.sum(axis=1) >= 2                 # a session with one asset's return enters no pair
    present = present[rows]
    n_sessions = int(present.shape[0])
    if n_sessions < 3:
        raise CalibrationError(f"returns: the jackknife of rho needs at least 3 sessions with returns of two or "
                               f"more assets (each with >= {min_sessions} sessions, stats.min_sessions); "
                               f"got {n_sessions}")
    x = wide.to_numpy(dtype=float)[rows]
    x = np.where(present, x - np.nanmean(x, axis=0), 0.0)      # centred: the one-pass sums lose no digits
    m = present.astype(float)
    i, j = np.triu_indices(x.shape[1], k=1)
    sx, sxx = x.T @ m, (x * x).T @ m            # [a, b]: sum of x_a (x_a^2) over the sessions where b is present
    sums = ((m.T @ m)[i, j], sx[i, j], sx[j, i], sxx[i, j], sxx[j, i], (x.T @ x)[i, j])
    full = _mean_pair_correlation(*sums, min_sessions)
    replicates = np.array([                     # session d removed: its terms subtracted from every pair's sums
        _mean_pair_correlation(*(total - term for total, term in zip(sums, (
            md[i] * md[j], xd[i] * md[j], xd[j] * md[i], xd[i] ** 2 * md[j], xd[j] ** 2 * md[i], xd[i] * xd[j]))),
            min_sessions)
        for xd, md in zip(x, m)])
    out = {"n_sessions": n_sessions, "rho_full": full}
    if not np.isfinite(replicates).all():
        return {**out, "rho_se": None,
                "reason": f"without some session no pair keeps {min_sessions} common sessions: no jackknife SE"}
    spread = float(np.sum((replicates - replicates.mean()) ** 2))
    return {**out, "rho_se": math.sqrt((n_sessions - 1) / n_sessions * spread), "reason": None}


def calibrate_sigma0(returns: pd.DataFrame, calibrated: Mapping[str, float], *, min_sessions: int) -> dict[str, Any]:
    """The ``systemic_params.yaml`` document: ``rho``, ``sigma0``, ``sigma_idiosyncratic`` (units of
    ``sigma``: inventory units / sqrt(trading day)) with source, formula, sample sizes and each one's ``se``
    (module docstring; ``None`` where undefined, ``rho.se_reason`` says why or how it was computed)."""
    if "sigma" not in calibrated or not math.isfinite(float(calibrated["sigma"])):
        raise CalibrationError("mfg_params.yaml: no finite calibrated 'sigma' to split into common and "
                               "idiosyncratic noise")
    sigma = float(calibrated["sigma"])
    share = market_share_of_variance(returns, min_sessions=min_sessions)
    rho = share["rho"]
    rho_se, se_reason = None, "rho not estimated from data"
    if share["source"] == "data":
        jack = market_share_jackknife(returns, min_sessions=min_sessions)
        rho_se = jack["rho_se"]
        se_reason = jack["reason"] or f"delete-one-session jackknife over {jack['n_sessions']} sessions"
    sigma0_se = sigma * rho_se / (2.0 * math.sqrt(rho)) if rho_se is not None and rho > 0.0 else None
    if rho_se is not None and rho == 0.0:
        se_reason += "; no SE of sigma0: sqrt(rho) has no finite derivative at rho = 0"
    idio_se = sigma * rho_se / (2.0 * math.sqrt(1.0 - rho)) if rho_se is not None else None
    return {
        "sigma0": {"value": math.sqrt(rho) * sigma, "unit": "inventory units / sqrt(trading day)",
                   "source": share["source"], "formula": "sqrt(rho) * sigma", "se": sigma0_se,
                   "se_formula": "sigma * rho_se / (2 sqrt(rho))"},
        "sigma_idiosyncratic": {"value": math.sqrt(1.0 - rho) * sigma,
                                "unit": "inventory units / sqrt(trading day)", "source": share["source"],
                                "formula": "sqrt(1 - rho) * sigma", "se": idio_se,
                                "se_formula": "sigma * rho_se / (2 sqrt(1 - rho))"},
        "rho": {"value": rho, "unit": "dimensionless", "source": share["source"], "reason": share["reason"],
                "se": rho_se, "se_reason": se_reason},
        "sigma": {"value": sigma, "unit": "inventory units / sqrt(trading day)", "source": "mfg_params.yaml"},
        "sample": {k: share[k] for k in ("n_assets", "n_pairs", "n_sessions")},
        "min_sessions": int(min_sessions),
    }
