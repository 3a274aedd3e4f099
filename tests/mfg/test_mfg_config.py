"""Config validation: every bad value is a ConfigError naming the key."""

from __future__ import annotations

import pytest

from mfg_cases import STIFF, make
from mfg_finance.errors import ConfigError
from mfg_finance.mfg import solve, validate_config


def test_defaults_are_filled_and_result_is_plain():
    cfg = validate_config({"grid": {"nx": 51}, "params": dict(STIFF["params"])})
    # the range is sized from the problem (6 std around the exact law, m0 = N(0.5, 0.5^2)), with 0 on a node
    g = cfg.pop("grid")
    assert {k: g[k] for k in ("nx", "T", "nt", "time_mesh", "max_step_ratio", "inventory_mesh")} == {
        "nx": 51, "T": 0.5, "nt": 150, "time_mesh": "graded", "max_step_ratio": 1.5, "inventory_mesh": "graded"}
    dx = (g["x_max"] - g["x_min"]) / 50
    # 6 std of the law's envelope plus a 3% margin on each side
    assert g["x_min"] <= 0.5 - 3.0 and g["x_max"] >= 0.5 + 3.0 and g["x_max"] - g["x_min"] < 1.07 * 6.0 + 2 * dx
    assert abs(g["x_min"] / dx - round(g["x_min"] / dx)) < 1e-9
    assert cfg["solver"] == {"method": "newton", "tol": 1e-10, "max_iter": 50, "damping": 0.5}
    assert cfg["price"]["enabled"] is False
    assert all(type(v) is float for v in cfg["params"].values())


def test_pipeline_extra_sections_are_ignored():
    cfg = validate_config({**STIFF, "scenarios": {"baseline": {}}, "verification": {"refinements": []}})
    assert set(cfg) == {"grid", "params", "solver", "price"}


@pytest.mark.parametrize("section, key, value, message", [
    ("grid", "nx", 2, "mfg.grid.nx: must be an integer >= 3, got 2"),
    ("grid", "nx", 20.5, "mfg.grid.nx: must be an integer >= 3, got 20.5"),
    ("grid", "nx", True, "mfg.grid.nx: must be an integer >= 3, got True"),
    ("grid", "nt", 0, "mfg.grid.nt: must be an integer >= 1, got 0"),
    ("grid", "T", 0.0, "mfg.grid.T: must be > 0, got 0.0"),
    ("grid", "x_max", -6.0, "mfg.grid.x_max: must be above x_min"),
    ("grid", "time_mesh", "log", "mfg.grid.time_mesh: 'log' is not one of ['uniform', 'graded']"),
    ("grid", "max_step_ratio", 0.9, "mfg.grid.max_step_ratio: must be >= 1, got 0.9"),
    ("grid", "max_step_ratio", "2", "mfg.grid.max_step_ratio: must be a finite number"),
    ("params", "sigma", -0.1, "mfg.params.sigma: must be >= 0, got -0.1"),
    ("params", "eta0", 0.0, "mfg.params.eta0: must be > 0, got 0.0"),
    ("params", "eta1", -1e-3, "mfg.params.eta1: must be >= 0"),
    ("params", "phi", float("nan"), "mfg.params.phi: must be a finite number"),
    ("params", "gamma_T", "0.5", "mfg.params.gamma_T: must be a finite number, got '0.5'"),
    ("params", "m0_std", 0.0, "mfg.params.m0_std: must be > 0"),
    ("params", "m0_mean", 7.0, "the initial law N(7.0, 0.5^2) does not fit in the domain [-5, 5]"),
    ("params", "m0_mean", 4.9, "mfg.params.m0_mean, mfg.params.m0_std: the initial law N(4.9, 0.5^2) does not fit"),
    ("params", "sigma", None, "mfg.params.sigma: missing (null)"),
    ("solver", "method", "broyden", "mfg.solver.method: 'broyden' is not one of ['newton', 'picard']"),
    ("solver", "tol", "1e-10", "write floats with a dot"),
    ("solver", "tol", 0.0, "mfg.solver.tol: must be > 0"),
    ("solver", "max_iter", 0, "mfg.solver.max_iter: must be an integer >= 1"),
    ("solver", "damping", 1.5, "mfg.solver.damping: must be <= 1"),
    ("solver", "damping", 0.0, "mfg.solver.damping: must be > 0"),
    ("price", "kappa", 0.0, "mfg.price.kappa: must be nonzero"),
    ("price", "enabled", "yes", "mfg.price.enabled: must be true or false"),
    ("price", "supply", [0.0, 1.0], "mfg.price.supply: a path needs nt + 1 = 151 values, got 2"),
])
def test_bad_values(section, key, value, message):
    cfg = make(STIFF, **{section: {key: value}})
    with pytest.raises(ConfigError) as info:
        solve(cfg)
    assert message in str(info.value)


def test_unknown_keys_and_sections():
    with pytest.raises(ConfigError, match=r"mfg.solver: unknown key\(s\) \['tolerance'\]"):
        validate_config(make(STIFF, solver={"tolerance": 1e-8}))
    with pytest.raises(ConfigError, match=r"mfg: unknown section\(s\) \['solvr'\]"):
        validate_config({**STIFF, "solvr": {}})
    with pytest.raises(ConfigError, match="mfg.params: missing section"):
        validate_config({"grid": {}})
    with pytest.raises(ConfigError, match="mfg.grid: must be a mapping"):
        validate_config({**STIFF, "grid": [1, 2]})


def test_enabled_price_needs_kappa_and_p_ref():
    with pytest.raises(ConfigError, match="mfg.price.kappa: required"):
        validate_config(make(STIFF, price={"enabled": True, "p_ref": 20.0}))
    with pytest.raises(ConfigError, match="mfg.price.p_ref: required"):
        validate_config(make(STIFF, price={"enabled": True, "kappa": -10.0}))


def test_too_large_grid_is_refused():
    with pytest.raises(ConfigError, match="nodes exceeds"):
        validate_config(make(STIFF, grid={"nx": 100_001, "nt": 1000}))


def test_validation_does_not_mutate_input():
    cfg = make(STIFF)
    before = repr(cfg)
    validate_config(cfg)
    assert repr(cfg) == before
