"""Heuristic calibration of the MFG and market-making parameters from the asset statistics.

Every parameter is written with its value, unit, source (``data``, ``override``, ``config`` or
``convention``), the statistic it came from and the formula, so that the YAML files are a complete
record of where each number came from. Formulas, units and reasons are in ``docs/stats_calibration.md``.

MFG (time in trading days)
--------------------------
Units. One *inventory unit* is ``inventory_unit_adv`` (1%) of the representative asset's median
daily volume in shares, :math:`Q_u = c\\,\\mathrm{ADV}`; costs are fractions of the notional of one
unit, :math:`N_u = Q_u P` (BRL), with :math:`P` the last close. With these units a position of a few
percent of ADV is :math:`|q| \\sim O(1)`, inside the solver's domain [-5, 5].

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

Market making (time in seconds, price in BRL, inventory in lots)
----------------------------------------------------------------
* ``sigma`` = :math:`\\sigma_d P / \\sqrt{S}` BRL/sqrt(s), :math:`S` = :data:`SESSION_SECONDS`.
* ``k`` = :math:`1/h`, :math:`h` the observed half-spread in BRL: the GLFT/Avellaneda-Stoikov optimal
  half-spread :math:`\\frac1\\gamma\\ln(1+\\gamma/k)` tends to :math:`1/k` as :math:`\\gamma \\to 0`,
  so competitive (nearly risk-neutral) market makers quoting at :math:`h` reveal :math:`k = 1/h`.
* ``A`` = :math:`\\lambda_h e^{k h} = e\\,\\lambda_h`, where :math:`\\lambda_h = N / (2S)` is the
  per-side rate of trades (1/s), i.e. the fill intensity at the observed quote.
* ``tick_size`` 0.01 BRL (B3 equities), ``S0`` last close, ``gamma`` and ``Q_max`` from config.

The spread :math:`s` (fraction of price) is :func:`calibration_spread`: by default the median quoted
closing spread (an observation, present for liquid names), else the Corwin-Schultz proxy; it is
floored at one tick over the price, the smallest spread B3 allows.
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
#: Parameters an override may set to 0 (all others must be > 0).
_MAY_BE_ZERO = ("eta1", "phi", "gamma_T")
SPREAD_CHOICES = ("auto", "spread_quoted_close", "spread_cs", "spread_roll")

#: Statistics read from ``asset_stats`` (all must be finite and > 0 where a parameter uses them).
_STATISTICS = ("vol_cc_daily", "adv_shares_median", "adv_brl_median", "trades_per_session",
               "avg_trade_size_shares", "amihud_per_brl", "last_close_brl", "spread_cs",
               "spread_quoted_close", "spread_roll", "vol_cc_annual", "n_sessions")


# ----------------------------------------------------------------------------- helpers

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
        bad = {k: v for k, v in params.items() if not _is_number(v)
               or float(v) < 0 or (float(v) == 0 and k not in _MAY_BE_ZERO)}
        if bad:
            raise CalibrationError(f"{where}: values must be finite numbers > 0 ({list(_MAY_BE_ZERO)} may be 0), "
                                   f"got {bad}")
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


# ----------------------------------------------------------------------------- MFG

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
                        f"{NOISE_WARNING_UNITS:g}: with the default domain [-5, 5] the density will reach the "
                        "boundaries; choose a more liquid representative, a larger inventory_unit_adv or override "
                        "sigma")
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


def parameter_values(doc: Mapping[str, Any]) -> dict[str, float]:
    """``{name: value}`` of an MFG calibration document (``mfg_params.yaml``)."""
    try:
        params = doc["parameters"]
        return {name: float(entry["value"]) for name, entry in params.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"not an MFG calibration document (parameters.<name>.value expected): {exc!r}")


# ----------------------------------------------------------------------------- market making

def calibrate_mm(asset_stats: pd.DataFrame, *, tickers, gamma: float, Q_max: float,
                 overrides: Mapping[str, Any] | None = None, spread: str = "auto") -> dict[str, Any]:
    """Market-making parameters (``mm_params.yaml``) per ticker, in seconds, BRL and lots.

    Parameters
    ----------
    asset_stats
        ``StatsResult.asset_stats``.
    tickers
        Tickers to calibrate; each must be in the data and included.
    gamma
        CARA risk aversion (1/BRL), from ``market_making.gamma``.
    Q_max
        Inventory limit (lots), from ``market_making.Q_max``.
    overrides
        ``{"mm": {TICKER: {param: value}}}``.
    spread
        Which spread statistic (see :func:`calibration_spread`).

    Returns
    -------
    dict with ``units``, ``tickers`` (``{TICKER: {param: {value, unit, source, statistic, formula}}}``),
    ``statistics`` (the inputs per ticker) and ``constants``.
    """
    if isinstance(tickers, str) or not tickers:
        raise CalibrationError(f"market_making.tickers must be a non-empty list, got {tickers!r}")
    tickers = [str(t) for t in tickers]
    for name, value in (("gamma", gamma), ("Q_max", Q_max)):
        if not (_is_number(value) and value > 0):
            raise CalibrationError(f"market_making.{name} must be a finite number > 0, got {value!r}")
    ov = _check_overrides(overrides, "mm", MM_PARAMETERS, nested=True)
    unknown = sorted(set(ov) - set(tickers))
    if unknown:
        raise CalibrationError(f"calibration.overrides.mm: ticker(s) {unknown} are not in market_making.tickers "
                               f"{tickers}")
    doc_tickers, statistics = {}, {}
    for ticker in tickers:
        row = _asset_row(asset_stats, ticker, "market_making.tickers")
        stats = _stats_of(row)
        doc_tickers[ticker] = _mm_ticker(ticker, stats, ov.get(ticker, {}), gamma=gamma, Q_max=Q_max,
                                         spread_choice=spread)
        statistics[ticker] = {k: stats[k] for k in sorted(stats)}
    return {
        "units": {"time": "second", "price": "BRL", "inventory": "lot (B3 standard lot, 100 shares)",
                  "session_seconds": SESSION_SECONDS},
        "tickers": doc_tickers,
        "statistics": statistics,
        "constants": {"session_seconds": SESSION_SECONDS, "tick_size_brl": TICK_SIZE_BRL, "spread": spread},
    }


def _mm_ticker(ticker: str, stats: Mapping[str, float], ov: Mapping[str, Any], *, gamma, Q_max,
               spread_choice: str) -> dict[str, dict]:
    who = f"ticker {ticker}"
    need = lambda name: _require(stats, name, who)  # noqa: E731

    def half_spread():
        s, source = calibration_spread(stats, spread_choice)
        s = _require({"spread": s}, "spread", who)
        return 0.5 * s * need("last_close_brl"), s, source

    def sigma():
        vol, p = need("vol_cc_daily"), need("last_close_brl")
        return _entry(vol * p / math.sqrt(SESSION_SECONDS), "BRL / sqrt(s)", "data",
                      f"vol_cc_daily={vol:.4g}, last_close_brl={p:.6g}",
                      f"sigma = vol_cc_daily * S0 / sqrt({SESSION_SECONDS})")

    def k():
        h, s, source = half_spread()
        return _entry(1.0 / h, "1/BRL", "data", f"half-spread h={h:.4g} BRL (s={s:.4g}, {source})",
                      "k = 1/h (GLFT/AS optimal half-spread (1/gamma) ln(1+gamma/k) -> 1/k as gamma -> 0)")

    def A():
        n = need("trades_per_session")
        rate = n / (2.0 * SESSION_SECONDS)
        k_value = float(ov["k"]) if "k" in ov else k()["value"]
        h = half_spread()[0]
        return _entry(rate * math.exp(k_value * h), "1/s", "data",
                      f"trades_per_session={n:.6g} (per-side rate {rate:.4g}/s), h={h:.4g} BRL, k={k_value:.4g}",
                      f"A = trades_per_session / (2 * {SESSION_SECONDS}) * exp(k h)  (intensity at the quote = "
                      "observed per-side trade rate)")

    def tick_size():
        return _entry(TICK_SIZE_BRL, "BRL", "convention", "B3 minimum price increment for equities",
                      "tick_size = 0.01")

    def S0():
        p = need("last_close_brl")
        return _entry(p, "BRL", "data", f"last_close_brl={p:.6g}", "S0 = last close")

    def gamma_():
        return _entry(gamma, "1/BRL", "config", "market_making.gamma", "CARA risk aversion, given")

    def q_max():
        entry = _entry(Q_max, "lot", "config", "market_making.Q_max", "inventory limit, given")
        entry["value"] = int(Q_max) if float(Q_max).is_integer() else float(Q_max)
        return entry

    builders = {"sigma": sigma, "A": A, "k": k, "tick_size": tick_size, "gamma": gamma_, "Q_max": q_max,
                "S0": S0}
    out = {name: _resolve(name, ov, builders[name], f"mm.{ticker}", MM_UNITS[name]) for name in MM_PARAMETERS}
    if "Q_max" in ov and float(ov["Q_max"]).is_integer():
        out["Q_max"]["value"] = int(ov["Q_max"])
    return out


def ticker_values(doc: Mapping[str, Any], ticker: str) -> dict[str, float]:
    """``{name: value}`` of one ticker of a market-making calibration document (``mm_params.yaml``)."""
    try:
        tickers = doc["tickers"]
    except (KeyError, TypeError):
        raise CalibrationError("not a market-making calibration document (top-level 'tickers' expected)")
    if ticker not in tickers:
        raise CalibrationError(f"ticker {ticker!r} is not calibrated; calibrated tickers: {sorted(tickers)}")
    values = {}
    for name, entry in tickers[ticker].items():
        value = entry["value"]
        values[name] = int(value) if isinstance(value, int) and not isinstance(value, bool) else float(value)
    return values
