"""Benchmark: where `read_cotahist`'s time goes, stage by stage, in CPU time per thread.

On a shared machine wall time says little, so each stage of :func:`mfg_finance.cotahist.read_cotahist` is
measured in three clocks: wall (``perf_counter``), the calling thread's CPU (``time.thread_time``) and the
whole process's CPU (``time.process_time``: every thread, numba's and the read's included). A stage
whose process CPU exceeds its main-thread CPU ran partly on other threads; ``other / process`` is the share
that went parallel. The stages are the library's own functions, wrapped in place (module attributes), so the
code timed is the code the parser runs; what no wrapper covers is reported as "rest".

Files: ``big`` (B3's real monthly file's quote records repeated to ``--big-mb`` MB, as in bench_ingest.py)
and ``monthly`` (the real 31.9 MB file), built in /tmp and deleted afterwards. Each (file, threads) pair runs
in a fresh process pinned to the given cores, warmed up on the same file once, then timed ``--runs`` times;
the table gives, per stage, the minimum over the runs of each clock (and the total's minimum).

Usage::

    python benchmarks/bench_cotahist_stages.py [--runs 7] [--big-mb 200] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from realdata import monthly_text, write_repeated

HERE = Path(__file__).resolve()

# (module, attribute, stage label): wrapped where the parser looks them up. Missing ones are skipped, so
# the script runs on older and newer versions of the parser alike.
STAGES = [
    ("mfg_finance.cotahist.parser", "read_source", "read"),
    ("mfg_finance.cotahist.parser", "frame", "framing (CRLF check)"),
    ("mfg_finance.cotahist.parser", "header_and_trailer", "header/trailer"),
    ("mfg_finance.cotahist.detail_kernel", "parse_detail_records", "record kernel"),
    ("mfg_finance.cotahist.parser", "kernel_rejects", "rejects"),
    ("mfg_finance.cotahist.parser", "_redo_large_values", "large values"),
    ("mfg_finance.cotahist.parser", "factorize_records", "text factorization"),
    ("mfg_finance.cotahist.parser", "_columns", "typed columns"),
    ("mfg_finance.cotahist.parser", "categorical_columns", "categorical columns"),
    ("mfg_finance.cotahist.parser", "merge_tables", "merge tables"),
]
# stages nested in "text factorization" (reported separately, and subtracted from it)
INNER = [
    ("mfg_finance.cotahist.textcodes", "factorize_keys", "  hash factorize"),        # small inputs, pandas
    ("mfg_finance.cotahist.textcodes", "factorize_chunks", "  hash factorize"),      # large: per chunk + merge
    ("mfg_finance.cotahist.textcodes", "_first_index", "  first index"),
    ("mfg_finance.cotahist.textcodes", "gather_bytes", "  gather rows"),
    ("mfg_finance.cotahist.textcodes", "_first_mismatch", "  byte check"),           # before: its own pass
    ("mfg_finance.cotahist.detail_kernel", "renumber_and_check", "  byte check"),    # after: with renumbering
]


def _clocks() -> tuple[float, float, float]:
    return time.perf_counter(), time.thread_time(), time.process_time()


class Recorder:
    def __init__(self):
        self.totals = defaultdict(lambda: [0.0, 0.0, 0.0])

    def wrap(self, fn, label):
        def timed(*args, **kwargs):
            start = _clocks()
            try:
                return fn(*args, **kwargs)
            finally:
                stop = _clocks()
                acc = self.totals[label]
                for k in range(3):
                    acc[k] += stop[k] - start[k]
        timed.__wrapped__ = fn
        return timed


def _wrap_pandas_factorize(recorder: Recorder) -> None:
    """Time ``pd.factorize`` as the textcodes module calls it (older versions call it directly)."""
    textcodes = importlib.import_module("mfg_finance.cotahist.textcodes")
    if hasattr(textcodes, "factorize_chunks"):
        return

    class _Pandas:
        def __getattr__(self, name):
            import pandas

            return getattr(pandas, name)

    shim = _Pandas()
    shim.factorize = recorder.wrap(__import__("pandas").factorize, "  hash factorize")
    textcodes.pd = shim


def worker(path: str, runs: int, cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)
    from mfg_finance.cotahist import read_cotahist

    recorder = Recorder()
    for module, attr, label in STAGES + INNER:
        mod = importlib.import_module(module)
        if hasattr(mod, attr):
            setattr(mod, attr, recorder.wrap(getattr(mod, attr), label))
    _wrap_pandas_factorize(recorder)
    read_cotahist(path)  # warm-up: imports, JIT cache, page cache
    runs_out = []
    for _ in range(runs):
        recorder.totals.clear()
        start = _clocks()
        frame = read_cotahist(path)
        stop = _clocks()
        del frame
        stages = {k: list(v) for k, v in recorder.totals.items()}
        stages["TOTAL"] = [stop[k] - start[k] for k in range(3)]
        runs_out.append(stages)
    print(json.dumps(runs_out))


def _table(label: str, size: int, threads: int, runs: list[dict]) -> list[str]:
    names = list(dict.fromkeys(k for r in runs for k in r))
    inner = [n for n in names if n.startswith("  ")]
    outer = [n for n in names if not n.startswith("  ") and n != "TOTAL"]
    best = {n: [min(r.get(n, [0, 0, 0])[k] for r in runs) for k in range(3)] for n in names}
    # the run with the least process CPU, for the per-stage split (minima of different runs need not add up)
    pick = min(runs, key=lambda r: r["TOTAL"][2])
    rest = [pick["TOTAL"][k] - sum(pick.get(n, [0, 0, 0])[k] for n in outer) for k in range(3)]
    lines = [f"\n{label}: {size / 1e6:.1f} MB, {threads} thread(s); run with the least process CPU "
             f"(minimum over {len(runs)} runs in brackets)",
             "| stage | wall (ms) | main-thread CPU (ms) | process CPU (ms) | other threads (ms) |",
             "|---|---|---|---|---|"]
    for n in outer + inner + ["rest", "TOTAL"]:
        v = rest if n == "rest" else pick.get(n, [0, 0, 0])
        b = best.get(n)
        extra = f" ({b[2] * 1e3:.1f})" if b else ""
        lines.append(f"| {n} | {v[0] * 1e3:.1f} | {v[1] * 1e3:.1f} | {v[2] * 1e3:.1f}{extra} | "
                     f"{(v[2] - v[1]) * 1e3:.1f} |")
    total = pick["TOTAL"]
    lines.append(f"MB per process CPU-second: {size / 1e6 / total[2]:.0f}; wall {size / 1e6 / total[0]:.0f} MB/s "
                 f"(wall is meaningless under load)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big-mb", type=float, default=200.0)
    parser.add_argument("--threads", default="1,2", help="thread counts to run (cores 0..n-1)")
    parser.add_argument("--files", default="big,monthly")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.runs, {int(c) for c in args.cpu.split(",")})
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench_stages_", dir="/tmp"))
    try:
        name, data = monthly_text()
        files = {"monthly": tmp / name, "big": tmp / "COTAHIST_BIG.TXT"}
        files["monthly"].write_bytes(data)
        write_repeated(files["big"], data, args.big_mb)
        for label in args.files.split(","):
            for threads in (int(t) for t in args.threads.split(",")):
                env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                           OPENBLAS_NUM_THREADS="1")
                cpus = ",".join(str(c) for c in range(threads))
                proc = subprocess.run([sys.executable, str(HERE), "--worker", str(files[label]), "--runs",
                                       str(args.runs), "--cpu", cpus], capture_output=True, text=True, env=env)
                if proc.returncode:
                    print(proc.stderr, file=sys.stderr)
                    return 1
                runs = json.loads(proc.stdout.strip().splitlines()[-1])
                print("\n".join(_table(label, files[label].stat().st_size, threads, runs)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
