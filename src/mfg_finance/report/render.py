"""Build the self-contained HTML report from the pipeline's artefacts (Jinja2, figures embedded).

:func:`build_context` reads artefacts and turns them into numbers, tables and embedded images;
the templates in ``workflow/templates/`` only lay them out (no computation in templates).
Helpers live beside it: :mod:`.formatting` (numbers, tables, figures), :mod:`.wall_times`
(Snakemake's benchmark files) and :mod:`.summary` (the plain-language summary).
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_json, read_parquet, read_yaml, write_text
from mfg_finance.mfg.outcomes import half_life
from mfg_finance.report.systemic import systemic_section
from mfg_finance.report.formatting import (DEFAULT_SECONDS_PER_DAY, REPRO_METRICS, duration, embed_png, figure, finite,
                                           html_table, html_tables_fitting, num)
from mfg_finance.report.uncertain import plus_minus, with_error
from mfg_finance.report.data_section import data_section
from mfg_finance.report.equilibrium_section import equilibrium_section
from mfg_finance.report.multi_asset_section import multi_asset_section
from mfg_finance.report.intraday import intraday_section
from mfg_finance.report.replay_section import replay_context
from mfg_finance.report.summary import summary_paragraphs
from mfg_finance.report.reproduction_notes import review, review_sentence
from mfg_finance.report.wall_times import clock, for_display as wall_times_for_display
from mfg_finance.report.wall_times import rule_wall_times, wall_time_per_rule


def parameter_table(document: Mapping[str, Any], parameters: Mapping[str, Any]) -> pd.DataFrame:
    """One row per calibrated parameter: value, unit, source, statistic and formula."""
    rows = [{"parameter": name, "value": entry["value"], "unit": entry.get("unit", ""),
             "source": entry.get("source", ""), "statistic": entry.get("statistic", ""),
             "formula": entry.get("formula", "")} for name, entry in parameters.items()]
    return pd.DataFrame(rows, columns=["parameter", "value", "unit", "source", "statistic", "formula"])


# -- sections ------------------------------------------------------------------------------------
def _scenario_name(path: str | Path) -> str:
    return Path(path).parent.name


def _scenario(name: str, metrics: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
              figures: list, seconds_per_day: float | None) -> dict[str, Any]:
    t, q = arrays["t"], arrays["q"]
    mean_q = np.trapezoid(arrays["density"] * q, q, axis=1)
    eta = arrays["eta"]
    params = metrics.get("config", {}).get("params", {})
    eta0 = params.get("eta0")
    price = arrays["price"] if "price" in arrays else None
    p_ref = metrics.get("config", {}).get("price", {}).get("p_ref")
    outcomes = metrics.get("outcomes", {})
    errors = metrics.get("outcome_errors") or {}
    # the solver's outcomes (sums over the nodes) when recorded, else the arrays' trapezoid
    unresolved = list((metrics.get("accuracy") or {}).get("unresolved") or [])

    def reported(key: str, grid_value: float) -> float:
        """The reported (extrapolated) outcome of metrics.json; the arrays' own value only when it has none."""
        value = outcomes.get(key)
        return float(value) if finite(value) else grid_value

    # the solver's outcomes (sums over the nodes) when recorded, else the arrays' trapezoid
    t_half = outcomes["liquidation_half_life"] if "liquidation_half_life" in outcomes else half_life(t, mean_q)
    t_half = math.nan if t_half is None else float(t_half)
    eta_time_mean = reported("eta_mean", float(np.trapezoid(eta, t) / (t[-1] - t[0])))   # steps not uniform
    eta_max = reported("eta_max", float(eta.max()))
    scenario = {
        "name": name, "metrics": metrics, "figures": figures,
        "mean_q0": reported("mean_inventory_initial", float(mean_q[0])),
        "mean_qT": reported("mean_inventory_terminal", float(mean_q[-1])),
        "horizon_days": float(t[-1] - t[0]),
        "horizon_text": duration(float(t[-1] - t[0]), seconds_per_day),
        "half_life_days": t_half,
        "half_life_text": duration(t_half, seconds_per_day),
        "flow0": reported("mean_flow_initial", float(arrays["mean_flow"][0])),
        "eta0": float(eta0) if finite(eta0) else math.nan,
        "eta_min": reported("eta_min", float(eta.min())), "eta_max": eta_max,
        "eta_uplift_mean_pct": 100.0 * (eta_time_mean / eta0 - 1.0) if finite(eta0) and eta0 else math.nan,
        "total_cost": outcomes.get("total_cost"),
        # estimated discretisation errors (mfg_finance.mfg.accuracy; None when not estimated)
        "half_life_error": errors.get("liquidation_half_life"),
        "total_cost_error": errors.get("total_cost"),
        "liquidation_speed": outcomes.get("liquidation_speed"),
        "liquidation_speed_error": errors.get("liquidation_speed"),
        "unresolved": unresolved,
        "outcome_table": _outcome_table(outcomes, errors, unresolved),
        "price_start": None, "price_end": None, "p_ref": None,
    }
    scenario["eta_uplift_max_pct"], scenario["eta_uplift_max_error_pct"] = _peak_uplift(
        params, outcomes, errors, eta_max)
    scenario["liquidated_pct"] = (100.0 * (1.0 - scenario["mean_qT"] / scenario["mean_q0"])
                                  if scenario["mean_q0"] else math.nan)

    def error_of(key: str, scale: float = 1.0) -> float | None:
        """The estimated error of a reported outcome (times ``scale``); None without one (not estimated)."""
        value = errors.get(key) if key in outcomes else None
        return float(value) * scale if finite(value) else None

    # what the summary states besides the glance table, each with its estimated error (the initial mean has none:
    # the initial law is projected on the nodes with exactly the configured mean, section 2a of docs/mfg.md)
    scenario.update({
        "held_pct": (100.0 * abs(scenario["mean_qT"] / scenario["mean_q0"]) if scenario["mean_q0"] else math.nan),
        "held_error_pct": (error_of("mean_inventory_terminal", 100.0 / abs(scenario["mean_q0"]))
                           if scenario["mean_q0"] else None),
        "flow0_error": error_of("mean_flow_initial"),
        "eta_uplift_mean_error_pct": (error_of("eta_mean", 100.0 / eta0) if finite(eta0) and eta0 else None),
    })
    # what the text and the glance table show: each reported outcome with its estimated error
    scenario["shown"] = {key: with_error(scenario[field] if field else outcomes.get(key),
                                         errors.get(key) if key in outcomes else None, unresolved=key in unresolved)
                         for key, field in REPORTED_OUTCOMES.items()}
    if price is not None:
        p_ref = float(p_ref) if finite(p_ref) else float(price[-1])
        # the reported (extrapolated) prices and impact of metrics.json with their errors; the arrays' only without
        start, end = reported("price_initial", float(price[0])), reported("price_terminal", float(price[-1]))
        change = reported("price_impact", float(price[-1] - price[0]))
        errs = {"start": error_of("price_initial"), "end": error_of("price_terminal"), "change": error_of("price_impact")}
        deviation = price - p_ref
        worst = int(np.argmax(np.abs(deviation)))
        # the largest gap: a reported outcome when it is at an end of the path, else the grid path's own value
        gap, gap_error, gap_on_grid = ((start - p_ref, errs["start"], False) if worst == 0 else
                                       (end - p_ref, errs["end"], False) if worst == price.size - 1 else
                                       (float(deviation[worst]), None, True))

        def bp(value):
            return None if value is None else 1e4 * value / p_ref

        scenario.update({
            "price_start": start, "price_end": end, "p_ref": p_ref,
            "price_start_error": errs["start"], "price_end_error": errs["end"],
            "price_change": change, "price_change_error": errs["change"],
            "price_change_bp": bp(change), "price_change_error_bp": bp(errs["change"]),
            "price_gap_max": gap, "price_gap_max_bp": bp(gap), "price_gap_max_error": gap_error,
            "price_gap_max_error_bp": bp(gap_error), "price_gap_max_on_grid": gap_on_grid,
            "price_gap_end": end - p_ref, "price_gap_end_bp": bp(end - p_ref), "price_gap_end_error_bp": bp(errs["end"]),
        })
    return scenario


def _outcome_table(outcomes: Mapping[str, Any], errors: Mapping[str, Any], unresolved) -> str | None:
    """Each outcome of ``metrics.json`` with its estimated discretisation error (None without outcomes)."""
    rows = [{"outcome": key, "value": value, "estimated error": errors.get(key),
             "resolved by the grid": key not in unresolved}
            for key, value in outcomes.items() if value is not None]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    frame["estimated error"] = pd.to_numeric(frame["estimated error"], errors="coerce")
    return html_table(frame, digits=4)


def _peak_uplift(params: Mapping[str, Any], outcomes: Mapping[str, Any], errors: Mapping[str, Any],
                 eta_max: float) -> tuple[float, float | None]:
    """``(100 (eta_peak / eta0 - 1), its error)`` in %: how far the cost rises above ``eta0`` where the crowd trades
    fastest. The crowd's drive ``h2 Q`` falls monotonically (``d(h2 Q)/dt = -phi Q``), so the cost peaks at the start,
    ``eta0 + eta1 |m_0|``: stated from the initial flow ``m_0`` (closed form on the cost path, the summary's "at the
    start" figure; error ``eta1 est(m_0)``), so the two figures of the sentence agree, rather than from the grids'
    extrapolated maximum (``eta_max``, whose value may sit off it by more than its own estimate). Without ``m_0``
    or ``eta1``: ``eta_max`` with its estimated error."""
    eta0, eta1, flow0 = params.get("eta0"), params.get("eta1"), outcomes.get("mean_flow_initial")
    if not (finite(eta0) and eta0):
        return math.nan, None
    if finite(eta1) and finite(flow0):
        error = errors.get("mean_flow_initial")
        return 100.0 * eta1 * abs(flow0) / eta0, (100.0 * eta1 * float(error) / eta0 if finite(error) else None)
    error = errors.get("eta_max") if "eta_max" in outcomes else None
    return 100.0 * (eta_max / eta0 - 1.0), (100.0 * float(error) / eta0 if finite(error) else None)


#: outcomes of metrics.json the scenario text and the glance table show (with their errors, ``shown``)
#: (key of metrics.json: the scenario's field holding it, or None)
REPORTED_OUTCOMES = {"mean_inventory_initial": "mean_q0", "mean_inventory_terminal": "mean_qT",
                     "liquidation_half_life": "half_life_days", "total_cost": "total_cost", "eta_min": "eta_min",
                     "eta_max": "eta_max", "price_impact": None, "price_initial": None, "price_terminal": None}


def _scenario_table(scenarios: list[dict[str, Any]], seconds_per_day: float | None) -> str:
    """One row per scenario; every outcome is the reported one of metrics.json with its estimated error."""
    rows = []
    for sc in scenarios:
        m = sc["metrics"]
        outcomes, errors = m.get("outcomes") or {}, m.get("outcome_errors") or {}
        unresolved = set(sc["unresolved"])

        def shown(key: str, value, scale: float = 1.0) -> str:
            # value: the scenario's (the reported outcome, or the arrays' when metrics.json has none)
            return with_error(value, errors.get(key) if key in outcomes else None, scale=scale,
                              unresolved=key in unresolved)

        minutes = seconds_per_day / 60 if seconds_per_day else math.nan
        rows.append({
            "scenario": sc["name"], "converged": bool(m.get("converged")), "iterations": m.get("iterations"),
            "residual": m.get("residual"),
            "mean inventory t=0 (units)": shown("mean_inventory_initial", sc["mean_q0"]),
            "mean inventory T (units)": shown("mean_inventory_terminal", sc["mean_qT"]),
            "time to halve (trading days)": shown("liquidation_half_life", sc["half_life_days"]),
            "time to halve (min)": shown("liquidation_half_life", sc["half_life_days"], minutes),
            "max eta / eta0": (shown("eta_max", sc["eta_max"], 1.0 / sc["eta0"])
                               if finite(sc["eta0"]) and sc["eta0"] else "—"),
            "total cost (cost units)": shown("total_cost", sc["total_cost"]),
            "price change p_T - p_0 (BRL)": shown("price_impact", outcomes.get("price_impact",
                                                                               sc.get("price_change"))),
            "largest gap p - p_ref (bp)": sc.get("price_gap_max_bp", np.nan),
        })
    # "value ± error" cells are wide: consecutive narrower tables keep every column on the page
    return html_tables_fitting(pd.DataFrame(rows), ["scenario"], max_columns=5, digits=4)


#: parameters of a solve shown in the report, as (section of the solver config, key)
SOLVE_PARAMETERS = [("params", k) for k in ("sigma", "eta0", "eta1", "phi", "gamma_T", "m0_mean", "m0_std")] + \
                   [("price", "kappa"), ("price", "p_ref")]


def parameters_used(scenarios: list[dict[str, Any]], calibrated: Mapping[str, float]) -> pd.DataFrame:
    """The parameters each scenario was solved with, and where each came from.

    A value equal to the calibrated one is marked ``calibrated``; any other value of a calibrated
    parameter is a config override (``mfg.params``, the scenario or a sweep), marked ``config``, so a
    reader sees that the solve did not use the calibration table's value.
    """
    rows = []
    for section, key in SOLVE_PARAMETERS:
        row = {"parameter": key}
        for sc in scenarios:
            block = sc["metrics"].get("config", {}).get(section, {})
            value = block.get(key)
            if section == "price" and not block.get("enabled"):
                row[sc["name"]] = "— (price off)"
                continue
            if not finite(value):
                row[sc["name"]] = "—"
                continue
            origin = ("calibrated" if key in calibrated and math.isclose(float(value), calibrated[key], rel_tol=1e-12)
                      else "config" if key in calibrated else "config, not calibrated")
            row[sc["name"]] = f"{num(value, 4)} ({origin})"
        rows.append(row)
    return pd.DataFrame(rows, columns=["parameter", *[sc["name"] for sc in scenarios]])


def _mfg_section(inputs, seconds_per_day: float | None, calibrated: Mapping[str, float]) -> dict[str, Any]:
    scenarios = []
    for metrics_path, npz_path in zip(inputs["mfg_metrics"], inputs["mfg_solutions"]):
        name = _scenario_name(metrics_path)
        metrics = read_json(metrics_path)
        with np.load(npz_path) as data:
            arrays = {key: data[key] for key in data.files}
        figs = [figure(p) for p in inputs["mfg_figures"] if _scenario_name(p) == name]
        scenarios.append(_scenario(name, metrics, arrays, figs, seconds_per_day))
    _drop_repeated_figures(scenarios)
    return {"scenarios": scenarios, "table": _scenario_table(scenarios, seconds_per_day),
            "parameters": html_table(parameters_used(scenarios, calibrated), classes="")}


def _quotes_through_mid(mm_doc: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """One sentence per ticker whose quotes cross the mid at t = 0 (as the quotes figure shows them)."""
    from mfg_finance.calibration import ticker_values
    from mfg_finance.market_making.market import MarketParameters
    from mfg_finance.market_making.quote_checks import describe, quotes_through_mid

    horizon_s = float(settings.get("horizon_s", 600.0))
    sentences = []
    for ticker in mm_doc.get("tickers", {}):
        market = MarketParameters.from_mapping(dict(ticker_values(mm_doc, ticker),
                                                    order_size=settings.get("order_size", 1)))
        sentence = describe(ticker, quotes_through_mid(market, horizon_s))
        if sentence:
            sentences.append(sentence)
    return sentences


def _drop_repeated_figures(scenarios: list[dict[str, Any]]) -> None:
    """Show a figure once: a scenario's figure with the same bytes as an earlier scenario's is replaced by
    a mention (``same_figures``: title and the scenario where it is shown). With the endogenous price, for
    instance, only the flow/price figure differs: the price does not enter the traders' problem."""
    shown: dict[str, str] = {}
    for sc in scenarios:
        kept, same = [], []
        for fig in sc["figures"]:
            if fig["src"] in shown:
                same.append({"title": fig["title"], "scenario": shown[fig["src"]]})
            else:
                shown[fig["src"]] = sc["name"]
                kept.append(fig)
        sc["figures"], sc["same_figures"] = kept, same


def _exact_zero(row: pd.Series, col: str) -> bool:
    """A sweep cell that is zero by construction: value, error and SE all exactly 0 (e.g. the common part of the
    terminal std without common noise, :func:`mfg_finance.mfg.systemic.run_sweep_point`), not round-off."""
    parts = [row.get(c) for c in (col, f"{col}_error", f"{col}_se") if c in row.index]
    return len(parts) > 1 and all(pd.notna(v) and float(v) == 0.0 for v in parts)


def _sweep_display(table: pd.DataFrame) -> pd.DataFrame:
    """A sweep table as the report shows it: each outcome beside its uncertainty in one cell (``value ± error``,
    ``(SE se)`` for a Monte Carlo one, ``(unresolved)`` when the point lists it), not in ``_error``/``_se``
    columns several tables away; ``0 (exact)`` where value, error and SE are all 0 (:func:`_exact_zero`). A
    converged point with no iteration (a common-noise solve: no fixed point)
    shows a dash there, not 0."""
    flags = [c for c in table.columns if c.endswith("unresolved")]      # "unresolved", "type_<name>_unresolved"

    def flagged(col: str, row) -> bool:
        own = [f for f in flags if col.startswith(f.removesuffix("unresolved"))]
        where = max(own, key=len) if own else None                        # the type's own list over the crowd's
        key = col.removeprefix(where.removesuffix("unresolved")) if where else col
        return bool(where) and key in str(row[where] or "").split(",")

    out = table.copy()
    for col in table.columns:
        error, se = f"{col}_error", f"{col}_se"
        if col.startswith("param_") or (error not in table.columns and se not in table.columns):
            continue
        cells = []
        for _, row in table.iterrows():
            text = "0 (exact)" if _exact_zero(row, col) else with_error(row[col], row.get(error), row.get(se))
            cells.append(text + (" (unresolved)" if text != "—" and flagged(col, row) else ""))
        out[col] = cells
        out = out.drop(columns=[c for c in (error, se) if c in out.columns])
    out = out.drop(columns=[f for f in flags if not table[f].fillna("").astype(str).str.len().any()])
    if {"iterations", "converged"} <= set(table.columns):
        out["iterations"] = ["—" if ok and int(it) == 0 else int(it)
                             for ok, it in zip(table["converged"].astype(bool), table["iterations"])]
    return out


def _axis_text(name: str, column: pd.Series) -> str:
    """How a sweep axis is said in a caption: ``phi from 0.005 to 0.5``; a weight-vector axis (text cells,
    :func:`mfg_finance.sweeps.axis_label`) lists its vectors."""
    if pd.api.types.is_numeric_dtype(column):
        return f"{name} from {num(column.min())} to {num(column.max())}"
    return f"{name} in {{{'; '.join(sorted(column.astype(str).unique()))}}}"


def _sweep_section(inputs) -> list[dict[str, Any]]:
    sweeps = []
    for table_path, figure_path in zip(inputs["sweep_tables"], inputs["sweep_figures"]):
        table = read_parquet(table_path)
        param_cols = [c for c in table.columns if c.startswith("param_")]
        params = [c.removeprefix("param_") for c in param_cols]
        converged = table["converged"].astype(bool)
        failed = table.loc[~converged, param_cols + ["iterations", "residual"]]
        failed = failed.rename(columns={c: c.removeprefix("param_") for c in param_cols})
        shown = _sweep_display(table).rename(columns={c: c.removeprefix("param_") for c in param_cols})
        sweeps.append({
            "name": Path(table_path).stem, "params": params, "n_points": len(table),
            "n_failed": int((~converged).sum()), "figure": figure(figure_path),
            "failed_table": html_table(failed) if len(failed) else None,
            "table": html_tables_fitting(shown, params, max_columns=3,
                                         row_classes=["" if ok else "failed" for ok in converged]),
            "axes_text": ", ".join(_axis_text(p, table[c]) for p, c in zip(params, param_cols)),
            "frame": table,
        })
    return sweeps


def _backtest_table(backtests: pd.DataFrame) -> str:
    rows = []
    for row in backtests.itertuples():
        rows.append({
            "ticker": row.ticker, "strategy": row.strategy, "paths": row.n_paths,
            "mean PnL (BRL)": plus_minus(row.pnl_mean, row.pnl_mean_se),
            "PnL std (BRL)": plus_minus(row.pnl_std, row.pnl_std_se),
            "Sharpe = mean/std": plus_minus(row.sharpe, row.sharpe_se),
            "PnL 5% quantile (BRL)": plus_minus(row.pnl_p5, row.pnl_p5_se),
            "median PnL (BRL)": plus_minus(row.pnl_p50, row.pnl_p50_se),
            "PnL 95% quantile (BRL)": plus_minus(row.pnl_p95, row.pnl_p95_se),
            "CVaR 5% (BRL)": plus_minus(row.pnl_cvar5, row.pnl_cvar5_se),
            "mean |q_T| (lots)": plus_minus(row.mean_abs_final_inventory, row.mean_abs_final_inventory_se),
            "max |q| (lots)": row.max_abs_inventory,
            "trades / path": num(row.trades_mean, 4),
            "bid fills / s": plus_minus(row.bid_fill_rate_per_s, row.bid_fill_rate_per_s_se),
            "ask fills / s": plus_minus(row.ask_fill_rate_per_s, row.ask_fill_rate_per_s_se),
            "mean spread (BRL)": num(row.mean_spread, 3),
        })
    return html_tables_fitting(pd.DataFrame(rows), ["ticker", "strategy"], max_columns=6, box="fit")


def reproduction_comparison(ours: pd.DataFrame, n_paths: int | None) -> pd.DataFrame:
    """Our A&S (2008) reproduction beside the paper's Tables 1-3 (with standard errors and z-scores)."""
    from mfg_finance.market_making.reproduction import compare_with_paper

    return compare_with_paper(ours, n_paths)



def _rejects(path: str | Path | None, limit: int = 20) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {"lines": [], "n_shown": 0, "total": 0}
    text = Path(path).read_text(errors="replace").splitlines()
    lines = [line for line in text if line.strip() and not line.startswith("# ")]
    notes = [line[2:] for line in text if line.startswith("# ")]  # "FILE: N more rejected lines not listed"
    cut = sum(int(m.group(1)) for note in notes if (m := re.search(r": (\d+) more rejected lines", note)))
    return {"lines": lines[:limit] + notes, "n_shown": min(limit, len(lines)), "total": len(lines) + cut}


def _quantile_table(stats_summary: Mapping[str, Any]) -> str | None:
    quantiles = stats_summary.get("quantiles")
    if not quantiles:
        return None
    frame = pd.DataFrame(quantiles).T.reset_index().rename(columns={"index": "statistic"})
    cols = ["statistic"] + [c for c in ("n", "q05", "q25", "q50", "q75", "q95", "mean") if c in frame.columns]
    return html_table(frame[cols])


def _key_value(mapping: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": num(v, 6) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)}
            for k, v in mapping.items()]


def _run_date(run_date: str | None) -> str:
    if run_date:
        return run_date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")   # reproducible builds: a fixed date when asked for
    when = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and epoch.isdigit()
            else dt.datetime.now(dt.timezone.utc))
    return when.strftime("%Y-%m-%d %H:%M UTC")


def build_context(inputs: Mapping[str, Any], *, title: str, source: str, config: Mapping[str, Any],
                  benchmark_dir: str | Path = "results/benchmarks",
                  benchmark_rules: Mapping[str, str] | None = None,
                  run_date: str | None = None) -> dict[str, Any]:
    """Everything the template shows, read from the artefacts named in ``inputs``.

    ``inputs`` is the mapping of the ``render_report`` rule's named inputs (``REPORT_INPUTS``);
    ``rejects`` is optional. ``benchmark_rules`` maps rule names to their ``benchmark:`` patterns, to
    attribute each benchmark file to its rule.
    """
    ingest = read_json(inputs["ingest_summary"])
    asset_stats = read_parquet(inputs["asset_stats"])
    stats_summary = read_json(inputs["stats_summary"])
    mfg_doc = read_yaml(inputs["mfg_params"])
    mm_doc = read_yaml(inputs["mm_params"])
    backtests = read_parquet(inputs["backtest_stats"])
    reproduction = pd.read_csv(inputs["reproduction"])
    verification = read_json(inputs["verification_metrics"])
    refinement = pd.read_csv(inputs["verification_table"])
    provenance = read_json(inputs["provenance"])
    units = mfg_doc.get("units", {})
    seconds_per_day = units.get("seconds_per_trading_day") or DEFAULT_SECONDS_PER_DAY
    mfg = _mfg_section(inputs, seconds_per_day, parameter_values(mfg_doc))
    sweeps = _sweep_section(inputs)

    repro_n = config.get("market_making", {}).get("reproduction", {}).get("n_paths")
    compared = reproduction_comparison(reproduction, repro_n)
    z_cols = [f"{m}_z" for m, _ in REPRO_METRICS]
    z = compared[z_cols].to_numpy(dtype=float).ravel()
    repro_review = review(compared)   # every cell, whether it agrees, and why not where it does not

    included = asset_stats[asset_stats["included"]]
    excluded = asset_stats[~asset_stats["included"]]
    jobs = rule_wall_times(benchmark_dir, benchmark_rules)
    jobs = jobs[jobs["rule"] != "render_report"]   # the report's own time is written after this page
    mm_warnings = list(mm_doc.get("warnings") or [])
    order_cols = [c for c in refinement.columns if c.startswith("order_")]
    err_cols = [c for c in refinement.columns if c.startswith("err_")]
    sup_cols = [c for c in refinement.columns if c.startswith("sup_")]
    grid_cols = [c for c in ("nx", "nt", "dx", "dt", "dt_min", "iterations") if c in refinement.columns]

    context = {
        "title": title,
        "synthetic": source == "sample",
        "source": source,
        "run_date": _run_date(run_date),
        "ingest": ingest,
        "rejects": _rejects(inputs.get("rejects")),
        "n_assets": int(len(included)),
        "n_excluded": int(len(excluded)),
        "data_section": data_section(inputs, config.get("stats", {}).get("adjust", "splits")),
        "excluded_table": html_table(excluded[["ticker", "n_sessions", "exclusion_reason"]])
        if len(excluded) else None,
        "asset_table": html_tables_fitting(included.drop(columns=["included", "exclusion_reason"]), ["ticker"],
                                           max_columns=9),
        "stats_summary": stats_summary,
        "pooled": stats_summary.get("pooled_returns_included", {}),
        "quantile_table": _quantile_table(stats_summary),
        "analytics": [figure(p) for p in inputs["analytics"]],
        "mfg_doc": mfg_doc,
        "mfg_units": _key_value(units),
        "mfg_representative": mfg_doc.get("representative", {}),
        "mfg_param_table": html_table(parameter_table(mfg_doc, mfg_doc["parameters"]), classes="sortable wrap"),
        "mfg_diagnostics": _key_value(mfg_doc.get("diagnostics", {})),
        "mfg_warnings": list(mfg_doc.get("warnings") or []),
        "mm_units": _key_value(mm_doc.get("units", {})),
        "mm_warnings": mm_warnings,
        "mm_tables": {ticker: html_table(parameter_table(mm_doc, entry), classes="sortable wrap")
                      for ticker, entry in mm_doc["tickers"].items()},
        "mfg": mfg,
        "verification": verification,
        "verification_orders": [{"quantity": k, "fitted": v,
                                 "finest": verification.get("observed_order", {}).get(k)}
                                for k, v in verification.get("fitted_order", {}).items()],
        "refinement_errors": html_table(refinement[grid_cols + err_cols], digits=3),
        "refinement_orders": html_table(refinement[grid_cols[:2] + order_cols], digits=3),
        "refinement_sup": html_table(refinement[grid_cols[:2] + sup_cols], digits=3),
        "verification_figures": [figure(p) for p in inputs["verification_figures"]],
        "verification_outcomes": [{"name": name, "table": html_table(pd.DataFrame(rows), digits=4)}
                                  for name, rows in (verification.get("outcome_tables") or {}).items()],
        "sweeps": [{k: v for k, v in sw.items() if k != "frame"} for sw in sweeps],
        "backtest_table": _backtest_table(backtests),
        "backtest_full_table": html_tables_fitting(backtests, ["ticker", "strategy"], max_columns=9),
        "horizon_s": float(backtests["horizon_s"].iloc[0]) if len(backtests) else math.nan,
        "backtest_figures": [figure(p) for p in inputs["backtest_figures"]],
        "quotes_figures": [figure(p, f"Optimal quotes: {Path(p).parent.name}") for p in inputs["quotes_figures"]],
        "quotes_through_mid": _quotes_through_mid(mm_doc, config.get("market_making", {})),
        "replay": replay_context(inputs),
        "reproduction_rows": repro_review["rows"],
        "reproduction_notes": repro_review["notes"],
        "reproduction_review": repro_review,
        "reproduction_sentence": review_sentence(repro_review),
        "reproduction_n_paths": repro_n,
        "reproduction_within": {"n": int(np.isfinite(z).sum()), "z2": int((np.abs(z) <= 2).sum()),
                                "z3": int((np.abs(z) <= 3).sum())},
        # each notebook's HTML travels inside the report too, so its link works when the report is shared alone
        "notebooks": [{"name": Path(p).name, "stem": Path(p).stem, "href": _relative_href(p),
                       "embedded": base64.b64encode(Path(p).read_bytes()).decode("ascii")}
                      for p in inputs["notebooks"] if str(p).endswith(".html")],
        "provenance": provenance,
        "config_yaml": _yaml_dump(config),
        "wall_times": html_table(wall_times_for_display(wall_time_per_rule(jobs)), digits=3),
        "wall_times_jobs": html_table(wall_times_for_display(jobs), digits=3),
        "wall_total_text": clock(float(jobs["wall_s"].sum())) if len(jobs) else "—",
        "wall_total_s": float(jobs["wall_s"].sum()) if len(jobs) else math.nan,
        "n_jobs_timed": int(len(jobs)),
    }
    context["intraday"] = intraday_section(inputs.get("intraday_estimates"), inputs.get("intraday_figures", []),
                                           mfg_doc, mm_doc, inputs.get("mfg_intraday_comparison"))
    context["summary"] = summary_paragraphs(context, backtests, sweeps=sweeps, compared=compared)
    context["multi_asset"] = multi_asset_section(inputs)      # issue 18; None when nothing of it ran
    context["equilibrium"] = equilibrium_section(inputs)      # issue 17; None when not among the inputs
    context["systemic"] = systemic_section(inputs)
    if context["systemic"] and context["systemic"]["summary"]:
        context["summary"].append(context["systemic"]["summary"])
    return context


def _relative_href(path: str | Path) -> str:
    # The report lives in reports/final/; notebooks in results/notebooks/.
    return "../../" + Path(path).as_posix()


def _yaml_dump(obj) -> str:
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)


# -- rendering -------------------------------------------------------------------------------------
def render_report(context: Mapping[str, Any], template_dir: str | Path, out_path: str | Path,
                  template: str = "report.html.j2") -> None:
    """Render ``template`` with ``context``; undefined variables are errors, not blanks."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)),
                             undefined=jinja2.StrictUndefined, autoescape=jinja2.select_autoescape(["j2", "html"]))
    env.filters["num"] = num
    env.filters["plus_minus"] = plus_minus
    write_text(out_path, env.get_template(template).render(**context))


def render_from_inputs(inputs: Mapping[str, Any], out_path: str | Path, *, template_dir: str | Path,
                       title: str, source: str, config: Mapping[str, Any],
                       benchmark_dir: str | Path = "results/benchmarks",
                       benchmark_rules: Mapping[str, str] | None = None) -> None:
    context = build_context(inputs, title=title, source=source, config=config, benchmark_dir=benchmark_dir,
                            benchmark_rules=benchmark_rules)
    render_report(context, template_dir, out_path)


__all__ = ["build_context", "render_report", "render_from_inputs", "embed_png", "html_table",
           "summary_paragraphs", "rule_wall_times", "wall_time_per_rule", "half_life", "plus_minus", "num"]
