"""Issue 21: every config either fails before any job, naming a key, or plans and builds its jobs' inputs.

``validated`` does what ``workflow/rules/common.smk`` does before any job (schema, defaults, the
checks of :mod:`mfg_finance.config_limits`, :func:`check_config`); ``plan`` then does, cheaply,
what the jobs would do with the config values: expand every sweep, build and validate the solver
config of every scenario, sweep point and refinement, format the download URL, size the backtest
and build its parameters. A fuzz test over the whole schema checks that there is no third outcome.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfg_finance.config import check_config, mfg_run_overrides, schema_errors, solver_config, sweep_run_overrides
from mfg_finance.config_limits import MAX_JOB_BYTES, MAX_SWEEP_POINTS, check_config_limits
from mfg_finance.errors import ConfigError

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
TOP_KEYS = tuple(yaml.safe_load(SCHEMA_FILE.read_text())["properties"])  # every top-level section
NAMES_A_KEY = re.compile(rf"^(unknown key\(s\) |({'|'.join(TOP_KEYS)})\b)")
CALIBRATED = {"sigma": 0.3, "eta0": 1e-3, "eta1": 1e-3, "phi": 0.05, "gamma_T": 0.5, "kappa": 2.0, "p_ref": 30.0}
MARKET = {"sigma": 0.004, "A": 0.5, "k": 60.0, "S0": 25.0, "tick_size": 0.01}


@pytest.fixture(scope="module")
def schema(repo_root):
    return str(repo_root / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture(scope="module")
def default_config(repo_root):
    return yaml.safe_load((repo_root / "config" / "config.yaml").read_text())


class Refused(Exception):
    """The config was refused before any job; the message names the key."""


_SCHEMAS: dict = {}


def _load(path: str) -> dict:
    if path not in _SCHEMAS:
        with open(path) as fh:
            _SCHEMAS[path] = yaml.safe_load(fh)
    return _SCHEMAS[path]


@pytest.fixture(scope="module", autouse=True)
def schema_parsed_once():
    """``snakemake.utils.validate`` takes the schema's path and parses the YAML file on every call (about 0.2
    CPU-s, pure-Python YAML): most of the fuzz test's time. Its parse is kept here (a copy for each call,
    which ``validate`` edits); the validation and the defaults it fills in are Snakemake's own."""
    import snakemake.utils

    parse = snakemake.utils._load_configfile
    parsed: dict = {}

    def parse_once(source, filetype="Config"):
        if not isinstance(source, (str, Path)):
            return parse(source, filetype)
        key = (str(source), filetype)
        if key not in parsed:
            parsed[key] = parse(source, filetype)
        return copy.deepcopy(parsed[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snakemake.utils, "_load_configfile", parse_once)
        yield


def validated(config: dict, schema: dict) -> dict:
    """common.smk's checks, in its order; Refused (with the message) when the config is refused."""
    from snakemake.utils import validate

    config = copy.deepcopy(config)
    problems = schema_errors(config, _load(schema))
    if problems:
        raise Refused("\n".join(problems))
    validate(config, schema)
    try:
        check_config_limits(config)
        check_config(config)
    except ConfigError as exc:
        raise Refused(str(exc)) from None
    return config


def _explicit_domain(solved: dict) -> dict:
    """``x_min/x_max: auto`` made explicit: the automatic domain solves the exact LQ problem
    (~0.3 s a call), a job's work rather than the config's; every other value is checked as is."""
    from mfg_finance.mfg.grid import AUTO

    if AUTO in (solved["grid"].get("x_min"), solved["grid"].get("x_max")):
        solved = {**solved, "grid": {**solved["grid"], "x_min": -5.0, "x_max": 5.0}}
        mean = solved["params"].get("m0_mean", 0.5)
        if isinstance(mean, (int, float)) and not isinstance(mean, bool):
            solved["params"] = {**solved["params"], "m0_mean": min(max(float(mean), -4.0), 4.0)}
    return solved


def plan(config: dict) -> int:
    """What the jobs do with the config values, short of solving; returns the number of solver configs."""
    from mfg_finance.market_making.backtest import n_steps_of
    from mfg_finance.market_making.market import MarketParameters
    from mfg_finance.market_making.strategies import glft_parameters
    from mfg_finance.mfg.config import validate_config
    from mfg_finance.sweeps import sweep_points

    mfg = config["mfg"]
    runs = [mfg_run_overrides(mfg, name) for name in mfg["scenarios"]]
    points = [(spec.get("scenario", "baseline"), p) for name, spec in config["sweeps"].items()
              for p in sweep_points(spec, name=name)]
    assert len(points) <= MAX_SWEEP_POINTS
    runs += [sweep_run_overrides(mfg, p["params"], scenario) for scenario, p in points]
    base = mfg_run_overrides(mfg, "baseline") if "baseline" in mfg["scenarios"] else runs[0]
    runs += [{**base, "grid": {**base["grid"], "nx": nx, "nt": nt}} for nx, nt in mfg["verification"]["refinements"]]
    from mfg_finance.mfg.systemic import is_systemic, systemic_config

    systemic_doc = {"sigma0": {"value": 0.1}, "sigma_idiosyncratic": {"value": 0.4}}   # calibrated sigma0 stand-in
    for run in runs:
        if is_systemic(run) or "market_share" in run:   # solve_systemic or a systemic sweep point: calibrated
            # sigma0 resolved, types checked by their solver
            cfg = systemic_config(CALIBRATED, systemic_doc, run)
            validate_config(_explicit_domain({k: cfg[k] for k in ("grid", "params", "solver", "price")}))
            continue
        validate_config(_explicit_domain(solver_config(CALIBRATED, run)))
    config["data"]["b3"]["url_template"].format(year=2023)
    mm = config["market_making"]
    n_steps = n_steps_of(mm["horizon_s"], mm["dt_s"])
    assert 48 * (n_steps + 1) * (2 * mm["Q_max"] + 1) <= MAX_JOB_BYTES
    market = MarketParameters(**MARKET, gamma=mm["gamma"], Q_max=mm["Q_max"], order_size=mm["order_size"])
    glft_parameters(market, mm["horizon_s"], mm["dt_s"])
    return len(runs)


def outcome(config: dict, schema: dict) -> str:
    try:
        filled = validated(config, schema)
    except Refused as exc:
        lines = str(exc).splitlines()
        assert lines and all(NAMES_A_KEY.match(line) for line in lines), str(exc)
        return "refused"
    try:
        plan(filled)
    except ConfigError as exc:     # a job's own check (e.g. an initial law narrower than a uniform mesh allows)
        assert NAMES_A_KEY.match(str(exc)), str(exc)
        return "refused"
    return "runs"


def test_default_and_test_configs_run(repo_root, schema, default_config):
    assert outcome(default_config, schema) == "runs"
    small = yaml.safe_load((repo_root / "tests" / "configs" / "small.yaml").read_text())
    assert outcome(small, schema) == "runs"


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["mfg"]["solver"].update(tol=math.nan), r"^mfg.solver.tol = nan: expected a finite number"),
    (lambda c: c["market_making"].update(gamma=math.inf), r"^market_making.gamma = inf"),
    (lambda c: c["sweeps"]["phi_gamma"].update(phi=[0.1, -math.inf]), r"^sweeps.phi_gamma.phi\[1\] = -inf"),
    (lambda c: c["market_making"].update(Q_max=10**6), r"^market_making.Q_max = 1000000 .* about [0-9.]+ GiB"),
    (lambda c: c["market_making"].update(n_paths=10**9), r"^market_making.n_paths = 1000000000: .* about 149 GiB"),
    (lambda c: c["market_making"]["reproduction"].update(n_paths=10**9), r"^market_making.reproduction.n_paths"),
    (lambda c: c["sweeps"].update(big={"phi": {"start": 0.1, "stop": 1, "num": 100000},
                                       "gamma_T": {"start": 0.1, "stop": 1, "num": 100000}}),
     r"^sweeps: 10000000078 points in all .*sweeps.big: 10000000000"),
    (lambda c: c["mfg"]["grid"].update(nx=100_001, nt=1000), r"^mfg.grid: nx \* \(nt \+ 1\) = 100001 \* 1001"),
    (lambda c: c["mfg"]["scenarios"].update(fine={"grid": {"nx": 10**6}}), r"^mfg.scenarios.fine.grid: nx"),
    (lambda c: c["mfg"]["verification"].update(refinements=[[51, 40], [10**5, 10**4]]),
     r"^mfg.verification.refinements\[1\]"),
    (lambda c: c["mfg"]["scenarios"].update(x={"grid": {"nx": "abc"}}), r"^mfg.scenarios.x.grid.nx: must be an integer"),
    (lambda c: c["mfg"]["scenarios"].update(x={"params": {"sigma": -1}}), r"^mfg.scenarios.x.params.sigma: must be >= 0"),
    (lambda c: c["mfg"]["scenarios"].update(x={"solver": {"method": "magic"}}), r"^mfg.scenarios.x.solver.method"),
    (lambda c: c["mfg"]["scenarios"].update(x={"price": {"kappa": None}}), r"^mfg.scenarios.x.price: \['kappa'\] set to null"),
    (lambda c: c["market_making"].update(horizon_s=10.5), r"^market_making.horizon_s / market_making.dt_s: .*whole"),
    (lambda c: c["data"]["b3"].update(url_template="https://x/{year}/{month}.zip"),
     r"^data.b3.url_template: unknown field\(s\) \['\{month\}'\]"),
    (lambda c: c["data"]["b3"].update(url_template="https://x/{year}/{"), r"^data.b3.url_template: .* not a valid template"),
    (lambda c: c["stats"].update(rolling_window=400), r"^stats.rolling_window = 400 sessions: the synthetic sample"),
], ids=["nan", "inf", "inf_in_list", "q_max", "n_paths", "reproduction_paths", "sweep_axes", "grid_nodes",
        "scenario_grid_nodes", "refinement_nodes", "scenario_type", "scenario_range", "scenario_enum",
        "scenario_null", "horizon_step", "url_field", "url_braces", "rolling_window"])
def test_issue_reproducers_are_refused_naming_the_key(schema, default_config, edit, message):
    config = copy.deepcopy(default_config)
    edit(config)
    with pytest.raises(Refused, match=message):
        validated(config, schema)


# -- fuzz: mutate one to three keys of the default config anywhere in the schema ----------------------

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**12, 10**12), st.sampled_from([0, 1, 2, 3, -1]),
    st.text(max_size=6), st.none(), st.booleans(), st.lists(st.integers(-5, 10**6), max_size=3),
    st.just({}), st.sampled_from(["1.0e6", ".nan", "{year}", "log", "newton", "SYNA3"]),
)
AXIS = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=4),
    st.fixed_dictionaries({"start": st.floats(-2, 2), "stop": st.floats(-2, 2), "num": st.integers(-1, 10**6),
                           "scale": st.sampled_from(["linear", "log"])}),
)


def _leaf_paths(node, path=()):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaf_paths(value, path + (key,))
    else:
        yield path


def _set(config: dict, path: tuple, value) -> None:
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


@st.composite
def mutated_configs(draw, base):
    config = copy.deepcopy(base)
    paths = list(_leaf_paths(base))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["leaf", "leaf", "scenario", "sweep"]))
        if kind == "leaf":
            _set(config, draw(st.sampled_from(paths)), draw(HOSTILE))
        elif kind == "scenario":
            section = draw(st.sampled_from(["grid", "params", "solver", "price"]))
            key = draw(st.sampled_from(sorted(base["mfg"][section]) + ["typo"]))
            config["mfg"]["scenarios"]["fz"] = {section: {key: draw(HOSTILE)}}
        else:
            params = draw(st.lists(st.sampled_from(["phi", "gamma_T", "eta0", "eta1", "sigma"]), min_size=1,
                                   max_size=2, unique=True))
            config["sweeps"]["fz"] = {p: draw(AXIS) for p in params}
    return config


@settings(max_examples=150, deadline=None, derandomize=True,   # the same examples in every CI run
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_config_is_refused_naming_a_key_or_runs(schema, default_config, data):
    config = data.draw(mutated_configs(default_config))
    assert outcome(config, schema) in ("refused", "runs")
