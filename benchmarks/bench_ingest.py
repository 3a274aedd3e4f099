"""Benchmark: COTAHIST text -> DataFrame, throughput (MB/s) and peak memory, side by side.

Files (built in a temporary folder, deleted afterwards; never committed):

* ``monthly``: B3's real ``COTAHIST_M012021.TXT`` (31.9 MB), unzipped from the shared data folder
  (``../shared/data/cotahist`` or ``$MFG_SHARED_DATA``);
* ``big``: about 200 MB built by repeating its quote records between one header and a trailer
  with the right count.

Contenders, each in its own process pinned to one CPU core (``read_cotahist`` also with two
threads on two cores), warmed up first (imports, JIT) on a small file, then timed ``--runs``
times (median wall and CPU time reported; on a shared machine the CPU time is the steadier one).
The warm-up runs the kernels the timed files take (inputs of 8 MiB or more take the compiled
parallel ones, ``job_threads.large_input_kernels``): before, the first timed run loaded them
(0.1-0.4 s, and its memory counted in the peak).

* ``mfg_finance.read_cotahist``: bytes -> typed DataFrame (the number the >= 600 MB/s one-core and
  >= 1 GB/s two-core targets are about);
* ``mfg_finance.ingest``: the same plus the summary (SHA-256 of the file, counts, date range);
* ``read()+splitlines()``: Python reading the file and splitting it into lines, no parsing at all;
* ``b3fileparser (polars)``: the PyPI parser's polars engine, run with the Python of a throwaway
  virtual environment (``--peer-python``, e.g. ``/tmp/b3fp-venv/bin/python`` after
  ``python -m venv /tmp/b3fp-venv && /tmp/b3fp-venv/bin/pip install b3fileparser``); skipped if absent.

Peak memory is the process's peak RSS minus its RSS before the first timed run (after warm-up),
reported as a multiple of the file size. MB = 10**6 bytes.

Usage::

    python benchmarks/bench_ingest.py [--runs 5] [--big-mb 200] [--peer-python PATH] [--cpu 0] [--two-threads 0,1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from realdata import RECORD_LINE, monthly_text, split_records, with_trailer_count, write_repeated

HERE = Path(__file__).resolve()


# --- worker side (runs in a fresh process; only the standard library at import time) ------------

def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _contender(name: str):
    if name == "read_cotahist":
        from mfg_finance.cotahist import read_cotahist

        return lambda path: read_cotahist(path)
    if name == "ingest":
        from mfg_finance.cotahist import ingest

        return lambda path: ingest(path)
    if name == "splitlines":
        def split(path):
            with open(path, "rb") as fh:
                return fh.read().splitlines()

        return split
    if name == "b3fileparser_polars":
        from b3fileparser.b3parser import B3Parser

        parser = B3Parser.create_parser(engine="polars")
        return lambda path: parser.read_b3_file(str(path))
    raise ValueError(name)


def worker(name: str, path: str, warmup: str, runs: int, cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)
    parse = _contender(name)
    warm = contextlib.nullcontext()
    if name in ("read_cotahist", "ingest"):
        from mfg_finance.job_threads import large_input_kernels

        warm = large_input_kernels()   # the small warm-up file takes the kernels the timed (large) files take
    with warm:
        result = parse(warmup)  # imports, JIT compilation or cache load
    del result
    baseline = _rss_bytes()
    times, cpu_times = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = parse(path)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        del result
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"times": times, "cpu_times": cpu_times, "baseline_rss": baseline, "peak_rss": peak}))


# --- driver side ---------------------------------------------------------------------------------

def build_files(tmp: Path, big_mb: float) -> dict[str, Path]:
    name, data = monthly_text()
    monthly = tmp / name
    monthly.write_bytes(data)
    big = tmp / "COTAHIST_BIG.TXT"
    write_repeated(big, data, big_mb)
    header, details, trailer = split_records(data)
    warm = tmp / "COTAHIST_WARMUP.TXT"
    warm.write_bytes(header + details[:50 * RECORD_LINE] + with_trailer_count(trailer, 52))
    return {"monthly": monthly, "big": big, "warmup": warm}


def run_worker(python: str, name: str, path: Path, warmup: Path, runs: int, cpus: list[int]) -> dict | None:
    cmd = [python, str(HERE), "--worker", name, str(path), "--warmup-file", str(warmup), "--runs", str(runs),
           "--cpu", ",".join(map(str, cpus))]
    threads = str(len(cpus))
    env = dict(os.environ, NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS="1",
               POLARS_MAX_THREADS=threads, RAYON_NUM_THREADS=threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  {name}: failed ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode})",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per contender and file")
    parser.add_argument("--big-mb", type=float, default=200.0, help="size of the repeated file (MB)")
    parser.add_argument("--peer-python", default="/tmp/b3fp-venv/bin/python",
                        help="Python of a venv with b3fileparser installed (skipped if missing)")
    parser.add_argument("--cpu", default="0", help="CPU core the one-thread workers are pinned to")
    parser.add_argument("--two-threads", default="0,1",
                        help="CPU cores of the two-thread read_cotahist run ('' to skip it)")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--warmup-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], args.warmup_file, args.runs, {int(c) for c in args.cpu.split(",")})
        return 0

    one = [int(args.cpu)]
    contenders = [("read_cotahist", sys.executable, one)]
    if args.two_threads:
        contenders.append(("read_cotahist", sys.executable, [int(c) for c in args.two_threads.split(",")]))
    contenders += [("ingest", sys.executable, one), ("splitlines", sys.executable, one)]
    if Path(args.peer_python).is_file():
        contenders.append(("b3fileparser_polars", args.peer_python, one))
    else:
        print(f"b3fileparser skipped: {args.peer_python} not found", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_", dir="/tmp"))
    try:
        files = build_files(tmp, args.big_mb)
        rows = []
        for label in ("monthly", "big"):
            path = files[label]
            size = path.stat().st_size
            for name, python, cpus in contenders:
                out = run_worker(python, name, path, files["warmup"], args.runs, cpus)
                if out is None:
                    continue
                median = statistics.median(out["times"])
                cpu = statistics.median(out["cpu_times"])
                peak = out["peak_rss"] - out["baseline_rss"]
                label_threads = f"{name} ({len(cpus)} thread{'s' if len(cpus) > 1 else ''})"
                rows.append((label, size, label_threads, median, size / 1e6 / median, cpu, peak / size))
                print(f"{label:8s} {size / 1e6:7.1f} MB  {label_threads:30s} {median:8.3f} s  "
                      f"{size / 1e6 / median:8.1f} MB/s  CPU {cpu:.3f} s  peak +{peak / 1e6:7.1f} MB "
                      f"({peak / size:.2f}x file)", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("| file | size (MB) | parser (threads) | median wall (s) | MB/s wall | median CPU (s, all threads) "
          "| peak RSS increase (x file size) |")
    print("|---|---|---|---|---|---|---|")
    for label, size, name, median, rate, cpu, peak in rows:
        print(f"| {label} | {size / 1e6:.1f} | {name} | {median:.3f} | {rate:.0f} | {cpu:.3f} | {peak:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
