"""``data.trades.source: local``: one ingestion job per session file, then the intraday estimates that
calibrate reads; a glob that matches nothing, or two files giving one session name, stop the run before
any job, naming the key. Dry runs on a temporary copy of the repository (nothing is computed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfg_finance.cotahist.sample import sample_cotahist_bytes
from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session, write_neg, write_negocios
from wfutils import SMALL_CONFIG, copy_workflow, edit_config, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


def local_trades_copy(repo_root: Path, dest: Path, glob: str = "resources/trades/local/*") -> Path:
    workdir = copy_workflow(repo_root, dest, repo_root / SMALL_CONFIG)

    def edit(config: dict) -> None:
        config["data"].update(source="local", local={"glob": "resources/cotahist/local/COTAHIST_*"})
        config["data"]["trades"] = {**config["data"].get("trades", {}), "source": "local", "local": {"glob": glob}}

    edit_config(workdir, edit)
    cotahist = workdir / "resources" / "cotahist" / "local" / "COTAHIST_A2023.TXT"
    cotahist.parent.mkdir(parents=True)
    cotahist.write_bytes(sample_cotahist_bytes(seed=11, n_tickers=12, n_sessions=20, start_date="2023-01-02"))
    session = simulate_session([SyntheticInstrument("SYNA3", rate_buy=0.01, rate_sell=0.01)], date="2024-07-01",
                               seed=1)
    trades = workdir / "resources" / "trades" / "local"
    trades.mkdir(parents=True)
    write_neg(session, trades / "NEG_20240701.zip")
    write_negocios(session, trades / "01-07-2024_NEGOCIOSAVISTA.zip")
    return workdir


def test_local_trade_files_fan_out_one_ingestion_per_session(repo_root, tmp_path):
    workdir = local_trades_copy(repo_root, tmp_path / "wf")
    proc = snakemake(workdir, "-n", "--cores", "1", "results/calibration/mfg_params.yaml", timeout=600)
    jobs = planned_jobs(proc.stdout)
    assert jobs.get("ingest_trades") == 2 and jobs.get("estimate_intraday") == 1, proc.stdout[-3000:]
    assert "make_sample_trades" not in jobs and "download_trades" not in jobs
    for session in ("NEG_20240701", "01-07-2024_NEGOCIOSAVISTA"):
        assert f"results/trades/sessions/{session}.parquet" in proc.stdout


@pytest.mark.slow        # two more dry runs of the whole DAG
@pytest.mark.parametrize("glob, expected", [
    ("resources/trades/none/*", "data.trades.local.glob: no file matches 'resources/trades/none/*'"),
    ("resources/trades/local/*.zip", None),
], ids=["no_match", "two_files_one_session"])
def test_bad_local_trade_globs_are_refused_before_any_job(repo_root, tmp_path, glob, expected):
    workdir = local_trades_copy(repo_root, tmp_path / "wf", glob)
    if expected is None:     # a second file with the same name before its first dot: one session twice
        (workdir / "resources/trades/local/NEG_20240701.zip").rename(workdir / "resources/trades/local/S.a.zip")
        (workdir / "resources/trades/local/01-07-2024_NEGOCIOSAVISTA.zip").rename(
            workdir / "resources/trades/local/S.b.zip")
        expected = "give the same session name 'S' (the file name before its first dot)"
    proc = snakemake(workdir, "-n", "--cores", "1", "results/calibration/mfg_params.yaml", check=False, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and expected in output, output[-3000:]
