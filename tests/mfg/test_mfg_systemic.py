"""Pipeline side of the systemic scenarios: dispatch, config merge, summaries and sweeps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.mfg import solve
from mfg_finance.config import sweep_run_overrides
from mfg_finance.mfg.systemic import (is_systemic, run_common_noise, run_finite_n, run_types, run_types_common_noise,
                                      systemic_config)
from mfg_finance.sweeps import aggregate_points, solve_point

CALIBRATED = {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
              "kappa": -50.0, "p_ref": 20.0}
SYSTEMIC_DOC = {"sigma0": {"value": 0.3}, "sigma_idiosyncratic": {"value": 0.4}}
RUN = {"grid": {"x_min": -5.0, "x_max": 5.0, "nx": 101, "T": 0.5, "nt": 80, "time_mesh": "graded",
                "max_step_ratio": 1.5},
       "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": None},
       "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5},
       "price": {"enabled": False, "supply": 0.0}}
TYPES = [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7}, {"name": "patient", "weight": 0.7}]
SETTINGS = {"common_noise": {"nt": 40, "nQ": 41, "n_paths": 300, "seed": 3}}


def _types_run():
    return {**RUN, "params": {**RUN["params"], "sigma0": 0.0}, "types": TYPES}


def test_dispatch_and_calibrated_sigma0():
    assert is_systemic(RUN) and is_systemic(_types_run())
    assert not is_systemic({**RUN, "params": {"sigma0": 0.0}})
    cfg = systemic_config(CALIBRATED, SYSTEMIC_DOC, RUN)
    assert cfg["params"]["sigma0"] == 0.3 and cfg["params"]["sigma"] == 0.4
    assert cfg["sigma0_source"] == "calibrated" and cfg["price"]["kappa"] == -50.0
    with pytest.raises(ConfigError, match="systemic_params"):
        systemic_config(CALIBRATED, None, RUN)
    three = TYPES[:1] + [{"name": "patient", "weight": 0.4}, {"name": "idle", "weight": 0.3}]
    with pytest.raises(ConfigError, match="mfg.types: 3 types with common noise"):
        systemic_config(CALIBRATED, SYSTEMIC_DOC, {**_types_run(), "params": {"sigma0": 0.2}, "types": three})
    # the deterministic solver refuses common noise instead of ignoring it
    with pytest.raises(ConfigError, match="mfg.params.sigma0"):
        params = {k: CALIBRATED[k] for k in ("sigma", "eta0", "eta1", "phi", "gamma_T")}
        solve({"grid": RUN["grid"], "params": {**params, "sigma0": 0.1}})


def test_common_noise_scenario_summary_is_deterministic():
    cfg = systemic_config(CALIBRATED, SYSTEMIC_DOC, RUN)
    one, arrays = run_common_noise(cfg, SETTINGS)
    two, arrays2 = run_common_noise(cfg, SETTINGS)
    assert one == two and all(np.array_equal(arrays[k], arrays2[k]) for k in arrays)
    assert one["expected_cost"]["error_bound"] > 0.0
    # the cost's error estimate (signed parts) next to its bound, and whether the estimate is held
    cost = one["expected_cost"]
    assert 0.0 < cost["error"] <= cost["error_bound"] and isinstance(cost["unresolved"], bool)
    assert cost["error"] >= abs(cost["estimate_time"] + cost["estimate_space"])
    # every key of one type's cost detail reaches the summary (the shared _cost_summary skips the keys a detail lacks)
    assert list(cost) == ["value", "error", "unresolved", "error_bound", "extrapolated", "error_time", "error_space",
                          "estimate_time", "estimate_space", "grid_values"]
    assert one["outcomes"]["price_impact"]["se"] > 0.0
    assert arrays["band_Q"].shape == (5, 41) and "band_price" in arrays


def test_finite_n_metrics_are_the_same_bytes_for_the_same_config_and_seed():
    """Two identical cold runs of the default pipeline wrote different finite_n/metrics.json: the best response's
    measured cpu_seconds was among the results."""
    cfg = systemic_config(CALIBRATED, SYSTEMIC_DOC, RUN)
    settings = {**SETTINGS, "finite_n": {"Ns": [10, 100], "game_pairs": 50, "agent_paths": 400, "limit_paths": 200,
                                         "min_replications": 2, "seed": 5, "epsilon_Ns": [10]}}
    results = [run_finite_n(cfg, settings) for _ in range(2)]
    one, two = (json.dumps(r, sort_keys=True) for r in results)
    assert one == two and '"best_response"' in one
    # issue 16's check at the largest N: 3 Monte Carlo SEs plus the MFG value's error estimate (the bound only
    # where the estimate is not held)
    check, value = results[0]["largest_N_check"], results[0]["mfg_value"]
    used = "bound" if value["unresolved"] else "estimate"
    assert check["allowed_by"] == used
    assert check["allowed"] == 3.0 * check["mean_cost_se"] + value["error" if used == "estimate" else "error_bound"]


def _mfg_config():
    """An ``mfg`` config block with the common-noise and two-type scenarios of RUN / TYPES."""
    return {"grid": RUN["grid"], "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": 0.0},
            "solver": RUN["solver"], "price": {"enabled": True, "supply": 0.0},
            "scenarios": {"baseline": {}, "common_noise": {"params": {"sigma0": None}},
                          "two_types": {"types": TYPES}}}


def _points(scenario, key, values, settings=SETTINGS):
    mfg = _mfg_config()
    return [solve_point(CALIBRATED, sweep_run_overrides(mfg, {key: v}, scenario), {key: v},
                        systemic_doc=SYSTEMIC_DOC, settings=settings) for v in values]


def test_types_scenario_and_urgent_share_sweep_points():
    cfg = systemic_config(CALIBRATED, SYSTEMIC_DOC, _types_run())
    summary, arrays = run_types(cfg)
    o = summary["outcomes"]
    assert o["types"]["urgent"]["liquidation_speed"] > o["types"]["patient"]["liquidation_speed"]
    assert arrays["mean_inventory_by_type"].shape[0] == 2 and "price" in arrays
    rows = _points("two_types", "urgent_share", [0.2, 0.8])
    assert [r["solver"] for r in rows] == ["types", "types"] and all(r["converged"] for r in rows)
    assert [r["derived"]["weight_urgent"] for r in rows] == [0.2, 0.8]
    # more urgent agents: faster crowd, costlier on average
    assert rows[1]["outcomes"]["liquidation_speed"] > rows[0]["outcomes"]["liquidation_speed"]
    assert rows[1]["outcomes"]["total_cost"] > rows[0]["outcomes"]["total_cost"]
    # every outcome carries its estimated discretisation error, per type and for the crowd
    assert summary["outcome_errors"]["total_cost"] > 0.0 and summary["outcome_errors"]["liquidation_speed"] > 0.0
    assert summary["outcome_errors"]["types"]["urgent"]["total_cost"] > 0.0 and summary["accuracy"]["error"] is None
    for r in rows:
        assert r["outcome_errors"]["total_cost"] > 0.0 and r["outcome_errors"]["price_impact"] > 0.0
        assert r["type_outcome_errors"]["patient"]["liquidation_speed"] > 0.0
    table = aggregate_points(rows)
    assert {"total_cost_error", "type_urgent_total_cost", "type_urgent_total_cost_error",
            "type_patient_terminal_dispersion_error", "type_patient_unresolved"} <= set(table.columns)
    assert table["type_urgent_total_cost_error"].notna().all()
    # the point with the scenario's own weight is the scenario's equilibrium
    same = _points("two_types", "urgent_share", [0.3])[0]
    assert same["outcomes"]["total_cost"] == pytest.approx(o["total_cost"], rel=1e-12)
    with pytest.raises(ConfigError, match="exactly two types"):
        sweep_run_overrides(_mfg_config(), {"urgent_share": 0.5}, "common_noise")


def test_type_weights_sweep_point_is_the_direct_solve_with_those_weights():
    """A three-type point (no common noise) equals the multi-type solve of the scenario given those weights."""
    three = [{"name": "urgent", "weight": 0.2, "phi": 0.35, "gamma_T": 5.7}, {"name": "mid", "weight": 0.3,
                                                                            "phi_factor": 3.0},
             {"name": "patient", "weight": 0.5}]
    mfg = _mfg_config()
    mfg["scenarios"]["three"] = {"types": three}
    weights = [0.5, 0.3, 0.2]
    point = solve_point(CALIBRATED, sweep_run_overrides(mfg, {"type_weights": weights}, "three"),
                        {"type_weights": weights}, systemic_doc=SYSTEMIC_DOC, settings=SETTINGS)
    assert point["solver"] == "types" and point["converged"]
    assert [point["derived"][f"weight_{t['name']}"] for t in three] == weights
    direct_types = [dict(t, weight=w) for t, w in zip(three, weights)]
    direct, _ = run_types(systemic_config(CALIBRATED, SYSTEMIC_DOC, {**_types_run(), "price": mfg["price"],
                                                                     "types": direct_types}))
    for key in ("total_cost", "liquidation_speed", "price_impact", "terminal_dispersion"):
        assert point["outcomes"][key] == direct["outcomes"][key], key
    for name in ("urgent", "mid", "patient"):
        assert point["type_outcomes"][name] == {k: v for k, v in direct["outcomes"]["types"][name].items()
                                                if k != "weight"}, name
    # the weights matter: the scenario's own weights (0.2, 0.3, 0.5) give a slower, cheaper crowd
    own = solve_point(CALIBRATED, sweep_run_overrides(mfg, {"type_weights": [0.2, 0.3, 0.5]}, "three"),
                      {"type_weights": [0.2, 0.3, 0.5]}, systemic_doc=SYSTEMIC_DOC, settings=SETTINGS)
    assert own["outcomes"]["liquidation_speed"] < point["outcomes"]["liquidation_speed"]
    assert own["outcomes"]["total_cost"] < point["outcomes"]["total_cost"]
    table = aggregate_points([point, own])
    assert list(table["param_type_weights"]) == ["0.2 / 0.3 / 0.5", "0.5 / 0.3 / 0.2"]
    assert {"used_weight_mid", "type_mid_total_cost", "type_mid_total_cost_error"} <= set(table.columns)


def test_market_share_sweep_points_keep_the_total_noise():
    rows = _points("common_noise", "market_share", [0.0, 0.6])
    total = math.hypot(0.4, 0.3)
    for r in rows:
        assert r["solver"] == "common_noise" and r["converged"]
        assert math.hypot(r["derived"]["sigma"], r["derived"]["sigma0"]) == pytest.approx(total)
        assert r["outcome_errors"]["total_cost"] > 0.0 and r["outcome_se"]["price_impact"] >= 0.0
    assert rows[0]["derived"]["sigma0"] == 0.0 and rows[0]["outcome_se"]["mean_inventory_terminal"] < 1e-9
    assert rows[1]["outcome_se"]["mean_inventory_terminal"] > 1e-3
    # the rho = 0 point is the deterministic equilibrium, through the (t, Q) solver: two discretisations, each
    # with its estimated error (the (t, Q) one on the coarse 40 x 41 grid of SETTINGS: about 20% for the speed)
    det = solve({"grid": RUN["grid"], "params": {**{k: CALIBRATED[k] for k in ("eta0", "eta1", "phi", "gamma_T")},
                                                 "sigma": total, "m0_mean": 0.5, "m0_std": 0.5}})
    for key in ("liquidation_speed", "liquidation_half_life", "mean_inventory_terminal", "eta_max"):
        assert abs(rows[0]["outcomes"][key] - det.outcomes()[key]) <= \
            rows[0]["outcome_errors"][key] + det.accuracy["outcome_errors"][key], key
    table = aggregate_points(rows)
    assert {"param_market_share", "used_sigma0", "price_impact_se", "total_cost_error"} <= set(table.columns)
    # the terminal std: conditional variance along the paths + their variance of Q_T, with its estimate and SE
    assert table["terminal_dispersion"].notna().all() and (table["terminal_dispersion_error"] > 0.0).all()
    assert {"terminal_dispersion_se", "terminal_dispersion_common", "terminal_dispersion_idiosyncratic_error"} \
        <= set(table.columns)
    # identical paths: the common part is exactly 0 (audit s30: the paths' std, 5e-20 ± 2.3e-19, was shown)
    assert rows[0]["outcome_parts"]["terminal_dispersion_common"] == {"value": 0.0, "error": 0.0, "se": 0.0}
    # the deterministic terminal std within the point's own estimate (the 40-step grid is coarse: about 100%)
    assert abs(rows[0]["outcomes"]["terminal_dispersion"] - det.outcomes()["terminal_dispersion"]) <= \
        rows[0]["outcome_errors"]["terminal_dispersion"] + 0.02 * det.outcomes()["terminal_dispersion"]
    assert rows[1]["outcome_parts"]["terminal_dispersion_common"]["value"] > 0.0
    # a sigma0 sweep on the baseline scenario is systemic at every point, sigma0 = 0 included
    direct = _points("baseline", "sigma0", [0.0, 0.2])
    assert [r["solver"] for r in direct] == ["common_noise"] * 2
    assert direct[1]["derived"] == {"sigma0": 0.2, "sigma": 0.5}


def test_two_types_with_common_noise_scenario_summary():
    cfg = systemic_config(CALIBRATED, SYSTEMIC_DOC, {**_types_run(), "params": {**RUN["params"], "sigma0": None}})
    settings = {"common_noise": {"nt": 40, "nQ": 41, "nD": 17, "n_paths": 300, "seed": 3}}
    one, arrays = run_types_common_noise(cfg, settings)
    two, _ = run_types_common_noise(cfg, settings)
    assert one == two and one["kind"] == "types_common_noise" and one["params"]["sigma0"] == 0.3
    o = one["outcomes"]
    assert o["types"]["urgent"]["liquidation_speed"]["mean"] > o["types"]["patient"]["liquidation_speed"]["mean"]
    # each type's path outcomes carry their discretisation error and Monte Carlo SE too
    for name, t in o["types"].items():
        for key in ("liquidation_speed", "Q_T", "liquidation_half_life", "mean_flow_terminal"):
            assert t[key]["error"] > 0.0 and t[key]["se"] > 0.0, (name, key)
            assert one["outcome_errors"]["types"][name][key] == t[key]["error"]
        assert one["outcome_estimates"]["types"][name]["liquidation_speed"]["grid_values"]["fine"] > 0.0
        assert isinstance(one["type_unresolved"][name], list)
    costs = [t["expected_cost"] for t in o["types"].values()]
    assert all(c["error_bound"] > 0.0 for c in costs)
    assert all(0.0 < c["error"] <= c["error_bound"] for c in costs + [one["expected_cost"]])
    assert one["expected_cost"]["value"] == pytest.approx(0.3 * costs[0]["value"] + 0.7 * costs[1]["value"])
    # the crowd's cost summary has the keys of a type's that its detail has, in the same order
    assert list(one["expected_cost"]) == ["value", "error", "unresolved", "error_bound", "estimate_time",
                                          "estimate_space"]
    assert [k for k in costs[0] if k in one["expected_cost"]] == list(one["expected_cost"])
    assert one["paths"]["share_outside_grid"] == 0.0 and o["price_impact"]["se"] > 0.0
    # the crowd's path outcomes carry their discretisation errors (the companion grids on the same Brownian path)
    for name in ("liquidation_speed", "Q_T", "price_impact", "eta_max"):
        assert o[name]["error"] > 0.0 and o[name]["se"] > 0.0 and one["outcome_errors"][name] == o[name]["error"]
    assert arrays["band_Q"].shape == (5, 41) and {"band_Q_type0", "band_price"} <= set(arrays)
    # one agent's terminal std, per type and for the crowd's mixture, with its estimate and split
    d = o["terminal_dispersion"]
    assert d["value"] > 0.0 and d["error"] > 0.0 and d["common"]["std"] > 0.0
    assert all(t["terminal_dispersion"]["value"] > 0.0 for t in o["types"].values())
    # a sweep point of two types with common noise has each type's columns with errors and SEs
    point = _points("two_types", "sigma0", [0.3], settings)[0]
    assert point["solver"] == "types_common_noise" and point["converged"]
    table = aggregate_points([point])
    for name in ("urgent", "patient"):
        for key in ("liquidation_speed", "mean_inventory_terminal", "total_cost", "terminal_dispersion"):
            assert table[f"type_{name}_{key}_error"].iloc[0] > 0.0, (name, key)
        assert table[f"type_{name}_liquidation_speed_se"].iloc[0] > 0.0
        assert table[f"type_{name}_total_cost"].iloc[0] > 0.0 and f"type_{name}_unresolved" in table
