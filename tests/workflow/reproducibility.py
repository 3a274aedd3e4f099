"""Helpers of the reproducibility tests: list a run's outputs and compare two runs byte for byte.

What is compared: every file under ``results/``, ``reports/`` and ``resources/`` of a work directory.
What is not, and why (also in README.md, section "Reproducibility and failures"):

* ``logs/`` and ``results/benchmarks/``: log lines carry the time they were written, and Snakemake's
  benchmark files hold measured wall times and memory. They describe the run, not its results.
* ``.snakemake/``: Snakemake's own bookkeeping (metadata with timestamps, locks, incomplete markers).

Two kinds of output are compared after removing exactly their run-dependent parts:

* the executed notebooks (``results/notebooks/*.ipynb``): papermill records when each cell ran
  (``start_time``, ``end_time``, ``duration`` and the kernel's ``execution`` timestamps);
* the report (``reports/final/mfg_report.html``): the run date, and the "Wall time per rule" section,
  which shows the benchmark measurements above.

Everything else (Parquet, NPZ, JSON, YAML, CSV, PNG, the notebooks' HTML export, the COTAHIST sample)
must be byte-identical.

The second run from scratch of the default test session (:func:`start_interrupted_run`) is also interrupted:
killed mid-run, then resumed (``tests/workflow/test_reproducibility.py``). It starts with the numba kernels
the session's run compiled (``wfkernels.seed_from_session_run``): the session's run compiles them from nothing,
as a fresh clone does, and the comparison then also shows that no result depends on whether a job compiled
its kernels or loaded them.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import wfkernels
from wfutils import (SMALL_CONFIG, copy_workflow, end_process_group, session_run_ended, snakemake,
                     start_in_background, start_snakemake, started, wait_for_workflow_tests)

OUTPUT_ROOTS = ("results", "reports", "resources")
EXCLUDED_PREFIXES = ("results/benchmarks/",)
RUN_DATE = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
WALL_TIME_SECTION = re.compile(rb"<h3>Wall time per rule.*?(?=<h3>|</section>)", re.S)
PAPERMILL_TIMES = ("start_time", "end_time", "duration")


def is_temporary(relpath: str) -> bool:
    """A temporary file of :func:`mfg_finance.io.atomic_path` (``.name.PID.XXXX.tmp``)."""
    name = relpath.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(".tmp")


def output_files(workdir: Path, *, temporaries: bool = True) -> list[str]:
    """Relative paths of the run's outputs (see the module docstring for what is left out)."""
    files = []
    for root in OUTPUT_ROOTS:
        base = workdir / root
        if not base.exists():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(workdir).as_posix()
            if path.is_file() and not rel.startswith(EXCLUDED_PREFIXES) and (temporaries or not is_temporary(rel)):
                files.append(rel)
    return sorted(files)


def normalized(relpath: str, data: bytes) -> bytes:
    """The bytes of an output with its run-dependent parts removed (identity for most files)."""
    if relpath.endswith(".ipynb"):
        nb = json.loads(data)
        nb.get("metadata", {}).get("papermill", {}).update(dict.fromkeys(PAPERMILL_TIMES))
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {})
            meta.pop("execution", None)
            meta.get("papermill", {}).update(dict.fromkeys(PAPERMILL_TIMES))
        return json.dumps(nb, sort_keys=True, indent=1).encode()
    if relpath == "reports/final/mfg_report.html":
        return WALL_TIME_SECTION.sub(b"", RUN_DATE.sub(b"<run date>", data))
    return data


def differences(reference: Path, other: Path, files: list[str] | None = None) -> list[str]:
    """Paths that differ between two runs: missing on either side, or with other (normalized) bytes."""
    ref_files = set(output_files(reference))
    other_files = set(output_files(other))
    problems = [f"only in {reference.name}: {f}" for f in sorted(ref_files - other_files)]
    problems += [f"only in {other.name}: {f}" for f in sorted(other_files - ref_files)]
    for rel in sorted(ref_files & other_files) if files is None else files:
        a, b = (reference / rel).read_bytes(), (other / rel).read_bytes()
        if a != b and normalized(rel, a) != normalized(rel, b):
            problems.append(f"differs: {rel}")
    return problems


def digest(relpath: str, data: bytes) -> str:
    """SHA-256 of an output's normalized bytes (:func:`normalized`)."""
    return hashlib.sha256(normalized(relpath, data)).hexdigest()


def running_jobs(workdir: Path) -> list[Path]:
    """Outputs Snakemake has marked incomplete: the jobs running right now."""
    marks = workdir / ".snakemake" / "incomplete"
    return list(marks.iterdir()) if marks.is_dir() else []


def interrupt_mid_run(workdir: Path, sig: signal.Signals, after: str, timeout: float = 3600,
                      niceness: int = 0) -> None:
    """Start ``snakemake --cores 2 all``; once ``after`` exists and a job is running, send ``sig`` to the
    whole process group (Snakemake and its jobs, as a scheduler or a closed terminal does)."""
    with open(workdir / "interrupted.log", "w") as log:
        proc = start_snakemake(workdir, "--cores", "2", "all", niceness=niceness, stdout=log,
                               stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not ((workdir / after).exists() and running_jobs(workdir)):
                assert proc.poll() is None, "the run ended before it could be interrupted"
                assert time.monotonic() < deadline, f"{after} was not written within {timeout} s"
                time.sleep(0.05)
            end_process_group(proc, sig)
            proc.wait(timeout=600)
        finally:
            end_process_group(proc)
    assert proc.returncode != 0


@dataclass(frozen=True)
class InterruptedRun:
    """A run from scratch, interrupted by ``signal`` once ``after`` was written, then resumed."""

    workdir: Path
    signal: signal.Signals
    complete_at_interruption: dict[str, str]        # {output standing at its name then: digest()}
    first_resume: subprocess.CompletedProcess | None   # SIGKILL: the resume before --unlock


def interrupted_and_resumed(workdir: Path, sig: signal.Signals, after: str, niceness: int = 0) -> InterruptedRun:
    """Interrupt a run from scratch in ``workdir`` (:func:`interrupt_mid_run`), then resume it as a user would:
    after SIGKILL Snakemake could not release its lock, so a first resume is refused and ``--unlock`` runs
    first; then ``snakemake --cores 2 all --rerun-incomplete``."""
    interrupt_mid_run(workdir, sig, after, niceness=niceness)
    complete = {rel: digest(rel, (workdir / rel).read_bytes()) for rel in output_files(workdir, temporaries=False)}
    first_resume = None
    if sig == signal.SIGKILL:
        first_resume = snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete", check=False,
                                 niceness=niceness)
        snakemake(workdir, "--unlock", niceness=niceness)
    snakemake(workdir, "--cores", "2", "all", "--rerun-incomplete", niceness=niceness)
    return InterruptedRun(workdir, sig, complete, first_resume)


INTERRUPTED_RUN = "second run from scratch, killed and resumed"


def start_interrupted_run(repo_root: Path, tmp_path_factory) -> None:
    """Start the session's second run from scratch (SIGKILL once the calibration is written, then resumed) in
    the background; ``wfutils.from_background(INTERRUPTED_RUN)`` gives its :class:`InterruptedRun`.

    It starts when the session's run has ended or the session starts its first workflow test, whichever comes
    first (``wfutils.wait_for_workflow_tests``), with the numba kernels of the session's run
    (``wfkernels.seed_from_session_run``: its outputs are computed from nothing the session's run wrote, its
    kernels are loaded rather than compiled a second time), and runs under ``nice``: the tests go first; this
    one, needed only by the last tests, takes the core they leave idle. While the session's run goes on, it and
    the unit tests keep both cores busy; after it, the single-threaded unit tests leave one idle, and from the
    workflow tests on the tests mostly wait for single Snakemake processes (docs/testing.md)."""
    if started(INTERRUPTED_RUN):
        return
    workdir = copy_workflow(repo_root, tmp_path_factory.mktemp("interrupted"), repo_root / SMALL_CONFIG,
                            own_kernel_cache=True)

    def run() -> InterruptedRun:
        wait_for_workflow_tests(or_until=lambda: session_run_ended(repo_root))
        wfkernels.seed_from_session_run(workdir, lambda: session_run_ended(repo_root))
        return interrupted_and_resumed(workdir, signal.SIGKILL, "results/calibration/mfg_params.yaml", niceness=5)

    start_in_background(INTERRUPTED_RUN, run)
