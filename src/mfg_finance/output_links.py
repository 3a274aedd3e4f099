"""Symbolic links planted where the workflow writes, found before any job runs.

Snakemake (and the benchmark writer) open output paths and follow symbolic links: a link left at
``results/benchmarks/x.tsv`` pointing at ``/home/me/notes.txt`` would have that file overwritten.
:func:`foreign_links` lists every link under the workflow's output folders whose target lies
outside the working directory, so the run can be refused first, naming each link and its target.

An output folder itself (``results``, ``reports``, ``logs``, ...) may be a link, e.g. to a scratch
disk on a cluster: links *under* it are then checked against that folder's real location too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

#: Folders the workflow writes into, relative to the working directory (local inputs excluded:
#: resources/cotahist/local holds user files, which may be links anywhere).
OUTPUT_FOLDERS = ("results", "reports", "logs", "resources/cotahist/sample", "resources/cotahist/b3")


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def foreign_links(workdir: str | os.PathLike = ".", folders: Iterable[str] = OUTPUT_FOLDERS) -> list[str]:
    """``"link -> target"`` for each symbolic link under ``folders`` pointing outside the working
    directory (and outside the real location of the folder it is in); dangling links included."""
    workdir = Path(workdir).resolve()
    found = []
    for name in folders:
        folder = workdir / name
        if not folder.exists():
            continue
        allowed = (workdir, folder.resolve())
        for parent, dirs, files in os.walk(folder):          # does not descend into linked folders
            for entry in dirs + files:
                path = Path(parent) / entry
                if path.is_symlink() and not _inside(path.resolve(), allowed):
                    found.append(f"{path.relative_to(workdir)} -> {os.readlink(path)}")
    return sorted(found)
