"""A sweep over the weights of three agent types (``type_weights``) through Snakemake: planned as ordinary sweep
jobs, one per vector (default run: a dry run), run with an edited vector rerunning its point only (``-m slow``: a
real run costs about 27 CPU-s, measured under load, for what the unit tests already check point by point:
tests/unit/test_sweeps.py for the ids, tests/mfg/test_mfg_systemic.py for a point against the direct solve), or
refused before any job when the types solver cannot take it (``-m slow``; the message: tests/unit/test_config.py)."""

from __future__ import annotations

import pytest

import numpy as np
import pandas as pd

from test_bad_inputs import workflow_copy
from test_config_refusals import _refused
from wfutils import edit_config, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

THREE = {"types": [{"name": "urgent", "weight": 0.2, "phi_factor": 10.0, "gamma_T_factor": 10.0},
                   {"name": "mid", "weight": 0.3, "phi_factor": 3.0}, {"name": "patient", "weight": 0.5}]}
W3 = {"scenario": "three", "type_weights": [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]}


def _with_sweep(sweep):
    def edit(config):
        config["mfg"]["scenarios"]["three"] = THREE
        config["sweeps"] = {"w3": sweep}
        config["batching"] = {"jobs_per_sweep": None}     # a job per point: the plan and the rerun are per vector
    return edit


def test_a_three_type_weights_sweep_plans_a_job_per_vector(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", _with_sweep(W3))
    proc = snakemake(workdir, "--cores", "1", "--dry-run", "results/sweeps/w3.parquet")
    planned = planned_jobs(proc.stdout)
    assert planned["sweep_mfg"] == 3 and planned["aggregate_sweep"] == 1, proc.stdout[-3000:]


@pytest.mark.slow
def test_a_three_type_weights_sweep_runs_and_an_edited_vector_reruns_only_its_point(repo_root, tmp_path):
    """A tiny real run (the sweep and the calibration it reads: about 27 CPU-s with the dry run, measured under
    load)."""
    workdir = workflow_copy(repo_root, tmp_path / "wf", _with_sweep(W3))
    targets = ("results/sweeps/w3.parquet", "results/sweeps/w3.png")
    snakemake(workdir, "--cores", "2", *targets, timeout=1200)
    table = pd.read_parquet(workdir / "results/sweeps/w3.parquet")
    assert list(table["param_type_weights"]) == ["0.1 / 0.1 / 0.8", "0.2 / 0.3 / 0.5", "0.5 / 0.3 / 0.2"]
    assert table["converged"].all()
    np.testing.assert_array_equal(table[["used_weight_urgent", "used_weight_mid", "used_weight_patient"]].to_numpy(),
                                  [[0.1, 0.1, 0.8], [0.2, 0.3, 0.5], [0.5, 0.3, 0.2]])
    # more urgent agents: a faster crowd; every type has its own cost with its error estimate
    assert table["liquidation_speed"].is_monotonic_increasing and table["total_cost_error"].gt(0).all()
    assert table["type_mid_total_cost_error"].gt(0).all()
    # one vector edited: only its point and the aggregate are planned again
    edit_config(workdir, lambda c: c["sweeps"]["w3"]["type_weights"].__setitem__(0, [0.1, 0.2, 0.7]))
    proc = snakemake(workdir, "--cores", "1", "--dry-run", *targets)
    assert planned_jobs(proc.stdout) == {"sweep_mfg": 1, "aggregate_sweep": 1}, proc.stdout[-3000:]


@pytest.mark.slow
def test_three_types_with_a_common_noise_axis_are_refused_before_any_job(repo_root, tmp_path):
    """A Snakemake start for what tests/unit/test_config.py checks in process (the same message)."""
    workdir = workflow_copy(repo_root, tmp_path / "wf", _with_sweep({**W3, "market_share": [0.0, 0.3]}))
    output = _refused(workdir)
    assert ("sweeps.w3.type_weights: 3 types with common noise (sweeps.w3.market_share > 0) are not supported"
            in output), output[-3000:]
