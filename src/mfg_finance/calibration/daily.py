"""Daily heuristics: the MFG parameters from the statistics of daily bars (COTAHIST).

MFG (time in trading days)
--------------------------
Units. One *inventory unit* is ``inventory_unit_adv`` (1%) of the representative asset's median
daily volume in shares, :math:`Q_u = c\\,\\mathrm{ADV}`; costs are fractions of the notional of one
unit, :math:`N_u = Q_u P` (BRL), with :math:`P` the last close. With these units a position of a few
percent of ADV is :math:`|q| \\sim O(1)`, well inside the solver's automatic inventory range.

* ``eta0`` (temporary impact): Almgren-Chriss (2000) rule of thumb -- trading at a rate of 1% of
  ADV per day costs one bid-ask spread :math:`s` per share. The cost rate
  :math:`s P v^2 / (0.01\\,\\mathrm{ADV})` (BRL/day) at :math:`v = \\alpha Q_u` shares/day, divided by
  :math:`N_u`, gives :math:`\\eta_0 = s\\,c/0.01` (so :math:`\\eta_0 = s` at c = 1%).
* ``eta1`` (crowding): :math:`\\eta(m) = \\eta_0 (1 + |m|/m_{ref})`, where :math:`m_{ref}` is the
  crowd flow (units/day) whose Amihud price response over one day equals one spread,
  :math:`\\mathrm{ILLIQ}\\, m_{ref} N_u = s`. Hence :math:`\\eta_1 = \\eta_0/m_{ref} =
  \\mathrm{ILLIQ}\\, N_u\\, c / 0.01`.
* ``phi`` (inventory risk): mean-variance penalty :math:`\\phi = \\lambda\\,\\sigma_d^2`, with
  :math:`\\sigma_d` the daily close-to-close volatility and :math:`\\lambda` = ``risk_aversion``
  (dimensionless, per unit notional; 100 means paying 1% of the unit's notional per day to avoid a
  1% daily standard deviation on it).
* ``gamma_T`` (terminal penalty): the inventory left at T is swept in ``terminal_sweep_seconds``
  :math:`\\tau` at the same quadratic cost: :math:`\\eta_0 (q/\\tau)^2 \\tau = (\\eta_0/\\tau) q^2`.
* ``sigma`` (inventory noise): the agent's inventory takes the random imbalance of the market's
  order flow, a signed random walk of :math:`N` trades of mean size :math:`\\bar z` per day:
  :math:`\\sigma = \\bar z \\sqrt{N} / Q_u` (units per sqrt(day)).
* ``kappa`` (supply slope): minus the inverse Amihud price response to a flow of one unit per day,
  :math:`\\kappa = -1/(\\mathrm{ILLIQ}\\, N_u\\, P)` (units per day per BRL). The clearing
  condition is :math:`m_t + s_t + \\kappa (p_t - p_{ref}) = 0` with :math:`S_t(p)` the rest of the
  market's net *purchases*, which fall as the price rises, hence :math:`\\kappa < 0`: a selling
  crowd (:math:`m_t < 0`) lowers the price by :math:`|m_t|/|\\kappa|`. ``p_ref``: last close.

The constants (1%, 100, 20 s) are set so that a typical liquid asset (about 30% annual volatility,
a quoted spread of about 5 bp) lands near the solver's stiff baseline (eta0 ~ 5e-4, phi ~ 0.035,
gamma_T ~ 0.6); they are keyword arguments of :func:`calibrate_mfg`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import CalibrationError
from mfg_finance.calibration.common import (AC_PARTICIPATION_PER_SPREAD, INVENTORY_UNIT_ADV, MFG_PARAMETERS,
                                           MFG_UNITS, NOISE_WARNING_UNITS, RISK_AVERSION, SESSION_SECONDS,
                                           TERMINAL_SWEEP_SECONDS, _STATISTICS, _asset_row, _check_overrides,
                                           _entry, _included, _is_number, _require, _resolve, _stats_of,
                                           calibration_spread)


def _representative(asset_stats: pd.DataFrame, representative: str, spread_choice: str) -> tuple[dict, dict]:
    """Statistics of the representative asset, and the document's ``representative`` block."""
    if representative == "median":
        included = _included(asset_stats)
        stats = {}
        for k in _STATISTICS:
            if k in included.columns:
                values = included[k].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                stats[k] = float(np.median(values)) if values.size else float("nan")
        # The spread per asset first (quoted or CS, tick floor), then its median.
        per_asset = [calibration_spread(_stats_of(r), spread_choice)[0] for _, r in included.iterrows()]
        per_asset = np.asarray(per_asset, dtype=float)
        per_asset = per_asset[np.isfinite(per_asset)]
        spread = float(np.median(per_asset)) if per_asset.size else float("nan")
        spread_source = f"cross-sectional median of the per-asset calibration spread ({spread_choice})"
        who = f"the cross-sectional median of {len(included)} included assets"
        block = {"name": f"median of {len(included)} included assets", "n_assets": int(len(included)),
                 "description": "each statistic is its median across the included assets"}
    else:
        row = _asset_row(asset_stats, str(representative), "calibration.representative")
        stats = _stats_of(row)
        spread, spread_source = calibration_spread(stats, spread_choice)
        who = f"representative ticker {representative}"
        block = {"name": str(representative), "ticker": str(representative), "n_assets": 1,
                 "description": "statistics of this ticker"}
    stats["spread"] = spread
    block["statistics"] = {k: stats[k] for k in sorted(stats)}
    block["spread_source"] = spread_source
    block["who"] = who
    return stats, block


def calibrate_mfg(asset_stats: pd.DataFrame, *, representative: str = "median", T: float = 0.5,
                  overrides: Mapping[str, Any] | None = None, inventory_unit_adv: float = INVENTORY_UNIT_ADV,
                  risk_aversion: float = RISK_AVERSION, terminal_sweep_seconds: float = TERMINAL_SWEEP_SECONDS,
                  spread: str = "auto") -> dict[str, Any]:
    """MFG parameters (``mfg_params.yaml``) from the statistics of a representative asset.

    Parameters
    ----------
    asset_stats
        ``StatsResult.asset_stats`` (one row per ticker with ``included``).
    representative
        ``"median"`` (each statistic at its cross-sectional median over included assets) or a ticker.
    T
        Horizon in trading days; used only for the diagnostics (the solver's T is ``mfg.grid.T``).
    overrides
        ``{"mfg": {param: value}}``; recorded with ``source: override`` and the data value.
    inventory_unit_adv, risk_aversion, terminal_sweep_seconds
        The constants c, :math:`\\lambda`, :math:`\\tau` of the module docstring.
    spread
        Which spread statistic (see :func:`calibration_spread`).

    Returns
    -------
    dict with ``units``, ``representative``, ``parameters`` (each ``{value, unit, source, statistic,
    formula}``), ``constants`` and ``diagnostics``.

    Raises
    ------
    CalibrationError
        Unknown/excluded representative, no included asset, unknown override, or a statistic that a
        non-overridden parameter needs is 0, negative or NaN (the message names it).
    """
    for name, value in (("T", T), ("inventory_unit_adv", inventory_unit_adv), ("risk_aversion", risk_aversion),
                        ("terminal_sweep_seconds", terminal_sweep_seconds)):
        if not (_is_number(value) and value > 0):
            raise CalibrationError(f"calibrate_mfg: {name} must be a finite number > 0, got {value!r}")
    ov = _check_overrides(overrides, "mfg", MFG_PARAMETERS)
    stats, rep_block = _representative(asset_stats, representative, spread)
    who = rep_block.pop("who")
    need = lambda name: _require(stats, name, who)  # noqa: E731

    c, lam = float(inventory_unit_adv), float(risk_aversion)
    tau_days = float(terminal_sweep_seconds) / SESSION_SECONDS
    ac = c / AC_PARTICIPATION_PER_SPREAD

    def unit_shares():
        return c * need("adv_shares_median")

    def unit_notional():
        return unit_shares() * need("last_close_brl")

    def eta0():
        s = _require(stats, "spread", who)
        return _entry(s * ac, MFG_UNITS["eta0"], "data",
                      f"spread={s:.4g} ({rep_block['spread_source']})",
                      f"eta0 = s * c / {AC_PARTICIPATION_PER_SPREAD} (Almgren-Chriss: 1% of ADV per day "
                      "costs one spread per share), c = inventory unit / ADV")

    def eta1():
        illiq, n_u = need("amihud_per_brl"), unit_notional()
        return _entry(illiq * n_u * ac, MFG_UNITS["eta1"], "data",
                      f"amihud_per_brl={illiq:.4g}, unit notional N_u={n_u:.4g} BRL",
                      "eta1 = eta0 / m_ref with ILLIQ * m_ref * N_u = s  =>  eta1 = ILLIQ * N_u * c / 0.01")

    def phi():
        vol = need("vol_cc_daily")
        return _entry(lam * vol ** 2, MFG_UNITS["phi"], "data",
                      f"vol_cc_daily={vol:.4g} (daily close-to-close volatility)",
                      f"phi = lambda * vol_cc_daily^2, lambda = {lam:g} (risk aversion per unit notional)")

    def gamma_T():
        e0 = eta0()["value"] if "eta0" not in ov else float(ov["eta0"])
        return _entry(e0 / tau_days, MFG_UNITS["gamma_T"], "data",
                      f"eta0={e0:.4g}, sweep tau={terminal_sweep_seconds:g} s = {tau_days:.4g} trading day",
                      f"gamma_T = eta0 / tau (leftover swept in tau; {SESSION_SECONDS} s per trading day)")

    def sigma():
        size, n = need("avg_trade_size_shares"), need("trades_per_session")
        q_u = unit_shares()
        return _entry(size * math.sqrt(n) / q_u, MFG_UNITS["sigma"], "data",
                      f"avg_trade_size_shares={size:.4g}, trades_per_session={n:.4g}, Q_u={q_u:.4g} shares",
                      "sigma = avg_trade_size * sqrt(trades_per_session) / Q_u (random imbalance of "
                      "the day's order flow)")

    def kappa():
        illiq, n_u, p = need("amihud_per_brl"), unit_notional(), need("last_close_brl")
        # Negative: S_t(p) is the rest of the market's net buying, which falls as the price rises.
        return _entry(-1.0 / (illiq * n_u * p), MFG_UNITS["kappa"], "data",
                      f"amihud_per_brl={illiq:.4g}, N_u={n_u:.4g} BRL, last_close_brl={p:.4g}",
                      "kappa = -1 / (ILLIQ * N_u * P): minus the flow (units/day) that moves the price by 1 BRL")

    def p_ref():
        p = need("last_close_brl")
        return _entry(p, "BRL", "data", f"last_close_brl={p:.6g}", "p_ref = last close")

    builders = {"sigma": sigma, "eta0": eta0, "eta1": eta1, "phi": phi, "gamma_T": gamma_T,
                "kappa": kappa, "p_ref": p_ref}
    parameters = {name: _resolve(name, ov, builders[name], "mfg", MFG_UNITS[name]) for name in MFG_PARAMETERS}

    try:
        q_u, n_u = unit_shares(), unit_notional()
    except CalibrationError:
        q_u = n_u = float("nan")
    values = {k: v["value"] for k, v in parameters.items()}
    urgency = math.sqrt(values["phi"] / values["eta0"]) if values["eta0"] > 0 and values["phi"] > 0 else float("nan")
    noise = values["sigma"] * math.sqrt(T)
    warnings = []
    if noise > NOISE_WARNING_UNITS:
        warnings.append(f"inventory noise over the horizon sigma*sqrt(T) = {noise:.3g} inventory units exceeds "
                        f"{NOISE_WARNING_UNITS:g}: {_domain_note(values, T)}; choose a more liquid representative, "
                        "a larger inventory_unit_adv or override sigma")
    return {
        "units": {
            "time": "trading day",
            "inventory": f"inventory unit = {c:g} x median daily volume = {q_u:.6g} shares",
            "price": "BRL",
            "cost": f"fraction of the notional of one inventory unit (N_u = {n_u:.6g} BRL)",
            "inventory_unit_shares": q_u,
            "cost_unit_brl": n_u,
            "horizon_T": float(T),
            "seconds_per_trading_day": SESSION_SECONDS,
        },
        "representative": rep_block,
        "parameters": parameters,
        "constants": {"inventory_unit_adv": c, "risk_aversion": lam,
                      "terminal_sweep_seconds": float(terminal_sweep_seconds),
                      "ac_participation_per_spread": AC_PARTICIPATION_PER_SPREAD, "spread": spread},
        "diagnostics": {
            "urgency_per_day": urgency,
            "liquidation_timescale_days": 1.0 / urgency if urgency > 0 else float("nan"),
            "noise_over_horizon_units": noise,
            "m_ref_units_per_day": values["eta0"] / values["eta1"] if values["eta1"] > 0 else float("nan"),
        },
        "warnings": warnings,
    }


def _domain_note(values: Mapping[str, float], T: float) -> str:
    """What the noise does to the solver's inventory range: the automatic range it needs (default initial law)."""
    from mfg_finance.mfg.config import DEFAULTS
    from mfg_finance.mfg.grid import auto_domain

    m0 = DEFAULTS["params"]
    try:
        low, high = auto_domain(m0_mean=m0["m0_mean"], m0_std=m0["m0_std"], sigma=values["sigma"], T=T,
                                eta0=values["eta0"], eta1=values["eta1"], phi=values["phi"],
                                gamma_T=values["gamma_T"])
    except (KeyError, ValueError, ArithmeticError):
        return "the inventory range must be wide, so the solver's cells are coarse"
    return (f"the automatic inventory range (mfg.grid.x_min/x_max: auto) spans [{low:.3g}, {high:.3g}] for the "
            f"default initial law N({m0['m0_mean']:g}, {m0['m0_std']:g}^2), so the nodes are spread over a wide "
            f"range, and a fixed range narrower than that fails with MfgDomainError")
