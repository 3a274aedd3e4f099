"""Provenance of a run: config hash, input checksums, package versions, git commit.

No timestamp is recorded here, so two runs of the same commit, config and inputs write the same
bytes; the run date appears in the report only.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping

PACKAGES = ("mfg-finance", "numpy", "scipy", "pandas", "pyarrow", "numba", "matplotlib", "jinja2",
            "pyyaml", "snakemake", "papermill", "nbconvert", "gymnasium", "stable-baselines3")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys): equal configs, equal hashes."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(repo: str | Path = ".") -> dict[str, Any]:
    """Commit of ``repo`` and whether its tracked files have uncommitted changes (None outside git)."""
    def _git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)

    try:
        head = _git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def collect_provenance(config: Mapping[str, Any], input_files: Iterable[str | Path], *,
                       repo: str | Path = ".") -> dict[str, Any]:
    return {
        "config_sha256": config_hash(config),
        "config": dict(config),
        "inputs": [{"path": str(p), "size_bytes": Path(p).stat().st_size, "sha256": sha256_file(p)}
                   for p in input_files],
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "git": git_commit(repo),
    }
