"""Intraday estimates (trade-by-trade files) in place of the daily heuristics, where they exist.

The estimates document is the output of the ``estimate_intraday`` rule: ``{"tickers": {TICKER:
mfg_finance.microstructure.estimate_instrument(...)}}``. A parameter is replaced only when it was
computed from data (an override stays an override) and every estimate it needs is present; the
entry then says ``source: intraday`` and keeps the heuristic value as ``heuristic_value``, with the
standard error ``se``. With ``calibration.representative: median`` the MFG takes, per parameter, the
median over the tickers with trades of their intraday values (:func:`apply_intraday_mfg`). Impact estimates (Kyle's lambda, the square-root-law prefactor) and the
half-spread replace a heuristic only when significantly positive (value > 2 SE). Where an estimate is missing the heuristic stays and the entry says why
(``intraday_unavailable``). Formulas: :mod:`mfg_finance.microstructure.parameters`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mfg_finance.calibration.common import MFG_UNITS, MM_UNITS, SESSION_SECONDS, _asset_row, _included, _stats_of
from mfg_finance.errors import CalibrationError
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.parameters import MFG_NEEDS, MUST_BE_SIGNIFICANT, mfg_parameter, mm_intensities

#: MFG parameters the trades give (gamma_T follows eta0).
INTRADAY_MFG = ("eta0", "eta1", "kappa", "sigma")
#: Draws of the parametric bootstrap behind the SE of a median over tickers.
MEDIAN_SE_DRAWS = 2000


def _estimates(entry: Mapping[str, Any]) -> dict[str, Estimate]:
    return {k: Estimate(**v) for k, v in entry.get("estimates", {}).items()}


def _replace(param: dict, estimate: Estimate, unit: str, statistic: str) -> dict:
    if param.get("source") == "override":
        return {**param, "intraday_value": estimate.value, "intraday_se": estimate.se}
    return {"value": estimate.value, "unit": unit, "source": "intraday", "statistic": statistic,
            "formula": estimate.formula, "se": estimate.se, "heuristic_value": param.get("value"),
            "heuristic_formula": param.get("formula")}


def _unavailable(param: dict, reason: str) -> dict:
    return param if param.get("source") == "override" else {**param, "intraday_unavailable": reason}


def _missing(est: Mapping[str, Estimate], names, errors: Mapping[str, str]) -> str | None:
    absent = [n for n in names if n not in est]
    if not absent:
        return None
    return "; ".join(f"{n}: {errors.get(n, 'not estimated')}" for n in absent)


def _not_significant(est: Mapping[str, Estimate], names) -> str | None:
    """Estimates not significantly above 0 (value <= 2 SE): too noisy to replace a heuristic."""
    weak = [f"{n} = {est[n].value:.3g} +/- {est[n].se:.2g} is not significantly > 0 (value <= 2 SE)"
            for n in names if not est[n].value > 2 * est[n].se]
    return "; ".join(weak) or None


def _ticker_mfg(entry: Mapping[str, Any], stats: Mapping[str, float], c: float) -> tuple[dict, dict]:
    """The MFG parameters one ticker's intraday estimates give, in that ticker's own units (its
    inventory unit c ADV, its last close): ``({name: Estimate}, {name: why not})``, each parameter on
    its own (:data:`~mfg_finance.microstructure.parameters.MFG_NEEDS`)."""
    est, errors = _estimates(entry), entry.get("errors", {})
    values, reasons = {}, {}
    for name in INTRADAY_MFG:
        needed = MFG_NEEDS[name]
        why = _missing(est, needed, errors) or _not_significant(est, [n for n in needed if n in MUST_BE_SIGNIFICANT])
        if why is None:
            try:
                values[name] = mfg_parameter(name, est, price=float(stats["last_close_brl"]),
                                             adv_shares=float(stats["adv_shares_median"]), inventory_unit_adv=c,
                                             session_seconds=SESSION_SECONDS)
            except CalibrationError as exc:
                why = str(exc)
        if why is not None:
            reasons[name] = why
    return values, reasons


def median_of_estimates(values: list[Estimate], *, draws: int = MEDIAN_SE_DRAWS, seed: int = 0) -> Estimate:
    """Median of per-ticker estimates; its SE propagates their estimation errors (parametric bootstrap).

    Each draw perturbs every ticker's value by a normal error of its own SE and takes the median; the
    SE is the standard deviation of ``draws`` such medians (seeded: same inputs, same bytes). It is the
    uncertainty of the median *of these tickers*, not a sampling error over a population of assets.
    One ticker: its own estimate.
    """
    if not values:
        raise CalibrationError("median of no estimate")
    if len(values) == 1:
        return values[0]
    v = np.array([e.value for e in values])
    se = np.array([e.se for e in values])
    rng = np.random.default_rng(seed)
    medians = np.median(v + se * rng.standard_normal((draws, v.size)), axis=1)
    return Estimate(float(np.median(v)), float(medians.std(ddof=1)), values[0].unit,
                    f"median over {v.size} tickers of: {values[0].formula.split(',')[0]}; SE: parametric bootstrap "
                    f"of the per-ticker SEs ({draws} draws)", int(sum(e.n for e in values)))


def _median_mfg(tickers: Mapping[str, Any], asset_stats, c: float) -> tuple[dict, dict, dict, dict]:
    """Per parameter, the median over the tickers whose estimates give it: ``(medians, reasons,
    per_ticker values, skipped tickers)``."""
    per_ticker, per_reason, skipped = {}, {}, {}
    included = set() if asset_stats is None else set(_included(asset_stats)["ticker"].astype(str))
    for ticker in sorted(tickers):
        if ticker not in included:
            skipped[ticker] = "not an included asset of the daily statistics (no ADV/price for its units)"
            continue
        stats = _stats_of(_asset_row(asset_stats, ticker, "intraday median"))
        per_ticker[ticker], per_reason[ticker] = _ticker_mfg(tickers[ticker], stats, c)
    medians, reasons = {}, {}
    for name in INTRADAY_MFG:
        have = [t for t in sorted(per_ticker) if name in per_ticker[t]]
        if have:
            medians[name] = median_of_estimates([per_ticker[t][name] for t in have])
            medians[name] = Estimate(**{**medians[name].as_dict(), "formula": medians[name].formula
                                        + f" (tickers: {', '.join(have)})"})
        else:
            why = [f"{t}: {per_reason[t][name]}" for t in sorted(per_reason)] + [f"{t}: {w}" for t, w in skipped.items()]
            reasons[name] = "no ticker with trades gives it: " + "; ".join(why) if why else "no ticker with trades"
    values = {t: {n: {"value": e.value, "se": e.se} for n, e in p.items()} for t, p in per_ticker.items()}
    return medians, reasons, values, skipped


def _no_estimates_reason(intraday: Mapping[str, Any] | None) -> str:
    """Why no ticker has intraday estimates: no trade files at all, or files without its trades."""
    if not intraday or not intraday.get("sessions"):
        return "no trade files (data.trades.source: none)"
    missing = intraday.get("missing", {})
    why = "; ".join(f"{t}: {reason}" for t, reason in sorted(missing.items())) or "no ticker estimated"
    return f"{len(intraday['sessions'])} trade file(s) read, no intraday estimate ({why})"


def apply_intraday_mfg(doc: dict, intraday: Mapping[str, Any] | None, asset_stats=None) -> dict:
    """``mfg_params`` with eta0, eta1, kappa, sigma (and gamma_T through eta0) from intraday estimates.

    Representative ticker: that ticker's estimates. Representative ``median``: for each parameter
    the median, over the tickers with trades (and usable estimates), of the parameter computed from
    each ticker's estimates in that ticker's own units (inventory unit = c x its ADV, cost unit = its
    notional), as the daily median takes each statistic at its cross-sectional median; the SE
    propagates the per-ticker SEs (:func:`median_of_estimates`). ``asset_stats`` (the daily statistics)
    gives each ticker's ADV and price; without it (config ``calibration.intraday_median: false``, the
    default) the median path keeps the heuristics.
    """
    tickers = (intraday or {}).get("tickers", {})
    rep = doc["representative"].get("ticker")
    if not tickers:
        doc["intraday"] = {"used": False, "reason": _no_estimates_reason(intraday)}
        return doc
    params = doc["parameters"]
    c = float(doc["constants"]["inventory_unit_adv"])
    if rep is None:
        if asset_stats is None:
            doc["intraday"] = {"used": False, "reason": "representative median: daily heuristics kept "
                                                        "(calibration.intraday_median: false)"}
            return doc
        values, reasons, per_ticker, skipped = _median_mfg(tickers, asset_stats, c)
        where = "median over tickers with trades of their intraday values, each in its own inventory unit"
        sessions = sorted({s for t in per_ticker for s in tickers[t].get("sessions", [])})
    elif rep not in tickers:
        doc["intraday"] = {"used": False, "reason": f"no trades of the representative {rep} "
                                                    f"(tickers with trades: {sorted(tickers)})"}
        return doc
    else:
        entry = tickers[rep]
        values, reasons = _ticker_mfg(entry, doc["representative"]["statistics"], c)
        where = f"intraday estimates of {rep} over {len(entry.get('sessions', []))} session(s)"
        sessions = entry.get("sessions", [])
    used = []
    for name in INTRADAY_MFG:
        if name in values:
            params[name] = _replace(params[name], values[name], MFG_UNITS[name], where)
            if params[name].get("source") == "intraday":
                used.append(name)
        else:
            params[name] = _unavailable(params[name], reasons[name])
    if "eta0" in used and params["gamma_T"].get("source") != "override":
        tau = float(doc["constants"]["terminal_sweep_seconds"]) / SESSION_SECONDS
        old = params["gamma_T"]
        params["gamma_T"] = {**old, "value": params["eta0"]["value"] / tau, "source": "intraday",
                             "statistic": f"eta0 from {where}", "heuristic_value": old["value"],
                             "se": params["eta0"]["se"] / tau}
        used.append("gamma_T")
    kept = {n: reasons[n] for n in INTRADAY_MFG if n not in values}
    block = {"used": bool(used), "parameters": used, "sessions": sessions, "ticker": rep,
             **({"reason": "; ".join(f"{n}: {why}" for n, why in kept.items())} if kept else {})}
    if rep is None:
        block.update(tickers=sorted(t for t, p in per_ticker.items() if p), per_ticker=per_ticker,
                     **({"skipped": skipped} if skipped else {}))
    doc["intraday"] = block
    return doc


def apply_intraday_mm(doc: dict, intraday: Mapping[str, Any] | None, *, flow_share: float) -> dict:
    """``mm_params`` with sigma, k and A from intraday estimates for each ticker that has trades."""
    tickers = (intraday or {}).get("tickers", {})
    doc["intraday"] = {"used_for": sorted(t for t in doc["tickers"] if t in tickers), "flow_share": flow_share}
    if intraday and intraday.get("sessions"):  # trade files read: say why a ticker kept its heuristics
        without = {t: intraday.get("missing", {}).get(t, "not estimated") for t in doc["tickers"] if t not in tickers}
        if without:
            doc["intraday"]["not_used_for"] = without
    for ticker, params in doc["tickers"].items():
        if ticker not in tickers:
            continue
        entry = tickers[ticker]
        est, errors = _estimates(entry), entry.get("errors", {})
        where = f"intraday estimates of {ticker} over {len(entry.get('sessions', []))} session(s)"
        if "sigma" in est:
            params["sigma"] = _replace(params["sigma"], est["sigma"], MM_UNITS["sigma"], where)
        else:
            params["sigma"] = _unavailable(params["sigma"], errors.get("sigma", errors.get("variance_per_second",
                                                                                             "not estimated")))
        spread_name = "signed_half_spread" if "signed_half_spread" in est else "roll_half_spread"
        weak = _not_significant(est, (spread_name,)) if spread_name in est else None
        if spread_name in est and weak is None and "rate_total" in est:
            total = est["rate_total"]
            per_side = Estimate(total.value / 2, total.se / 2, "1/s", total.formula + " / 2", total.n)
            mm = mm_intensities(rate_per_side=per_side, half_spread=est[spread_name], flow_share=flow_share)
            params["k"] = _replace(params["k"], mm["k"], MM_UNITS["k"], f"{where} ({spread_name})")
            a_entry = _replace(params["A"], mm["A"], MM_UNITS["A"], where)
            if a_entry.get("source") == "intraday":
                a_entry.update(upper_bound=mm["A_all_flow"].value, upper_bound_formula=mm["A_all_flow"].formula)
            params["A"] = a_entry
        else:
            why = _missing(est, (spread_name, "rate_total"), errors) or weak
            params["k"], params["A"] = _unavailable(params["k"], why), _unavailable(params["A"], why)
    return doc


def parameter_sources(doc: Mapping[str, Any]) -> dict[str, str]:
    """``{parameter: source}`` of an MFG document, or ``{TICKER.parameter: source}`` of an MM one."""
    if "parameters" in doc:
        return {k: v.get("source", "") for k, v in doc["parameters"].items()}
    return {f"{t}.{k}": v.get("source", "") for t, p in doc.get("tickers", {}).items() for k, v in p.items()}
