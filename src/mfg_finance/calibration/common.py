"""Shared by every calibration source: units, constants, the statistics read, entry helpers.

Every parameter is written with its value, unit, source (``data``, ``intraday``, ``override``,
``config`` or ``convention``), the statistic it came from and the formula, so that the YAML files
are a complete record of where each number came from.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from mfg_finance.errors import CalibrationError

#: Length of B3's continuous trading session, 10:00-17:00, in seconds (the MM time unit per session).
SESSION_SECONDS = 7 * 3600
#: Minimum price increment of B3 equities (BRL).
TICK_SIZE_BRL = 0.01
#: Almgren-Chriss rule: trading at this fraction of ADV per day costs one spread per share.
AC_PARTICIPATION_PER_SPREAD = 0.01
#: Default inventory unit, as a fraction of median daily volume (shares).
INVENTORY_UNIT_ADV = 0.01
#: Default mean-variance risk aversion per unit notional (dimensionless).
RISK_AVERSION = 100.0
#: Default duration of the terminal sweep that prices leftover inventory (seconds).
TERMINAL_SWEEP_SECONDS = 20.0

#: MFG parameters and their units (cost unit = fraction of the notional of one inventory unit).
MFG_UNITS = {
    "sigma": "inventory unit / sqrt(trading day)",
    "eta0": "cost unit * trading day / inventory unit^2",
    "eta1": "cost unit * trading day^2 / inventory unit^3",
    "phi": "cost unit / (inventory unit^2 * trading day)",
    "gamma_T": "cost unit / inventory unit^2",
    "kappa": "inventory unit / (trading day * BRL)",
    "p_ref": "BRL",
}
#: Market-making parameters and their units.
MM_UNITS = {"sigma": "BRL / sqrt(s)", "A": "1/s", "k": "1/BRL", "tick_size": "BRL", "gamma": "1/BRL",
            "Q_max": "lot", "S0": "BRL"}
MFG_PARAMETERS = tuple(MFG_UNITS)
#: ``calibrate_mfg`` warns when the inventory noise over the horizon exceeds this (inventory units).
NOISE_WARNING_UNITS = 2.5
MM_PARAMETERS = tuple(MM_UNITS)
#: What an override may be, per section and parameter: ``positive`` (> 0), ``nonnegative`` (>= 0),
#: ``nonzero`` (either sign, not 0) or ``count`` (an integer >= 1). The config schema
#: (``calibration.overrides``) states the same bounds; a test compares the two key by key.
#: sigma may be 0 (the MFG then has no inventory noise); kappa is negative by convention (the rest of the
#: market buys less as the price rises) but the price solver only needs it nonzero.
OVERRIDE_BOUNDS = {
    "mfg": {"sigma": "nonnegative", "eta0": "positive", "eta1": "nonnegative", "phi": "nonnegative",
            "gamma_T": "nonnegative", "kappa": "nonzero", "p_ref": "positive"},
    "mm": {"sigma": "positive", "A": "positive", "k": "positive", "tick_size": "positive", "S0": "positive",
           "gamma": "positive", "Q_max": "count"},
}
_BOUND_TEXT = {"positive": "a finite number > 0", "nonnegative": "a finite number >= 0",
               "nonzero": "a finite nonzero number", "count": "an integer >= 1"}


def _within(value, bound: str) -> bool:
    if not _is_number(value):
        return False
    v = float(value)
    return {"positive": v > 0, "nonnegative": v >= 0, "nonzero": v != 0,
            "count": v >= 1 and v == int(v)}[bound]
SPREAD_CHOICES = ("auto", "spread_quoted_close", "spread_cs", "spread_roll")

#: Statistics read from ``asset_stats`` (all must be finite and > 0 where a parameter uses them).
_STATISTICS = ("vol_cc_daily", "adv_shares_median", "adv_brl_median", "trades_per_session",
               "avg_trade_size_shares", "amihud_per_brl", "last_close_brl", "spread_cs",
               "spread_quoted_close", "spread_roll", "vol_cc_annual", "n_sessions")


def _entry(value: float, unit: str, source: str, statistic: str, formula: str, **extra) -> dict[str, Any]:
    out = {"value": float(value), "unit": unit, "source": source, "statistic": statistic, "formula": formula}
    out.update(extra)
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) \
        and math.isfinite(float(x))


def _require(stats: Mapping[str, float], name: str, who: str, *, positive: bool = True) -> float:
    value = stats.get(name, float("nan"))
    value = float(value) if value is not None else float("nan")
    if not math.isfinite(value) or (positive and value <= 0):
        hint = {"adv_shares_median": "zero volume", "vol_cc_daily": "volatility 0 or NaN",
                "trades_per_session": "no trades", "amihud_per_brl": "no valid return/volume pair",
                "spread": "no quoted closing spread and no Corwin-Schultz estimate"}.get(name, "")
        raise CalibrationError(f"calibration refused for {who}: statistic {name} = {value}"
                               f"{f' ({hint})' if hint else ''}; expected a finite number > 0. "
                               "Override the parameters that use it in calibration.overrides, or exclude the asset.")
    return value


def _included(asset_stats: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(asset_stats, pd.DataFrame) or "ticker" not in asset_stats.columns:
        raise CalibrationError("asset_stats: expected the DataFrame of compute_stats with a 'ticker' column")
    if len(asset_stats) == 0:
        raise CalibrationError("asset_stats is empty: no asset to calibrate on")
    mask = asset_stats["included"].astype(bool) if "included" in asset_stats.columns else \
        pd.Series(True, index=asset_stats.index)
    included = asset_stats[mask.to_numpy()]
    if len(included) == 0:
        reasons = "; ".join(f"{t}: {r}" for t, r in zip(asset_stats["ticker"].astype(str).head(5),
                                                      asset_stats.get("exclusion_reason", [""] * 5)))
        raise CalibrationError(f"no included asset to calibrate on (all {len(asset_stats)} excluded, e.g. "
                               f"{reasons}); lower stats.min_sessions or supply more sessions")
    return included


def _asset_row(asset_stats: pd.DataFrame, ticker: str, role: str) -> pd.Series:
    included = _included(asset_stats)
    tickers = asset_stats["ticker"].astype(str)
    available = sorted(included["ticker"].astype(str))
    shown = ", ".join(available[:30]) + (f", ... ({len(available)} in all)" if len(available) > 30 else "")
    if ticker not in set(tickers):
        raise CalibrationError(f"{role}: ticker {ticker!r} is not in the data; available (included): {shown}")
    row = asset_stats[tickers.to_numpy() == ticker].iloc[0]
    if "included" in row and not bool(row["included"]):
        raise CalibrationError(f"{role}: ticker {ticker!r} is excluded from the statistics "
                               f"({row.get('exclusion_reason', '')}); available (included): {shown}")
    return row


def calibration_spread(stats: Mapping[str, float], choice: str = "auto") -> tuple[float, str]:
    """Spread used by calibration, as a fraction of price, and a description of where it came from.

    ``auto``: median quoted closing spread when finite and > 0, else the Corwin-Schultz proxy. Why:
    on liquid names the daily-range proxies are dominated by volatility (January 2021, PETR4:
    Corwin-Schultz 0.93% against a quoted 0.036% at one tick), while the closing quote is an
    observation. Any choice is floored at one tick over the last close, :math:`0.01/P` (a
    Corwin-Schultz estimate of 0 becomes one tick); NaN when no spread statistic exists.
    """
    if choice not in SPREAD_CHOICES:
        raise CalibrationError(f"spread choice {choice!r} unknown; expected one of {SPREAD_CHOICES}")
    price = float(stats.get("last_close_brl", float("nan")))
    candidates = ["spread_quoted_close", "spread_cs"] if choice == "auto" else [choice]
    finite = {n: float(stats.get(n, float("nan"))) for n in candidates}
    finite = {n: v for n, v in finite.items() if math.isfinite(v) and v >= 0}
    if not finite:
        # No spread statistic at all (not even a 0 estimate): refuse rather than invent one.
        return float("nan"), f"{' and '.join(candidates)} missing"
    positive = [n for n in candidates if finite.get(n, 0.0) > 0]
    name = positive[0] if positive else next(iter(finite))
    value = finite[name]
    tick_floor = TICK_SIZE_BRL / price if math.isfinite(price) and price > 0 else float("nan")
    if not math.isfinite(tick_floor):
        return float("nan"), "last_close_brl invalid"
    if value < tick_floor:
        return tick_floor, f"{name}={value:.3g} floored at one tick {TICK_SIZE_BRL}/last_close_brl"
    return value, name


def _check_overrides(overrides, section: str, allowed, *, nested: bool = False) -> dict:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise CalibrationError(f"calibration.overrides must be a mapping, got {type(overrides).__name__}")
    unknown_sections = sorted(set(overrides) - {"mfg", "mm"})
    if unknown_sections:
        raise CalibrationError(f"calibration.overrides: unknown key(s) {unknown_sections}; allowed: ['mfg', 'mm']")
    block = overrides.get(section) or {}
    if not isinstance(block, Mapping):
        raise CalibrationError(f"calibration.overrides.{section} must be a mapping, got {block!r}")
    groups = block.items() if nested else [(None, block)]
    for ticker, params in groups:
        where = f"calibration.overrides.{section}" + (f".{ticker}" if ticker is not None else "")
        if not isinstance(params, Mapping):
            raise CalibrationError(f"{where} must be a mapping of parameter: value, got {params!r}")
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise CalibrationError(f"{where}: unknown parameter(s) {unknown}; allowed: {list(allowed)}")
        bounds = OVERRIDE_BOUNDS[section]
        bad = [f"{k}: expected {_BOUND_TEXT[bounds[k]]}, got {v!r}" for k, v in params.items()
               if not _within(v, bounds[k])]
        if bad:
            raise CalibrationError(f"{where}: " + "; ".join(bad))
    return dict(block)


def _resolve(name: str, overrides: Mapping[str, Any], compute: Callable[[], dict], where: str,
             unit: str) -> dict:
    """Data entry from ``compute()``, or the override (with the data value kept when computable).

    An overridden parameter does not need its statistics: if they are unusable the override still
    applies and the entry says why there is no data value.
    """
    if name not in overrides:
        return compute()
    try:
        data_entry = compute()
    except CalibrationError as exc:
        data_entry = {"unit": unit, "statistic": f"not computable from data: {exc}", "formula": "",
                      "value": None}
    entry = dict(data_entry)
    entry.update(value=float(overrides[name]), source="override", data_value=data_entry["value"],
                 statistic=f"calibration.overrides.{where}.{name} (data: {data_entry['statistic']})")
    return entry


def _stats_of(row: Mapping[str, Any]) -> dict[str, float]:
    """The calibration statistics of one ``asset_stats`` row as floats (NaN when missing)."""
    out = {}
    for k in _STATISTICS:
        try:
            out[k] = float(row[k])
        except (KeyError, TypeError, ValueError):
            out[k] = float("nan")
    return out
