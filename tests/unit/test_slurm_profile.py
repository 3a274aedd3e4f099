"""The SLURM profile sizes every rule that runs a job (mem_mb in MB, runtime in minutes)."""

import re

import yaml


def test_every_rule_has_memory_and_runtime_in_the_slurm_profile(repo_root):
    rules = set()
    for path in (repo_root / "workflow" / "rules").glob("*.smk"):
        rules.update(re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", path.read_text(), flags=re.MULTILINE))
    profile = yaml.safe_load((repo_root / "profiles" / "slurm" / "config.yaml").read_text())
    resources = profile["set-resources"]
    assert len(rules) > 10
    assert sorted(rules - set(resources)) == []                    # no rule falls back to the defaults
    assert sorted(set(resources) - rules) == []                    # no entry for a rule that does not exist
    for rule, values in resources.items():
        assert values["mem_mb"] > 0 and values["runtime"] > 0, rule
