"""Artefacts: file names, determinism, refusal to write bad solutions, CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import yaml

from mfg_cases import MILD, STIFF, make
from mfg_finance.cli import main
from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg import solve, write_solution
from mfg_finance.mfg.outputs import FIGURES


def test_write_solution_files_and_content(tmp_path, stiff_solution):
    write_solution(stiff_solution, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"{f}.png" for f in FIGURES] + ["metrics.json", "solution.npz"])
    with np.load(tmp_path / "solution.npz") as z:
        assert sorted(z.files) == sorted(["t", "q", "u", "density", "alpha", "eta", "mean_flow"])
        assert np.array_equal(z["density"], stiff_solution.density)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["converged"] is True and metrics["iterations"] == stiff_solution.iterations
    assert metrics["residual"] <= 1e-10 and metrics["residuals"] == stiff_solution.residuals
    assert metrics["mass_error"] <= 1e-13 and metrics["min_density"] >= 0.0
    assert metrics["wall_time_s"] > 0.0
    for key in ("liquidation_speed", "terminal_dispersion", "total_cost", "price_impact"):
        assert key in metrics["outcomes"]
    assert metrics["outcomes"]["price_impact"] is None


def test_price_is_written_when_enabled(tmp_path):
    s = solve(make(MILD, price={"enabled": True, "kappa": 5.0, "p_ref": 10.0}))
    write_solution(s, tmp_path, figures=False)
    with np.load(tmp_path / "solution.npz") as z:
        assert "price" in z.files and np.array_equal(z["price"], s.price)


def test_same_config_same_bytes(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        write_solution(solve(make(STIFF)), out, figures=False, wall_time=False)
        outs.append(out)
    assert (outs[0] / "solution.npz").read_bytes() == (outs[1] / "solution.npz").read_bytes()
    assert (outs[0] / "metrics.json").read_bytes() == (outs[1] / "metrics.json").read_bytes()


@pytest.mark.parametrize("change", [dict(converged=False), dict(residuals=[1.0]),
                                    dict(eta=None)])
def test_bad_solutions_are_never_written(tmp_path, stiff_solution, change):
    if "eta" in change:
        eta = stiff_solution.eta.copy()
        eta[3] = np.nan
        change = {"eta": eta}
    bad = dataclasses.replace(stiff_solution, **change)
    with pytest.raises(MfgConvergenceError, match="refusing"):
        write_solution(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_run_flat_and_nested_config(tmp_path, capsys):
    flat = tmp_path / "flat.yaml"
    flat.write_text(yaml.safe_dump(make(MILD, grid={"nx": 51, "nt": 40})))
    assert main(["run", "--config", str(flat), "--out", str(tmp_path / "a"), "--no-figures"]) == 0
    nested = tmp_path / "nested.yaml"
    nested.write_text(yaml.safe_dump({"mfg": {**make(MILD, grid={"nx": 51, "nt": 40}),
                                              "scenarios": {"baseline": {}}}}))
    assert main(["run", "--config", str(nested), "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "solution.npz").read_bytes() == (tmp_path / "b" / "solution.npz").read_bytes()
    assert (tmp_path / "b" / "density.png").exists()
    assert "converged" in capsys.readouterr().out


def test_cli_run_failure_writes_nothing(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(make(STIFF, solver={"max_iter": 1})))
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    assert "max_iter" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(make(STIFF, grid={"nx": 2})))
    assert main(["run", "--config", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "mfg.grid.nx" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2


def test_cli_verify(tmp_path):
    cfg = tmp_path / "v.yaml"
    cfg.write_text(yaml.safe_dump({"mfg": {**MILD, "verification": {"refinements": [[51, 40], [101, 80]]}}}))
    assert main(["verify", "--config", str(cfg), "--out", str(tmp_path / "v")]) == 0
    metrics = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert len(metrics["refinements"]) == 2
    assert (tmp_path / "v" / "convergence_order.png").exists()
