"""A sweep over the weights of three agent types (``type_weights``) through Snakemake: planned as ordinary
sweep jobs, or refused before any job when the types solver cannot take it."""

from __future__ import annotations

import pytest

from test_bad_inputs import workflow_copy
from test_config_refusals import _refused
from test_pipeline import sweep_batches
from wfutils import planned_jobs, snakemake

pytestmark = pytest.mark.workflow

THREE = {"types": [{"name": "urgent", "weight": 0.2, "phi_factor": 10.0, "gamma_T_factor": 10.0},
                   {"name": "mid", "weight": 0.3, "phi_factor": 3.0}, {"name": "patient", "weight": 0.5}]}
W3 = {"scenario": "three", "type_weights": [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]}


def _with_sweep(sweep):
    def edit(config):
        config["mfg"]["scenarios"]["three"] = THREE
        config["sweeps"]["w3"] = sweep
        edit.config = config
    return edit


def test_a_three_type_weights_sweep_is_planned_as_sweep_jobs(repo_root, tmp_path):
    edit = _with_sweep(W3)
    workdir = workflow_copy(repo_root, tmp_path / "wf", edit)
    proc = snakemake(workdir, "--cores", "1", "--dry-run", "results/sweeps/w3.parquet", check=False, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    jobs = planned_jobs(proc.stdout)
    assert jobs["aggregate_sweep"] == 1 and jobs["sweep_mfg"] == len(sweep_batches(edit.config, "w3")), jobs
    # the sweep is systemic: its batches read the sigma0 calibration, like the urgent_share sweep's
    assert jobs["calibrate_systemic"] == 1, jobs


def test_three_types_with_a_common_noise_axis_are_refused_before_any_job(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", _with_sweep({**W3, "market_share": [0.0, 0.3]}))
    output = _refused(workdir)
    assert ("sweeps.w3.type_weights: 3 types with common noise (sweeps.w3.market_share > 0) are not supported"
            in output), output[-3000:]
