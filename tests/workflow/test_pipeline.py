"""Workflow tests: the real pipeline, end to end, on the small config in a temporary copy of the repo.

One session-scoped run (the `pipeline` fixture of conftest.py, shared with tests/report) feeds every test
here; the rerun tests edit the config of a private copy of that finished run (`finished_run`) and check from
Snakemake's dry run that exactly the dependent jobs are scheduled again.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml

from wfutils import copy_workflow, edit_config, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


def test_report_is_written_and_self_contained(pipeline):
    report = pipeline / "reports" / "final" / "mfg_report.html"
    html = report.read_text()
    for section in ("summary", "data", "calibration", "mfg", "verification", "sweeps", "market-making", "multi-asset",
                    "provenance"):
        assert f'id="{section}"' in html
    assert "SYNTHETIC SAMPLE DATA" in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) >= 15
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "{{" not in html and "}}" not in html
    assert not re.search(r"https?://(?!www\.w3\.org)", html.split("<body>", 1)[1].split("<pre>")[0])


def test_every_stage_wrote_its_artefacts(pipeline):
    expected = [
        "resources/cotahist/sample/COTAHIST_SAMPLE.TXT",
        "results/data/quotes/COTAHIST_SAMPLE.TXT/year=2023/part-0.parquet", "results/data/ingest/COTAHIST_SAMPLE.TXT.json",
        "results/data/ingest_summary.json", "results/data/equities.parquet", "results/stats/returns.parquet",
        "results/stats/asset_stats.parquet", "results/calibration/mfg_params.yaml",
        "results/calibration/mm_params.yaml", "results/mfg/baseline/solution.npz",
        "results/mfg/endogenous_price/solution.npz", "results/mfg/verification/refinement.csv",
        "results/sweeps/phi_gamma.parquet", "results/sweeps/eta1.parquet",
        "results/market_making/backtest_stats.parquet", "results/market_making/avellaneda_stoikov_2008.csv",
        "results/notebooks/mfg_pipeline.ipynb", "results/notebooks/mfg_pipeline.html",
        "results/notebooks/market_making.html", "results/provenance.json",
        "reports/analytics/return_distribution.png",
        "results/market_making/multi_asset_stats.parquet", "results/market_making/heston/SYNA3/study.csv",
        "results/market_making/portfolios/SYNA3-SYNB4/risk_limit.json",
        "results/market_making/portfolios/SYNA3-SYNB4/quote_surface.png",
        "results/calibration/systemic_params.yaml", "results/systemic/common_noise/metrics.json",
        "results/systemic/common_noise/overview.png", "results/systemic/two_types/arrays.npz",
        "results/systemic/finite_n/convergence.png", "results/sweeps/sigma0.parquet",
        "results/sweeps/urgent_share.parquet",
        "resources/trades/sample/S1.zip", "results/trades/sessions/S2_bars.parquet",
        "results/trades/intraday_estimates.json", "results/trades/figures/impact_fit.png",
        "results/market_making/replay/S1/SYNA3/hjb.parquet", "results/market_making/replay/comparison.csv",
        "results/market_making/replay/summary.json", "results/market_making/replay/comparison.png",
        "results/equilibrium/equilibrium/solution.npz", "results/equilibrium/equilibrium/metrics.json",
        "results/equilibrium/equilibrium/paths.png", "results/equilibrium/regimes.parquet",
        "results/equilibrium/regimes.json", "results/equilibrium/regimes.png",
    ]
    missing = [p for p in expected if not (pipeline / p).is_file()]
    assert not missing
    import pandas as pd

    sweep = pd.read_parquet(pipeline / "results/sweeps/phi_gamma.parquet")
    assert len(sweep) == 9
    stats = pd.read_parquet(pipeline / "results/market_making/backtest_stats.parquet")
    assert len(stats) == 8
    # the replay: 2 sample sessions x 2 tickers x the 2 strategies of the small config, compared with the backtests
    comparison = pd.read_csv(pipeline / "results/market_making/replay/comparison.csv")
    assert sorted(zip(comparison["ticker"], comparison["strategy"])) == [
        ("SYNA3", "constant"), ("SYNA3", "hjb"), ("SYNB4", "constant"), ("SYNB4", "hjb")]
    assert (comparison["n_sessions"] == 2).all() and comparison["replay_pnl_per_hour"].notna().all()
    report = (pipeline / "reports" / "final" / "mfg_report.html").read_text()
    assert "Backtests against the tape (2 sessions of recorded trades)" in report
    # the equilibrium: the small config's 4 regimes, and the report's comparison generated from them
    regimes = pd.read_parquet(pipeline / "results/equilibrium/regimes.parquet")
    assert len(regimes) == 4 and regimes["converged"].all()
    assert "Market maker and crowd in one equilibrium" in report and "A more risk-averse market maker" in report


def test_the_tests_find_the_warm_up_records_the_run_wrote(pipeline):
    """The workflow tests copy the session run's numba cache once its warm-up jobs have written their records
    (wfkernels.py): the records they look for are the ones the run planned and wrote, no more, no fewer."""
    import wfkernels
    from mfg_finance.kernel_warmup import warmup_record

    groups = wfkernels.planned_warmups(pipeline)
    assert groups and "models" in groups                      # the small config solves MFGs
    written = sorted(p.relative_to(pipeline).as_posix() for p in (pipeline / "results" / "kernels").glob("*"))
    assert written == sorted(warmup_record(group) for group in groups)
    assert wfkernels.kernels_compiled(pipeline)


def test_second_run_has_nothing_to_do(pipeline):
    proc = snakemake(pipeline, "-n", "--cores", "2", "all")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def edit_phi_and_plan(workdir: Path) -> dict[str, int]:
    """Set mfg.params.phi in the config of a finished run; the jobs Snakemake plans then."""
    edit_config(workdir, lambda c: c["mfg"]["params"].update(phi=0.05))
    return planned_jobs(snakemake(workdir, "-n", "--cores", "2", "all").stdout)


def test_config_edit_reruns_exactly_the_dependent_rules(finished_run):
    jobs = edit_phi_and_plan(finished_run)
    config = yaml.safe_load((finished_run / "config" / "config.yaml").read_text())
    # phi reaches the two scenario solves, the verification, the eta1 sweep (whose points do not
    # set phi; its batches) and the two systemic sweeps (their batches), their aggregates, the two
    # systemic scenarios, the finite-N check, the equilibrium's crowd (its scenario and the regimes grid),
    # the heuristic-vs-intraday MFG comparison, the MFG notebook, provenance and the report. The
    # phi x gamma_T points set phi themselves, so they are not rerun; nothing upstream of the MFG is.
    assert jobs == {"solve_mfg": 2, "verify_mfg": 1,
                    "sweep_mfg": sum(len(sweep_batches(config, s)) for s in ("eta1", "sigma0", "urgent_share")),
                    "aggregate_sweep": 3,
                    "solve_systemic": 2, "finite_n_check": 1,
                    "solve_equilibrium": 1, "sweep_regimes": 1, "compare_mfg_intraday": 1,
                    "run_notebook": 1, "write_provenance": 1, "render_report": 1, "all": 1}


@pytest.mark.slow
def test_config_edit_rerun_leaves_nothing_to_do(finished_run):
    # the planned jobs of test_config_edit_reruns_exactly_the_dependent_rules, run (about 20 jobs, the
    # equilibrium's among them); the default run does the same check on the rerun of a sweep after a config
    # edit (test_one_job_per_point_writes_the_same_bytes_as_the_batches)
    assert edit_phi_and_plan(finished_run)["solve_mfg"] == 2
    snakemake(finished_run, "--cores", "2", "all")
    proc = snakemake(finished_run, "-n", "--cores", "2", "all")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def sweep_batches(config: dict, sweep: str) -> dict[str, list[str]]:
    """{batch: point ids} of one sweep of a config (mfg_finance.batching, batching.jobs_per_sweep)."""
    from mfg_finance.batching import batches
    from mfg_finance.sweeps import sweep_points

    ids = [p["point_id"] for p in sweep_points(config["sweeps"][sweep], name=sweep)]
    return batches(ids, config.get("batching", {}).get("jobs_per_sweep", 2))


def test_sweep_edit_reruns_only_new_points(finished_run):
    config_path = finished_run / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    before = sweep_batches(config, "phi_gamma")
    config["sweeps"]["phi_gamma"]["phi"] = [0.01, 0.05, 0.3]   # 0.2 -> 0.3: three new points
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(snakemake(finished_run, "-n", "--cores", "2", "all").stdout)
    # the batches whose points changed rerun (mfg_finance.batching); 0.3 is the sweep's new largest phi:
    # its corner, which the verification compares with the exact outcomes (verify_mfg's corners
    # param), moves too
    changed = [b for b, ids in sweep_batches(config, "phi_gamma").items() if ids != before.get(b)]
    assert jobs == {"sweep_mfg": len(changed), "aggregate_sweep": 1, "verify_mfg": 1, "write_provenance": 1,
                    "render_report": 1, "all": 1}


def test_one_job_per_point_writes_the_same_bytes_as_the_batches(finished_run):
    # batching.jobs_per_sweep changes only how many jobs run the points (mfg_finance.batching): with null,
    # one job per point, every point file and the sweep's table are the bytes of the batched run (whose
    # eta1 batch solves both points in one process)
    def eta1_outputs():
        points = finished_run / "results" / "sweeps" / "eta1" / "points"
        return ({p.name: p.read_bytes() for p in points.glob("*/*.json") if p.parent.name == batches_of[p.stem]},
                (finished_run / "results" / "sweeps" / "eta1.parquet").read_bytes())

    config_path = finished_run / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    batches_of = {pid: b for b, ids in sweep_batches(config, "eta1").items() for pid in ids}
    batched = eta1_outputs()
    assert len(batched[0]) == 2 and len(set(batches_of.values())) < len(batches_of)
    config.setdefault("batching", {})["jobs_per_sweep"] = None
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned_jobs(snakemake(finished_run, "-n", "--cores", "2", "results/sweeps/eta1.parquet").stdout)
    assert jobs == {"sweep_mfg": 2, "aggregate_sweep": 1}
    snakemake(finished_run, "--cores", "2", "results/sweeps/eta1.parquet")
    batches_of = {pid: pid for pid in batches_of}               # now each point is its own batch
    assert eta1_outputs() == batched
    proc = snakemake(finished_run, "-n", "--cores", "2", "results/sweeps/eta1.parquet")
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.fixture()
def planned_copy(repo_root, tmp_path) -> Path:
    return copy_workflow(repo_root, tmp_path / "wf", repo_root / "tests" / "configs" / "small.yaml")


# A schema violation and a cross-field error through Snakemake's dry run; the three other schema cases (-m slow)
# take the same path, and their messages are checked in process by tests/unit/test_config.py
# (test_schema_errors_name_every_key_value_and_what_is_allowed).
@pytest.mark.parametrize("edit, expected", [
    pytest.param(lambda c: c.update(colour="red"), "'colour' was unexpected", marks=pytest.mark.slow),
    (lambda c: c["data"].update(source="ftp"), "'ftp' is not one of ['sample', 'b3', 'local']"),
    pytest.param(lambda c: c["mfg"]["grid"].update(nx=2), "2 is less than the minimum of 3", marks=pytest.mark.slow),
    pytest.param(lambda c: c["mfg"]["params"].update(sigma=-0.1), "mfg.params.sigma: -0.1 is not valid under any of the given schemas; expected one of: it is less than the minimum of 0", marks=pytest.mark.slow),
    (lambda c: c["mfg"]["grid"].update(x_min=3.0, x_max=-3.0), "mfg.grid: x_min"),
])
def test_bad_config_fails_before_any_job(planned_copy, edit, expected):
    config_path = planned_copy / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    edit(config)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    proc = snakemake(planned_copy, "-n", "--cores", "1", check=False, timeout=120)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr
    assert not (planned_copy / "results").exists()


def test_slurm_profile_plans_without_a_cluster(planned_copy):
    proc = snakemake(planned_copy, "--profile", "profiles/slurm", "-n", timeout=120)
    jobs = planned_jobs(proc.stdout)
    config = yaml.safe_load((planned_copy / "config" / "config.yaml").read_text())
    assert jobs["sweep_mfg"] == sum(len(sweep_batches(config, s)) for s in config["sweeps"])
    assert jobs["render_report"] == 1


def test_sample_classes_and_corporate_events_reach_the_report(pipeline):
    import pandas as pd

    universe = pd.read_parquet(pipeline / "results/data/universe.parquet")
    kept = universe[universe["kept"]]
    assert set(kept["instrument_class"].astype(str)) == {"stock"}
    assert {"bdr", "etf", "reit", "unit"} <= set(universe.loc[~universe["kept"], "instrument_class"].astype(str))
    events = pd.read_parquet(pipeline / "results/data/corporate_events.parquet")
    truth = pd.read_csv(pipeline / "resources/cotahist/sample/COTAHIST_SAMPLE_events.csv", parse_dates=["ex_date"])
    assert (set(zip(events["ticker"], events["ex_date"], events["kind"], events["factor"]))
            == set(zip(truth["ticker"], truth["ex_date"], truth["kind"], truth["factor"])))
    stats = pd.read_parquet(pipeline / "results/stats/asset_stats.parquet").set_index("ticker")
    share_tickers = truth.loc[truth["kind"].isin(["split", "reverse_split", "bonus"]), "ticker"]
    assert (stats.loc[share_tickers, "n_events_adjusted"] == 1).all()
    assert (stats.loc[share_tickers, "max_abs_log_return"] < 0.3).all()   # no split-sized move left
    html = (pipeline / "reports" / "final" / "mfg_report.html").read_text()
    assert "Instrument classes" in html and "Corporate events: 5" in html
