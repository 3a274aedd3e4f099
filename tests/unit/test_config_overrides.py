"""Command-line config values: strings from ``--config`` retyped to the schema, and the sources named."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from mfg_finance.config import schema_errors
from mfg_finance.config_overrides import coerce_command_line_strings, config_sources

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
BASE = yaml.safe_load((ROOT / "config/config.yaml").read_text())


def merged(command_line: dict) -> dict:
    from snakemake.utils import update_config

    config = copy.deepcopy(BASE)
    update_config(config, copy.deepcopy(command_line))
    return config


def test_strings_where_the_schema_wants_numbers_booleans_or_null_are_retyped():
    # what `snakemake --config 'mfg={...}' 'data={...}'` hands over: YAML's base loader, all strings
    command_line = {"mfg": {"params": {"phi": "0.05", "sigma": "null"}, "solver": {"tol": "1e-9", "max_iter": "80"},
                            "price": {"enabled": "true"}},
                    "data": {"b3": {"years": ["2022", "2023"]}}}
    config = merged(command_line)
    changes = coerce_command_line_strings(config, command_line, SCHEMA)
    assert changes == ["data.b3.years.0: '2022' -> 2022", "data.b3.years.1: '2023' -> 2023",
                       "mfg.params.phi: '0.05' -> 0.05", "mfg.params.sigma: 'null' -> None",
                       "mfg.price.enabled: 'true' -> True",
                       "mfg.solver.max_iter: '80' -> 80", "mfg.solver.tol: '1e-9' -> 1e-09"]
    assert config["mfg"]["params"]["sigma"] is None
    assert schema_errors(config, SCHEMA) == []
    assert isinstance(config["mfg"]["solver"]["max_iter"], int) and config["mfg"]["params"]["phi"] == 0.05


def test_strings_the_schema_accepts_and_values_from_files_are_left_alone():
    command_line = {"market_making": {"tickers": ["PETR4"]}, "data": {"source": "local"}}
    config = merged(command_line)
    config["stats"]["min_sessions"] = "30"          # as if quoted in a config file: stays an error
    assert coerce_command_line_strings(config, command_line, SCHEMA) == []
    assert config["market_making"]["tickers"] == ["PETR4"]
    assert any(e.startswith("stats.min_sessions: '30'") for e in schema_errors(config, SCHEMA))


def test_a_string_that_is_no_number_stays_and_fails_validation():
    command_line = {"mfg": {"params": {"phi": "abc"}}, "stats": {"min_sessions": "nan"}}
    config = merged(command_line)
    assert coerce_command_line_strings(config, command_line, SCHEMA) == []
    errors = schema_errors(config, SCHEMA)
    assert any(e.startswith("mfg.params.phi: 'abc'") for e in errors)
    assert any(e.startswith("stats.min_sessions: 'nan'") for e in errors)


def test_config_sources_lists_files_in_order_then_command_line_keys(tmp_path):
    mine = tmp_path / "real.yaml"
    assert config_sources(["config/config.yaml", mine], {"mfg": {}, "data": {}}, root=tmp_path) == \
        "config/config.yaml; real.yaml; --config data, mfg"
    assert config_sources(["config/config.yaml"], {}) == "config/config.yaml"
