"""Report section "Systemic shocks and heterogeneity" and its summary sentence, from the artefacts.

Reads the ``solve_systemic`` metrics, the finite-N check and the systemic sweeps (paths in the
report rule's inputs ``systemic_*`` / ``finite_n_*``); absent inputs give no section.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mfg_finance.io import read_json, read_parquet, read_yaml
from mfg_finance.mfg.common_noise_outcomes import mean_within_noise
from mfg_finance.report.calibration_uncertainty import calibration_sentence
from mfg_finance.report.formatting import figure, finite, html_tables_fitting, num
from mfg_finance.report.uncertain import plus_minus, plus_minus_both, with_error


def _estimated(entry) -> str:
    """An estimated path outcome of metrics.json (``{"mean", "se", "error"}``, or a number) as
    :func:`~mfg_finance.report.uncertain.with_error`."""
    if entry is None:
        return "—"
    if isinstance(entry, Mapping):
        return with_error(entry.get("mean"), entry.get("error"), entry.get("se"))
    return with_error(entry)


#: Mark of a speed ``-ln(E[Q_T] / Q_0) / T`` whose terminal mean is within :data:`EFFECT_SES` SEs of zero.
#: The rule is the library's (:func:`mfg_finance.mfg.common_noise_outcomes.mean_within_noise`), which lists such a
#: speed in metrics.json ``unresolved`` and the sweeps' ``unresolved`` column.
SPEED_NOT_RESOLVED = " (not resolved: mean Q_T within 2 SE of 0; see the half-life)"


def _crowd_path_cells(m: Mapping[str, Any]) -> dict[str, str]:
    """The crowd's path outcomes of a common-noise scenario's metrics as ``value ± error (SE se)`` cells, marked
    where the estimate is at least half the value, the speed where its terminal mean is within 2 SE of zero; the
    price impact with the 5-95% band of its paths."""
    o, unresolved = m["outcomes"], set(m.get("unresolved") or [])
    cells = {}
    for label, name, key in (("liquidation speed (1/day)", "liquidation_speed", "liquidation_speed"),
                             ("half-life (days)", "liquidation_half_life", "liquidation_half_life"),
                             ("mean Q_T (inventory units)", "Q_T", "mean_inventory_terminal"),
                             ("price impact (BRL)", "price_impact", "price_impact")):
        cells[label] = _resolved(_estimated(o.get(name)), key in unresolved)
    q_T = o.get("Q_T") if isinstance(o.get("Q_T"), Mapping) else {}
    if o.get("liquidation_speed") is not None and mean_within_noise(q_T.get("mean"), q_T.get("se")):
        # the Monte Carlo reason replaces the generic "not resolved by the grid" that metrics.json's list gives it
        cells["liquidation speed (1/day)"] = _estimated(o["liquidation_speed"]) + SPEED_NOT_RESOLVED
    if o.get("price_impact") is not None and o.get("price_impact_band_5_95"):
        cells["price impact (BRL)"] += f"; 5-95% of paths {_band(o, 'price_impact_band_5_95')}"
    return cells


def _band(o: Mapping[str, Any], name: str) -> str:
    """A 5-95% band of the paths (``o[name]``) as ``lo ± se to hi ± se (SE)``, each end rounded by the report's
    rule to its Monte Carlo SE (``o[name + "_se"]``); three significant digits without the SE (metrics written
    before it), said so when the paths were too few for one."""
    ses = o.get(f"{name}_se")
    if not ses or any(se is None for se in ses):
        few = " (no SE: too few paths)" if ses else ""
        return " to ".join(num(v, 3) for v in o[name]) + few
    # a zero SE (every path alike, sigma0 = 0) prints no "±": then no "(SE)" either
    return " to ".join(plus_minus(v, se) for v, se in zip(o[name], ses)) + (" (SE)" if max(ses) > 0 else "")


def _scenario_rows(metrics: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for m in metrics:
        if m["kind"] in ("common_noise", "types_common_noise"):
            o = m["outcomes"]
            kind = "common noise"
            if m["kind"] == "types_common_noise":     # per type: cost and speed with their errors (and SE)
                tu = m.get("type_unresolved") or {}
                types = ", ".join(f"{name}: w {num(t['weight'], 2)}{_type_parameters(m, name)}, cost "
                                  f"{_cost_cell(t['expected_cost'])}, speed "
                                  + _resolved(_estimated(t["liquidation_speed"]),
                                              "liquidation_speed" in (tu.get(name) or []))
                                  for name, t in o["types"].items())
                kind = f"{len(o['types'])} types + common noise ({types})"
            rows.append({"scenario": m["scenario"], "kind": kind,
                         "sigma0": f"{num(m['params']['sigma0'], 4)} ({m['sigma0_source']})",
                         "expected cost": _cost_cell(m["expected_cost"]),
                         **_crowd_path_cells(m),
                         "Q_T 5-95% (inventory units)": _band(o, "Q_T_band_5_95"),
                         "terminal std of q (inventory units)": _dispersion(o.get("terminal_dispersion"))})
        else:
            o = m["outcomes"]
            e = m.get("outcome_errors") or {}
            te = e.get("types") or {}
            tu = (m.get("unresolved") or {}).get("types") or {}

            crowd_unresolved = (m.get("unresolved") or {}).get("crowd") or []

            def shown(name, t, key):
                return _resolved(with_error(t[key], (te.get(name) or {}).get(key)), key in (tu.get(name) or []))
            types = ", ".join(f"{name}: w {num(t['weight'], 2)}{_type_parameters(m, name)}, cost "
                              f"{shown(name, t, 'total_cost')}, speed {shown(name, t, 'liquidation_speed')}"
                              for name, t in o["types"].items())
            half_life = o.get("liquidation_half_life")
            rows.append({"scenario": m["scenario"], "kind": f"{len(o['types'])} types ({types})",
                         "sigma0": "0", "expected cost": with_error(o["total_cost"], e.get("total_cost")),
                         "liquidation speed (1/day)": with_error(o["liquidation_speed"], e.get("liquidation_speed")),
                         "half-life (days)": "—" if half_life is None
                         else with_error(half_life, e.get("liquidation_half_life")),
                         "mean Q_T (inventory units)": _resolved(with_error(o["mean_inventory_terminal"],
                                                                            e.get("mean_inventory_terminal")),
                                                                 "mean_inventory_terminal" in crowd_unresolved),
                         "price impact (BRL)": with_error(o["price_impact"], e.get("price_impact"))
                         if o.get("price_impact") is not None else "—",
                         "Q_T 5-95% (inventory units)": "—",
                         "terminal std of q (inventory units)": _resolved(with_error(o["terminal_dispersion"],
                                                                                    e.get("terminal_dispersion")),
                                                                         "terminal_dispersion" in crowd_unresolved)})
    return rows


def _type_parameters(m: Mapping[str, Any], name: str) -> str:
    """``, phi 0.35, gamma_T 5.7`` of type ``name`` from the scenario's ``types`` list (what makes it urgent or
    patient: a type's phi and gamma_T are absolute values, not multiples of the calibration); empty when absent."""
    for t in m.get("types") or []:
        if isinstance(t, Mapping) and t.get("name") == name:
            return "".join(f", {key} {num(t[key], 3)}" for key in ("phi", "gamma_T") if finite(t.get(key)))
    return ""


def _resolved(text: str, unresolved: bool) -> str:
    return f"{text} (not resolved by the grid)" if unresolved else text


def _cost_cell(cost: Mapping[str, Any]) -> str:
    """An expected cost under common noise (metrics.json ``expected_cost``) as ``value ± estimate``; where the
    estimate is not held (``unresolved``: a time sequence that is not asymptotic) or absent (metrics written
    before it), ``value ± bound (bound)``."""
    if cost.get("error") is not None and not cost.get("unresolved"):
        return with_error(cost["value"], cost["error"])
    text = f"{with_error(cost['value'], cost['error_bound'])} (bound)"
    return _resolved(text, bool(cost.get("unresolved")))


def _dispersion(d: Mapping[str, Any] | None) -> str:
    """``std ± error (common c, idiosyncratic i; SE s)`` of a common-noise terminal dispersion record."""
    if not d:
        return "—"
    text = (f"{with_error(d['value'], d['error'])} (common {num(d['common']['std'], 3)}, idiosyncratic "
            f"{num(d['idiosyncratic']['std'], 3)}; Monte Carlo SE {num(d['se'], 2)})")
    return _resolved(text, "total" in (d.get("unresolved") or []))


#: Outcome columns of a systemic sweep table shown in the section (``results/sweeps/<name>.parquet``), each shown
#: as ``value ± error`` (its ``_error`` column, the discretisation estimate) and, on common-noise points, its
#: Monte Carlo SE (``_se`` column).
_SWEEP_COLUMNS = {"total_cost": "expected cost",
                  "liquidation_speed": "liquidation speed (1/day)",
                  "liquidation_half_life": "half-life (days)",
                  "mean_inventory_terminal": "mean Q_T (inventory units)",
                  "terminal_dispersion": "terminal std of q (inventory units)",
                  "eta_max": "peak eta",
                  "price_impact": "price impact (BRL)"}
#: Per-type columns of a multi-type sweep (``type_<name>_<key>`` and ``_error``).
_TYPE_COLUMNS = {"total_cost": "cost", "liquidation_speed": "speed (1/day)"}


def _cell(row, col: str) -> float | None:
    return None if col not in row or pd.isna(row[col]) else float(row[col])


def _sweep_rows(table: pd.DataFrame) -> tuple[str, list[dict[str, Any]]]:
    """The swept key of a one-axis systemic sweep table and its rows (``{key, sigma0, <outcome>: {"mean", "error",
    "se"}}``: value, discretisation estimate, Monte Carlo SE, each ``None`` where the table has none)."""
    params = [c for c in table.columns if c.startswith("param_")]
    key = params[0].removeprefix("param_")
    rows = []
    for _, r in table.sort_values(params).iterrows():
        value = r[params[0]]       # a weight vector's axis (type_weights) is its text label
        row = {key: value if isinstance(value, str) else float(value), "sigma0": _cell(r, "used_sigma0")}
        for name, col in (("expected_cost", "total_cost"), ("liquidation_speed", "liquidation_speed"),
                          ("price_impact", "price_impact"), ("liquidation_half_life", "liquidation_half_life"),
                          ("mean_inventory_terminal", "mean_inventory_terminal")):
            value = _cell(r, col)
            row[name] = None if value is None else {"mean": value, "error": _cell(r, f"{col}_error"),
                                                    "se": _cell(r, f"{col}_se")}
        for name in (c.removeprefix("used_weight_") for c in table.columns if c.startswith("used_weight_")):
            value = _cell(r, f"type_{name}_total_cost")       # each type's own cost (agent types sweeps)
            if value is not None:
                row[f"cost_{name}"] = {"mean": value, "error": _cell(r, f"type_{name}_total_cost_error"),
                                       "se": _cell(r, f"type_{name}_total_cost_se")}
        rows.append(row)
    return key, rows


def _row_cell(row: pd.Series, value: str, errors, unresolved: str = "unresolved", key: str | None = None) -> str:
    """``value ± error (SE se)`` of a sweep row (:func:`~mfg_finance.report.uncertain.with_error`: the first of the
    ``errors`` columns present, the ``<value>_se`` column if any), marked when the row lists the outcome ``key`` as
    unresolved."""
    flagged = str(row.get(unresolved) or "")
    mark = " (unresolved)" if (key or value) in flagged.split(",") else ""
    if not pd.notna(row[value]):
        return "—"
    error = next((row[err] for err in errors if err in row.index and pd.notna(row[err])), None)
    se = row[f"{value}_se"] if f"{value}_se" in row.index and pd.notna(row[f"{value}_se"]) else None
    return with_error(row[value], error, se) + mark


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
        for col, label in _SWEEP_COLUMNS.items():
            if col in r.index and pd.notna(r[col]):
                row[label] = _row_cell(r, col, (f"{col}_error",))
        if _SWEEP_COLUMNS["liquidation_speed"] in row and mean_within_noise(_cell(r, "mean_inventory_terminal"),
                                                              _cell(r, "mean_inventory_terminal_se")):
            # the Monte Carlo reason replaces the generic "(unresolved)" of the row's unresolved column
            plain = _row_cell(r, "liquidation_speed", ("liquidation_speed_error",), unresolved="")
            row[_SWEEP_COLUMNS["liquidation_speed"]] = plain + SPEED_NOT_RESOLVED
        for name in (c.removeprefix("used_weight_") for c in weights):
            for key, label in _TYPE_COLUMNS.items():
                col = f"type_{name}_{key}"
                if col in r.index and pd.notna(r[col]):
                    row[f"{name} {label}"] = _row_cell(r, col, (f"{col}_error",), f"type_{name}_unresolved", key)
        rows.append(row)
    keys = [c.removeprefix("param_") for c in params]
    # "fitwords": a speed marked not resolved is a long cell; it wraps at its spaces, never inside a number
    return html_tables_fitting(pd.DataFrame(rows), keys, max_columns=4, box=None, classes="sortable fitwords")


#: What the overview figure of a systemic scenario shows, by its ``kind`` in metrics.json.
_FIGURE_KINDS = {"common_noise": "quantile bands of Q_t, m_t, eta_t and p_t over the common-noise paths",
                 "types_common_noise": "quantile bands over the common-noise paths, per type and for the crowd",
                 "types": "each type's mean inventory and flow, the crowd's flow, eta and (when calibrated) the "
                          "clearing price; no common noise, so one deterministic path"}


def _overview_figure(path, kinds: Mapping[str, str | None]) -> dict[str, str]:
    """A scenario's overview figure, its caption saying what it shows (``kinds``: scenario -> metrics kind)."""
    name = Path(path).parent.name
    shows = _FIGURE_KINDS.get(kinds.get(name) or "")
    return figure(path, f"Scenario {name}" + (f": {shows}" if shows else ""))


def _weights_order(table: pd.DataFrame, key: str) -> str:
    """What a ``type_weights`` label lists: the types' weights in this order (the ``used_weight_<type>`` columns)."""
    names = [c.removeprefix("used_weight_") for c in table.columns if c.startswith("used_weight_")]
    return f" (weights of {' / '.join(names)})" if key == "type_weights" and names else ""


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
    kinds = {m["scenario"]: m.get("kind") for m in metrics}
    section: dict[str, Any] = {
        "scenarios": _scenario_rows(metrics),
        "metrics": metrics,
        "figures": [_overview_figure(p, kinds) for p in inputs.get("systemic_figures") or []],
        "calibration": read_yaml(inputs["systemic_params"]) if inputs.get("systemic_params") else None,
        "finite_n": None, "sweeps": None,
    }
    if finite_paths:
        fn = read_json(finite_paths[0])
        # consecutive tables of at most 7 columns besides N: the paired gaps of the law made one table 14 columns
        # and 1250 px wide on a 1100 px page
        fn["table"] = html_tables_fitting(pd.DataFrame(fn["rows"]), ["N"], max_columns=7, box=None)
        fn["figure"] = figure(inputs["finite_n_figure"][0], "Finite-N check: N-player game against the MFG")
        fn["sentences"] = finite_n_sentences(fn)
        fn["mfg_value_text"] = _mfg_value_text(fn["mfg_value"], fn["largest_N_check"])
        section["finite_n"] = fn
    if sweep_paths:
        tables, raw = [], {}
        for path in sweep_paths:       # their figures are in the sweeps section
            table = read_parquet(path)
            if sum(c.startswith("param_") for c in table.columns) != 1:
                continue        # a systemic sweep over two axes: shown in the sweeps section only
            key, rows = _sweep_rows(table)
            raw.setdefault(key, rows)
            used = table["used_sigma0"] if "used_sigma0" in table.columns else pd.Series(dtype=float)
            tables.append({"name": Path(path).stem, "key": key, "table": _sweep_table(table),
                           "common_noise": bool((used.fillna(0.0) > 0.0).any()),
                           "title": f"Sweep {Path(path).stem}: outcomes against {key}" + _weights_order(table, key)})
        section["sweeps"] = {"tables": tables, "raw": raw} if tables else None
    section["calibration_text"] = calibration_sentence(section["calibration"],
                                                       ((section["sweeps"] or {}).get("raw") or {}).get("market_share"))
    section["summary"] = systemic_summary(section)
    return section


def _mes(entry) -> tuple[float | None, float, float]:
    """``(value, discretisation error, Monte Carlo SE)`` of a sweep row's outcome (0 for an absent part)."""
    if isinstance(entry, Mapping):
        return entry.get("mean"), float(entry.get("error") or 0.0), float(entry.get("se") or 0.0)
    return entry, 0.0, 0.0


#: Monte Carlo SEs a change must exceed (with the discretisation errors) to be called an effect: the two ends'
#: SEs combined as independent (conservative: the sweep points share their seed, which correlates them).
EFFECT_SES = 2.0


def combined_uncertainty(first, last) -> float:
    """Uncertainty of the change between two outcomes ``(value, error, se)``: the discretisation errors added
    (bounds, not random) plus :data:`EFFECT_SES` times the two Monte Carlo SEs in quadrature."""
    return first[1] + last[1] + EFFECT_SES * math.hypot(first[2], last[2])


def describe_change(rows: Sequence[Mapping[str, Any]], name: str, label: str, unit: str = "") -> str | None:
    """How ``name`` changes from the first to the last row, every number with its uncertainty: an effect only
    when the change exceeds :func:`combined_uncertainty`, else "no change distinguishable from noise"."""
    first, last = _mes(rows[0].get(name)), _mes(rows[-1].get(name))
    if not (finite(first[0]) and finite(last[0])):
        return None
    ends = f"{with_error(*first, unit=unit)} to {with_error(*last, unit=unit)}"
    delta, bound = float(last[0]) - float(first[0]), combined_uncertainty(first, last)
    if bound > 0.0 and abs(delta) <= bound:
        return (f"{label} shows no change distinguishable from noise ({ends}: the difference {num(delta, 2)} is "
                f"within its combined uncertainty {num(bound, 2)})")
    size = (f"more than its combined uncertainty {num(bound, 2)}" if bound > 0.0 else "no uncertainty estimated")
    return f"{label} {'rises' if delta > 0 else 'falls'} from {ends} (by {num(abs(delta), 2)}{unit}, {size})"


#: How the summary states its numbers (appended once when it states a change).
_CONVENTION = ("(± is the estimated discretisation error, SE the Monte Carlo standard error; a change is called "
               f"an effect only when it exceeds the two errors plus {EFFECT_SES:g} combined SEs)")


def _unresolved_pulls(fn: Mapping[str, Any], fit: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], float]]:
    """The rows whose gap is not resolved (not in ``fit["resolved"]``), each with its distance from the fitted
    ``C/N`` in SEs, ``(gap - C/N) / SE``."""
    C = fit["constant_one_over_N"]
    resolved = set(fit["resolved"])
    return [(r, (r["cost_gap"] - C / r["N"]) / r["cost_gap_se"]) for r in fn["rows"] if r["N"] not in resolved]


def _resolution_sentence(fn: Mapping[str, Any], fit: Mapping[str, Any]) -> str:
    """Which N resolve the gap (> 2 SE) and, for the others, the gap against the fitted ``C/N``."""
    said = (f"The gap is resolved (above 2 SE) at N = {', '.join(f'{n:,}' for n in fit['resolved'])}"
            if fit["resolved"] else "The gap is resolved (above 2 SE) at no N")
    scaled = [r for r in fn["rows"] if r["N"] in set(fit["resolved"])]
    if scaled:
        said += (" (N x gap, flat for an exact 1/N: " + ", ".join(
            plus_minus(r['N'] * r['cost_gap'], r['N'] * r['cost_gap_se']) for r in scaled) + ")")
    local = fit.get("local_exponents") or []
    if local:
        said += ("; the exponent between consecutive N: " + ", ".join(
            f"{plus_minus(e['exponent'], e['exponent_se'])} ({e['N'][0]:,} to {e['N'][1]:,})" for e in local))
    pulls = _unresolved_pulls(fn, fit)
    if not pulls:
        return said + "."
    C, C_se = fit["constant_one_over_N"], fit.get("constant_one_over_N_se")
    detail = "; ".join(f"N = {r['N']:,}: {plus_minus(r['cost_gap'], r['cost_gap_se'])} against C/N = "
                       f"{plus_minus(C / r['N'], C_se / r['N'] if finite(C_se) else None)} ({num(z, 2)} SE)"
                       for r, z in pulls)
    if all(abs(z) <= 2.0 for _, z in pulls):
        verdict = ("consistent with the O(1/N) fit but not resolved: the fit rests on the smaller N, and more "
                   "replications than the default budget would be needed to see the gap itself")
    else:
        verdict = "more than 2 SE from the O(1/N) fit at some N: O(1/N) is not confirmed there"
    return f"{said}; not at {detail}: {verdict}."


def law_sentence(fn: Mapping[str, Any]) -> str | None:
    """The law of ``Q_T``: ``N x`` the paired variance gap per N against the first-order prediction ``C`` (pulls
    over 2 SE named), the rate fitted over every N, the N where the gap is resolved (> 2 SE of the pairs), and the
    mean's gap. None for metrics without the paired law (older runs)."""
    rows = [r for r in fn.get("rows") or [] if finite(r.get("Q_T_var_gap_se"))]
    law = fn.get("law") or {}
    pred = law.get("prediction")
    if not rows or not pred:
        return None
    C, C_se = pred["var_coefficient"], pred["var_coefficient_se"]
    pulls = {int(k): v for k, v in (law.get("var_gap_pulls") or {}).items()}
    each = "; ".join(f"N = {r['N']:,}: {plus_minus(r['N'] * r['Q_T_var_gap'], r['N'] * r['Q_T_var_gap_se'])}"
                     for r in rows)
    resolved = [r["N"] for r in rows if abs(r["Q_T_var_gap"]) > EFFECT_SES * r["Q_T_var_gap_se"]]
    off = [n for n, z in pulls.items() if abs(z) > 3.0]
    fit = law.get("rate_fit")
    rate = (f"; fitted over every N, gap = C N^-p with p = {plus_minus(fit['exponent'], fit['exponent_se'])}, "
            f"O(1/N) likelihood-ratio p-value {num(fit['p_value_one_over_N'], 2)}, "
            f"{_power_verdict(fit['p_value_one_over_N'])}" if fit else "")
    expansion = (fit or {}).get("expansion")
    if expansion:
        z = _expansion_pull(expansion, pred)
        rate += (f"; with the next-order term, gap = C/N + D/N^2: C = "
                 f"{plus_minus(expansion['constant'], expansion['constant_se'])} ({num(z, 2)} SE from the prediction), "
                 f"D = {plus_minus(expansion['next_order'], expansion['next_order_se'])} (chi-square p-value "
                 f"{num(expansion['p_value'], 2)})")
    verdict = _law_verdict(off, expansion, pred, pure_power_rejected=bool(fit) and fit["p_value_one_over_N"] < 0.05)
    means = [r for r in rows if abs(r["Q_T_mean_gap"]) > EFFECT_SES * r["Q_T_mean_gap_se"]]
    mean_text = ("the mean of Q_T differs from the MFG's by more than 2 SE of the pairs at N = "
                 + ", ".join(f"{r['N']:,} ({plus_minus(r['Q_T_mean_gap'], r['Q_T_mean_gap_se'])})" for r in means)
                 if means else "the mean of Q_T agrees with the MFG's within 2 SE of the pairs at every N")
    return (f"Law of the terminal mean inventory Q_T (common random numbers: each game beside its N = inf limit "
            f"driven by the same market-wide shocks; SEs of the pairs): N x (var Qbar_T - var Q_T) is {each}, "
            f"against the first-order prediction C = {plus_minus(C, C_se)} (E[V_T] = {with_error(pred['idiosyncratic'], se=pred.get('idiosyncratic_se'))} "
            f"from the idiosyncratic noise alone; docs/mfg.md section 10){rate}. The variance gap is resolved "
            f"(> {EFFECT_SES:g} SE) at "
            + (("N = " + ", ".join(f"{n:,}" for n in resolved)) if resolved else "no N")
            + f" and {verdict}; {mean_text}.")


def _expansion_pull(expansion: Mapping[str, Any], pred: Mapping[str, Any]) -> float:
    """The fitted ``C`` of ``C/N + D/N^2`` minus the predicted one, in their SEs combined."""
    return (expansion["constant"] - pred["var_coefficient"]) / math.hypot(expansion["constant_se"],
                                                                         pred["var_coefficient_se"])


def _expansion_agrees(expansion: Mapping[str, Any] | None, pred: Mapping[str, Any]) -> bool:
    """The fit ``C/N + D/N^2`` is acceptable (chi-square p-value >= 0.05) with its ``C`` within 3 SE of the
    prediction."""
    return bool(expansion) and expansion["p_value"] >= 0.05 and abs(_expansion_pull(expansion, pred)) <= 3.0


def _power_verdict(p_value: float) -> str:
    """What the likelihood-ratio test of ``p = 1`` says, in the words of both finite-N fits."""
    return "consistent with O(1/N)" if p_value >= 0.05 else "rejects a pure power N^-1 over these N"


def _law_verdict(off: Sequence[int], expansion: Mapping[str, Any] | None, pred: Mapping[str, Any], *,
                 pure_power_rejected: bool = False) -> str:
    """Whether the variance gap converges at the predicted O(1/N): every point within 3 SE of ``C/N``, or
    :func:`_expansion_agrees` (points off ``C/N`` then carry the next-order term). Where the pure power is
    rejected while every point is within 3 SE of ``C/N``, the next-order term is named: "as predicted" alone
    read as a contradiction of the rejection just stated."""
    agrees = _expansion_agrees(expansion, pred)
    listed = ", ".join(f"{n:,}" for n in off)
    if not off:
        if pure_power_rejected and agrees:
            return "converges at O(1/N) with the predicted constant, the pure power's rejection carried by D/N^2"
        return "converges at O(1/N) as predicted"
    if agrees:
        return (f"converges at O(1/N) with the predicted constant; at N = {listed} the gap is more than 3 SE from "
                "C/N, the next-order D/N^2")
    return f"differs from the first-order prediction by more than 3 SE at N = {listed}: O(1/N) is not confirmed there"


def _law_summary(fn: Mapping[str, Any]) -> str:
    """One clause for the summary: whether the law of ``Q_T`` converges at the predicted O(1/N), and where resolved."""
    rows = [r for r in fn.get("rows") or [] if finite(r.get("Q_T_var_gap_se"))]
    pulls = (fn.get("law") or {}).get("var_gap_pulls")
    if not rows or not pulls:
        return ""
    resolved = [r["N"] for r in rows if abs(r["Q_T_var_gap"]) > EFFECT_SES * r["Q_T_var_gap_se"]]
    off = [int(n) for n, z in pulls.items() if abs(z) > 3.0]
    where = ("resolved at N = " + ", ".join(f"{n:,}" for n in resolved)) if resolved else "resolved at no N"
    law = fn.get("law") or {}
    expansion = (law.get("rate_fit") or {}).get("expansion")
    how = ("within 3 SE of the predicted C/N at every N" if not off
           else "falling like the predicted C/N plus a next-order term" if expansion and law.get("prediction")
           and _expansion_agrees(expansion, law["prediction"])
           else "more than 3 SE from the predicted C/N at N = " + ", ".join(f"{n:,}" for n in off))
    return (f" The spread of the crowd's terminal mean inventory exceeds the MFG's by a variance gap {how} "
            f"({where}).")


def finite_n_sentences(fn: Mapping[str, Any]) -> list[str]:
    """Plain sentences of the finite-N subsection: the rate over every N, what is resolved, epsilon-Nash."""
    out = []
    fit = fn.get("rate_fit")
    if fit:
        lo, hi = fit["exponent_interval"]
        interval = f"{'unbounded' if lo is None else num(lo, 3)} to {'unbounded' if hi is None else num(hi, 3)}"
        verdict = _power_verdict(fit["p_value_one_over_N"])
        out.append(f"Mean-cost gap fitted over every N with the Monte Carlo errors as weights: gap = C N^-p with "
                   f"p = {plus_minus(fit['exponent'], fit['exponent_se'])} (68% profile interval {interval}), "
                   f"C = {plus_minus(fit['constant'], fit['constant_se'])}, chi-square {num(fit['chi2'], 3)} "
                   f"on {fit['dof']} degrees of freedom (p-value {num(fit['p_value_fit'], 2)}); the O(1/N) hypothesis (p = 1) against it: likelihood-ratio "
                   f"p-value {num(fit['p_value_one_over_N'], 2)}, {verdict}.")
        expansion = fit.get("expansion")
        if expansion:
            fits = "fits" if expansion["p_value"] >= 0.05 else "does not fit"
            out.append(f"With the next term of the gap's expansion in 1/N, gap = C/N + D/N^2 (weighted, every N): "
                       f"C = {plus_minus(expansion['constant'], expansion['constant_se'])}, "
                       f"D = {plus_minus(expansion['next_order'], expansion['next_order_se'])}, chi-square "
                       f"{num(expansion['chi2'], 3)} on {expansion['dof']} degrees of freedom (p-value "
                       f"{num(expansion['p_value'], 2)}): O(1/N) with its next-order term {fits} the data.")
        out.append(_resolution_sentence(fn, fit))
    law = law_sentence(fn)
    if law:
        out.append(law)
    env = fn.get("epsilon") or []
    if env:
        out.append("Epsilon-Nash, environment part (the deviator's own influence on the mean flow and mean "
                   "inventory left out; two grids, ± bound): "
                   + "; ".join(f"N = {e['N']:,}: {plus_minus(e['epsilon'], e['error_bound'])}" for e in env) + ".")
    full = fn.get("epsilon_complete") or []
    if full:
        def each(key):
            return "; ".join(f"N = {e['N']:,}: {_played(e, key)}" for e in full)

        agree = [e for e in full if e["confirmed"]]
        apart = [e for e in full if not e["confirmed"]]
        verdict = []
        if agree:
            verdict.append("agrees within 3 SE plus the time errors at N = " + ", ".join(f"{e['N']:,}" for e in agree))
        if apart:
            verdict.append("differs at " + "; ".join(
                f"N = {e['N']:,} by {_played(e, 'difference')}" for e in apart)
                + " (the identity holds only for the exact value of the players' strategy; the played gain "
                  "does not rest on it)")
        out.append("Epsilon-Nash with the deviator's own influence (its flow in the realised cost and in the mean "
                   "inventory), carried to continuous time (value ± Monte Carlo SE ± time-discretisation error): the "
                   "deviation greedy against the value of the MFG strategy, played in the simulated game against the "
                   f"N - 1 others on the same information as theirs, gains {each('epsilon')}, a lower bound on "
                   "epsilon (the best response gains at least this). The performance-difference prediction of the "
                   f"same gain from the value function, {each('predicted')}, " + "; ".join(verdict)
                   + " (docs/mfg.md section 10).")
        best = best_response_sentence(full)
        if best:
            out.append(best)
    return out


def _played(e: Mapping[str, Any], key: str) -> str:
    """``e[key] ± SE ± time error`` of a played figure of ``epsilon_complete`` (its ``_se`` and ``_time_error``)."""
    return plus_minus_both(e[key], e[key + "_se"], e[key + "_time_error"])


def _percent_more(b: Mapping[str, Any]) -> str:
    """``100 difference / greedy`` of a ``best_response`` block with its error, the two grid errors added
    (linear propagation; ``greedy`` > 0)."""
    g, d = b["greedy"], b["difference"]
    return plus_minus(100.0 * d / g, 100.0 * (b["difference_error"] + abs(d) * b["greedy_error"] / g) / g)


def _mfg_value_text(value: Mapping[str, Any], check: Mapping[str, Any]) -> str:
    """The MFG value with the error the N = 10,000 check allows (issue 16: its estimate; the bound where the
    estimate is not held, ``check["allowed_by"]``) and the other one named."""
    estimate, bound = value.get("error"), value["error_bound"]
    if check.get("allowed_by") == "estimate":
        return (f"{with_error(value['value'], estimate)} (the solver's error estimate, which the check below allows; "
                f"its error bound is {num(bound, 2)})")
    held = finite(estimate) and not value.get("unresolved")
    return (f"{with_error(value['value'], bound)} (the solver's error bound, which the check below allows"
            + (f"; its error estimate is {num(estimate, 2)})" if held else "; its error estimate is not held)"))


def best_response_sentence(full: Sequence[Mapping[str, Any]]) -> str | None:
    """The best response's gain on the ``(t, Q, x)`` grid per N (``epsilon_complete[...]["best_response"]``,
    :mod:`mfg_finance.mfg.best_response`) beside the greedy deviation's on the same grid, and the interval
    ``[played greedy gain, best response's gain]`` that holds epsilon_N; ``None`` without those blocks."""
    rows = [e for e in full if e.get("best_response")]
    if not rows:
        return None
    parts, bounds, agree, apart = [], [], [], []
    for e in rows:
        b = e["best_response"]
        # the same greedy deviation twice: on the grid and played in the game (a check of both)
        allowed = 3.0 * e["epsilon_se"] + e["epsilon_time_error"] + b["greedy_error"]
        if abs(b["greedy"] - e["epsilon"]) <= allowed:
            agree.append(f"N = {e['N']:,}")
        else:
            apart.append(f"at N = {e['N']:,} they differ by {plus_minus(b['greedy'] - e['epsilon'], allowed)} (the ± "
                         "3 SE plus the time and grid errors)")
        ratio = f", {_percent_more(b)}% more" if b["greedy"] > 0.0 else ""
        best = plus_minus(b["epsilon"], b["epsilon_error"])
        parts.append(f"N = {e['N']:,}: {best} against "
                     f"{plus_minus(b['greedy'], b['greedy_error'])} for the greedy deviation on the same "
                     f"grid (difference {plus_minus(b['difference'], b['difference_error'])}{ratio})")
        # bracketed unless the played greedy gain exceeds the best response's by more than 3 SE and both errors
        margin = 3.0 * e["epsilon_se"] + e["epsilon_time_error"] + b["epsilon_error"]
        if e["epsilon"] - b["epsilon"] <= margin:
            bounds.append(f"between {_played(e, 'epsilon')} (greedy, played) and {best} (best response) at "
                          f"N = {e['N']:,}")
        else:
            bounds.append(f"is not bracketed at N = {e['N']:,} (the played greedy gain {_played(e, 'epsilon')} "
                          f"exceeds the best response's {best} by "
                          f"{plus_minus(e['epsilon'] - b['epsilon'], margin)}, the ± 3 SE plus the time and grid "
                          "errors)")
    said = ([f"agree at {', '.join(agree)} (within 3 SE plus the time and grid errors)"] if agree else []) + apart
    return ("The best response (the deviator's optimal strategy against the N - 1 others, its own influence "
            "included), computed on a (time, mean inventory, own minus mean inventory) grid with a discretisation "
            "error estimate, gains " + "; ".join(parts) + ". The greedy deviation's gain on the grid and its played "
            "value" + (" " if agree else ": ") + "; ".join(said) + ". So epsilon lies " + "; ".join(bounds)
            + " (docs/mfg.md section 10).")


def _speed_change(rows: Sequence[Mapping[str, Any]], label: str) -> str | None:
    """The speed's change (:func:`describe_change`), unless the mean terminal inventory it is read from
    (``-ln(E[Q_T] / Q_0) / T``) is within :data:`EFFECT_SES` Monte Carlo SEs of zero at either end: the log of a
    mean whose sign is not resolved has no meaningful SE (the delta method's ``SE / (T E[Q_T])`` assumes a small
    relative SE), so the half-life of the same mean path is described instead."""
    loose = []
    for row in (rows[0], rows[-1]):
        q, _, se = _mes(row.get("mean_inventory_terminal"))
        if mean_within_noise(q, se):
            loose.append(f"{num(q, 2)} (SE {num(se, 2)}) at sigma0 = {num(row.get('sigma0'), 3)}")
    if not loose:
        return describe_change(rows, "liquidation_speed", label, " per day")
    half = describe_change(rows, "liquidation_half_life", "the half-life of the crowd's mean inventory", " days")
    return (f"{label} is not resolved by the simulated paths (the mean terminal inventory it is read from, "
            f"{' and '.join(loose)}, is within {EFFECT_SES:g} SE of zero)" + (f"; {half}" if half else ""))


def _calibrated_spread(metrics: Sequence[Mapping[str, Any]]) -> str:
    """What common noise does at the calibrated sigma0 (the first common-noise scenario): its expected cost and
    the spread across shocks of the price change and of the crowd's terminal mean inventory (5-95% of paths)."""
    for m in metrics:
        if m.get("kind") != "common_noise":
            continue
        o = m["outcomes"]
        spread = []
        impact, band = o.get("price_impact"), o.get("price_impact_band_5_95")
        if isinstance(impact, Mapping) and band:
            spread.append(f"the price moves over the horizon by {num(band[0], 2)} to {num(band[1], 2)} BRL (mean "
                          f"{_estimated(impact)})")
        if o.get("Q_T_band_5_95"):
            lo, hi = o["Q_T_band_5_95"]
            spread.append(f"the crowd's mean inventory ends between {num(lo, 2)} and {num(hi, 2)} units")
        cost = m["expected_cost"]
        return (f"At the calibrated sigma0 = {num(m['params']['sigma0'], 3)} (scenario {m['scenario']}) the expected "
                f"cost is {_cost_cell(cost)}"
                + (f", and across shocks (5-95% of the simulated paths) {' and '.join(spread)}" if spread else "")
                + "; the fan charts in section 6b show these spreads over time.")
    return "The fan charts show the spread of outcomes across shocks."


def _mix_changes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a change of the types' weights does from the first to the last sweep row: the crowd's average cost,
    speed and price impact (:func:`describe_change`) and each type's own cost (the average also moves with the
    mix itself)."""
    changes = [c for c in (describe_change(rows, "expected_cost", "the average cost"),
                           describe_change(rows, "liquidation_speed", "the crowd's liquidation speed", " per day"),
                           describe_change(rows, "price_impact", "the price impact", " BRL")) if c]
    own = [f"{k.removeprefix('cost_')} {with_error(*_mes(rows[0][k]))} to {with_error(*_mes(rows[-1][k]))}"
           for k in rows[0] if k.startswith("cost_") and rows[-1].get(k) is not None]
    if own:     # the average moves with the mix; say what happens to each type's own cost
        changes.append("each type's own cost goes " + ", ".join(own)
                       + " (the average also moves with the mix of the types)")
    return changes


def systemic_summary(section: Mapping[str, Any]) -> str | None:
    """One plain-language paragraph: what common noise and urgent agents change, and the finite-N check."""
    parts = []
    raw = (section.get("sweeps") or {}).get("raw") or {}
    s0 = raw.get("market_share") or raw.get("sigma0")
    if s0 and len(s0) >= 2:
        what = ("making a larger share of the same total noise common to all agents"
                if "market_share" in raw else "adding noise common to all agents")
        changes = [c for c in (describe_change(s0, "expected_cost", "the expected liquidation cost"),
                               _speed_change(s0, "the speed of the crowd's mean inventory"),
                               describe_change(s0, "price_impact", "the mean price impact", " BRL")) if c]
        parts.append(f"Market-wide shocks {_CONVENTION}: {what} "
                     f"(sigma0 from {num(s0[0]['sigma0'], 3)} to {num(s0[-1]['sigma0'], 3)}): " + "; ".join(changes)
                     + ". " + _calibrated_spread(section.get("metrics") or []))
    sh = raw.get("urgent_share")
    if sh and len(sh) >= 2:
        parts.append(f"A more urgent crowd{'' if parts else ' ' + _CONVENTION}: raising the share of urgent "
                     f"liquidators from {num(sh[0]['urgent_share'], 2)} to {num(sh[-1]['urgent_share'], 2)}: "
                     + "; ".join(_mix_changes(sh)) + ".")
    mix = raw.get("type_weights")
    if mix and len(mix) >= 2:
        names = " / ".join(k.removeprefix("cost_") for k in mix[0] if k.startswith("cost_"))
        parts.append(f"Another mix of agent types{'' if parts else ' ' + _CONVENTION}: from weights "
                     f"{mix[0]['type_weights']} to {mix[-1]['type_weights']}" + (f" (of {names})" if names else "")
                     + (f", the first and last of {len(mix)} mixes" if len(mix) > 2 else "") + ": "
                     + "; ".join(_mix_changes(mix)) + ".")
    fn = section.get("finite_n")
    if fn:
        check = fn["largest_N_check"]
        fit = fn.get("rate_fit")
        rate = ""
        if fit:
            # what the section says in full (finite_n_sentences): the fit's quality and the N it does not hold at
            off = [r["N"] for r, z in _unresolved_pulls(fn, fit) if abs(z) > 2.0]
            caveats = ([f"a poor fit, chi-square p-value {num(fit['p_value_fit'], 2)}"]
                       if fit["p_value_fit"] < 0.05 else [])
            if off:
                caveats.append(f"at N = {', '.join(f'{n:,}' for n in off)} the gap is more than 2 SE from C/N, so "
                               "O(1/N) is not confirmed there")
            if fit.get("p_value_one_over_N", 1.0) < 0.05:
                expansion = fit.get("expansion") or {}
                caveats.append(f"a pure power N^-1 is rejected over this range (likelihood-ratio p-value "
                               f"{num(fit['p_value_one_over_N'], 2)})" + (
                                   f", while C/N + D/N^2 fits (chi-square p-value {num(expansion['p_value'], 2)})"
                                   if expansion.get("p_value", 0.0) >= 0.05 else ""))
            rate = (f" (gap falling like N^-p, p = {plus_minus(fit['exponent'], fit['exponent_se'])}, fitted over "
                    "every N; O(1/N) expected" + "".join(f"; {c}" for c in caveats) + ")")
        parts.append(f"A simulated game of N players using the MFG strategy approaches the MFG's predicted cost as N "
                     f"grows" + rate
                     + f"; at N = {check['N']:,} the difference, {num(check['abs_difference'], 2)}, is "
                     + ("within" if check["holds"] else "OUTSIDE")
                     + f" 3 Monte Carlo standard errors plus the solver's error "
                     + ("estimate" if check.get("allowed_by") == "estimate" else "bound")
                     + f" ({num(check['allowed'], 2)})."
                     + _law_summary(fn))
    return " ".join(parts) if parts else None
