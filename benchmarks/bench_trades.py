"""Benchmark: reading a B3 trade file of about 1 million trades, throughput and peak memory.

Files (built in a temporary folder with :mod:`mfg_finance.trades.synthetic`, deleted afterwards):
one session of ``--trades`` trades (default 1,000,000) over 20 instruments, written in the NEG
layout (237-byte lines) and in the NEGOCIOS layout (about 60-byte lines), each as plain text and
as a ZIP.

Each (layout, container) is read by ``mfg_finance.trades.parse_session`` in its own process
pinned to one core (``NUMBA_NUM_THREADS=1``; the kernels spread blocks of lines over the threads when there are more), warmed up first on a small file (imports, JIT), then timed ``--runs`` times
(median reported, wall-clock and CPU time of the process: on a shared machine the CPU time is the
fairer figure). ZIP files are read three ways: the reference path (``zipfile``'s zlib inflate, then the parse:
the reader before the streamed path), the inflate of :mod:`mfg_finance.trades.inflate` (ISA-L when installed)
then the parse on one core, and the same overlapped with the parse on two cores (:mod:`mfg_finance.trades.streaming`,
``NUMBA_NUM_THREADS=2``, ``--zip-cpus``): wall time is the figure of that last row. Peak memory is the process's peak RSS minus its RSS before the first timed
run, as a multiple of the text size (the uncompressed file). Targets (issue 15): >= 2 M trades/s
and peak < 3x the text size.

``--stages`` also prints, per layout (text files), the median CPU time of each step of
``parse_session`` (read, line ends, compiled parse, symbol factorization, frame build): where the
time goes.

Usage::

    python benchmarks/bench_trades.py [--runs 5] [--trades 1000000] [--cpu 0] [--stages]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
# One core, one numba thread (a second thread on the same core only competes with the first).
ONE_THREAD = dict(os.environ, NUMBA_NUM_THREADS="1")
def _inflate_backend() -> str:
    from mfg_finance.trades.inflate import BACKEND

    return BACKEND


INFLATE = _inflate_backend()
STAGES = ("read", "line ends", "compiled parse", "factorize symbols", "build frame", "parse_session (all)")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _high_water_bytes() -> int:
    """Peak RSS of this process image (VmHWM; unlike ru_maxrss it does not carry over from the
    parent across fork + exec, and the parent held the whole synthetic session)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def worker(path: str, warm: str, runs: int, mode: str = "default") -> None:
    from mfg_finance.trades import parse_session, reader, streaming

    if mode == "reference":     # the reader before the streamed ZIP path: zipfile's zlib inflate, then the parse
        reader._read = lambda p, checksum: (reader._source(p, checksum), None, None, None)
    parse_session(warm)
    if mode == "default":       # warm the streamed path's kernels on the small file too
        threshold, streaming.STREAM_MIN_BYTES = streaming.STREAM_MIN_BYTES, 0
        parse_session(warm)
        streaming.STREAM_MIN_BYTES = threshold
    base = _rss_bytes()
    times, cpu, n = [], [], 0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        session = parse_session(path, checksum=False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        n = len(session.trades)
        del session
    peak = _high_water_bytes()
    print(json.dumps({"times": times, "cpu": cpu, "trades": n, "peak_bytes": peak - base}))


def stages(path: str, warm: str, runs: int) -> None:
    """Median CPU seconds of each step of ``parse_session`` on ``path`` (printed as JSON)."""
    from mfg_finance.trades import parse_session, reader
    from mfg_finance.trades.tickers import factorize_symbols

    parse_session(warm)
    steps: dict[str, list[float]] = {}

    def timed(name, fn):
        c0 = time.process_time()
        out = fn()
        steps.setdefault(name, []).append(time.process_time() - c0)
        return out

    for _ in range(runs):
        buf = timed("read", lambda: reader._source(path, False).data)
        starts, ends = timed("line ends", lambda: reader._lines(buf))
        layout = reader._layout(buf, starts, ends, path)
        parse = reader._parse_neg if layout == reader.NEG else reader._parse_negocios
        ok, o, side, session, _ = timed("compiled parse", lambda: parse(buf, starts, ends, path, [], 1))
        ticker = timed("factorize symbols", lambda: factorize_symbols(buf, o.keys, o.sym_start, o.sym_len))
        timed("build frame", lambda: reader._build_frame(ok, o, side, ticker, session))
        timed("parse_session (all)", lambda: parse_session(path, checksum=False))
    print(json.dumps({k: statistics.median(v) for k, v in steps.items()}))


def _instruments(total: int):
    from mfg_finance.trades.synthetic import SESSION_SECONDS, SyntheticInstrument

    rate = total / SESSION_SECONDS / 40  # 20 instruments, 2 sides
    return [SyntheticInstrument(f"SYN{i:02d}3", price0=10.0 + i, rate_buy=rate, rate_sell=rate) for i in range(20)]


def build(folder: Path, total: int) -> dict[str, tuple[Path, int]]:
    from mfg_finance.trades.synthetic import neg_text, negocios_text, simulate_session, write_neg, write_negocios

    trades = simulate_session(_instruments(total), date="2024-07-01", seed=1)
    small = trades.iloc[:2000]
    out = {}
    for layout, text_of, writer in (("neg", neg_text, write_neg), ("negocios", negocios_text, write_negocios)):
        text = text_of(trades)
        txt = folder / f"{layout}.txt"
        txt.write_bytes(text)
        writer(trades, folder / f"{layout}.zip")
        writer(small, folder / f"{layout}_warm.zip")
        out[layout] = (txt, len(text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--stages", action="store_true", help="also time each step of the read")
    parser.add_argument("--zip-cpus", default="0,1",
                        help="cores of the two-thread ZIP rows (inflate and parse overlapped), e.g. 0,1")
    parser.add_argument("--worker", nargs=4, metavar=("PATH", "WARM", "RUNS", "MODE"))
    parser.add_argument("--stage-worker", nargs=3, metavar=("PATH", "WARM", "RUNS"))
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), args.worker[3])
        return
    if args.stage_worker:
        stages(args.stage_worker[0], args.stage_worker[1], int(args.stage_worker[2]))
        return
    sys.path.insert(0, str(HERE.parent))
    from machine import describe

    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = build(folder, args.trades)
        print("| layout | container | text MB | trades | median wall s | M trades/s (wall) | median CPU s | "
              "M trades/s (CPU) | peak / text |")
        print("|---|---|---|---|---|---|---|---|---|")
        two_threads = dict(os.environ, NUMBA_NUM_THREADS="2")
        for layout, (txt, size) in files.items():
            zipped = folder / f"{layout}.zip"
            for container, path, cpus, env, mode in (
                    ("text", txt, str(args.cpu), ONE_THREAD, "default"),
                    ("zip, zipfile + zlib (before)", zipped, str(args.cpu), ONE_THREAD, "reference"),
                    (f"zip, {INFLATE} then parse, 1 core", zipped, str(args.cpu), ONE_THREAD, "default"),
                    (f"zip, {INFLATE} overlapped, 2 cores", zipped, args.zip_cpus, two_threads, "default")):
                cmd = ["taskset", "-c", cpus, sys.executable, str(HERE), "--worker", str(path),
                       str(folder / f"{layout}_warm.zip"), str(args.runs), mode]
                result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                                   env=env).stdout)
                med, cpu = statistics.median(result["times"]), statistics.median(result["cpu"])
                print(f"| {layout} | {container} | {size / 1e6:.1f} | {result['trades']:,} | {med:.3f} | "
                      f"{result['trades'] / med / 1e6:.2f} | {cpu:.3f} | {result['trades'] / cpu / 1e6:.2f} | "
                      f"{result['peak_bytes'] / size:.2f} |")
        if args.stages:
            print("\n| layout | " + " | ".join(STAGES) + " |")
            print("|---|" + "---|" * len(STAGES))
            for layout, (txt, size) in files.items():
                cmd = ["taskset", "-c", str(args.cpu), sys.executable, str(HERE), "--stage-worker", str(txt),
                       str(folder / f"{layout}_warm.zip"), str(args.runs)]
                result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                                   env=ONE_THREAD).stdout)
                print(f"| {layout} | " + " | ".join(f"{result[k]:.3f}" for k in STAGES) + " |")


if __name__ == "__main__":
    main()
