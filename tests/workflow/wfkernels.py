"""The package and the numba kernels of the workflow tests' Snakemake runs (docs/testing.md, "numba kernels").

**One snapshot of the package per session.** A working copy holds no ``src/``: every Snakemake run of the
session imports one copy of the checkout's ``src/``, taken when the session starts (:func:`start_session`),
through ``PYTHONPATH`` (:func:`environment`). A file edited while the tests run reaches no run half-way, and
every copy imports the same files, so numba's on-disk cache, which is keyed by the source files' paths,
fits all of them: kernels compiled by one run can be loaded by another.

**Kernel caches.** numba compiles a kernel the first time a process calls it, 3-16 CPU-s per family here,
and stores it in ``NUMBA_CACHE_DIR`` (the workflow's is ``.snakemake/numba-cache/<digest>`` in the working
directory, ``workflow/rules/common.smk``). Which cache a run uses:

* a copy registered with :func:`own_cache` (the session's run, the runs from scratch of ``-m slow``) has the
  workflow's own, empty at the start: it compiles every kernel, as a fresh clone does;
* the second run from scratch of the default session starts with a copy of the session run's cache, taken
  once that run's ``compile_kernels`` jobs have written their records (:func:`seed_from_session_run`);
* every other copy shares one cache of the session (:func:`shared_cache`), which starts as a copy of the
  session run's cache if that run's kernels are compiled when the first such copy starts Snakemake.

Why copies and not one cache written by several runs: numba gives a new kernel signature the first free data
file name of its function's index, so two processes compiling different signatures of one function into one
cache at the same time can each record their own under one name, and a later load reads the other's machine
code. Within the session, a cache is written by one run at a time (the tests run one at a time; the background
runs each have their own). numba writes each cache file under a temporary name and renames it, so a copy
taken while the source run goes on holds complete files; an index entry whose data file was not copied is
a cache miss (the kernel is compiled again), never a wrong kernel, because the target starts empty.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_CACHE = Path(".snakemake") / "numba-cache"        # the workflow's own, in its working directory

_SESSION: dict[str, Path] = {}        # "base": the session's folder; "run": the session run's working directory
_OWN: set[Path] = set()               # working directories with their own kernel cache
_SHARED: dict[str, Path] = {}         # "cache": the shared cache, once decided (seeded or not)


def start_session(base: Path) -> None:
    """Take the session's snapshot of the package into ``base`` (once per session)."""
    if "base" in _SESSION:
        return
    shutil.copytree(REPO_ROOT / "src", base / "package" / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    _SESSION["base"] = base


def package_dir() -> Path:
    """The folder the runs import ``mfg_finance`` from (the session's snapshot of ``src/``)."""
    if "base" not in _SESSION:          # helpers used outside a test session
        start_session(Path(tempfile.mkdtemp(prefix="mfg-finance-tests-")))
    return _SESSION["base"] / "package" / "src"


def own_cache(workdir: Path) -> None:
    """Snakemake in ``workdir`` compiles into the workflow's own cache there (empty unless seeded)."""
    _OWN.add(workdir.resolve())


def session_run_started(workdir: Path) -> None:
    """Record the working directory of the session's run, the source of the kernels other runs load."""
    _SESSION["run"] = workdir


def environment(workdir: Path) -> dict[str, str]:
    """Environment of Snakemake in ``workdir``: the session's package first on ``PYTHONPATH``; no
    ``NUMBA_CACHE_DIR`` for a copy with its own cache (the workflow then keeps it in the copy), the session's
    shared cache for any other."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_dir()),
                                                                     os.environ.get("PYTHONPATH")])))
    if workdir.resolve() in _OWN:
        env.pop("NUMBA_CACHE_DIR", None)
    else:
        env["NUMBA_CACHE_DIR"] = str(shared_cache())
    return env


def _digest_dir(root: Path) -> Path:
    """``root/<digest of the kernels' source>``: where the workflow, given ``root``, keeps its cache."""
    from mfg_finance.numba_cache import numba_cache_dir

    return Path(numba_cache_dir(root, package_dir() / "mfg_finance"))


def planned_warmups(run_dir: Path) -> list[str] | None:
    """The kernel groups whose warm-up job Snakemake planned for the run in ``run_dir`` (the job table of its
    log; which groups a run has depends on its config), or None while that table is not written yet."""
    from mfg_finance.kernel_warmup import KERNEL_GROUPS, warmup_rule
    from wfutils import planned_jobs

    logs = sorted((run_dir / ".snakemake" / "log").glob("*.snakemake.log"))
    text = logs[0].read_text() if logs else ""
    table = text.find("Job stats:")
    if table < 0 or "\ntotal" not in text[table:]:
        return None
    planned = planned_jobs(text[table:])
    return [group for group in KERNEL_GROUPS if warmup_rule(group) in planned]


def kernels_compiled(run_dir: Path) -> bool:
    """The run in ``run_dir`` has compiled its kernels: every warm-up job it planned has written its record
    (rule and record names from the workflow's own source of them, ``mfg_finance.kernel_warmup``)."""
    from mfg_finance.kernel_warmup import warmup_record

    groups = planned_warmups(run_dir)
    return groups is not None and all((run_dir / warmup_record(group)).exists() for group in groups)


def copy_cache(source: Path, target: Path) -> None:
    """Copy the files of a numba cache (module docstring: why this is safe while the source run goes on)."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and ".tmp." not in path.name:
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(path, dest)
            except FileNotFoundError:          # renamed over meanwhile: a cache miss at worst
                pass


def shared_cache() -> Path:
    """The cache of the copies without their own. At the first call it starts as a copy of the session
    run's cache if that run has compiled its kernels, otherwise empty (never seeded later: module docstring)."""
    if "cache" not in _SHARED:
        cache = package_dir().parent.parent / "numba-cache"
        run = _SESSION.get("run")
        if run is not None and kernels_compiled(run):
            copy_cache(_digest_dir(run / WORKFLOW_CACHE), cache)
        cache.mkdir(parents=True, exist_ok=True)
        _SHARED["cache"] = cache
    return _SHARED["cache"]


def seed_from_session_run(workdir: Path, ended: Callable[[], bool], timeout: float = 3600) -> None:
    """Before Snakemake starts in ``workdir`` (a copy with its own cache): wait until the session's run has
    compiled its kernels (or ended), then copy its cache into ``workdir``'s. Nothing without a session run."""
    run = _SESSION.get("run")
    if run is None:
        return
    deadline = time.monotonic() + timeout
    while not kernels_compiled(run) and not ended():
        assert time.monotonic() < deadline, f"{run}: the numba kernels were not compiled within {timeout} s"
        time.sleep(0.2)
    copy_cache(run / WORKFLOW_CACHE, workdir / WORKFLOW_CACHE)
