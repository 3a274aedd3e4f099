"""Report section "Systemic shocks and heterogeneity" and its summary sentence, from the artefacts.

Reads the ``solve_systemic`` metrics, the finite-N check and the systemic sweeps (paths in the
report rule's inputs ``systemic_*`` / ``finite_n_*``); absent inputs give no section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mfg_finance.io import read_json, read_parquet, read_yaml
from mfg_finance.report.formatting import figure, html_table, html_tables_fitting, num, plus_minus


def _ms(entry) -> tuple[float | None, float | None]:
    if isinstance(entry, Mapping):
        return entry.get("mean"), entry.get("se")
    return entry, None


def _scenario_rows(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for m in metrics:
        if m["kind"] == "common_noise":
            o = m["outcomes"]
            rows.append({"scenario": m["scenario"], "kind": "common noise",
                         "sigma0": f"{num(m['params']['sigma0'], 4)} ({m['sigma0_source']})",
                         "expected cost": plus_minus(m["expected_cost"]["value"], m["expected_cost"]["error_bound"]),
                         "liquidation speed (1/day)": num(o["liquidation_speed"], 4),
                         "price impact (BRL)": plus_minus(*_ms(o["price_impact"])) if o["price_impact"] else "—",
                         "Q_T 5-95% (inventory units)": " to ".join(num(v, 3) for v in o["Q_T_band_5_95"]),
                         "terminal std of q (inventory units)": _dispersion(o.get("terminal_dispersion"))})
        elif m["kind"] == "types_common_noise":
            o = m["outcomes"]
            types = ", ".join(f"{name}: w {num(t['weight'], 2)}, cost "
                              f"{plus_minus(t['expected_cost']['value'], t['expected_cost']['error_bound'])}, speed "
                              f"{num(t['liquidation_speed'], 4)}" for name, t in o["types"].items())
            rows.append({"scenario": m["scenario"], "kind": f"{len(o['types'])} types + common noise ({types})",
                         "sigma0": f"{num(m['params']['sigma0'], 4)} ({m['sigma0_source']})",
                         "expected cost": plus_minus(m["expected_cost"]["value"], m["expected_cost"]["error_bound"]),
                         "liquidation speed (1/day)": num(o["liquidation_speed"], 4),
                         "price impact (BRL)": plus_minus(*_ms(o["price_impact"])) if o["price_impact"] else "—",
                         "Q_T 5-95% (inventory units)": " to ".join(num(v, 3) for v in o["Q_T_band_5_95"]),
                         "terminal std of q (inventory units)": _dispersion(o.get("terminal_dispersion"))})
        else:
            o = m["outcomes"]
            e = m.get("outcome_errors") or {}
            te = e.get("types") or {}
            tu = (m.get("unresolved") or {}).get("types") or {}

            def shown(name, t, key):
                return _resolved(plus_minus(t[key], (te.get(name) or {}).get(key)), key in (tu.get(name) or []))
            types = ", ".join(f"{name}: w {num(t['weight'], 2)}, cost {shown(name, t, 'total_cost')}, speed "
                              f"{shown(name, t, 'liquidation_speed')}" for name, t in o["types"].items())
            rows.append({"scenario": m["scenario"], "kind": f"{len(o['types'])} types ({types})",
                         "sigma0": "0", "expected cost": plus_minus(o["total_cost"], e.get("total_cost")),
                         "liquidation speed (1/day)": plus_minus(o["liquidation_speed"], e.get("liquidation_speed")),
                         "price impact (BRL)": plus_minus(o["price_impact"], e.get("price_impact"))
                         if o.get("price_impact") is not None else "—",
                         "Q_T 5-95% (inventory units)": "—",
                         "terminal std of q (inventory units)": _resolved(plus_minus(o["terminal_dispersion"],
                                                                                    e.get("terminal_dispersion")),
                                                                         "terminal_dispersion" in
                                                                         ((m.get("unresolved") or {}).get("crowd") or []))})
    return rows


def _resolved(text: str, unresolved: bool) -> str:
    return f"{text} (not resolved by the grid)" if unresolved else text


def _dispersion(d: Mapping[str, Any] | None) -> str:
    """``std ± error (common c, idiosyncratic i; SE s)`` of a common-noise terminal dispersion record."""
    if not d:
        return "—"
    text = (f"{plus_minus(d['value'], d['error'])} (common {num(d['common']['std'], 3)}, idiosyncratic "
            f"{num(d['idiosyncratic']['std'], 3)}; Monte Carlo SE {num(d['se'], 2)})")
    return _resolved(text, "total" in (d.get("unresolved") or []))


#: Outcome columns of a systemic sweep table shown in the section (``results/sweeps/<name>.parquet``), each shown
#: as ``value ± error`` with the first of its error columns present (the Monte Carlo SE of a mean path's price
#: impact, else the discretisation estimate).
_SWEEP_COLUMNS = {"total_cost": ("expected cost", ("total_cost_error",)),
                  "liquidation_speed": ("liquidation speed (1/day)", ("liquidation_speed_error",)),
                  "terminal_dispersion": ("terminal std of q (inventory units)", ("terminal_dispersion_error",)),
                  "price_impact": ("price impact (BRL)", ("price_impact_se", "price_impact_error"))}
#: Per-type columns of a multi-type sweep (``type_<name>_<key>`` and ``_error``).
_TYPE_COLUMNS = {"total_cost": "cost", "liquidation_speed": "speed (1/day)"}


def _sweep_rows(table: pd.DataFrame) -> tuple[str, list[dict[str, Any]]]:
    """The swept key of a one-axis systemic sweep table and its rows (``{key, sigma0, expected_cost, ...}``)."""
    params = [c for c in table.columns if c.startswith("param_")]
    key = params[0].removeprefix("param_")
    rows = []
    for _, r in table.sort_values(params).iterrows():
        def value(col):
            return None if col not in r or pd.isna(r[col]) else float(r[col])
        impact = value("price_impact")
        impact_error = value("price_impact_se") if value("price_impact_se") is not None else value("price_impact_error")
        rows.append({key: float(r[params[0]]), "sigma0": value("used_sigma0"),
                     "expected_cost": {"mean": value("total_cost"), "se": value("total_cost_error")},
                     "liquidation_speed": {"mean": value("liquidation_speed"), "se": value("liquidation_speed_error")},
                     "price_impact": None if impact is None else {"mean": impact, "se": impact_error}})
    return key, rows


def _with_error(row: pd.Series, value: str, errors, unresolved: str = "unresolved", key: str | None = None) -> str:
    """``value ± error`` of a sweep row, marked when the row lists the outcome ``key`` as unresolved."""
    flagged = str(row.get(unresolved) or "")
    mark = " (unresolved)" if (key or value) in flagged.split(",") else ""
    for err in errors:
        if err in row.index and pd.notna(row[err]):
            return plus_minus(row[value], row[err]) + mark
    return (num(row[value], 4) + mark) if pd.notna(row[value]) else "—"


def _sweep_table(table: pd.DataFrame) -> str:
    """The sweep's values used and outcomes (``value ± error``), split into tables that fit the page."""
    params = [c for c in table.columns if c.startswith("param_")]
    weights = [c for c in table.columns if c.startswith("used_weight_")]
    rows = []
    for _, r in table.sort_values(params).iterrows():
        row = {c.removeprefix("param_"): r[c] for c in params}
        for col, label in (("used_sigma0", "sigma0"), ("used_sigma", "sigma (idiosyncratic)")):
            if col in r.index:
                row[label] = num(r[col], 4)
        row.update({"w " + c.removeprefix("used_weight_"): num(r[c], 3) for c in weights})
        for col, (label, errors) in _SWEEP_COLUMNS.items():
            if col in r.index and pd.notna(r[col]):
                row[label] = _with_error(r, col, errors)
        for name in (c.removeprefix("used_weight_") for c in weights):
            for key, label in _TYPE_COLUMNS.items():
                col = f"type_{name}_{key}"
                if col in r.index and pd.notna(r[col]):
                    row[f"{name} {label}"] = _with_error(r, col, (f"{col}_error",), f"type_{name}_unresolved", key)
        rows.append(row)
    keys = [c.removeprefix("param_") for c in params]
    return html_tables_fitting(pd.DataFrame(rows), keys, max_columns=4, box=None)


def systemic_section(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Context of the section; None when the run has no systemic artefact."""
    metrics_paths = list(inputs.get("systemic_metrics") or [])
    finite_paths = list(inputs.get("finite_n_metrics") or [])
    sweep_paths = list(inputs.get("systemic_sweeps") or [])
    if not (metrics_paths or finite_paths or sweep_paths):
        return None
    metrics = []
    for p in metrics_paths:
        m = read_json(p)
        m.setdefault("scenario", Path(p).parent.name)
        metrics.append(m)
    section: dict[str, Any] = {
        "scenarios": _scenario_rows(metrics),
        "metrics": metrics,
        "figures": [figure(p, f"Scenario {Path(p).parent.name}") for p in inputs.get("systemic_figures") or []],
        "calibration": read_yaml(inputs["systemic_params"]) if inputs.get("systemic_params") else None,
        "finite_n": None, "sweeps": None,
    }
    if finite_paths:
        fn = read_json(finite_paths[0])
        fn["table"] = html_table(pd.DataFrame(fn["rows"]), digits=4)
        fn["figure"] = figure(inputs["finite_n_figure"][0], "Finite-N check: N-player game against the MFG")
        section["finite_n"] = fn
    if sweep_paths:
        tables, raw = [], {}
        for path in sweep_paths:       # their figures are in the sweeps section
            table = read_parquet(path)
            if sum(c.startswith("param_") for c in table.columns) != 1:
                continue        # a systemic sweep over two axes: shown in the sweeps section only
            key, rows = _sweep_rows(table)
            raw.setdefault(key, rows)
            tables.append({"name": Path(path).stem, "key": key, "table": _sweep_table(table),
                           "title": f"Sweep {Path(path).stem}: outcomes against {key}"})
        section["sweeps"] = {"tables": tables, "raw": raw} if tables else None
    section["summary"] = systemic_summary(section)
    return section


def _change(rows: Sequence[Mapping[str, Any]], key: str, name: str) -> str | None:
    first, last = rows[0], rows[-1]
    (a, ea), (b, eb) = _ms(first.get(name)), _ms(last.get(name))
    if a is None or b is None:
        return None
    return f"{plus_minus(a, ea) if ea else num(a, 3)} to {plus_minus(b, eb) if eb else num(b, 3)}"


def systemic_summary(section: Mapping[str, Any]) -> str | None:
    """One plain-language paragraph: what common noise and urgent agents change, and the finite-N check."""
    parts = []
    raw = (section.get("sweeps") or {}).get("raw") or {}
    s0 = raw.get("market_share") or raw.get("sigma0")
    if s0 and len(s0) >= 2:
        cost, speed = _change(s0, "sigma0", "expected_cost"), _change(s0, "sigma0", "liquidation_speed")
        impact = _change(s0, "sigma0", "price_impact")
        what = ("making a larger share of the same total noise common to all agents"
                if "market_share" in raw else "adding noise common to all agents")
        parts.append(f"Market-wide shocks: {what} "
                     f"(sigma0 from {num(s0[0]['sigma0'], 3)} to {num(s0[-1]['sigma0'], 3)}) moves the expected liquidation cost from {cost}, the speed of "
                     f"the crowd's mean inventory from {speed} per day"
                     + (f" and the mean price impact from {impact} BRL" if impact else "")
                     + "; the fan charts show the spread of outcomes across shocks.")
    sh = raw.get("urgent_share")
    if sh and len(sh) >= 2:
        parts.append(f"A more urgent crowd: raising the share of urgent liquidators from {num(sh[0]['urgent_share'], 2)} "
                     f"to {num(sh[-1]['urgent_share'], 2)} moves the average cost from "
                     f"{_change(sh, 'urgent_share', 'expected_cost')}, the crowd's liquidation speed from "
                     f"{_change(sh, 'urgent_share', 'liquidation_speed')} per day"
                     + (f" and the price impact from {_change(sh, 'urgent_share', 'price_impact')} BRL"
                        if _change(sh, "urgent_share", "price_impact") else "")
                     + ".")
    fn = section.get("finite_n")
    if fn:
        check = fn["largest_N_check"]
        rate = fn.get("fitted_rate")
        parts.append(f"A simulated game of N players using the MFG strategy approaches the MFG's predicted cost as N "
                     f"grows" + (f" (gap falling like N^{num(rate, 2)}, O(1/N) expected)" if rate is not None else "")
                     + f"; at N = {check['N']:,} the difference, {num(check['abs_difference'], 2)}, is "
                     + ("within" if check["holds"] else "OUTSIDE")
                     + f" 3 Monte Carlo standard errors plus the solver's error bound ({num(check['allowed'], 2)}).")
    return " ".join(parts) if parts else None
