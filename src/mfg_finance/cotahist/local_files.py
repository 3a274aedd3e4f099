"""The user's own COTAHIST files (``data.source: local``): which files a glob names, and their fingerprint.

Both run when the workflow is parsed, before any job: a glob that matches nothing must stop the run
(otherwise Snakemake would keep the outputs of an earlier run as if they came from these files), and
the fingerprint (name, size, modification time of each file) is a ``params:`` entry of the ingestion,
so adding, removing or replacing a file reruns ingestion and everything after it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections import Counter
from pathlib import Path

from mfg_finance.errors import ConfigError


def local_input_files(pattern: str, key: str = "data.local.glob") -> list[str]:
    """The files ``pattern`` matches (relative to the working directory), sorted.

    Raises :class:`ConfigError` naming ``key`` when nothing matches, when a match is a broken
    symbolic link, or when a match is not a regular file (a folder, say).
    """
    matches = sorted(glob.glob(pattern))
    if not matches:
        where = Path(pattern).parent
        hint = (f"; the folder {where.as_posix()}/ does not exist" if not where.is_dir()
                else f"; {where.as_posix()}/ holds {_describe_folder(where)}")
        raise ConfigError(f"{key}: no file matches {pattern!r} (relative to {os.getcwd()}){hint}. "
                          "Put COTAHIST .TXT or .ZIP files there, or change the glob")
    broken = [m for m in matches if os.path.islink(m) and not os.path.exists(m)]
    if broken:
        raise ConfigError(f"{key} {pattern!r}: broken symbolic link(s) "
                          + ", ".join(f"{m} -> {os.readlink(m)} (target does not exist)" for m in broken))
    return matches


def _describe_folder(folder: Path) -> str:
    names = sorted(p.name for p in folder.iterdir())
    if not names:
        return "no file"
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(names)} entries ({shown})"


def file_fingerprints(paths: list[str]) -> list[list]:
    """``[path, size in bytes, modification time in ns]`` of each file: cheap, and changes when a file does.

    Not a checksum: hashing a year of COTAHIST files at every parse of the workflow would cost
    seconds; the checksums are recorded in the provenance instead. A directory in place of a file is
    left to the ingestion, which names it.
    """
    out = []
    for path in paths:
        st = os.stat(path)
        out.append([str(path), int(st.st_size), int(st.st_mtime_ns)])
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_keys(paths: list[str]) -> list[str]:
    """A name per input file for its ingestion job and dataset folder: the file name, unique.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``. Two files with the
    same name in different folders get a short hash of their path appended, so a key does not
    depend on which other files are in the set (adding a file never renames another's outputs).

    Raises :class:`ConfigError` when the same file is given twice.
    """
    names = [_UNSAFE.sub("_", Path(p).name).lstrip(".") or "file" for p in paths]
    counts = Counter(names)
    keys = [f"{name}-{hashlib.sha1(os.fsencode(os.fspath(path))).hexdigest()[:8]}" if counts[name] > 1 else name
            for path, name in zip(paths, names)]
    if len(set(keys)) != len(keys):
        twice = sorted({str(p) for p, k in zip(paths, keys) if keys.count(k) > 1})
        raise ConfigError(f"the COTAHIST input files name the same file twice: {twice}")
    return keys
