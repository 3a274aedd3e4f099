"""Helpers of the report tests (a plain module, importable as ``reportutils`` from tests/report)."""

from __future__ import annotations

from pathlib import Path


def report_inputs(workdir: Path) -> dict:
    """The render_report rule's named inputs (REPORT_INPUTS of workflow/rules/common.smk) for a run of
    the small config, as absolute paths."""
    w = Path(workdir)

    def many(pattern: str) -> list[str]:
        found = sorted(str(p) for p in w.glob(pattern))
        assert found, f"no artefact matches {pattern} in {w}"
        return found

    scenarios = sorted(p.parent.name for p in w.glob("results/mfg/*/solution.npz"))
    mfg_figures = ["value_function", "feedback", "density", "flow_eta_price", "convergence"]
    return {
        "ingest_summary": str(w / "results/data/ingest_summary.json"),
        "rejects": str(w / "results/data/rejects.txt"),
        "asset_stats": str(w / "results/stats/asset_stats.parquet"),
        "universe": str(w / "results/data/universe.parquet"),
        "corporate_events": str(w / "results/data/corporate_events.parquet"),
        "corporate_events_summary": str(w / "results/data/corporate_events_summary.json"),
        "stats_summary": str(w / "results/stats/summary.json"),
        "analytics": many("reports/analytics/*.png"),
        "mfg_params": str(w / "results/calibration/mfg_params.yaml"),
        "mm_params": str(w / "results/calibration/mm_params.yaml"),
        "mfg_metrics": [str(w / f"results/mfg/{s}/metrics.json") for s in scenarios],
        "mfg_solutions": [str(w / f"results/mfg/{s}/solution.npz") for s in scenarios],
        "mfg_figures": [str(w / f"results/mfg/{s}/{n}.png") for s in scenarios for n in mfg_figures],
        "verification_metrics": str(w / "results/mfg/verification/metrics.json"),
        "verification_table": str(w / "results/mfg/verification/refinement.csv"),
        "verification_figures": [str(w / "results/mfg/verification/exact_comparison.png"),
                                 str(w / "results/mfg/verification/convergence_order.png")],
        "sweep_tables": many("results/sweeps/*.parquet"),
        "sweep_figures": many("results/sweeps/*.png"),
        "backtest_stats": str(w / "results/market_making/backtest_stats.parquet"),
        "backtest_figures": [str(w / "results/market_making/pnl_distribution.png"),
                             str(w / "results/market_making/inventory_distribution.png")],
        "quotes_figures": many("results/market_making/*/quotes.png"),
        "reproduction": str(w / "results/market_making/avellaneda_stoikov_2008.csv"),
        "notebooks": many("results/notebooks/*.*"),
        "provenance": str(w / "results/provenance.json"),
        "systemic_params": str(w / "results/calibration/systemic_params.yaml"),
        "systemic_metrics": [str(Path(p).with_name("metrics.json")) for p in many("results/systemic/*/overview.png")],
        "systemic_figures": many("results/systemic/*/overview.png"),
        "finite_n_metrics": [str(w / "results/systemic/finite_n/metrics.json")],
        "finite_n_figure": [str(w / "results/systemic/finite_n/convergence.png")],
        "systemic_sweeps": [str(w / f"results/sweeps/{s}.parquet") for s in ("sigma0", "urgent_share")],
    }
