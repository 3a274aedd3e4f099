"""Where the workflow keeps numba's compiled kernels, keyed by the kernels' source.

numba's on-disk cache checks only the source file of the function it compiled: a kernel that calls a
kernel of another module (``mfg.hjb`` calls ``mfg.tridiag``) keeps the old callee's machine code after
that module changes, e.g. after ``git pull``. So the workflow caches under a digest of the content of
every package module that uses numba: a change to any of them starts a fresh cache (one recompilation),
while edits elsewhere (report, scripts, config) keep it. Imports neither numba nor numpy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def kernel_fingerprint(package: Path = _PACKAGE) -> str:
    """sha256 (16 hex digits) of the relative paths and bytes of the package's modules that mention numba."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        data = path.read_bytes()
        if b"numba" in data:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]


def numba_cache_dir(root: str | Path, package: Path = _PACKAGE) -> str:
    """``root/<kernel fingerprint>`` as an absolute path."""
    return str((Path(root) / kernel_fingerprint(package)).absolute())
