"""Helpers of the workflow tests: copy the repository to a temporary directory, run Snakemake there,
parse a dry run's job table, run the small-config pipeline once per test session, and copy that finished run.

A plain module (not a conftest) so that any test directory can import it: ``tests/workflow`` is put on
``sys.path`` by its conftest (pytest's default ``prepend`` import mode); other directories add it themselves
(see ``tests/report/conftest.py``). The module is imported under one name (``wfutils``), so its cache of the
pipeline run is shared by every fixture that asks for it: ONE pipeline run per session.

The session's run starts in the background as soon as the session starts (:func:`start_small_pipeline`, called
by ``tests/conftest.py`` when a selected test needs it), so that it runs on the core the single-threaded unit
tests leave idle; the first test that needs it waits for it (:func:`small_pipeline`).

Package and numba kernels of a copy (docs/testing.md, "numba kernels"): a copy holds no ``src/``, its jobs
import the checkout's package (``PYTHONPATH``). A copy made with ``own_kernel_cache=True`` (the session's run
and the reproducibility runs) compiles its kernels into its own ``.snakemake/numba-cache``, as a fresh clone
does; every other copy uses the test session's numba cache (``NUMBA_CACHE_DIR``, set by ``tests/conftest.py``),
so a kernel the unit tests or an earlier copy compiled is loaded, not compiled again in every copy.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# Not src/: the jobs of a copy import the checkout's package (snakemake_env), whose path keys numba's cache.
COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs",
                                 "*.egg-info")
SMALL_CONFIG = Path("tests") / "configs" / "small.yaml"

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="background-run")
_BACKGROUND: dict[str, Future] = {}          # work started in the background, by name
_LIVE: set[subprocess.Popen] = set()         # Snakemake processes running now, each in its own process group
_OWN_KERNEL_CACHE: set[Path] = set()         # copies that compile into their own numba cache (copy_workflow)


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 3600,
              niceness: int = 0) -> subprocess.CompletedProcess:
    # the timeout only guards against a hung run: a whole run takes about a minute on an idle 2-core
    # machine, but over 15 minutes when the machine is shared by many jobs
    proc = start_snakemake(workdir, *args, niceness=niceness, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        end_process_group(proc)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}) in {workdir}:\n"
                             f"{stdout[-4000:]}\n{stderr[-6000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def start_snakemake(workdir: Path, *args: str, niceness: int = 0, **popen) -> subprocess.Popen:
    """``python -m snakemake *args`` in its own process group (Snakemake and its jobs), as text; end it
    with :func:`end_process_group`. Every such process still running when the session ends is ended.
    ``niceness``: run it (and so its jobs) under ``nice -n niceness``, giving way to the tests."""
    command = [sys.executable, "-m", "snakemake", *args]
    if niceness and shutil.which("nice"):
        command = ["nice", "-n", str(niceness), *command]     # nice execs the command: same pid, same group
    proc = subprocess.Popen(command, cwd=workdir, text=True, start_new_session=True, env=snakemake_env(workdir),
                            **popen)
    _LIVE.add(proc)
    return proc


def snakemake_env(workdir: Path) -> dict[str, str]:
    """Environment of Snakemake in a copy: the checkout's package first on ``PYTHONPATH``; the session's numba
    cache, or none for a copy with its own (the workflow then keeps it in ``.snakemake/numba-cache``)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT / "src"),
                                                                     os.environ.get("PYTHONPATH")])))
    if Path(workdir).resolve() in _OWN_KERNEL_CACHE:
        env.pop("NUMBA_CACHE_DIR", None)
    return env


def end_process_group(proc: subprocess.Popen, sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group of a process started by :func:`start_snakemake` if it still runs
    (SIGKILL, the default: and wait for it)."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        if sig == signal.SIGKILL:
            proc.wait()
    if proc.poll() is not None:
        _LIVE.discard(proc)


def start_in_background(name: str, work: Callable[[], object]) -> None:
    """Start ``work()`` in a thread of the session (once per name); :func:`from_background` gives its result.

    For work that runs Snakemake (:func:`snakemake`, :func:`start_snakemake`): the test session (single-
    threaded, mostly) leaves one of the two cores idle, and the run uses it.
    """
    if name not in _BACKGROUND:
        _BACKGROUND[name] = _POOL.submit(work)


def started(name: str) -> bool:
    return name in _BACKGROUND


def from_background(name: str) -> object:
    """The result of the work started under ``name`` (waiting for it; the work's own Snakemake calls have
    timeouts); a failure is raised to every caller, and the work is not done again."""
    return _BACKGROUND[name].result()


def stop_background_runs() -> None:
    """End the Snakemake runs still going at the end of the session (stopped early: -x, Ctrl-C)."""
    for future in _BACKGROUND.values():
        future.cancel()
    for proc in list(_LIVE):
        end_process_group(proc)
    _POOL.shutdown(wait=True)


def copy_workflow(repo_root: Path, dest: Path, config: Path, *, own_kernel_cache: bool = False) -> Path:
    """An empty working directory with the workflow of ``repo_root`` and ``config`` as config/config.yaml.
    ``own_kernel_cache``: its jobs compile their numba kernels into the copy's own cache, as in a fresh clone;
    otherwise they share the test session's compiled kernels (module docstring)."""
    dest.mkdir(parents=True, exist_ok=True)
    if own_kernel_cache:
        _OWN_KERNEL_CACHE.add(dest.resolve())
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


_SESSION_RUN: dict[Path, Path] = {}         # {repo_root: work directory of the session's run}


def _small_pipeline_name(repo_root: Path) -> str:
    return f"small pipeline {repo_root}"


def start_small_pipeline(repo_root: Path, tmp_path_factory) -> None:
    """Start the session's pipeline run (:func:`small_pipeline`) in the background, once per session."""
    name = _small_pipeline_name(repo_root)
    if started(name):
        return
    workdir = copy_workflow(repo_root, tmp_path_factory.mktemp("wf"), repo_root / SMALL_CONFIG, own_kernel_cache=True)
    _SESSION_RUN[repo_root] = workdir

    def run() -> Path:
        snakemake(workdir, "--cores", "2", "all")
        return workdir

    start_in_background(name, run)


def session_run_dir(repo_root: Path) -> Path | None:
    """Work directory of the session's run (finished or not), if it was started."""
    return _SESSION_RUN.get(repo_root)


def session_run_ended(repo_root: Path) -> bool:
    """The session's run has ended (finished or failed)."""
    return _BACKGROUND[_small_pipeline_name(repo_root)].done()


def small_pipeline(repo_root: Path, tmp_path_factory) -> Path:
    """The real pipeline run on the small test config in a temporary copy of the repo, once per session.

    Returns the work directory. Every test of the session sees the same directory, so tests only read it
    (outputs, dry runs); a test that edits the config or runs jobs works on :func:`finished_copy` of it.
    Waits for the run started by :func:`start_small_pipeline` (or starts it now). A failed run fails every
    test that asks for it, with Snakemake's output, without being run again.
    """
    start_small_pipeline(repo_root, tmp_path_factory)
    return from_background(_small_pipeline_name(repo_root))


def finished_copy(finished: Path, dest: Path) -> Path:
    """A private copy of a finished run (``cp -a``: every file with its modification time, and Snakemake's
    metadata), in which Snakemake finds everything up to date: a test that edits the config or deletes some
    outputs there reruns only what that change affects, not the whole pipeline from an empty directory.

    A real copy, not hard links: jobs and logs may write files in place, which would reach the shared run.
    Jobs run there use the test session's numba cache (not the run's own, copied along with it).
    """
    proc = subprocess.run(["cp", "-a", str(finished), str(dest)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"cp -a {finished} {dest} failed: {proc.stderr}")
    for marker in (".snakemake/locks", ".snakemake/incomplete"):
        assert not any((dest / marker).glob("*")), f"{finished} is not a finished run: {marker} is not empty"
    return dest
