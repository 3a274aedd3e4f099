"""Helpers of the workflow tests: copy the repository to a temporary directory, run Snakemake there,
parse a dry run's job table, run the small-config pipeline once per test session, and copy that finished run.

A plain module (not a conftest) so that any test directory can import it: ``tests/workflow`` is put on
``sys.path`` by its conftest (pytest's default ``prepend`` import mode); other directories add it themselves
(see ``tests/report/conftest.py``). The module is imported under one name (``wfutils``), so its cache of the
pipeline run is shared by every fixture that asks for it: ONE pipeline run per session.

The session's run starts in the background as soon as the session starts (:func:`start_small_pipeline`, called
by ``tests/conftest.py`` when a selected test needs it), so that it runs on the core the single-threaded unit
tests leave idle; the first test that needs it waits for it (:func:`small_pipeline`).

A copy holds no ``src/``: its Snakemake runs import the session's snapshot of the package, and load the numba
kernels an earlier run compiled unless the copy was made with ``own_kernel_cache=True`` (``wfkernels.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import yaml

import wfkernels

# Not src/: the runs import the session's snapshot of the package (wfkernels.py).
COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs",
                                 "*.egg-info")
SMALL_CONFIG = Path("tests") / "configs" / "small.yaml"

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="background-run")
_BACKGROUND: dict[str, Future] = {}          # work started in the background, by name
_LIVE: set[subprocess.Popen] = set()         # Snakemake processes running now, each in its own process group
_WORKFLOW_TESTS_REACHED = threading.Event()  # the session has started its first workflow test
_STOPPING = threading.Event()                # the session is ending: start no more Snakemake processes


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
    if _STOPPING.is_set():
        raise RuntimeError("the test session is ending: no more Snakemake runs")
    command = [sys.executable, "-m", "snakemake", *args]
    if niceness and shutil.which("nice"):
        command = ["nice", "-n", str(niceness), *command]     # nice execs the command: same pid, same group
    proc = subprocess.Popen(command, cwd=workdir, text=True, start_new_session=True,
                            env=wfkernels.environment(Path(workdir)), **popen)
    _LIVE.add(proc)
    return proc


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


def workflow_tests_reached() -> None:
    """Record that the session has started its first workflow test (``tests/conftest.py``)."""
    _WORKFLOW_TESTS_REACHED.set()


def wait_for_workflow_tests(or_until: Callable[[], bool] = lambda: False) -> None:
    """Wait (in a background thread) until the session starts its first workflow test, or ``or_until()`` holds;
    raise if the session ends first."""
    while not _WORKFLOW_TESTS_REACHED.wait(0.2):
        if or_until():
            return
        if _STOPPING.is_set():
            raise RuntimeError("the test session ended before its workflow tests")


def stop_background_runs() -> None:
    """End the Snakemake runs still going at the end of the session (stopped early: -x, Ctrl-C)."""
    _STOPPING.set()
    for future in _BACKGROUND.values():
        future.cancel()
    for proc in list(_LIVE):
        end_process_group(proc)
    _POOL.shutdown(wait=True)


def copy_workflow(repo_root: Path, dest: Path, config: Path, *, own_kernel_cache: bool = False) -> Path:
    """An empty working directory with the workflow of ``repo_root`` and ``config`` as config/config.yaml.
    ``own_kernel_cache``: its jobs compile their numba kernels into the copy's own cache, as in a fresh clone;
    otherwise they load those an earlier run of the session compiled (``wfkernels.py``)."""
    dest.mkdir(parents=True, exist_ok=True)
    if own_kernel_cache:
        wfkernels.own_cache(dest)
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


def _small_pipeline_name(repo_root: Path) -> str:
    return f"small pipeline {repo_root}"


def start_small_pipeline(repo_root: Path, tmp_path_factory) -> None:
    """Start the session's pipeline run (:func:`small_pipeline`) in the background, once per session."""
    name = _small_pipeline_name(repo_root)
    if started(name):
        return
    workdir = copy_workflow(repo_root, tmp_path_factory.mktemp("wf"), repo_root / SMALL_CONFIG, own_kernel_cache=True)
    wfkernels.session_run_started(workdir)

    def run() -> Path:
        snakemake(workdir, "--cores", "2", "all")
        return workdir

    start_in_background(name, run)


def session_run_ended(repo_root: Path) -> bool:
    """The session's run has ended (finished or failed), or was never started."""
    future = _BACKGROUND.get(_small_pipeline_name(repo_root))
    return future is None or future.done()


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
    Jobs run there use the session's shared numba cache (``wfkernels.py``), not the run's own copied along.
    """
    proc = subprocess.run(["cp", "-a", str(finished), str(dest)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"cp -a {finished} {dest} failed: {proc.stderr}")
    for marker in (".snakemake/locks", ".snakemake/incomplete"):
        assert not any((dest / marker).glob("*")), f"{finished} is not a finished run: {marker} is not empty"
    return dest
