"""Run a pure check of a configuration once per (configuration, code) pair, remembering that it passed.

Every Snakemake invocation (a no-op rerun, a dry run, each cluster job's re-parse) checks the config
before planning jobs. Some checks cost real time: validating each MFG scenario sizes its grid from the
law's envelope (numba kernels, loaded or compiled in Snakemake's own process); expanding a 10,000-point
sweep. Their verdict is a function of the config and of this package's code only, so
:func:`run_once` records a pass under a key made of both and skips the check next time. A failing check
records nothing (it raises every time); any edit of the config or of a module of the package (size or
modification time of a ``.py`` file) makes a new key.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

_PACKAGE = Path(__file__).resolve().parent


def code_fingerprint(package: Path = _PACKAGE) -> str:
    """Digest of the package's ``.py`` files' relative paths, sizes and modification times (a few ms)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def check_key(config: Any, *, code: str | None = None) -> str:
    """Key of a (config, code) pair: SHA-256 of the config as canonical JSON and of the code fingerprint."""
    text = json.dumps(config, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(f"{code or code_fingerprint()}\0{text}".encode()).hexdigest()


def run_once(check: Callable[[], None], config: Any, directory: str | os.PathLike) -> bool:
    """Run ``check()`` (a check of ``config`` that raises when it fails and changes nothing) unless it passed
    before for the same config and code; returns True when it ran. A pass is recorded as an empty file
    named by :func:`check_key` in ``directory``."""
    stamp = Path(directory) / check_key(config)
    if stamp.exists():
        return False
    check()
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:   # a read-only working directory: the check simply runs again next time
        pass
    return True
