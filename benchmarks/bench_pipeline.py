"""Benchmark the default pipeline end to end: cold run, no-op rerun, dry run of a 10,000-point sweep.

Usage (one command; about 2 minutes on an idle 2-core machine):

    python benchmarks/bench_pipeline.py [--cores 2] [--cold-runs 1] [--repeats 3] [--warm] [--keep DIR] [--dry-run-only]

Every measurement runs in a fresh temporary copy of the repository (tracked layout: Snakefile, workflow,
scripts, config, profiles, envs, src; no results, logs, ``.snakemake`` or ``__pycache__``), so nothing here
touches this checkout. The cold run starts with an empty numba cache (the workflow keeps it in the copy's
``.snakemake/numba-cache``; a ``NUMBA_CACHE_DIR`` of the caller is removed from the environment).

Reported: wall time, CPU seconds of Snakemake and all its jobs (user + system, from ``getrusage`` of the
children), the number of jobs, and the load average before and after, so a figure measured on a busy
machine says so. The cold run's CPU is also split by process (``benchmarks/process_cpu/sitecustomize.py``
on ``PYTHONPATH``: every Python process writes its own CPU seconds when it exits): each job, and
Snakemake's own process (parsing, DAG, scheduling). Snakemake's benchmark files sample a job's process
tree every few seconds and miss most of a short job's CPU, so they are not used for these figures. ``--warm`` adds a rerun of every job with the numba cache kept (``--forceall``).
Targets (issue 19): cold < 60 s wall on 2 cores, no-op < 2 s, 10,000-point dry run < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_workflow import with_sweep_points  # one n-point phi x gamma_T sweep in the copy's config
from machine import describe  # benchmarks/machine.py (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs", "src")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs", "*.egg-info")
TARGETS = {"cold": 60.0, "noop": 2.0, "dry10k": 10.0}
PROCESS_CPU = Path(__file__).resolve().parent / "process_cpu"


def fresh_copy(dest: Path) -> Path:
    """The repository's workflow files copied to ``dest`` (no outputs, caches or bookkeeping)."""
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED)
        else:
            shutil.copy2(src, dest / name)
    return dest


def run_snakemake(workdir: Path, *args: str, process_log: Path | None = None) -> dict:
    """Run Snakemake in ``workdir``; return wall seconds, CPU seconds (it and its jobs) and jobs done.
    ``process_log``: every Python process of the run appends its CPU seconds there (see the module doc)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    if process_log is not None:
        env["BENCH_PROCESS_CPU"] = str(process_log)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROCESS_CPU), env.get("PYTHONPATH")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True, text=True,
                          env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    text = proc.stdout + proc.stderr
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
    planned = re.search(r"^total\s+(\d+)$", text, flags=re.MULTILINE)
    return {"wall": wall, "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "jobs": int(done[-1][1]) if done else (int(planned.group(1)) if planned else 0), "output": text}


def cpu_by_process(process_log: Path) -> tuple[dict[str, float], float]:
    """CPU seconds of each job (its process and the processes it waited for), largest first, and of
    Snakemake's own process, from the lines of ``benchmarks/process_cpu/sitecustomize.py``."""
    records = [json.loads(line) for line in process_log.read_text().splitlines() if line.strip()]
    jobs = {r["label"]: r["self"] + r["children"] for r in records if r["job"]}
    main = sum(r["self"] for r in records if r["ppid"] == os.getpid())  # the Snakemake this script started
    return dict(sorted(jobs.items(), key=lambda kv: -kv[1])), main


def verdict(value: float, target: float) -> str:
    return f"< {target:g} s: {'met' if value < target else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--cold-runs", type=int, default=1, help="cold runs, each in a new copy (median reported)")
    parser.add_argument("--repeats", type=int, default=3, help="no-op reruns and dry runs (median reported)")
    parser.add_argument("--warm", action="store_true", help="also rerun every job with the numba cache kept")
    parser.add_argument("--keep", type=Path, default=None,
                        help="run the cold run in this (new) folder and keep it, to inspect or compare its outputs")
    parser.add_argument("--dry-run-only", action="store_true", help="only the 10,000-point dry run (no pipeline run)")
    parser.add_argument("--log", type=Path, default=None,
                        help="write the cold run's Snakemake output here (with NUMBA_DEBUG_CACHE=1 in the "
                             "environment it lists which job compiled which kernel)")
    args = parser.parse_args()
    cores = str(args.cores)
    load_before = os.getloadavg()
    rows, job_cpu, snakemake_cpu = [], {}, 0.0

    cold, noop, warm = [], [], []
    for run in range(0 if args.dry_run_only else args.cold_runs):
        with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
            if args.keep is not None and run == 0:
                args.keep.mkdir(parents=True)
                tmp = args.keep
            workdir = fresh_copy(Path(tmp))
            process_log = workdir / ".snakemake" / "bench_process_cpu.jsonl"
            process_log.parent.mkdir(exist_ok=True)
            cold.append(run_snakemake(workdir, "--cores", cores, "all", process_log=process_log))
            job_cpu, snakemake_cpu = cpu_by_process(process_log)
            if args.log is not None and run == 0:
                args.log.write_text(cold[-1]["output"])
            noop.extend(run_snakemake(workdir, "--cores", cores, "all") for _ in range(args.repeats))
            if args.warm and not warm:
                warm.append(run_snakemake(workdir, "--cores", cores, "--forceall", "all"))
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        workdir = fresh_copy(Path(tmp))
        with_sweep_points(workdir, 10_000)
        dry = [run_snakemake(workdir, "-n", "--cores", cores, "all") for _ in range(args.repeats)]
    load_after = os.getloadavg()

    def median(runs, key):
        return statistics.median(r[key] for r in runs)

    if cold:
        rows.append((f"cold `snakemake --cores {cores} all`, default config, empty numba cache",
                     median(cold, "wall"), median(cold, "cpu"), cold[0]["jobs"], len(cold),
                     verdict(median(cold, "wall"), TARGETS["cold"])))
    if warm:
        rows.append(("rerun of every job (`--forceall`), numba cache kept", median(warm, "wall"),
                     median(warm, "cpu"), warm[0]["jobs"], len(warm), ""))
    if noop:
        rows.append(("no-op rerun (\"Nothing to be done\")", median(noop, "wall"), median(noop, "cpu"), 0,
                     len(noop), verdict(median(noop, "wall"), TARGETS["noop"])))
    rows.append(("`snakemake -n` of a 10,000-point sweep (default config otherwise)", median(dry, "wall"),
                 median(dry, "cpu"), dry[0]["jobs"], len(dry), verdict(median(dry, "wall"), TARGETS["dry10k"])))

    busy = max(load_before[0], load_after[0]) > 0.5 * (os.cpu_count() or 1)
    print(f"Machine: {describe()}")
    print(f"Load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}"
          + (" -- measured UNDER LOAD: wall times are pessimistic, CPU seconds are the comparable figure"
             if busy else " (idle)"))
    print()
    print("| measurement | wall (s) | CPU (s) | jobs | runs | target |")
    print("|---|---|---|---|---|---|")
    for name, wall, cpu, jobs, runs, target in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.1f} | {jobs} | {runs} | {target} |")
    if not job_cpu:
        return
    print()
    print(f"CPU of the (last) cold run by process: {len(job_cpu)} jobs {sum(job_cpu.values()):.1f} CPU-s, "
          f"Snakemake's own process {snakemake_cpu:.1f} CPU-s. Jobs with the most CPU time:")
    print("| job | CPU (s) |\n|---|---|")
    for name, cpu in list(job_cpu.items())[:15]:
        print(f"| {name} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
