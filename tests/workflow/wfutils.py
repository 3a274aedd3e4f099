"""Helpers of the workflow tests: copy the repository to a temporary directory, run Snakemake there,
parse a dry run's job table, run the small-config pipeline once per test session, and copy that finished run.

A plain module (not a conftest) so that any test directory can import it: ``tests/workflow`` is put on
``sys.path`` by its conftest (pytest's default ``prepend`` import mode); other directories add it themselves
(see ``tests/report/conftest.py``). The module is imported under one name (``wfutils``), so its cache of the
pipeline run is shared by every fixture that asks for it: ONE pipeline run per session.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs", "src")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs",
                                 "*.egg-info")
SMALL_CONFIG = Path("tests") / "configs" / "small.yaml"

_RUNS: dict[str, Path] = {}


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 3600) -> subprocess.CompletedProcess:
    # the timeout only guards against a hung run: a whole run takes about a minute on an idle 2-core
    # machine, but over 15 minutes when the machine is shared by many jobs
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def copy_workflow(repo_root: Path, dest: Path, config: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        src = repo_root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED)
        else:
            shutil.copy2(src, dest / name)
    shutil.copy2(config, dest / "config" / "config.yaml")
    return dest


def edit_config(workdir: Path, edit) -> None:
    """Apply ``edit(config)`` to the config/config.yaml of a working copy."""
    config_path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    edit(config)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def planned_jobs(output: str) -> dict[str, int]:
    """Parse Snakemake's 'Job stats' table of a dry run into {rule: count}."""
    jobs: dict[str, int] = {}
    in_table = False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
            if line.strip().startswith("total") or not line.strip():
                if jobs:
                    break
                continue
            if match:
                jobs[match.group(1)] = int(match.group(2))
    return jobs


def small_pipeline(repo_root: Path, tmp_path_factory) -> Path:
    """The real pipeline run on the small test config in a temporary copy of the repo, once per session.

    Returns the work directory. Every test of the session sees the same directory, so tests only read it
    (outputs, dry runs); a test that edits the config or runs jobs works on :func:`finished_copy` of it.
    """
    key = str(repo_root)
    if key not in _RUNS:
        workdir = copy_workflow(repo_root, tmp_path_factory.mktemp("wf"), repo_root / SMALL_CONFIG)
        snakemake(workdir, "--cores", "2", "all")
        _RUNS[key] = workdir
    return _RUNS[key]


def finished_copy(finished: Path, dest: Path) -> Path:
    """A private copy of a finished run (``cp -a``: every file with its modification time, and Snakemake's
    metadata), in which Snakemake finds everything up to date: a test that edits the config or deletes some
    outputs there reruns only what that change affects, not the whole pipeline from an empty directory.

    A real copy, not hard links: jobs and logs may write files in place, which would reach the shared run.
    """
    proc = subprocess.run(["cp", "-a", str(finished), str(dest)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"cp -a {finished} {dest} failed: {proc.stderr}")
    for marker in (".snakemake/locks", ".snakemake/incomplete"):
        assert not any((dest / marker).glob("*")), f"{finished} is not a finished run: {marker} is not empty"
    return dest
