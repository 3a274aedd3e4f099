"""Issue 21 through Snakemake itself: refusals happen before any job, naming the file/line or key."""

from __future__ import annotations

import pytest

from test_bad_inputs import AS_2008, workflow_copy
from wfutils import snakemake

pytestmark = pytest.mark.workflow


def _refused(workdir, *targets: str) -> str:
    proc = snakemake(workdir, "--cores", "1", "--dry-run", *(targets or ("all",)), check=False, timeout=300)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert not (workdir / "results").exists()
    return proc.stdout + proc.stderr


def test_duplicate_key_in_the_config_file_is_refused_with_its_line(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf")
    config = workdir / "config" / "config.yaml"
    n_lines = len(config.read_text().splitlines())
    config.write_text(config.read_text() + "stats: {rolling_window: 5}\n")
    output = _refused(workdir)
    assert (f"Invalid configuration file: config/config.yaml, line {n_lines + 1}, column 1: invalid YAML: "
            "duplicate key 'stats' (first given on line") in output, output[-3000:]


@pytest.mark.slow
def test_yaml_syntax_error_in_the_config_file_names_its_line(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf")
    config = workdir / "config" / "config.yaml"
    n_lines = len(config.read_text().splitlines())
    config.write_text(config.read_text() + "report: {title: [unclosed\n")
    output = _refused(workdir)
    assert f"config/config.yaml, line {n_lines + 2}, column 1: invalid YAML" in output, output[-3000:]


def test_config_asking_for_too_much_memory_is_refused_with_the_estimate(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", lambda c: c["market_making"].update(Q_max=10**6))
    output = _refused(workdir)
    assert "Invalid configuration (" in output
    assert "): market_making.Q_max = 1000000 with horizon_s / dt_s = 300 steps" in output
    assert "GiB, more than 8 GiB" in output


def test_output_symlink_out_of_the_working_directory_is_refused_before_any_job(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf")
    victim = tmp_path / "victim.txt"
    victim.write_text("not a benchmark")
    link = workdir / "logs" / "data" / "ingest_cotahist.log"
    link.parent.mkdir(parents=True)
    link.symlink_to(victim)
    proc = snakemake(workdir, "--cores", "1", AS_2008, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"logs/data/ingest_cotahist.log -> {victim}" in output, output[-3000:]
    assert victim.read_text() == "not a benchmark" and not (workdir / "results").exists()


@pytest.mark.slow
def test_one_step_horizon_backtests_run(repo_root, tmp_path):
    def one_step(config):
        config["market_making"].update(horizon_s=1.0, dt_s=1.0, strategies=["inventory_aware", "hjb"])
        config["market_making"]["replay"]["strategies"] = ["hjb"]   # a subset of the strategies (check_config)

    workdir = workflow_copy(repo_root, tmp_path / "wf", one_step)
    snakemake(workdir, "--cores", "2", "results/market_making/SYNA3/inventory_aware.parquet",
              "results/market_making/SYNA3/hjb.parquet", timeout=900)
