"""Build the self-contained HTML report from the pipeline's artefacts (Jinja2, figures embedded).

:func:`build_context` reads artefacts and turns them into numbers, tables and embedded images;
the templates in ``workflow/templates/`` only lay them out (no computation in templates).
:func:`summary_paragraphs` writes the plain-language summary from those numbers.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import glob
import html
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from mfg_finance.calibration import parameter_values
from mfg_finance.io import read_json, read_parquet, read_yaml, write_text

FIGURE_TITLES = {
    "return_distribution": "Distribution of daily log returns",
    "top_volatility": "Most volatile assets",
    "vol_estimators": "Volatility estimators compared",
    "liquidity_vs_volatility": "Liquidity against volatility",
    "volume_profile": "Traded volume over time",
    "value_function": "Value function u(t, q)",
    "feedback": "Optimal feedback alpha*(t, q)",
    "density": "Inventory density mu(t, q): heatmap and cuts",
    "flow_eta_price": "Mean flow, execution cost eta and price",
    "convergence": "Fixed-point residual history",
    "exact_comparison": "PDE solution against the exact LQ reference",
    "convergence_order": "Mesh refinement: error against grid size (log-log)",
    "pnl_distribution": "Final PnL per strategy",
    "inventory_distribution": "Final inventory per strategy",
}

STRATEGY_NAMES = {
    "hjb": "optimal (GLFT/HJB) quotes",
    "avellaneda_stoikov": "Avellaneda-Stoikov quotes",
    "constant": "a constant spread",
    "inventory_aware": "an inventory-aware heuristic",
    "ppo": "the PPO agent",
}

#: seconds in a B3 trading session, when the calibration does not say
DEFAULT_SECONDS_PER_DAY = 25200


# -- small formatting helpers ----------------------------------------------------------------
def embed_png(path: str | Path) -> str:
    """``data:`` URI of a PNG file, so the report needs no other file."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path}: not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure(path: str | Path, title: str | None = None) -> dict[str, str]:
    stem = Path(path).stem
    return {"src": embed_png(path), "title": title or FIGURE_TITLES.get(stem, stem.replace("_", " ")),
            "name": Path(path).name}


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def num(value, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, thousands separated; '—' when missing."""
    if not _finite(value):
        return "—"
    value = float(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.{digits}g}"
    text = f"{value:,.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return text


def plus_minus(value, se) -> str:
    """``value ± se`` with ``value`` rounded to the second significant digit of ``se``."""
    if not _finite(value):
        return "—"
    if not _finite(se) or float(se) <= 0:
        return num(value, 4)
    decimals = min(max(0, 1 - int(math.floor(math.log10(float(se))))), 10)
    return f"{float(value):.{decimals}f} ± {float(se):.{decimals}f}"


def duration(days: float, seconds_per_day: float | None) -> str:
    """A duration in trading days, said in seconds, minutes or hours of trading."""
    if not _finite(days):
        return "—"
    if not seconds_per_day:
        return f"{days:.3g} trading days"
    seconds = days * seconds_per_day
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if abs(seconds / 3600 - round(seconds / 3600)) < 1e-9:
        hours = round(seconds / 3600)
        return "1 hour" if hours == 1 else f"{hours} hours"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if days < 2:
        return f"{seconds / 3600:.1f} hours"
    return f"{days:.1f} trading days"


def _cell(value, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "—"
        return f"{value:.{digits}g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat(sep=" ")
    if value is None or value is pd.NaT:
        return "—"
    return html.escape(str(value))


def html_table(frame: pd.DataFrame, *, digits: int = 4, table_id: str | None = None,
               classes: str = "sortable", row_classes: Iterable[str] | None = None) -> str:
    """An HTML table (sortable by the report's script) with numbers shown to ``digits`` significant digits."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    row_classes = list(row_classes) if row_classes is not None else [""] * len(frame)
    body = "".join((f'<tr class="{cls}">' if cls else "<tr>")
                   + "".join(f"<td>{_cell(v, digits)}</td>" for v in row) + "</tr>"
                   for row, cls in zip(frame.itertuples(index=False, name=None), row_classes))
    attr = f' id="{table_id}"' if table_id else ""
    return f'<table class="{classes}"{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def parameter_table(document: Mapping[str, Any], parameters: Mapping[str, Any]) -> pd.DataFrame:
    """One row per calibrated parameter: value, unit, source, statistic and formula."""
    rows = [{"parameter": name, "value": entry["value"], "unit": entry.get("unit", ""),
             "source": entry.get("source", ""), "statistic": entry.get("statistic", ""),
             "formula": entry.get("formula", "")} for name, entry in parameters.items()]
    return pd.DataFrame(rows, columns=["parameter", "value", "unit", "source", "statistic", "formula"])


# -- wall times --------------------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern:
    """Regex of a Snakemake path pattern: ``{name}`` matches any text, ``{name,regex}`` (a constrained
    wildcard, braces may nest as in ``{id,[0-9a-f]{12}}``) matches ``regex``."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] != "{":
            out.append(re.escape(pattern[i]))
            i += 1
            continue
        depth, j = 0, i
        while j < len(pattern):
            depth += {"{": 1, "}": -1}.get(pattern[j], 0)
            if depth == 0:
                break
            j += 1
        body = pattern[i + 1:j]
        out.append(f"(?:{body.split(',', 1)[1]})" if "," in body else ".+?")
        i = j + 1
    return re.compile("^" + "".join(out) + "$")


def rule_wall_times(benchmark_dir: str | Path = "results/benchmarks",
                    rules: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Wall time and peak memory per job from Snakemake's ``benchmark:`` files.

    ``rules`` maps each rule to its benchmark path pattern (e.g. ``results/benchmarks/solve_mfg_{scenario}.tsv``);
    with it every file is attributed to its rule. Without it the job is the file name (sweep points grouped
    per sweep). Columns: ``rule, job, wall_s, max_rss_mb``.
    """
    benchmark_dir = Path(benchmark_dir)
    matchers = [(name, _pattern_regex(Path(pattern).as_posix())) for name, pattern in (rules or {}).items()]
    rows = []
    for path in sorted(glob.glob(f"{benchmark_dir}/**/*.tsv", recursive=True)):
        with open(path, newline="") as fh:
            records = list(csv.DictReader(fh, delimiter="\t"))
        if not records:
            continue
        rel = Path(path).relative_to(benchmark_dir)
        job = str(rel.with_suffix("").as_posix())
        full = (benchmark_dir / rel).as_posix()
        rule = next((name for name, regex in matchers if regex.match(full) or regex.match(path)), None)
        if rule is None:
            rule = str(rel.parent.as_posix()) if rel.parts[0] == "sweeps" else rel.stem
        rss = records[-1].get("max_rss", "NA")
        rows.append({"rule": rule, "job": job, "wall_s": float(records[-1]["s"]),
                     "max_rss_mb": float(rss) if rss not in ("-", "NA", "", None) else np.nan})
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "max_rss_mb"])


def wall_time_per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """Jobs, total and longest wall time, and peak memory per rule."""
    if jobs.empty:
        return pd.DataFrame(columns=["rule", "jobs", "total_wall_s", "max_wall_s", "max_rss_mb"])
    return (jobs.groupby("rule", sort=True)
            .agg(jobs=("wall_s", "size"), total_wall_s=("wall_s", "sum"), max_wall_s=("wall_s", "max"),
                 max_rss_mb=("max_rss_mb", "max"))
            .reset_index())


# -- sections ------------------------------------------------------------------------------------
def _scenario_name(path: str | Path) -> str:
    return Path(path).parent.name


def half_life(t: np.ndarray, mean: np.ndarray) -> float:
    """First time the mean inventory's magnitude falls to half its initial value (linear interpolation).

    NaN when it starts at zero or never gets there within the horizon.
    """
    start = abs(float(mean[0]))
    if start == 0.0:
        return math.nan
    level = np.abs(mean) - start / 2.0
    below = np.nonzero(level <= 0.0)[0]
    if not below.size:
        return math.nan
    i = int(below[0])
    if i == 0:
        return float(t[0])
    l0, l1 = level[i - 1], level[i]
    return float(t[i - 1] + (t[i] - t[i - 1]) * l0 / (l0 - l1))


def _scenario(name: str, metrics: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
              figures: list, seconds_per_day: float | None) -> dict[str, Any]:
    t, q = arrays["t"], arrays["q"]
    mean_q = np.trapezoid(arrays["density"] * q, q, axis=1)
    eta = arrays["eta"]
    params = metrics.get("config", {}).get("params", {})
    eta0 = params.get("eta0")
    price = arrays["price"] if "price" in arrays else None
    p_ref = metrics.get("config", {}).get("price", {}).get("p_ref")
    t_half = half_life(t, mean_q)
    eta_time_mean = float(np.trapezoid(eta, t) / (t[-1] - t[0]))   # time average: steps are not uniform
    scenario = {
        "name": name, "metrics": metrics, "figures": figures,
        "mean_q0": float(mean_q[0]), "mean_qT": float(mean_q[-1]),
        "liquidated_pct": 100.0 * (1.0 - mean_q[-1] / mean_q[0]) if mean_q[0] else math.nan,
        "horizon_days": float(t[-1] - t[0]),
        "horizon_text": duration(float(t[-1] - t[0]), seconds_per_day),
        "half_life_days": t_half,
        "half_life_text": duration(t_half, seconds_per_day),
        "flow0": float(arrays["mean_flow"][0]),
        "eta0": float(eta0) if _finite(eta0) else math.nan,
        "eta_min": float(eta.min()), "eta_max": float(eta.max()),
        "eta_uplift_max_pct": 100.0 * (float(eta.max()) / eta0 - 1.0) if _finite(eta0) and eta0 else math.nan,
        "eta_uplift_mean_pct": 100.0 * (eta_time_mean / eta0 - 1.0) if _finite(eta0) and eta0 else math.nan,
        "total_cost": metrics.get("outcomes", {}).get("total_cost"),
        "price_start": None, "price_end": None, "p_ref": None,
    }
    if price is not None:
        p_ref = float(p_ref) if _finite(p_ref) else float(price[-1])
        deviation = price - p_ref
        worst = int(np.argmax(np.abs(deviation)))
        scenario.update({
            "price_start": float(price[0]), "price_end": float(price[-1]), "p_ref": p_ref,
            "price_change": float(price[-1] - price[0]),
            "price_change_bp": 1e4 * float(price[-1] - price[0]) / p_ref,
            "price_gap_max": float(deviation[worst]), "price_gap_max_bp": 1e4 * float(deviation[worst]) / p_ref,
            "price_gap_end": float(deviation[-1]), "price_gap_end_bp": 1e4 * float(deviation[-1]) / p_ref,
        })
    return scenario


def _scenario_table(scenarios: list[dict[str, Any]], seconds_per_day: float | None) -> str:
    rows = []
    for sc in scenarios:
        m = sc["metrics"]
        rows.append({
            "scenario": sc["name"], "converged": bool(m.get("converged")), "iterations": m.get("iterations"),
            "residual": m.get("residual"), "mean inventory t=0 (units)": sc["mean_q0"],
            "mean inventory T (units)": sc["mean_qT"], "time to halve (trading days)": sc["half_life_days"],
            "time to halve (min)": sc["half_life_days"] * seconds_per_day / 60 if seconds_per_day else np.nan,
            "max eta / eta0": sc["eta_max"] / sc["eta0"] if sc["eta0"] else np.nan,
            "total cost (cost units)": sc["total_cost"] if _finite(sc["total_cost"]) else np.nan,
            "price change p_T - p_0 (BRL)": sc.get("price_change", np.nan),
            "largest gap p - p_ref (bp)": sc.get("price_gap_max_bp", np.nan),
        })
    return html_table(pd.DataFrame(rows), digits=4)


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
            if not _finite(value):
                row[sc["name"]] = "—"
                continue
            origin = ("calibrated" if key in calibrated and math.isclose(float(value), calibrated[key], rel_tol=1e-12)
                      else "config" if key in calibrated else "config (not calibrated)")
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
    return {"scenarios": scenarios, "table": _scenario_table(scenarios, seconds_per_day),
            "parameters": html_table(parameters_used(scenarios, calibrated), classes="")}


def _sweep_section(inputs) -> list[dict[str, Any]]:
    sweeps = []
    for table_path, figure_path in zip(inputs["sweep_tables"], inputs["sweep_figures"]):
        table = read_parquet(table_path)
        param_cols = [c for c in table.columns if c.startswith("param_")]
        params = [c.removeprefix("param_") for c in param_cols]
        converged = table["converged"].astype(bool)
        failed = table.loc[~converged, param_cols + ["iterations", "residual"]]
        failed = failed.rename(columns={c: c.removeprefix("param_") for c in param_cols})
        shown = table.rename(columns={c: c.removeprefix("param_") for c in param_cols})
        sweeps.append({
            "name": Path(table_path).stem, "params": params, "n_points": len(table),
            "n_failed": int((~converged).sum()), "figure": figure(figure_path),
            "failed_table": html_table(failed) if len(failed) else None,
            "table": html_table(shown, row_classes=["" if ok else "failed" for ok in converged]),
            "ranges": {p: (float(table[c].min()), float(table[c].max())) for p, c in zip(params, param_cols)},
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
    return html_table(pd.DataFrame(rows))


def reproduction_comparison(ours: pd.DataFrame, n_paths: int | None) -> pd.DataFrame:
    """Our A&S (2008) reproduction beside the paper's Tables 1-3 (with standard errors and z-scores)."""
    from mfg_finance.market_making.reproduction import compare_with_paper

    return compare_with_paper(ours, n_paths)


REPRO_METRICS = (("profit_mean", "mean profit"), ("profit_std", "std of profit"),
                 ("q_mean", "mean final q"), ("q_std", "std of final q"))


def _reproduction_rows(compared: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in compared.to_dict("records"):
        cells = [{"ours": num(r["spread"], 4), "paper": num(r["spread_paper"], 3), "z": None, "off": False}]
        for metric, _ in REPRO_METRICS:
            z = r[f"{metric}_z"]
            cells.append({"ours": plus_minus(r[metric], r[f"{metric}_se"]), "paper": num(r[f"{metric}_paper"], 4),
                          "z": f"{z:+.1f}" if _finite(z) else "—", "off": _finite(z) and abs(z) > 3})
        rows.append({"gamma": num(r["gamma"], 3), "strategy": r["strategy"], "cells": cells})
    return rows


def _rejects(path: str | Path | None, limit: int = 20) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {"lines": [], "n_shown": 0, "total": 0}
    lines = [line for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    return {"lines": lines[:limit], "n_shown": min(limit, len(lines)), "total": len(lines)}


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
        "excluded_table": html_table(excluded[["ticker", "n_sessions", "exclusion_reason"]])
        if len(excluded) else None,
        "asset_table": html_table(included.drop(columns=["included", "exclusion_reason"])),
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
        "sweeps": [{k: v for k, v in sw.items() if k != "frame"} for sw in sweeps],
        "backtest_table": _backtest_table(backtests),
        "backtest_full_table": html_table(backtests),
        "horizon_s": float(backtests["horizon_s"].iloc[0]) if len(backtests) else math.nan,
        "backtest_figures": [figure(p) for p in inputs["backtest_figures"]],
        "quotes_figures": [figure(p, f"Optimal quotes: {Path(p).parent.name}") for p in inputs["quotes_figures"]],
        "reproduction_rows": _reproduction_rows(compared),
        "reproduction_n_paths": repro_n,
        "reproduction_within": {"n": int(np.isfinite(z).sum()), "z2": int((np.abs(z) <= 2).sum()),
                                "z3": int((np.abs(z) <= 3).sum())},
        "notebooks": [{"name": Path(p).name, "stem": Path(p).stem, "href": _relative_href(p)}
                      for p in inputs["notebooks"] if str(p).endswith(".html")],
        "provenance": provenance,
        "config_yaml": _yaml_dump(config),
        "wall_times": html_table(wall_time_per_rule(jobs), digits=3),
        "wall_times_jobs": html_table(jobs, digits=3),
        "wall_total_s": float(jobs["wall_s"].sum()) if len(jobs) else math.nan,
        "n_jobs_timed": int(len(jobs)),
    }
    context["summary"] = summary_paragraphs(context, backtests, sweeps=sweeps, compared=compared)
    return context


def _relative_href(path: str | Path) -> str:
    # The report lives in reports/final/; notebooks in results/notebooks/.
    return "../../" + Path(path).as_posix()


def _yaml_dump(obj) -> str:
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)


# -- the plain-language summary ------------------------------------------------------------------
def _data_paragraph(context: Mapping[str, Any]) -> str:
    ingest = context["ingest"]
    period = context["stats_summary"].get("period", {})
    sessions = period.get("n_sessions")
    if context["synthetic"]:
        kind = ("SYNTHETIC SAMPLE data: a deterministic file generated by the pipeline in B3's COTAHIST layout. "
                "These are not market prices and none of the numbers below says anything about real stocks. "
                "The data are")
    else:
        kind = f"Real B3 quotes (COTAHIST files, source '{context['source']}'): the data are"
    rejected = ingest.get("rejected", 0)
    text = (f"{kind} {ingest['records']:,} daily quotes from {len(ingest['files'])} file(s), "
            f"covering {ingest['date_min']} to {ingest['date_max']}"
            + (f" ({sessions} trading sessions)" if sessions else "") + "; "
            + ("no line was rejected" if not rejected else f"{rejected:,} line(s) were rejected (listed in section 2)")
            + f". {context['n_assets']} stocks have enough history for the statistics")
    if context["n_excluded"]:
        text += (f" ({context['n_excluded']} more {'was' if context['n_excluded'] == 1 else 'were'} set aside "
                 "for too short a history)")
    return text + "."


def _calibration_paragraph(context: Mapping[str, Any]) -> str:
    doc = context["mfg_doc"]
    params = {k: v["value"] for k, v in doc["parameters"].items()}
    units = doc.get("units", {})
    rep = doc.get("representative", {})
    rep_name = rep.get("name", rep.get("ticker", "a representative stock")) if isinstance(rep, Mapping) else str(rep)
    shares, notional = units.get("inventory_unit_shares"), units.get("cost_unit_brl")
    text = f"The crowd model is calibrated on a representative stock ({rep_name})"
    if _finite(shares) and _finite(notional):
        text += (f": one inventory unit is {num(shares, 4)} shares, worth about {num(notional, 3)} BRL, "
                 f"and selling one unit evenly over a trading day costs eta0 = {10_000 * params['eta0']:.3g} bp "
                 f"of its value (about {num(params['eta0'] * notional, 3)} BRL)")
    text += (f". The cost grows with the crowd's trading speed (eta1 = {params['eta1']:.3g}); holding inventory "
             f"is penalised through phi = {params['phi']:.3g} per trading day and what is left at the end through "
             f"gamma_T = {params['gamma_T']:.3g}. The market-making quotes are calibrated per stock "
             f"({', '.join(context['mm_tables'])}).")
    warnings = context["mfg_warnings"] + context["mm_warnings"]
    if warnings:
        text += f" Calibration warnings ({len(warnings)}): " + " ".join(warnings)
    return text


def _mfg_paragraphs(context: Mapping[str, Any], sweeps) -> list[str]:
    paragraphs = []
    base = context["mfg"]["scenarios"][0] if context["mfg"]["scenarios"] else None
    if base is None:
        return paragraphs
    m = base["metrics"]
    if not m.get("converged", False):
        paragraphs.append(f"Warning: the equilibrium of scenario '{base['name']}' did NOT converge "
                          f"(residual {m.get('residual', float('nan')):.2g}); the numbers below are not reliable.")
    if base["mean_q0"]:
        side = "long" if base["mean_q0"] > 0 else "short"
        text = (f"How fast the crowd unwinds: starting from an average {side} position of {num(abs(base['mean_q0']))} "
                f"inventory units, the traders in equilibrium ")
        if _finite(base["half_life_days"]):
            text += (f"halve it in {base['half_life_text']} of trading ({base['half_life_days']:.3g} trading days) "
                     f"and hold {abs(base['mean_qT'] / base['mean_q0']) * 100:.2g}% of it at the end of the "
                     f"horizon of {base['horizon_text']}")
        else:
            text += (f"still hold {abs(base['mean_qT'] / base['mean_q0']) * 100:.3g}% of it after the "
                     f"horizon of {base['horizon_text']} (it never gets down to half)")
        paragraphs.append(text + f" (scenario '{base['name']}').")
    if _finite(base["eta_uplift_max_pct"]):
        text = (f"Because everyone trades in the same direction at the same time, trading is dearer: the "
                f"execution cost eta is up to "
                f"{base['eta_uplift_max_pct']:.3g}% above its no-crowd level eta0 when the crowd trades fastest "
                f"(at the start, {abs(base['flow0']):.3g} units per day), {base['eta_uplift_mean_pct']:.2g}% above "
                "on average over the horizon")
        eta_sweep = next((sw for sw in sweeps if sw["params"] == ["eta1"]), None)
        if eta_sweep is not None and eta_sweep["n_points"] > 1:
            frame = eta_sweep["frame"].sort_values("param_eta1")
            ok = frame[frame["converged"].astype(bool)]
            if len(ok) > 1:
                lo, hi = ok.iloc[0], ok.iloc[-1]
                pace = "slows down" if hi["liquidation_speed"] < lo["liquidation_speed"] else "speeds up"
                text += (f". The eta1 sweep shows the effect of this feedback: from eta1 = {lo['param_eta1']:.3g} to "
                         f"{hi['param_eta1']:.3g} the crowd {pace} (liquidation rate "
                         f"{lo['liquidation_speed']:.3g} to {hi['liquidation_speed']:.3g} per trading day) and its "
                         f"expected cost goes from {lo['total_cost']:.3g} to {hi['total_cost']:.3g} cost units")
        paragraphs.append(text + ".")
    for sc in context["mfg"]["scenarios"]:
        if sc["price_start"] is None:
            continue
        paragraphs.append(
            f"Price impact (scenario '{sc['name']}', price set by market clearing): the crowd's trading moves the "
            f"price by up to {abs(sc['price_gap_max']):.3g} BRL ({abs(sc['price_gap_max_bp']):.3g} bp) "
            f"{'below' if sc['price_gap_max'] < 0 else 'above'} the reference price of {sc['p_ref']:.4g} BRL; as the "
            f"flow dies out the price goes from {sc['price_start']:.4f} to {sc['price_end']:.4f} BRL "
            f"({sc['price_change_bp']:+.3g} bp), ending {abs(sc['price_gap_end_bp']):.2g} bp from the reference.")
    return paragraphs


def _market_making_paragraph(context: Mapping[str, Any], backtests: pd.DataFrame) -> str | None:
    if not len(backtests):
        return None
    horizon = context["horizon_s"]
    horizon_text = duration(horizon / DEFAULT_SECONDS_PER_DAY, DEFAULT_SECONDS_PER_DAY) if _finite(horizon) else "one"
    parts = []
    for ticker, group in backtests.groupby("ticker", sort=True):
        best = group.sort_values("pnl_mean", ascending=False).iloc[0]
        safest = group.sort_values("sharpe", ascending=False).iloc[0]
        text = (f"on {ticker}, {STRATEGY_NAMES.get(best.strategy, best.strategy)} earn the most, "
                f"{plus_minus(best.pnl_mean, best.pnl_mean_se)} BRL per run (Sharpe {best.sharpe:.3g})")
        if safest.strategy != best.strategy:
            text += (f", while {STRATEGY_NAMES.get(safest.strategy, safest.strategy)} give the best "
                     f"Sharpe ratio, {safest.sharpe:.3g} (mean {safest.pnl_mean:.4g} BRL)")
        if "constant" in set(group.strategy) and best.strategy != "constant":
            const = group[group.strategy == "constant"].iloc[0]
            text += f"; a constant spread makes {const.pnl_mean:.4g} BRL (Sharpe {const.sharpe:.3g})"
        parts.append(text)
    return (f"Market making: over a horizon of {horizon_text}, simulated {int(backtests['n_paths'].iloc[0]):,} times "
            f"per stock and strategy, " + "; ".join(parts) + ". The Sharpe ratio here is the mean PnL divided by "
            "its standard deviation over the horizon, not annualised; ± gives the Monte Carlo standard error.")


def _reproduction_paragraph(context: Mapping[str, Any], compared: pd.DataFrame) -> str | None:
    if compared is None or not len(compared):
        return None
    within = context["reproduction_within"]
    text = (f"Our reproduction of Avellaneda & Stoikov (2008) agrees with the paper's Tables 1-3 within 3 standard "
            f"errors for {within['z3']} of {within['n']} numbers (within 2 for {within['z2']})")
    z = compared[[f"{m}_z" for m, _ in REPRO_METRICS]].abs()
    if within["z3"] < within["n"]:
        row, col = np.unravel_index(np.nanargmax(z.to_numpy()), z.shape)
        metric, label = REPRO_METRICS[col]
        r = compared.iloc[row]
        text += (f"; the largest gap is the {label} of the {r['strategy']} strategy at gamma = {r['gamma']:g}: "
                 f"{r[metric]:.4g} here against {r[f'{metric}_paper']:.4g} in the paper")
    return text + "."


def summary_paragraphs(context: Mapping[str, Any], backtests: pd.DataFrame, *, sweeps=(),
                       compared: pd.DataFrame | None = None) -> list[str]:
    """Plain-language summary generated from the numbers (not boilerplate)."""
    paragraphs = [_data_paragraph(context), _calibration_paragraph(context)]
    paragraphs += _mfg_paragraphs(context, list(sweeps))
    for extra in (_market_making_paragraph(context, backtests), _reproduction_paragraph(context, compared)):
        if extra:
            paragraphs.append(extra)
    return paragraphs


# -- rendering -------------------------------------------------------------------------------------
def render_report(context: Mapping[str, Any], template_dir: str | Path, out_path: str | Path,
                  template: str = "report.html.j2") -> None:
    """Render ``template`` with ``context``; undefined variables are errors, not blanks."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)),
                             undefined=jinja2.StrictUndefined, autoescape=jinja2.select_autoescape(["j2", "html"]))
    env.filters["num"] = num
    write_text(out_path, env.get_template(template).render(**context))


def render_from_inputs(inputs: Mapping[str, Any], out_path: str | Path, *, template_dir: str | Path,
                       title: str, source: str, config: Mapping[str, Any],
                       benchmark_dir: str | Path = "results/benchmarks",
                       benchmark_rules: Mapping[str, str] | None = None) -> None:
    context = build_context(inputs, title=title, source=source, config=config, benchmark_dir=benchmark_dir,
                            benchmark_rules=benchmark_rules)
    render_report(context, template_dir, out_path)


__all__ = ["build_context", "render_report", "render_from_inputs", "embed_png", "html_table",
           "summary_paragraphs", "rule_wall_times", "wall_time_per_rule", "half_life", "plus_minus"]
