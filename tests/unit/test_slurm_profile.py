"""The SLURM profile sizes every rule that runs a job (mem_mb in MB, runtime in minutes)."""

import re

import yaml


def _rule_names(rules_dir) -> set[str]:
    """Every rule of workflow/rules: ``rule name:`` and the rules a loop names (``rule:`` + ``name: f"..."``,
    the numba warm-up jobs of kernels.smk, one per key of ``mfg_finance.kernel_warmup.KERNEL_GROUPS``)."""
    from mfg_finance.kernel_warmup import KERNEL_GROUPS, warmup_rule

    rules = set()
    for path in rules_dir.glob("*.smk"):
        text = path.read_text()
        rules.update(re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", text, flags=re.MULTILINE))
        for name in re.findall(r"^\s*rule\s*:\s*\n\s*name\s*:\s*\n?\s*(.+?)\s*$", text, flags=re.MULTILINE):
            assert name == "warmup_rule(_group)", f"{path.name}: a named rule this test cannot expand: {name}"
            rules.update(warmup_rule(group) for group in KERNEL_GROUPS)
    return rules


def test_every_rule_has_memory_and_runtime_in_the_slurm_profile(repo_root):
    rules = _rule_names(repo_root / "workflow" / "rules")
    profile = yaml.safe_load((repo_root / "profiles" / "slurm" / "config.yaml").read_text())
    resources = profile["set-resources"]
    assert len(rules) > 10
    assert {"compile_kernels_cotahist", "compile_kernels_trades", "compile_kernels_models"} <= rules
    assert sorted(rules - set(resources)) == []                    # no rule falls back to the defaults
    assert sorted(set(resources) - rules) == []                    # no entry for a rule that does not exist
    for rule, values in resources.items():
        assert values["mem_mb"] > 0 and values["runtime"] > 0, rule


def test_the_forty_year_config_of_the_docs_passes_the_config_checks(repo_root):
    """docs/cotahist.md's `forty_years.yaml`, layered on config/config.yaml as `--configfile` does, passes what
    common.smk checks before any job, and asks for B3's 40 annual files (1986-2025)."""
    from snakemake.utils import update_config, validate

    from mfg_finance.config import check_config, schema_errors
    from mfg_finance.config_limits import check_config_limits

    block = re.search(r"```yaml\n# forty_years.yaml\n(.*?)```", (repo_root / "docs" / "cotahist.md").read_text(),
                      flags=re.DOTALL)
    assert block, "docs/cotahist.md: the forty_years.yaml block"
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(block.group(1)))
    schema_file = repo_root / "workflow" / "schemas" / "config.schema.yaml"
    assert schema_errors(config, yaml.safe_load(schema_file.read_text())) == []
    validate(config, str(schema_file))
    check_config_limits(config)
    check_config(config)
    assert config["data"]["source"] == "b3" and config["data"]["b3"]["years"] == list(range(1986, 2026))
