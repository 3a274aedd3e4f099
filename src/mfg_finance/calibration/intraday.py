"""Intraday estimates (trade-by-trade files) in place of the daily heuristics, where they exist.

The estimates document is the output of the ``estimate_intraday`` rule: ``{"tickers": {TICKER:
mfg_finance.microstructure.estimate_instrument(...)}}``. A parameter is replaced only when it was
computed from data (an override stays an override) and every estimate it needs is present; the
entry then says ``source: intraday`` and keeps the heuristic value as ``heuristic_value``, with the
standard error ``se``. Impact estimates (Kyle's lambda, the square-root-law prefactor) and the
half-spread replace a heuristic only when significantly positive (value > 2 SE). Where an estimate is missing the heuristic stays and the entry says why
(``intraday_unavailable``). Formulas: :mod:`mfg_finance.microstructure.parameters`.
"""

from __future__ import annotations

from typing import Any, Mapping

from mfg_finance.calibration.common import MFG_UNITS, MM_UNITS, SESSION_SECONDS
from mfg_finance.errors import CalibrationError
from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.parameters import mfg_parameters, mm_intensities


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


def apply_intraday_mfg(doc: dict, intraday: Mapping[str, Any] | None) -> dict:
    """``mfg_params`` with eta0, eta1, kappa, sigma (and gamma_T through eta0) from intraday estimates.

    Needs a ticker as representative (intraday estimates are per instrument); with the
    cross-sectional median the document records that the heuristics were kept and why.
    """
    tickers = (intraday or {}).get("tickers", {})
    rep = doc["representative"].get("ticker")
    if not tickers:
        doc["intraday"] = {"used": False, "reason": "no trade files (data.trades.source: none)"}
        return doc
    if rep is None or rep not in tickers:
        why = ("the representative is the cross-sectional median of daily statistics; intraday estimates "
               "are per ticker" if rep is None else f"no trades of the representative {rep}")
        doc["intraday"] = {"used": False, "reason": f"{why} (tickers with trades: {sorted(tickers)})"}
        return doc
    entry = tickers[rep]
    est, errors = _estimates(entry), entry.get("errors", {})
    params, stats = doc["parameters"], doc["representative"]["statistics"]
    c = float(doc["constants"]["inventory_unit_adv"])
    needed = ("kyle_lambda", "sqrt_law_y", "sigma", "rate_total", "size_mean_square")
    reason = _missing(est, needed, errors) or _not_significant(est, ("kyle_lambda", "sqrt_law_y"))
    used = []
    if reason is None:
        try:
            mfg = mfg_parameters(kyle_lambda=est["kyle_lambda"], sqrt_law_y=est["sqrt_law_y"], sigma_brl=est["sigma"],
                                 rate_total=est["rate_total"], mean_square_size=est["size_mean_square"],
                                 price=float(stats["last_close_brl"]), adv_shares=float(stats["adv_shares_median"]),
                                 inventory_unit_adv=c, session_seconds=SESSION_SECONDS)
        except CalibrationError as exc:
            reason = str(exc)
    where = f"intraday estimates of {rep} over {len(entry.get('sessions', []))} session(s)"
    for name in ("eta0", "eta1", "kappa", "sigma"):
        if reason is None:
            params[name] = _replace(params[name], mfg[name], MFG_UNITS[name], where)
            used.append(name)
        else:
            params[name] = _unavailable(params[name], reason)
    if "eta0" in used and params["gamma_T"].get("source") != "override":
        tau = float(doc["constants"]["terminal_sweep_seconds"]) / SESSION_SECONDS
        old = params["gamma_T"]
        params["gamma_T"] = {**old, "value": params["eta0"]["value"] / tau, "source": "intraday",
                             "statistic": f"eta0 from {where}", "heuristic_value": old["value"],
                             "se": params["eta0"]["se"] / tau}
        used.append("gamma_T")
    doc["intraday"] = {"used": bool(used), "ticker": rep, "parameters": used, "sessions": entry.get("sessions", []),
                       **({"reason": reason} if reason else {})}
    return doc


def apply_intraday_mm(doc: dict, intraday: Mapping[str, Any] | None, *, flow_share: float) -> dict:
    """``mm_params`` with sigma, k and A from intraday estimates for each ticker that has trades."""
    tickers = (intraday or {}).get("tickers", {})
    doc["intraday"] = {"used_for": sorted(t for t in doc["tickers"] if t in tickers), "flow_share": flow_share}
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
