"""Build the self-contained HTML report from the pipeline's artefacts (Jinja2, figures embedded).

:func:`build_context` reads artefacts and turns them into numbers, tables and embedded images;
the templates in ``workflow/templates/`` only lay them out (no computation in templates).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import glob
import html
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mfg_finance.io import read_json, read_parquet, read_yaml, write_text

FIGURE_TITLES = {
    "return_distribution": "Distribution of daily log returns",
    "top_volatility": "Most volatile assets",
    "vol_estimators": "Volatility estimators compared",
    "liquidity_vs_volatility": "Liquidity against volatility",
    "volume_profile": "Traded volume over time",
    "value_function": "Value function u(t, q)",
    "feedback": "Optimal feedback alpha*(t, q)",
    "density": "Inventory density mu(t, q)",
    "flow_eta_price": "Mean flow, execution cost eta and price",
    "convergence": "Fixed-point residual history",
    "exact_comparison": "PDE solution against the exact LQ reference",
    "convergence_order": "Mesh refinement: error against grid size",
    "pnl_distribution": "Final PnL per strategy",
    "inventory_distribution": "Final inventory per strategy",
}


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


def html_table(frame: pd.DataFrame, *, digits: int = 4, table_id: str | None = None) -> str:
    """An HTML table (sortable by the report's script) with numbers shown to ``digits`` significant digits."""
    def fmt(value):
        if isinstance(value, (float, np.floating)):
            if np.isnan(value):
                return "—"
            return f"{value:.{digits}g}"
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    attr = f' id="{table_id}"' if table_id else ""
    return f'<table class="sortable"{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def parameter_table(document: Mapping[str, Any], parameters: Mapping[str, Any]) -> pd.DataFrame:
    rows = [{"parameter": name, "value": entry["value"], "unit": entry.get("unit", ""),
             "source": entry.get("source", ""), "statistic": entry.get("statistic", ""),
             "formula": entry.get("formula", "")} for name, entry in parameters.items()]
    return pd.DataFrame(rows)


def rule_wall_times(benchmark_dir: str | Path = "results/benchmarks") -> pd.DataFrame:
    """Wall time of each job from Snakemake's ``benchmark:`` files (sweep points summed per sweep)."""
    rows = []
    for path in sorted(glob.glob(f"{benchmark_dir}/**/*.tsv", recursive=True)):
        with open(path, newline="") as fh:
            records = list(csv.DictReader(fh, delimiter="\t"))
        if not records:
            continue
        rel = Path(path).relative_to(benchmark_dir)
        job = str(rel.parent) if rel.parts[0] == "sweeps" else rel.stem
        rows.append({"job": job, "wall_s": float(records[-1]["s"]),
                     "max_rss_mb": float(records[-1]["max_rss"]) if records[-1]["max_rss"] not in ("-", "NA") else np.nan})
    if not rows:
        return pd.DataFrame(columns=["job", "jobs", "wall_s", "max_rss_mb"])
    frame = pd.DataFrame(rows)
    return (frame.groupby("job", sort=True)
            .agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"), max_rss_mb=("max_rss_mb", "max"))
            .reset_index())


def _scenario_name(path: str | Path) -> str:
    return Path(path).parent.name


def _mfg_section(inputs) -> dict[str, Any]:
    scenarios = []
    for metrics_path, npz_path in zip(inputs["mfg_metrics"], inputs["mfg_solutions"]):
        name = _scenario_name(metrics_path)
        metrics = read_json(metrics_path)
        with np.load(npz_path) as arrays:
            mean_q = np.trapezoid(arrays["density"] * arrays["q"], arrays["q"], axis=1)
            has_price = "price" in arrays.files
            price = arrays["price"] if has_price else None
            eta = arrays["eta"]
        figs = [figure(p) for p in inputs["mfg_figures"] if _scenario_name(p) == name]
        scenarios.append({
            "name": name, "metrics": metrics, "figures": figs,
            "mean_q0": float(mean_q[0]), "mean_qT": float(mean_q[-1]),
            "eta_min": float(eta.min()), "eta_max": float(eta.max()),
            "price_start": float(price[0]) if price is not None else None,
            "price_end": float(price[-1]) if price is not None else None,
        })
    return {"scenarios": scenarios}


def _sweep_section(inputs) -> list[dict[str, Any]]:
    sweeps = []
    for table_path, figure_path in zip(inputs["sweep_tables"], inputs["sweep_figures"]):
        table = read_parquet(table_path)
        params = [c.removeprefix("param_") for c in table.columns if c.startswith("param_")]
        sweeps.append({"name": Path(table_path).stem, "params": params, "n_points": len(table),
                       "n_failed": int((~table["converged"]).sum()), "figure": figure(figure_path),
                       "table": html_table(table)})
    return sweeps


def build_context(inputs: Mapping[str, Any], *, title: str, source: str, config: Mapping[str, Any],
                  benchmark_dir: str | Path = "results/benchmarks",
                  run_date: str | None = None) -> dict[str, Any]:
    """Everything the template shows, read from the artefacts named in ``inputs``."""
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
    mfg = _mfg_section(inputs)
    sweeps = _sweep_section(inputs)

    included = asset_stats[asset_stats["included"]]
    excluded = asset_stats[~asset_stats["included"]]
    context = {
        "title": title,
        "synthetic": source == "sample",
        "source": source,
        "run_date": run_date or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "ingest": ingest,
        "n_assets": int(len(included)),
        "n_excluded": int(len(excluded)),
        "excluded_table": html_table(excluded[["ticker", "n_sessions", "exclusion_reason"]])
        if len(excluded) else None,
        "asset_table": html_table(included.drop(columns=["included", "exclusion_reason"])),
        "stats_summary": stats_summary,
        "analytics": [figure(p) for p in inputs["analytics"]],
        "mfg_doc": mfg_doc,
        "mfg_param_table": html_table(parameter_table(mfg_doc, mfg_doc["parameters"])),
        "mm_tables": {ticker: html_table(parameter_table(mm_doc, entry))
                      for ticker, entry in mm_doc["tickers"].items()},
        "mfg": mfg,
        "verification": verification,
        "refinement_table": html_table(refinement, digits=3),
        "verification_figures": [figure(p) for p in inputs["verification_figures"]],
        "sweeps": sweeps,
        "backtest_table": html_table(backtests),
        "backtest_figures": [figure(p) for p in inputs["backtest_figures"]],
        "quotes_figures": [figure(p, f"Optimal quotes: {Path(p).parent.name}") for p in inputs["quotes_figures"]],
        "reproduction_table": html_table(reproduction),
        "notebooks": [{"name": Path(p).name, "href": _relative_href(p)} for p in inputs["notebooks"]
                      if str(p).endswith(".html")],
        "provenance": provenance,
        "config_yaml": _yaml_dump(config),
        "wall_times": html_table(rule_wall_times(benchmark_dir), digits=3),
    }
    context["summary"] = summary_paragraphs(context, backtests)
    return context


def _relative_href(path: str | Path) -> str:
    # The report lives in reports/final/; notebooks in results/notebooks/.
    return "../../" + Path(path).as_posix()


def _yaml_dump(obj) -> str:
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)


def summary_paragraphs(context: Mapping[str, Any], backtests: pd.DataFrame) -> list[str]:
    """Plain-language summary generated from the numbers (not boilerplate)."""
    ingest = context["ingest"]
    data_kind = ("a SYNTHETIC sample generated by the pipeline (not market data)" if context["synthetic"]
                 else f"B3 COTAHIST files ({context['source']})")
    paragraphs = [
        f"Data: {data_kind}, {ingest['records']:,} records from {len(ingest['files'])} file(s), "
        f"sessions {ingest['date_min']} to {ingest['date_max']}; {context['n_assets']} equities kept for "
        f"the statistics ({context['n_excluded']} excluded for too little history)."
    ]
    params = {k: v["value"] for k, v in context["mfg_doc"]["parameters"].items()}
    rep = context["mfg_doc"].get("representative", {})
    rep_name = rep.get("ticker", rep.get("name", "the representative asset")) if isinstance(rep, Mapping) else rep
    paragraphs.append(
        f"Calibration ({rep_name}): execution cost eta0 = {params['eta0']:.3g}, flow sensitivity "
        f"eta1 = {params['eta1']:.3g}, running inventory penalty phi = {params['phi']:.3g}, terminal "
        f"penalty gamma_T = {params['gamma_T']:.3g}, inventory noise sigma = {params['sigma']:.3g}.")
    for scenario in context["mfg"]["scenarios"]:
        q0, qT = scenario["mean_q0"], scenario["mean_qT"]
        share = 100.0 * (1.0 - qT / q0) if q0 else float("nan")
        text = (f"MFG equilibrium, scenario '{scenario['name']}': the crowd's mean inventory goes from "
                f"{q0:.3g} to {qT:.3g} over the horizon ({share:.1f}% liquidated); the flow-dependent "
                f"execution cost eta ranges over [{scenario['eta_min']:.3g}, {scenario['eta_max']:.3g}]")
        if scenario["price_start"] is not None:
            text += (f"; the clearing price moves from {scenario['price_start']:.4g} to "
                     f"{scenario['price_end']:.4g} BRL")
        paragraphs.append(text + ".")
    if len(backtests):
        best = backtests.sort_values("sharpe", ascending=False).groupby("ticker", sort=True).head(1)
        parts = [f"{row.ticker}: {row.strategy} (Sharpe {row.sharpe:.2f}, mean PnL {row.pnl_mean:.4g} BRL)"
                 for row in best.itertuples()]
        paragraphs.append("Market making: best strategy by Sharpe ratio per ticker — " + "; ".join(parts) + ".")
    return paragraphs


def render_report(context: Mapping[str, Any], template_dir: str | Path, out_path: str | Path,
                  template: str = "report.html.j2") -> None:
    """Render ``template`` with ``context``; undefined variables are errors, not blanks."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)),
                             undefined=jinja2.StrictUndefined, autoescape=jinja2.select_autoescape(["j2", "html"]))
    write_text(out_path, env.get_template(template).render(**context))


def render_from_inputs(inputs: Mapping[str, Any], out_path: str | Path, *, template_dir: str | Path,
                       title: str, source: str, config: Mapping[str, Any]) -> None:
    render_report(build_context(inputs, title=title, source=source, config=config), template_dir, out_path)


__all__ = ["build_context", "render_report", "render_from_inputs", "embed_png", "html_table",
           "summary_paragraphs", "rule_wall_times"]
