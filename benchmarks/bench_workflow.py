"""Benchmark the workflow as a user runs it: cold run, no-op rerun, and DAG dry-run time vs sweep size.

Usage: python benchmarks/bench_workflow.py [--cold-runs 1] [--dag-repeats 3] [--cores 2]

The cold run also reports the jobs with the largest peak memory (``max_rss`` of Snakemake's benchmark files).

Each measurement runs in a fresh temporary copy of the repository (default config), so nothing here
touches this checkout's results/. Figures go to stdout as Markdown, for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from machine import describe  # benchmarks/machine.py (script directory is on sys.path)

REPO = Path(__file__).resolve().parents[1]
COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs", "src")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs")


def fresh_copy(dest: Path) -> Path:
    for name in COPIED:
        src = REPO / name
        (shutil.copytree(src, dest / name, ignore=IGNORED) if src.is_dir() else shutil.copy2(src, dest / name))
    return dest


def timed_snakemake(workdir: Path, *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def largest_jobs(workdir: Path, n: int = 3) -> list[tuple[str, float, float]]:
    """(job, peak RSS in MB, wall s) of the ``n`` jobs with the largest peak memory in ``results/benchmarks``."""
    rows = []
    for path in (workdir / "results" / "benchmarks").rglob("*.tsv"):
        header, values = path.read_text().splitlines()[:2]
        record = dict(zip(header.split("\t"), values.split("\t")))
        if record.get("max_rss", "NA") not in ("NA", "-", ""):
            rows.append((path.relative_to(workdir).as_posix(), float(record["max_rss"]), float(record["s"])))
    return sorted(rows, key=lambda r: -r[1])[:n]


def with_sweep_points(workdir: Path, n_points: int) -> None:
    config_path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    side = int(round(n_points ** 0.5))
    config["sweeps"] = {"big": {"phi": {"start": 0.001, "stop": 1.0, "num": side, "scale": "log"},
                                "gamma_T": {"start": 0.01, "stop": 10.0, "num": n_points // side, "scale": "log"}}}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=1)
    parser.add_argument("--dag-repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()

    print(f"Machine: {describe()}\n")
    cold, noop, largest = [], [], []
    for _ in range(args.cold_runs):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = fresh_copy(Path(tmp))
            cold.append(timed_snakemake(workdir, "--cores", str(args.cores), "all"))
            noop.extend(timed_snakemake(workdir, "--cores", str(args.cores), "all") for _ in range(3))
            largest = largest_jobs(workdir)
    print("| measurement | median (s) | runs |\n|---|---|---|")
    print(f"| cold `snakemake --cores {args.cores} all` (default config) | {statistics.median(cold):.1f} | {len(cold)} |")
    print(f"| no-op rerun | {statistics.median(noop):.2f} | {len(noop)} |")
    for job, rss_mb, wall in largest:
        print(f"| peak memory of job `{job}` (cold run) | {rss_mb:.0f} MB (wall {wall:.1f} s) | 1 |")
    for n_points in (100, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = fresh_copy(Path(tmp))
            with_sweep_points(workdir, n_points)
            times = [timed_snakemake(workdir, "-n", "--cores", "1", "all") for _ in range(args.dag_repeats)]
            print(f"| `snakemake -n` with a {n_points}-point sweep | {statistics.median(times):.2f} | {len(times)} |")


if __name__ == "__main__":
    main()
