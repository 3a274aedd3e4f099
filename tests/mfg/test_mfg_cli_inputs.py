"""``mfg-finance run/verify`` inputs: the pipeline's config, its calibration, a scenario (issue 20)."""

from __future__ import annotations

import pytest
import yaml

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.cli import solve_config

CALIBRATION = {"parameters": {name: {"value": value, "unit": "u", "source": "data"} for name, value in
                              {"sigma": 0.3, "eta0": 0.01, "eta1": 0.002, "phi": 0.05, "gamma_T": 1.0,
                               "kappa": -250.0, "p_ref": 12.0}.items()}}
CONFIG = {"mfg": {"grid": {"nx": 41, "nt": 20}, "params": {"sigma": None, "eta0": None, "eta1": None, "phi": 0.2,
                                                          "gamma_T": None, "m0_mean": 0.5, "m0_std": 0.5},
                  "price": {"enabled": False, "kappa": None, "p_ref": None, "supply": 0.0},
                  "scenarios": {"baseline": {}, "endogenous_price": {"price": {"enabled": True}},
                                "stiff": {"params": {"gamma_T": 5.0}}}}}


@pytest.fixture()
def files(tmp_path):
    config, params = tmp_path / "config.yaml", tmp_path / "mfg_params.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    params.write_text(yaml.safe_dump(CALIBRATION))
    return config, params


def test_calibration_fills_the_nulls_then_config_then_scenario(files):
    config, params = files
    run = solve_config(config, params, "stiff")
    assert run["params"]["sigma"] == 0.3 and run["params"]["eta0"] == 0.01   # calibrated
    assert run["params"]["phi"] == 0.2                                       # config over calibration
    assert run["params"]["gamma_T"] == 5.0                                   # scenario over both
    assert run["grid"]["nx"] == 41 and run["grid"]["time_mesh"] == "graded"  # config, then defaults
    price = solve_config(config, params, "endogenous_price")["price"]
    assert price["enabled"] is True and price["kappa"] == -250.0 and price["p_ref"] == 12.0


def test_a_calibration_file_alone_is_taken_as_params(files):
    _, params = files
    run = solve_config(params)
    assert run["params"]["phi"] == 0.05 and run["grid"]["nx"] == 201


@pytest.mark.parametrize("args, message", [
    ((None, None, None), "give --config, --params or both"),
    (("CONFIG", None, None), "mfg.params ['sigma', 'eta0', 'eta1', 'gamma_T'] are null"),
    (("CONFIG", "PARAMS", "nope"), "mfg.scenarios.nope: no such scenario; defined: ['baseline', 'endogenous_price', 'stiff']"),
    (("PARAMS", "PARAMS", None), "this is a calibration file; pass the config"),
])
def test_bad_inputs_say_what_to_pass(files, args, message):
    config, params = files
    resolved = [{"CONFIG": config, "PARAMS": params}.get(a, a) for a in args]
    with pytest.raises(ConfigError, match=".*" + message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        solve_config(*resolved)
