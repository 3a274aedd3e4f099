"""Config, outputs, regimes and CLI of the equilibrium: errors name the key, outputs are byte-stable and never
written for a bad solution, the regimes table and its comparison come from the solves."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import yaml

from eq_cases import CROWD
from mfg_finance.cli import main
from mfg_finance.equilibrium.config import build_problem, check_deterministic, run_settings, validate_run
from mfg_finance.equilibrium.outputs import write_equilibrium
from mfg_finance.equilibrium.pipeline import solve_run
from mfg_finance.equilibrium.regimes import comparison, regime_points, solve_regimes
from mfg_finance.errors import ConfigError, MfgConvergenceError

MFG_DOC = {"units": {"inventory_unit_shares": 1.0e4, "seconds_per_trading_day": 25200},
           "parameters": {k: {"value": v, "unit": "-"} for k, v in CROWD["params"].items()
                          if k not in ("m0_mean", "m0_std")}}
MM_DOC = {"tickers": {"SYNA3": {"sigma": {"value": 0.003}, "A": {"value": 0.9}, "k": {"value": 30.0},
                                "gamma": {"value": 0.1}, "Q_max": {"value": 10}, "S0": {"value": 10.0}}}}


@pytest.mark.parametrize("run, message", [
    ({"beta": -1.0}, r"equilibrium\.beta"),
    ({"Q_max": 2.5}, r"equilibrium\.Q_max"),
    ({"colour": 1}, r"unknown key.*colour"),
    ({"solver": {"method": "newton"}}, r"equilibrium\.solver\.method"),
    ({"max_limit_mass": 1.5}, r"equilibrium\.max_limit_mass"),
    ({"crowd_size": 0}, r"equilibrium\.crowd_size"),
])
def test_bad_settings_name_the_key(run, message):
    with pytest.raises(ConfigError, match=message):
        validate_run(run)


def test_scenario_overrides_and_calibrated_defaults():
    block = {"beta": 0.3, "solver": {"tol": 1e-9}, "scenarios": {"a": {"gamma": 2.0, "solver": {"max_iter": 5}}}}
    run = validate_run(run_settings(block, "a"))
    assert run["beta"] == 0.3 and run["gamma"] == 2.0 and run["solver"]["tol"] == 1e-9 and run["solver"]["max_iter"] == 5
    with pytest.raises(ConfigError, match="unknown scenario 'b'"):
        run_settings(block, "b")
    _, ticker, mm, coupling, record = build_problem(CROWD, MFG_DOC, MM_DOC, {"theta_share": 1.0})
    assert ticker == "SYNA3" and mm.gamma == 0.1 and mm.Q_max == 10        # calibrated values when null
    assert coupling.units.flow_to_lots_per_s == pytest.approx(100 * 1e4 / (100 * 25200))
    assert coupling.theta * record["spread_ref_brl"] == pytest.approx(CROWD["params"]["eta0"])
    # the regimes keep theta: a more risk-averse market maker must not change what a BRL of spread costs the crowd
    _, _, _, other, _ = build_problem(CROWD, MFG_DOC, MM_DOC, {"theta_share": 1.0, "gamma": 10.0},
                                      reference={"theta_share": 1.0})
    assert other.theta == coupling.theta
    with pytest.raises(ConfigError, match="equilibrium.ticker.*PETR4"):
        build_problem(CROWD, MFG_DOC, MM_DOC, {"ticker": "PETR4"})
    with pytest.raises(ConfigError, match="inventory_unit_shares"):
        build_problem(CROWD, {"parameters": {}}, MM_DOC, {})
    with pytest.raises(ConfigError, match="common noise or agent types"):
        check_deterministic({"params": {"sigma0": None}}, "common_noise")


def test_outputs_are_byte_stable_and_refused_when_not_converged(tmp_path):
    solution, record = solve_run(copy.deepcopy(CROWD), MFG_DOC, MM_DOC, {"theta_share": 1.0})
    for name in ("a", "b"):
        write_equilibrium(solution, tmp_path / name, record, figures=name == "a")
    for f in ("solution.npz", "metrics.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "paths.png").is_file() and (tmp_path / "a" / "convergence.png").is_file()
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["converged"] and metrics["residual"] <= metrics["tol"]
    assert metrics["market_maker"]["law_mass_error"] < 1e-12
    assert set(metrics["outcomes"]) >= {"crowd_cost", "mm_pnl_brl", "mm_mean_spread_brl", "price_impact_bps"}
    arrays = np.load(tmp_path / "a" / "solution.npz")
    assert np.allclose(arrays["mm_law"].sum(axis=1), 1.0)
    bad = dataclasses.replace(solution, residuals=solution.residuals + [1.0])
    with pytest.raises(MfgConvergenceError, match="non-converged"):
        write_equilibrium(bad, tmp_path / "c", record)
    assert not (tmp_path / "c" / "metrics.json").exists()


def test_regimes_table_and_comparison_come_from_the_solves():
    spec = {"gamma": [0.1, 1.0], "Q_max": [10], "crowd_size": [100.0, 10000.0], "m0_mean": [0.5],
            "grid": {"nx": 41, "nt": 20}}
    assert len(regime_points(spec)) == 4
    run = {"theta_share": 1.0, "beta": 1.0, "max_limit_mass": 0.03}
    table = solve_regimes(copy.deepcopy(CROWD), MFG_DOC, MM_DOC, run, spec)
    assert list(table["converged"]) == [True, False, True, False]        # 10,000 agents push it off the lattice
    failed = table[~table["converged"]]
    assert failed["error"].str.contains("leaves the inventory lattice").all()
    assert failed["crowd_cost"].isna().all()                             # no number for a failed point
    sentences = comparison(table)
    assert len(sentences) == 2 and "not compared" in sentences[1]
    lo, hi = table.iloc[0], table.iloc[2]
    assert f"{lo['mm_mean_spread_brl']:.4g} → {hi['mm_mean_spread_brl']:.4g}" in sentences[0]
    assert f"{lo['crowd_cost']:.4g} → {hi['crowd_cost']:.4g}" in sentences[0]
    assert f"{lo['crowd_paid_spread_brl']:.4g} → {hi['crowd_paid_spread_brl']:.4g}" in sentences[0]


def test_cli_solves_the_config_scenario(tmp_path, capsys):
    config = {"mfg": {"grid": CROWD["grid"], "params": {"m0_mean": 0.5, "m0_std": 0.5}, "solver": CROWD["solver"],
                      "scenarios": {"baseline": {}}},
              "equilibrium": {"theta_share": 1.0, "scenarios": {"tight": {"gamma": 1.0}}}}
    paths = {}
    for name, doc in (("config", config), ("mfg_params", MFG_DOC), ("mm_params", MM_DOC)):
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(doc))
    code = main(["equilibrium", "--config", str(paths["config"]), "--mfg-params", str(paths["mfg_params"]),
                 "--mm-params", str(paths["mm_params"]), "--out", str(tmp_path / "out"), "--no-figures"])
    assert code == 0 and "converged in" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["market_maker_params"]["gamma"] == 1.0 and metrics["run"]["theta_share"] == 1.0
    code = main(["equilibrium", "--config", str(paths["config"]), "--mm-params", str(tmp_path / "none.yaml"),
                 "--mfg-params", str(paths["mfg_params"]), "--out", str(tmp_path / "x")])
    assert code == 2 and "none.yaml" in capsys.readouterr().err
