import copy
import re

import pytest
import yaml

from mfg_finance.config import check_config, mfg_run_overrides, schema_errors, solver_config, sweep_run_overrides
from mfg_finance.errors import ConfigError

URGENT = {"name": "urgent", "weight": 0.3, "phi_factor": 5.0}


def _two_types(*types):
    return lambda c: c["mfg"]["scenarios"]["two_types"].update(types=list(types))


@pytest.fixture()
def config(repo_root):
    from snakemake.utils import validate

    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    validate(cfg, str(repo_root / "workflow" / "schemas" / "config.schema.yaml"))
    return cfg


def test_default_config_passes(config):
    check_config(config)


def test_schema_fills_defaults(repo_root):
    from snakemake.utils import validate

    cfg = {}
    validate(cfg, str(repo_root / "workflow" / "schemas" / "config.schema.yaml"))
    assert cfg["data"]["source"] == "sample"
    assert cfg["mfg"]["grid"]["nx"] == 201
    assert cfg["mfg"]["solver"]["method"] == "newton"


def test_precedence_calibration_config_scenario(config):
    cfg = copy.deepcopy(config)
    cfg["mfg"]["params"]["phi"] = 0.07
    cfg["mfg"]["scenarios"]["stiff"] = {"params": {"eta0": 1e-3}, "price": {"enabled": True}}
    calibrated = {"sigma": 0.4, "eta0": 5e-4, "eta1": 1e-3, "phi": 0.03, "gamma_T": 0.5, "kappa": 2.0, "p_ref": 30.0}
    solved = solver_config(calibrated, mfg_run_overrides(cfg["mfg"], "stiff"))
    assert solved["params"]["phi"] == 0.07          # config beats calibration
    assert solved["params"]["eta0"] == 1e-3         # scenario beats config
    assert solved["params"]["sigma"] == 0.4         # calibrated when not overridden
    assert solved["price"] == {"enabled": True, "supply": 0.0, "kappa": 2.0, "p_ref": 30.0}
    point = solver_config(calibrated, sweep_run_overrides(cfg["mfg"], {"phi": 0.2}))
    assert point["params"]["phi"] == 0.2            # sweep point beats everything


def _three_types(config):
    """Add a deterministic three-type scenario ``three`` (weights 0.2, 0.3, 0.5)."""
    config["mfg"]["scenarios"]["three"] = {"types": [{"name": "a", "weight": 0.2, "phi_factor": 5.0},
                                                     {"name": "b", "weight": 0.3}, {"name": "c", "weight": 0.5,
                                                                                    "gamma_T_factor": 0.5}]}


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["mfg"]["grid"].update(x_min=1.0, x_max=-1.0), "x_min"),
    (lambda c: (c["mfg"]["grid"].update(x_min=-5.0, x_max=5.0), c["mfg"]["params"].update(m0_mean=9.0)), "m0_mean"),
    (lambda c: c["mfg"]["scenarios"].update(bad={"grid": {"nxx": 3}}), "nxx"),
    (lambda c: c["sweeps"].update(bad={"phi": {"start": 0, "stop": 1, "num": 2, "scale": "log"}}), "log-scale"),
    (lambda c: c["market_making"].update(tickers=["SYNA3", "SYNA3"]), "duplicates"),
    (lambda c: (c["market_making"].update(strategies=["hjb"]),
                c["market_making"]["replay"].update(strategies=["constant"])), "replay.strategies"),
    (lambda c: c["sweeps"].update(s={"scenario": "nope", "phi": [0.1]}), r"sweeps.s.scenario: .*'nope'"),
    (lambda c: c["sweeps"].update(s={"scenario": "common_noise", "urgent_share": [0.5]}),
     r"sweeps.s.urgent_share: needs a scenario with exactly two types"),
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "urgent_share": [1.0]}),
     r"sweeps.s.urgent_share: value 1.0 out of range .* < 1.0"),
    (lambda c: c["sweeps"].update(s={"market_share": [0.1], "sigma0": [0.1]}), "sigma0 or market_share"),
    # type_weights (K >= 2 types' weight vectors): every refusal names the sweep's key before any job
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "type_weights": [[0.2, 0.3, 0.5]]}),
     r"^sweeps.s.type_weights\[0\]: 3 weights for the 2 types of sweeps.s.scenario 'two_types' "
     r"\(\['urgent', 'patient'\]\)"),
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "type_weights": [[0.5, 0.5], [0.3, 0.6]]}),
     r"^sweeps.s.type_weights\[1\]: the weights must sum to 1 .*0.8999"),
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "type_weights": [[1.2, -0.2]]}),
     r"^sweeps.s.type_weights\[0\]: every weight must be a finite number > 0"),
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "type_weights": [[1.0, 0.0]]}),
     r"^sweeps.s.type_weights\[0\]: every weight must be a finite number > 0"),
    (lambda c: c["sweeps"].update(s={"scenario": "common_noise", "type_weights": [[0.5, 0.5]]}),
     r"^sweeps.s.type_weights: sweeps.s.scenario 'common_noise' has no agent types"),
    (lambda c: c["sweeps"].update(s={"scenario": "two_types", "type_weights": [[0.5, 0.5]],
                                     "urgent_share": [0.5]}), r"^sweeps.s: sweep urgent_share or type_weights"),
    (lambda c: (_three_types(c), c["sweeps"].update(s={"scenario": "three", "type_weights": [[0.2, 0.3, 0.5]],
                                                      "market_share": [0.0, 0.3]})),
     r"^sweeps.s.type_weights: 3 types with common noise \(sweeps.s.market_share > 0\) are not supported"),
    (lambda c: (_three_types(c), c["sweeps"].update(s={"scenario": "three", "sigma0": [0.1]})),
     r"^sweeps.s.sigma0: 3 types with common noise \(sweeps.s.sigma0 > 0\) are not supported"),
    (lambda c: c.update(systemic={"sweeps": {"market_share": [0.1]}}), r"systemic.sweeps: moved to the sweeps: block"),
    (lambda c: c["mfg"]["scenarios"].update(three={"params": {"sigma0": 0.2}, "types": [
        {"name": "a", "weight": 0.2}, {"name": "b", "weight": 0.3}, {"name": "c", "weight": 0.5}]}),
     r"mfg.scenarios.three.types: 3 types with common noise .* at most 2"),
    # a type list that only the solve job used to refuse
    (_two_types(URGENT, {"name": "patient", "weight": 0.6}),
     r"^mfg.scenarios.two_types.types: the weights must sum to 1, got 0.8999"),
    (_two_types(dict(URGENT, phi=0.3), {"name": "patient", "weight": 0.7}),
     r"^mfg.scenarios.two_types.types\[0\]: give phi or phi_factor"),
    (_two_types(dict(URGENT, name="x"), {"name": "x", "weight": 0.7}), r"type names must be unique"),
    (lambda c: c["mfg"].update(types=[{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.2}]),
     r"^mfg.types: the weights must sum to 1, got 0.7"),
    # sigma0 or types at the top of mfg: every scenario systemic (was an IndexError while reading the rules)
    (lambda c: c["mfg"]["params"].update(sigma0=0.3),
     r"^mfg.scenarios: mfg.params.sigma0 applies to every scenario.*baseline: \{params: \{sigma0: 0.0\}"),
    (lambda c: c["mfg"].update(types=[{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}]),
     r"^mfg.scenarios: mfg.types applies to every scenario"),
    # the finite-N check's scenario: was silently dropped (unknown, deterministic) or solved without its types
    (lambda c: c.setdefault("systemic", {}).update(finite_n={"scenario": "nope"}),
     r"^systemic.finite_n.scenario: 'nope' is not in mfg.scenarios; .* null to skip the finite-N check"),
    (lambda c: c.setdefault("systemic", {}).update(finite_n={"scenario": "baseline"}),
     r"^systemic.finite_n.scenario: 'baseline' has no common noise"),
    (lambda c: c.setdefault("systemic", {}).update(finite_n={"scenario": "two_types"}),
     r"^systemic.finite_n.scenario: 'two_types' has agent types \(2\)"),
    # the equilibrium's crowd: refused by its job only after the calibration
    (lambda c: c["equilibrium"].update(mfg_scenario="common_noise"),
     r"^equilibrium.mfg_scenario: 'common_noise' has common noise or agent types"),
    (lambda c: c["equilibrium"].update(mfg_scenario="basline"), r"^equilibrium.mfg_scenario: 'basline' is not in"),
    (lambda c: c["equilibrium"].update(scenarios={"e": {"mfg_scenario": "basline"}}),
     r"^equilibrium.scenarios.e.mfg_scenario: 'basline' is not in"),
])
def test_cross_field_errors_name_the_key(config, edit, message):
    cfg = copy.deepcopy(config)
    edit(cfg)
    with pytest.raises(ConfigError, match=message):
        check_config(cfg)


def test_a_deleted_scenario_is_one_error_naming_every_key_that_names_it(config):
    """Deleting common_noise from the default config leaves the sigma0 sweep and the finite-N check naming it:
    both in the first error, each with what to write (it used to take two runs, one error each)."""
    cfg = copy.deepcopy(config)
    del cfg["mfg"]["scenarios"]["common_noise"]
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    message = str(info.value)
    assert message.startswith("sweeps.sigma0.scenario: 'common_noise' is not in mfg.scenarios; write another "
                              "scenario there (default baseline) or delete the sweep sweeps.sigma0; "
                              "systemic.finite_n.scenario: "), message
    assert "write systemic.finite_n.scenario: null to skip the finite-N check" in message
    assert message.endswith("(mfg.scenarios defines ['baseline', 'endogenous_price', 'two_types'])")
    # what it says to write is enough
    del cfg["sweeps"]["sigma0"]
    cfg["systemic"]["finite_n"]["scenario"] = None
    check_config(cfg)


def test_overrides_do_not_depend_on_merge_order(config):
    # Snakemake compares params: the same settings reached in another key order must be equal.
    edited = copy.deepcopy(config)
    edited["mfg"]["params"]["phi"] = 0.05
    a = sweep_run_overrides(config["mfg"], {"phi": 0.2})
    b = sweep_run_overrides(edited["mfg"], {"phi": 0.2})
    assert repr(a) == repr(b)


def test_schema_errors_name_every_key_value_and_what_is_allowed(repo_root):
    from mfg_finance.config import schema_errors

    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "config.schema.yaml").read_text())
    cfg = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    assert schema_errors(cfg, schema) == []
    cfg["colour"] = "red"
    cfg["data"]["source"] = "ftp"
    cfg["mfg"]["grid"]["nx"] = 2
    cfg["mfg"]["params"]["sigma"] = -0.1
    cfg["mfg"]["solver"]["max_iters"] = 5
    cfg["market_making"]["n_path"] = 100
    cfg["market_making"]["Q_max"] = 0
    cfg["stats"]["min_sessions"] = 1
    problems = schema_errors(cfg, schema)
    assert len(problems) == 8
    assert problems[0].startswith("unknown key(s) ['colour'] at the top level")
    assert problems[0].endswith("allowed keys: ['analytics', 'batching', 'calibration', 'corporate_actions', 'data', "
                                "'equilibrium', 'ingest', 'market_making', "
                                "'mfg', 'report', 'selection', 'stats', 'sweeps', 'systemic']")
    assert "data.source: 'ftp' is not one of ['sample', 'b3', 'local']" in problems
    assert "mfg.grid.nx: 2 is less than the minimum of 3" in problems
    assert any(p.startswith("mfg.params.sigma: -0.1 is not valid") and "less than the minimum of 0" in p
               for p in problems)
    assert any(p.startswith("unknown key(s) ['max_iters'] under mfg.solver") and "'max_iter'" in p for p in problems)
    assert any(p.startswith("unknown key(s) ['n_path'] under market_making") and "'n_paths'" in p for p in problems)
    assert "market_making.Q_max: 0 is less than the minimum of 1" in problems
    assert "stats.min_sessions: 1 is less than the minimum of 2" in problems


def test_a_sweep_point_sits_on_its_scenario(config):
    mfg = config["mfg"]
    point = sweep_run_overrides(mfg, {"urgent_share": 0.6}, "two_types")
    assert [t["weight"] for t in point["types"]] == [0.6, 0.4]
    assert [t["weight"] for t in mfg["scenarios"]["two_types"]["types"]] == [0.3, 0.7]    # config untouched
    shared = sweep_run_overrides(mfg, {"market_share": 0.35, "phi": 0.1}, "common_noise")
    assert shared["market_share"] == 0.35 and shared["params"]["phi"] == 0.1 and shared["params"]["sigma0"] is None
    assert sweep_run_overrides(mfg, {"sigma0": 0.2})["params"]["sigma0"] == 0.2
    # urgent_share s is type_weights [s, 1 - s]; a vector gives every type its weight, in order
    assert sweep_run_overrides(mfg, {"type_weights": [0.6, 0.4]}, "two_types") == point
    config = copy.deepcopy(config)
    _three_types(config)
    three = sweep_run_overrides(config["mfg"], {"type_weights": [0.5, 0.3, 0.2]}, "three")
    assert [(t["name"], t["weight"]) for t in three["types"]] == [("a", 0.5), ("b", 0.3), ("c", 0.2)]
    assert three["types"][0]["phi_factor"] == 5.0
    with pytest.raises(ConfigError, match="type_weights needs a scenario with exactly 3 types; .*two_types has 2"):
        sweep_run_overrides(mfg, {"type_weights": [0.5, 0.3, 0.2]}, "two_types")
    # mfg.types is every scenario's crowd unless a scenario lists its own
    with_types = {**mfg, "types": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}]}
    assert len(mfg_run_overrides(with_types, "baseline")["types"]) == 2
    assert mfg_run_overrides(with_types, "two_types")["types"][0]["name"] == "urgent"


# Issue 16's systemic keys (mfg_finance.config_systemic): bad type lists, sigma0 / types at the top of mfg, the
# finite-N and equilibrium scenarios are refused before any job (cases above); their valid variants pass.
@pytest.fixture()
def schema(repo_root):
    return yaml.safe_load((repo_root / "workflow" / "schemas" / "config.schema.yaml").read_text())


@pytest.mark.parametrize("edit", [
    lambda c: c["mfg"].update(params=dict(c["mfg"]["params"], sigma0=0.3), scenarios=dict(
        c["mfg"]["scenarios"], baseline={"params": {"sigma0": 0.0}}, endogenous_price={"params": {"sigma0": 0.0}})),
    lambda c: c["mfg"].update(types=[{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}],
                              scenarios=dict(c["mfg"]["scenarios"], baseline={"types": []},
                                             common_noise={"params": {"sigma0": None}, "types": []})),
    lambda c: c.setdefault("systemic", {}).update(finite_n={"scenario": None}),
    lambda c: c["mfg"]["scenarios"].update(cn2={"params": {"sigma0": 0.2}}),
    lambda c: (_three_types(c), c["sweeps"].update(w3={"scenario": "three", "eta1": [0.0, 0.001],
                                                      "type_weights": [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]]})),
    lambda c: c["sweeps"].update(w2={"scenario": "common_noise", "market_share": [0.0, 0.3]} | {
        "scenario": "two_types", "type_weights": [[0.1, 0.9], [0.9, 0.1]]}),
], ids=["top_sigma0_with_a_deterministic_scenario", "top_types_with_a_deterministic_scenario",
        "finite_n_off", "second_common_noise_scenario", "three_type_weights_sweep",
        "two_type_weights_with_common_noise"])
def test_valid_systemic_variants_pass(config, schema, edit):
    cfg = copy.deepcopy(config)
    edit(cfg)
    assert schema_errors(cfg, schema) == []
    check_config(cfg)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["mfg"]["params"].update(sigma0=-0.5), r"^mfg.params.sigma0: -0.5 is not valid"),
    (_two_types({"name": "urgent", "phi_factor": 5.0}, {"name": "patient", "weight": 0.7}),
     r"^mfg.scenarios.two_types.types.0: 'weight' is a required property"),
    (_two_types(dict(URGENT, weight=0.0), {"name": "patient", "weight": 1.0}),
     r"^mfg.scenarios.two_types.types.0.weight: 0.0 is less than or equal to the minimum of 0"),
])
def test_schema_refuses_bad_single_values(config, schema, edit, message):
    cfg = copy.deepcopy(config)
    edit(cfg)
    assert any(re.match(message, line) for line in schema_errors(cfg, schema)), \
        schema_errors(cfg, schema)
