"""The HTML report rendered by the pipeline on the small test config: structure, embedded figures,
numbers the summary states, calibration, verification, sweeps, market making, provenance, notebooks.

The pipeline run is the session fixture shared with tests/workflow (one run per test session). Tests that
re-render use :func:`mfg_finance.report.render.build_context` on copies of the artefacts, never the run itself.
"""

from __future__ import annotations

import base64
import html as htmlmod
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from snakemake.utils import validate

from mfg_finance.batching import batches
from mfg_finance.sweeps import sweep_points
from mfg_finance.report.uncertain import plus_minus, with_error

from reportutils import report_inputs

pytestmark = pytest.mark.workflow

SECTIONS = ("summary", "data", "calibration", "mfg", "verification", "sweeps", "systemic", "market-making",
            "multi-asset", "equilibrium", "provenance")


def section(html: str, name: str) -> str:
    """The HTML of one <section id=name>."""
    match = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', html, flags=re.S)
    assert match, f"section {name} missing"
    return match.group(1)


def text_of(fragment: str) -> str:
    return htmlmod.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def render_copy(pipeline: Path, tmp_path: Path, *, source: str = "sample", edit=None) -> str:
    """Re-render the report from a copy of the run's artefacts, after ``edit(inputs)`` changed some."""
    from mfg_finance.report.render import build_context, render_report

    inputs = report_inputs(pipeline)
    if edit is not None:
        edit(inputs, tmp_path)
    config = yaml.safe_load((pipeline / "config" / "config.yaml").read_text())
    context = build_context(inputs, title="copy", source=source, config=config,
                            benchmark_dir=pipeline / "results" / "benchmarks", run_date="2024-01-01 00:00 UTC")
    out = tmp_path / "report.html"
    render_report(context, pipeline / "workflow" / "templates", out)
    return out.read_text()


# -- structure ---------------------------------------------------------------------------------
def test_report_has_every_section_in_the_table_of_contents(report_html):
    toc = re.search(r'<nav class="toc">(.*?)</nav>', report_html, flags=re.S).group(1)
    for name in SECTIONS:
        assert f'id="{name}"' in report_html
        assert f'href="#{name}"' in toc
    assert report_html.count("<section ") == len(SECTIONS)
    assert "@media print" in report_html


def test_every_image_is_embedded_and_decodes_as_png(report_html):
    sources = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", report_html)
    # 5 analytics + 5 for the baseline scenario + 1 for the endogenous price (its other 4 figures are the
    # baseline's, shown once) + 2 verification + 2 sweeps + 2 quotes + 2 backtest distributions
    # + 2 systemic scenarios and the finite-N check (the 2 systemic sweeps' figures are in the sweeps section)
    # + 3 intraday figures from the sample's trade sessions (issue 15)
    # + the replay comparison figure (simulated vs replayed PnL)
    # + a portfolio's quote surface and its mean-CVaR frontier (issue 18)
    # + the equilibrium's paths, its fixed-point residuals and the regimes heatmaps (issue 17)
    assert len(sources) == 33
    assert len(re.findall(r"<img\b", report_html)) == len(sources)
    for src in sources:
        assert src.startswith("data:image/png;base64,"), src[:60]
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        image.load()
        assert image.width > 100 and image.height > 100


def test_no_unresolved_template_variable_and_no_external_resource(report_html):
    for marker in ("{{", "}}", "{%", "%}", "Undefined", "None BRL", "nan%"):
        assert marker not in report_html, marker
    body = report_html.split("<body>", 1)[1]
    assert not re.search(r"""(?:src|href)=["']https?://""", body)
    assert not re.search(r"<(?:link|iframe|object|embed)\b", body)


# -- the summary -----------------------------------------------------------------------------------
def test_summary_says_synthetic_loudly_and_states_numbers_from_the_run(report_html, pipeline):
    summary = text_of(section(report_html, "summary"))
    assert "SYNTHETIC SAMPLE DATA" in report_html and "SYNTHETIC SAMPLE" in summary
    ingest = json.loads((pipeline / "results/data/ingest_summary.json").read_text())
    assert f"{ingest['records']:,} daily quotes" in summary
    assert f"covering {ingest['date_min']} to {ingest['date_max']}" in summary

    # time to halve the mean inventory, recomputed from the solution: the mean path of its cost path
    # (mfg_finance.mfg.mean_path) from the density's initial mean
    from mfg_finance.mfg.mean_path import curvature_and_log_decay
    from mfg_finance.mfg.outcomes import half_life

    metrics = json.loads((pipeline / "results/mfg/baseline/metrics.json").read_text())
    with np.load(pipeline / "results/mfg/baseline/solution.npz") as sol:
        t, q, density = sol["t"], sol["q"], sol["density"]
        eta = sol["eta"]
    mean0 = np.trapezoid(density[0] * q, q)
    params = metrics["config"]["params"]
    _, logs = curvature_and_log_decay(np.diff(t), eta, phi=params["phi"], gamma_T=params["gamma_T"])
    path = mean0 * np.exp(logs)
    half_days = half_life(t, path)
    match = re.search(r"halve it in ([0-9.]+) (seconds|minutes|hours) of trading "
                      r"\(([0-9.e-]+)(?: ± ([0-9.e-]+))? trading days\)", summary)
    assert match, summary
    stated = float(match.group(1)) * {"seconds": 1, "minutes": 60, "hours": 3600}[match.group(2)] / 25200
    # the solution file holds the fine grid; the summary states the outcome extrapolated in time
    # (mfg_finance.mfg.accuracy), with its estimated discretisation error (metrics.json outcome_errors)
    assert half_days == pytest.approx(metrics["accuracy"]["grid_outcomes"]["liquidation_half_life"], rel=0.01)
    reported = metrics["outcomes"]["liquidation_half_life"]
    assert stated == pytest.approx(reported, rel=0.03)
    error = metrics["outcome_errors"]["liquidation_half_life"]
    assert match.group(4) is not None and float(match.group(4)) == pytest.approx(error, rel=0.1, abs=1e-12)
    assert float(match.group(3)) == pytest.approx(reported, rel=0.01, abs=float(match.group(4)))

    # how much the flow-dependent cost raises eta above eta0
    eta0 = yaml.safe_load((pipeline / "results/calibration/mfg_params.yaml").read_text())["parameters"]["eta0"]["value"]
    # (the peak at the start, eta0 + eta1 |m_0| for the stated initial flow, with the flow's error; the grids'
    # extrapolated eta_max is within 3 of its estimates of it: 1.2 on this config's coarse grid, where the summary
    # used to state eta_max +- its estimate, 0.61 points of % off the closed form)
    match = re.search(r"eta is up to ([0-9.]+)(?: ± ([0-9.]+))?% above its no-crowd level eta0", summary)
    eta1 = metrics["config"]["params"]["eta1"]
    flow0, flow0_error = metrics["outcomes"]["mean_flow_initial"], metrics["outcome_errors"]["mean_flow_initial"]
    assert match and float(match.group(1)) == pytest.approx(100 * eta1 * abs(flow0) / eta0, rel=1e-4)
    assert float(match.group(2)) == pytest.approx(100 * eta1 * flow0_error / eta0, rel=0.1)
    peak, peak_error = metrics["outcomes"]["eta_max"], metrics["outcome_errors"]["eta_max"]
    assert abs(float(match.group(1)) - 100 * (peak / eta0 - 1)) <= 3 * 100 * peak_error / eta0 + float(match.group(2))

    # price impact in BRL and bp
    with np.load(pipeline / "results/mfg/endogenous_price/solution.npz") as sol:
        price = sol["price"]
    priced = json.loads((pipeline / "results/mfg/endogenous_price/metrics.json").read_text())
    p_ref = priced["config"]["price"]["p_ref"]
    # the largest gap: at an end of the path it is the reported (extrapolated) price with its error
    worst = int(np.argmax(np.abs(price - p_ref)))
    end = {0: "price_initial", price.size - 1: "price_terminal"}.get(worst)
    gap = abs(priced["outcomes"][end] - p_ref) if end else abs(price[worst] - p_ref)
    gap_error = priced["outcome_errors"][end] if end else None
    match = re.search(r"moves the price by up to ([0-9.e-]+)(?: ± ([0-9.e-]+))? BRL \(([0-9.e-]+)(?: ± ([0-9.e-]+))? bp\)",
                      summary)
    assert match, summary
    assert float(match.group(1)) == pytest.approx(gap, rel=1e-2)
    assert float(match.group(3)) == pytest.approx(1e4 * gap / p_ref, rel=1e-2)
    if gap_error:
        assert float(match.group(2)) == pytest.approx(gap_error, rel=0.1, abs=1e-12)

    # backtests, with the Sharpe ratio defined
    stats = pd.read_parquet(pipeline / "results/market_making/backtest_stats.parquet")
    assert "mean PnL divided by its standard deviation over the horizon, not annualised" in summary
    for ticker, group in stats.groupby("ticker"):
        best = group.sort_values("pnl_mean").iloc[-1]
        assert f"on {ticker}," in summary
        assert f"(Sharpe {plus_minus(best.sharpe, best.sharpe_se)})" in summary     # with its standard error
    assert "Avellaneda & Stoikov (2008)" in summary


def test_summary_of_real_data_has_no_synthetic_warning(pipeline, tmp_path):
    html = render_copy(pipeline, tmp_path, source="b3")
    assert "SYNTHETIC" not in html
    assert "Real B3 quotes" in text_of(section(html, "summary"))


# -- data, calibration -------------------------------------------------------------------------------
def test_data_section_has_ingestion_rejects_universe_and_charts(report_html, pipeline):
    data = section(report_html, "data")
    text = text_of(data)
    assert "0 line(s) rejected" in text and "No rejected line." in text
    stats = pd.read_parquet(pipeline / "results/stats/asset_stats.parquet")
    for ticker in stats.loc[stats["included"], "ticker"]:
        assert f"<td>{ticker}</td>" in data
    assert "00:00:00" not in data                 # dates shown as dates
    assert data.count("<img ") == 5


def test_rejected_lines_are_listed(pipeline, tmp_path):
    def edit(inputs, tmp):
        summary = json.loads(Path(inputs["ingest_summary"]).read_text())
        summary["rejected"] = 2
        (tmp / "ingest_summary.json").write_text(json.dumps(summary))
        (tmp / "rejects.txt").write_text("COTAHIST_SAMPLE.TXT:17: PREULT: 'x1' is not a number\n"
                                         "COTAHIST_SAMPLE.TXT:99: line length 200 != 245\n")
        inputs.update(ingest_summary=str(tmp / "ingest_summary.json"), rejects=str(tmp / "rejects.txt"))

    text = text_of(section(render_copy(pipeline, tmp_path, edit=edit), "data"))
    assert "2 line(s) rejected" in text
    assert "COTAHIST_SAMPLE.TXT:17: PREULT: 'x1' is not a number" in text


def test_calibration_table_has_value_unit_source_statistic_formula(report_html, pipeline):
    calibration = section(report_html, "calibration")
    doc = yaml.safe_load((pipeline / "results/calibration/mfg_params.yaml").read_text())
    header = re.search(r"<thead>(.*?)</thead>", calibration, flags=re.S).group(1)
    for column in ("parameter", "value", "unit", "source", "statistic", "formula"):
        assert f"<th>{column}</th>" in header
    for name, entry in doc["parameters"].items():
        assert f"<td>{name}</td>" in calibration
        for key in ("unit", "statistic", "formula"):
            assert htmlmod.escape(entry[key]) in calibration
    assert "No calibration warning." in text_of(calibration)


def test_calibration_warnings_are_shown(pipeline, tmp_path):
    def edit(inputs, tmp):
        doc = yaml.safe_load(Path(inputs["mfg_params"]).read_text())
        doc["warnings"] = ["inventory noise over the horizon exceeds 3 units"]
        (tmp / "mfg_params.yaml").write_text(yaml.safe_dump(doc))
        inputs["mfg_params"] = str(tmp / "mfg_params.yaml")

    html = render_copy(pipeline, tmp_path, edit=edit)
    assert "inventory noise over the horizon exceeds 3 units" in text_of(section(html, "calibration"))
    assert "Calibration warnings (1)" in text_of(section(html, "summary"))


# -- MFG, verification, sweeps ---------------------------------------------------------------------
def test_mfg_and_verification_sections(report_html, pipeline):
    mfg = section(report_html, "mfg")
    for scenario in ("baseline", "endogenous_price"):
        assert f"Scenario: {scenario}" in mfg
    # each figure once: the endogenous price changes only the flow/price figure, the others are the baseline's
    for title in ("Value function", "Optimal feedback", "Inventory density", "Fixed-point residual history"):
        assert mfg.count(f"<figcaption>{title}") == 1, title
        assert title.lower() in text_of(mfg.split("Scenario: endogenous_price", 1)[1])   # named as not repeated
    assert mfg.count("<figcaption>Mean flow, execution cost eta") == 2
    # the glance table shows each scenario's reported outcomes of metrics.json with their errors (issue 14)
    glance = text_of(mfg.split("Parameters used", 1)[0])
    for scenario in ("baseline", "endogenous_price"):
        doc = json.loads((pipeline / f"results/mfg/{scenario}/metrics.json").read_text())
        unresolved = doc.get("accuracy", {}).get("unresolved", [])
        for key in ("mean_inventory_terminal", "total_cost", "liquidation_half_life"):
            shown = with_error(doc["outcomes"][key], doc["outcome_errors"][key], unresolved=key in unresolved)
            assert shown in glance, (scenario, key, shown)
    verification = section(report_html, "verification")
    refinement = pd.read_csv(pipeline / "results/mfg/verification/refinement.csv")
    for nx in refinement["nx"]:
        assert f"<td>{nx}</td>" in verification
    assert "Mesh refinement: error against grid size (log-log)" in verification
    metrics = json.loads((pipeline / "results/mfg/verification/metrics.json").read_text())
    for quantity, order in metrics["fitted_order"].items():
        assert f"<td>{quantity}</td><td>{order:.2f}</td>" in verification



def test_parameters_used_say_which_values_override_the_calibration(report_html, pipeline, tmp_path):
    from mfg_finance.calibration import parameter_values
    from mfg_finance.report.render import num

    calibrated = parameter_values(yaml.safe_load((pipeline / "results/calibration/mfg_params.yaml").read_text()))
    used = text_of(section(report_html, "mfg").split("Parameters used", 1)[1])
    assert "(config)" not in used                       # the small config overrides nothing
    assert f"phi {num(calibrated['phi'], 4)} (calibrated)" in used

    def edit(inputs, tmp):   # as if the config had set mfg.params.phi: 0.05 for the baseline
        paths = list(inputs["mfg_metrics"])
        metrics = json.loads(Path(paths[0]).read_text())
        metrics["config"]["params"]["phi"] = 0.05
        (tmp / "baseline").mkdir()
        (tmp / "baseline" / "metrics.json").write_text(json.dumps(metrics))
        inputs["mfg_metrics"] = [str(tmp / "baseline" / "metrics.json"), *paths[1:]]

    html = render_copy(pipeline, tmp_path, edit=edit)
    used = text_of(section(html, "mfg").split("Parameters used", 1)[1])
    assert "phi 0.05 (config)" in used and used.count("(config)") == 1

def test_non_converged_sweep_points_are_marked(pipeline, tmp_path, report_html):
    assert "0 not converged" in section(report_html, "sweeps")

    def edit(inputs, tmp):
        table = pd.read_parquet(inputs["sweep_tables"][0])
        table.loc[0, "converged"] = False
        path = tmp / Path(inputs["sweep_tables"][0]).name
        table.to_parquet(path)
        inputs["sweep_tables"] = [str(path)] + inputs["sweep_tables"][1:]

    sweeps = section(render_copy(pipeline, tmp_path, edit=edit), "sweeps")
    assert "1 not converged" in sweeps and "Not converged (1)" in sweeps
    # the table of all points may come in several narrower tables (same rows): one marked row in each
    counts = [t.count('<tr class="failed">') for t in re.findall(r"<table.*?</table>", sweeps, flags=re.S)]
    assert set(counts) == {0, 1} and counts.count(1) >= 1


# -- market making ------------------------------------------------------------------------------------
def test_market_making_section_has_stats_with_standard_errors_and_the_paper_table(report_html, pipeline):
    from mfg_finance.market_making.reproduction import paper_table

    mm = section(report_html, "market-making")
    text = text_of(mm)
    stats = pd.read_parquet(pipeline / "results/market_making/backtest_stats.parquet")
    assert text.count(" ± ") >= 10 * len(stats)
    for column in ("mean PnL (BRL)", "PnL std (BRL)", "Sharpe = mean/std", "PnL 5% quantile (BRL)",
                   "median PnL (BRL)", "PnL 95% quantile (BRL)", "CVaR 5% (BRL)", "bid fills / s", "ask fills / s"):
        assert column in text
    assert "Optimal quotes: SYNA3" in mm and "Optimal quotes: SYNB4" in mm
    assert "Final PnL per strategy" in mm and "Final inventory per strategy" in mm
    table = re.search(r'<table class="compare">(.*?)</table>', mm, flags=re.S).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    paper = paper_table()
    assert len(re.findall(r"<tr><td>", table)) == len(paper)
    for row in paper.itertuples():
        for value in (row.profit_mean, row.profit_std, row.q_mean, row.q_std):
            assert any(c and float(c.split(" ")[0]) == pytest.approx(value, abs=1e-9) for c in cells
                       if re.fullmatch(r"-?[0-9.]+", c)), value


# -- provenance and notebooks ---------------------------------------------------------------------------
def test_provenance_section(report_html, pipeline):
    prov = section(report_html, "provenance")
    text = text_of(prov)
    provenance = json.loads((pipeline / "results/provenance.json").read_text())
    assert re.search(r"report generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert provenance["config_sha256"] in text
    for entry in provenance["inputs"]:
        assert entry["sha256"] in text
    for package in ("numpy", "snakemake", "papermill"):
        assert f"<td>{package}</td>" in prov
    assert "git commit" in text
    # the config as run: the small config's title and sweep values
    assert "mfg-finance test run (small config)" in text
    # wall time per rule from the benchmark files, sweep points attributed to their rule
    wall = re.search(r"Wall time per rule.*?<tbody>(.*?)</tbody>", prov, flags=re.S).group(1)
    rows = {cells[0]: cells[1:] for cells in (re.findall(r"<td>([^<]*)</td>", r) for r in wall.split("</tr>")) if cells}
    # one sweep_mfg job per non-empty batch of each sweep (batching.jobs_per_sweep batches, points placed by
    # mfg_finance.batching); the backtests run one job per ticker
    config = yaml.safe_load((pipeline / "config" / "config.yaml").read_text())
    validate(config, str(pipeline / "workflow" / "schemas" / "config.schema.yaml"))  # the schema's defaults
    n_batches = config["batching"]["jobs_per_sweep"]
    expected = sum(len(batches([p["point_id"] for p in sweep_points(spec, name=name)], n_batches))
                   for name, spec in config["sweeps"].items())
    assert len(config["sweeps"]) < expected < sum(len(sweep_points(s, name=n)) for n, s in config["sweeps"].items())
    assert rows["sweep_mfg"][0] == str(expected)
    assert rows["solve_mfg"][0] == "2" and rows["backtest_market_making"][0] == "2"
    assert "render_report" not in rows


def test_notebooks_are_executed_by_papermill_and_linked(report_html, report_path, pipeline):
    import nbformat

    for name in ("mfg_pipeline", "market_making"):
        href = f"../../results/notebooks/{name}.html"
        assert f'href="{href}"' in report_html
        assert (report_path.parent / href).resolve().is_file()
        nb = nbformat.read(pipeline / "results" / "notebooks" / f"{name}.ipynb", as_version=4)
        meta = nb.metadata["papermill"]
        assert meta["exception"] is None or meta["exception"] is False
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code)
        assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    injected = nbformat.read(pipeline / "results/notebooks/market_making.ipynb", as_version=4)
    source = next(c.source for c in injected.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "SYNA3" in source and "SYNB4" in source


# -- the report in a real browser ------------------------------------------------------------------
def test_report_opens_in_headless_chromium_without_console_errors(report_path, chromium, tmp_path):
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--log-level=0",
         "--window-size=1280,2400", f"--screenshot={shot}", report_path.as_uri()],
        capture_output=True, text=True, timeout=120)
    # Chromium logs every console message (errors, uncaught exceptions) as ":INFO:CONSOLE"; the report's
    # script writes none, so any such line is a fault.
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert shot.is_file(), proc.stderr[-3000:]
    image = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert image.shape == (2400, 1280)
    dark = image < 128                              # text, table rules, figures
    assert dark.mean() > 0.01 and image.std() > 20
    assert dark[: 400].any() and dark[-800:].any()  # content at the top and further down the page


# Measures every table once the page is laid out (with every <details> opened) and writes the result into
# the DOM, which `chromium --dump-dom` prints.
_LAYOUT_PROBE = """<script>
window.addEventListener("load", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  var page = document.querySelector("section").getBoundingClientRect().width, rows = [];
  document.querySelectorAll("table").forEach(function (t, i) {
    var section = t.closest("section");
    rows.push([i, section ? section.id : "", Math.ceil(t.getBoundingClientRect().width), t.scrollWidth].join(","));
  });
  var pre = document.createElement("pre"); pre.id = "layout-probe";
  pre.textContent = page + "\\n" + rows.join("\\n"); document.body.appendChild(pre);
});
</script></body>"""


def test_in_chromium_no_table_is_wider_than_the_page_and_no_image_repeats(report_html, chromium, tmp_path):
    import hashlib

    probe = tmp_path / "probe.html"
    probe.write_text(report_html.replace("</body>", _LAYOUT_PROBE), encoding="utf-8")
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="layout-probe">(.*?)</pre>', proc.stdout, flags=re.S)
    assert match, proc.stderr[-3000:]
    lines = match.group(1).split("\n")
    page = float(lines[0])
    tables = [line.split(",") for line in lines[1:]]
    assert len(tables) >= 20
    too_wide = [t for t in tables if max(float(t[2]), float(t[3])) > page + 1]
    assert too_wide == [], f"page {page} px; wider tables (index, section, width, scroll width): {too_wide}"
    # every figure shown once: no two embedded images have the same bytes
    digests = [hashlib.sha256(base64.b64decode(src.split(",", 1)[1])).hexdigest()
               for src in re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", report_html)]
    assert len(digests) == len(set(digests))


def test_notebooks_travel_inside_the_report(report_html, pipeline):
    for name in ("mfg_pipeline", "market_making"):
        holder = re.search(rf'<script type="text/plain" id="embedded-{name}">([^<]*)</script>', report_html)
        assert holder, name
        assert base64.b64decode(holder.group(1)) == (pipeline / f"results/notebooks/{name}.html").read_bytes()
        assert f'data-embedded="embedded-{name}"' in report_html


def test_snakemake_report_collects_the_flagged_figures(pipeline, tmp_path):
    from wfutils import snakemake

    out = tmp_path / "snakemake_report.html"
    proc = snakemake(pipeline, "--report", str(out), timeout=300)
    # no "coroutine ... was never awaited" (profiles/default sets disk_mb), no docutils error in a caption
    assert "coroutine" not in proc.stderr and "(ERROR/" not in proc.stderr, proc.stderr[-3000:]
    html = out.read_text(encoding="utf-8", errors="replace")
    for category in ("1. Data", "5. Market making", "6. Report and notebooks"):
        assert category in html, category
    for name in ("value_function.png", "quotes.png", "pnl_distribution.png", "mfg_report.html"):
        assert name in html, name


def test_systemic_section_and_summary_state_the_numbers(report_html, pipeline):
    text = text_of(section(report_html, "systemic"))
    finite_n = json.loads((pipeline / "results/systemic/finite_n/metrics.json").read_text())
    assert "Finite-N check" in text and "common_noise" in text and "two_types" in text
    assert ("holds" if finite_n["largest_N_check"]["holds"] else "FAILS") in text
    summary = text_of(section(report_html, "summary"))
    assert "Market-wide shocks" in summary and "urgent liquidators" in summary and "N players" in summary
