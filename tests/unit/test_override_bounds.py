"""calibration.overrides: the config schema and the library accept and refuse the same values, key by key."""
import jsonschema
import pytest
import yaml

from mfg_finance.calibration.common import MFG_PARAMETERS, MM_PARAMETERS, OVERRIDE_BOUNDS, _check_overrides
from mfg_finance.errors import CalibrationError

SCHEMA_PATH = "workflow/schemas/config.schema.yaml"
PROBES = [-2.5, -1, -0.0, 0, 0.5, 1, 1.0, 2, 2.5, 1e300]


@pytest.fixture(scope="module")
def override_schemas(repo_root):
    schema = yaml.safe_load((repo_root / SCHEMA_PATH).read_text())
    block = schema["properties"]["calibration"]["properties"]["overrides"]["properties"]
    return {"mfg": block["mfg"]["properties"], "mm": block["mm"]["additionalProperties"]["properties"]}, \
        schema["$defs"]


def _schema_accepts(prop: dict, defs: dict, value) -> bool:
    return jsonschema.Draft202012Validator(dict(prop, **{"$defs": defs})).is_valid(value)


def _library_accepts(section: str, key: str, value) -> bool:
    overrides = {"mfg": {key: value}} if section == "mfg" else {"mm": {"SYNA3": {key: value}}}
    try:
        _check_overrides(overrides, section, OVERRIDE_BOUNDS[section], nested=section == "mm")
    except CalibrationError:
        return False
    return True


def test_every_parameter_has_a_bound_and_a_schema_entry(override_schemas):
    props, _ = override_schemas
    assert set(OVERRIDE_BOUNDS["mfg"]) == set(MFG_PARAMETERS) == set(props["mfg"])
    assert set(OVERRIDE_BOUNDS["mm"]) == set(MM_PARAMETERS) == set(props["mm"])


@pytest.mark.parametrize("section,key", [(s, k) for s in ("mfg", "mm") for k in OVERRIDE_BOUNDS[s]])
def test_schema_and_library_agree(override_schemas, section, key):
    props, defs = override_schemas
    for value in PROBES:
        assert _schema_accepts(props[section][key], defs, value) == _library_accepts(section, key, value), \
            f"calibration.overrides.{section}.{key} = {value!r}"


def test_negative_kappa_override_is_accepted_and_recorded():
    import pandas as pd
    from mfg_finance.calibration import calibrate_mfg
    stats = pd.DataFrame([{"ticker": "X", "included": True, "vol_cc_daily": 0.02, "adv_shares_median": 1e6,
                           "adv_brl_median": 2e7, "trades_per_session": 5000, "avg_trade_size_shares": 200,
                           "amihud_per_brl": 1e-10, "last_close_brl": 20.0, "spread_quoted_close": 0.001,
                           "spread_cs": 0.002, "spread_roll": 0.001, "vol_cc_annual": 0.3, "n_sessions": 50}])
    doc = calibrate_mfg(stats, overrides={"mfg": {"kappa": -3.0}})
    assert doc["parameters"]["kappa"]["value"] == -3.0 and doc["parameters"]["kappa"]["source"] == "override"
    with pytest.raises(CalibrationError, match="kappa: expected a finite nonzero number"):
        calibrate_mfg(stats, overrides={"mfg": {"kappa": 0}})
