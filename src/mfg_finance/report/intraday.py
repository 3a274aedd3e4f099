"""The report's intraday section: estimates with standard errors beside the daily heuristics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.io import read_json
from mfg_finance.report.formatting import figure, html_table

#: Estimates shown per ticker, in order, with a label.
SHOWN = (("sigma", "volatility sigma (TSRV)"), ("signed_half_spread", "effective half-spread (signed trades)"),
         ("roll_half_spread", "half-spread (Roll)"), ("rate_buy", "buyer-initiated rate"),
         ("rate_sell", "seller-initiated rate"), ("profile_shape", "U-shape of the intraday rate"),
         ("size_mean", "mean trade size"), ("kyle_lambda", "Kyle lambda"),
         ("impact_per_trade_share", "impact per trade (signed-trade regression)"),
         ("sqrt_law_y", "square-root-law Y"), ("impact_exponent", "impact exponent"))


FIGURE_TITLES = {"intraday_profile": "Intraday profiles of trades, volume and realized variance",
                 "signature_plot": "Signature plot of realized variance, with the noise-robust estimate",
                 "impact_fit": "Price impact of signed flow: Kyle and square-root fits"}


def _estimates_table(entry: Mapping[str, Any]) -> str:
    rows = [{"estimate": label, "value": e["value"], "SE": e["se"], "unit": e["unit"], "n": e["n"],
             "formula": e["formula"]}
            for key, label in SHOWN if (e := entry["estimates"].get(key))]
    rows += [{"estimate": key, "value": None, "SE": None, "unit": "", "n": None, "formula": f"not estimated: {why}"}
             for key, why in entry.get("errors", {}).items()]
    return html_table(pd.DataFrame(rows), classes="sortable wrap")


def _comparison(parameters: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for name, p in parameters.items():
        if p.get("source") == "intraday" or "intraday_unavailable" in p or "intraday_value" in p:
            heuristic = p.get("heuristic_value", p["value"] if p.get("source") != "intraday" else None)
            intraday = p["value"] if p.get("source") == "intraday" else p.get("intraday_value")
            rows.append({"parameter": prefix + name, "daily heuristic": heuristic, "intraday": intraday,
                         "SE": p.get("se", p.get("intraday_se")), "unit": p.get("unit", ""),
                         "used": p.get("source", ""), "note": p.get("intraday_unavailable", "")})
    return rows


def _value(entry: Mapping[str, Any], *, heuristic: bool) -> float:
    if heuristic and entry.get("source") == "intraday":
        return float(entry["heuristic_value"])
    return float(entry["value"])


def quote_changes(mm_doc: Mapping[str, Any]) -> pd.DataFrame:
    """What the intraday calibration and the flow share change in the market maker's quotes.

    GLFT's closed-form asymptotic quotes (:func:`mfg_finance.market_making.glft.asymptotic_spreads`)
    at zero inventory and their skew per lot of inventory, under (a) the daily heuristics with
    every trade ours (the rule before issue 15), (b) the daily heuristics with ``flow_share``, and
    (c) the parameters used (intraday where present); with the fill rate at the quote, A e^{-k delta}.
    """
    from mfg_finance.market_making.glft import HJBParameters, asymptotic_spreads

    rows = []
    share = float(mm_doc.get("constants", {}).get("flow_share", 1.0))
    for ticker, p in mm_doc.get("tickers", {}).items():
        a = p["A"]
        cases = {
            "daily, every trade ours (old rule)": (_value(p["sigma"], heuristic=True), _value(p["k"], heuristic=True),
                                                   _value(a, heuristic=True) / share),
            f"daily, flow_share {share:g}": (_value(p["sigma"], heuristic=True), _value(p["k"], heuristic=True),
                                            _value(a, heuristic=True)),
            "used (intraday where estimated)": (float(p["sigma"]["value"]), float(p["k"]["value"]), float(a["value"])),
        }
        for case, (sigma, k, big_a) in cases.items():
            params = HJBParameters(sigma=sigma, A=big_a, k=k, gamma=float(p["gamma"]["value"]),
                                   Q_max=int(p["Q_max"]["value"]))
            bid, ask = asymptotic_spreads([0, 1], params)
            rows.append({"ticker": ticker, "parameters": case, "sigma (BRL/sqrt(s))": sigma, "k (1/BRL)": k,
                         "A (1/s)": big_a, "half-spread at q=0 (BRL)": float(bid[0]),
                         "skew per lot (BRL)": float(bid[1] - bid[0]),
                         "fill rate at the quote (1/s)": big_a * float(np.exp(-k * bid[0]))})
    return pd.DataFrame(rows)


#: Outcome labels of the MFG comparison (units: trading days, cost units).
OUTCOME_LABELS = {"liquidation_half_life": "liquidation half-life (days)", "liquidation_speed": "liquidation speed (1/day)",
                  "total_cost": "total cost (cost units)", "eta_mean": "mean impact eta (time average)",
                  "eta_max": "largest impact eta", "terminal_dispersion": "terminal inventory sd (units)"}


def mfg_changes(comparison_path: str | None) -> dict[str, Any] | None:
    """The MFG with the daily heuristics vs with the intraday parameters (rule compare_mfg_intraday)."""
    if not comparison_path:
        return None
    doc = read_json(comparison_path)
    params = pd.DataFrame([{"parameter": n, "daily heuristic": p["heuristic"], "intraday": p["intraday"], "SE": p["se"],
                            "unit": p["unit"]} for n, p in doc["parameters"].items()])
    if "outcomes" not in doc:
        return {"scenario": doc["scenario"], "reason": doc.get("reason"), "table": None, "parameters": None}
    rows = [{"outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]), "daily heuristics": r["heuristic"],
             "its error": r["heuristic_error"], "intraday": r["intraday"], "error (intraday)": r["intraday_error"],
             "change (%)": None if r["relative_change"] is None else 100 * r["relative_change"],
             "beyond the grid's error": {True: "yes", False: "no", None: "—"}[r["resolved"]]} for r in doc["outcomes"]]
    return {"scenario": doc["scenario"], "reason": None, "parameters": html_table(params, classes="sortable wrap"),
            "table": html_table(pd.DataFrame(rows), classes="sortable fitwrap")}


def intraday_section(estimates_path: str | None, figures, mfg_doc: Mapping[str, Any],
                     mm_doc: Mapping[str, Any], comparison_path: str | None = None) -> dict[str, Any]:
    """Template context of the intraday section (``enabled`` False without trade files)."""
    if not estimates_path:
        return {"enabled": False}
    doc = read_json(estimates_path)
    rows = _comparison(mfg_doc.get("parameters", {}), "MFG ")
    for ticker, params in mm_doc.get("tickers", {}).items():
        rows += _comparison(params, f"{ticker} ")
    return {
        "enabled": True,
        "source": doc.get("source", ""),
        "n_sessions": len(doc.get("sessions", [])),
        "tickers": {t: {"n_trades": e["n_trades"], "sessions": e["sessions"], "sign_source": e["sign_source"],
                        "table": _estimates_table(e)} for t, e in doc["tickers"].items()},
        "missing": doc.get("missing", {}),
        "comparison": html_table(pd.DataFrame(rows), classes="sortable wrap") if rows else None,
        "mfg_note": mfg_doc.get("intraday", {}),
        "flow_share": mm_doc.get("constants", {}).get("flow_share"),
        # without an estimated ticker the figures are empty axes: the "missing" notes say why instead
        "figures": [figure(p, FIGURE_TITLES.get(Path(p).stem)) for p in figures] if doc["tickers"] else [],
        "quote_changes": html_table(quote_changes(mm_doc), classes="sortable fitwrap") if mm_doc.get("tickers") else None,
        "mfg_changes": mfg_changes(comparison_path),
    }
