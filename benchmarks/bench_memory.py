"""Benchmark: peak memory of ingesting a full year of B3 data, as the pipeline's ingestion job does it.

B3's annual file (``COTAHIST_A{year}.ZIP``) unzips to about 700 MB. A year is simulated by repeating
the quote records of the real monthly file ``COTAHIST_M012021.ZIP`` (shared data folder,
``../shared/data/cotahist`` or ``$MFG_SHARED_DATA``) between one header and a trailer with the right
count, and zipping it like B3 does (one member, deflate). Built in /tmp, deleted afterwards.

Each measurement is a fresh process running ``mfg-finance ingest YEAR.ZIP -o quotes.parquet
--summary summary.json`` (the same library calls as the ``ingest_cotahist`` rule: inflate, parse,
summary with SHA-256, Parquet). Peak memory is the child's absolute peak RSS (``ru_maxrss`` of
``RUSAGE_CHILDREN``, so the Python interpreter and the libraries count too). Target: < 3 GB.

Usage::

    python benchmarks/bench_memory.py [--target-mb 700] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from machine import describe  # benchmarks/machine.py (script directory is on sys.path)
from realdata import monthly_text, write_repeated


def build_year(tmp: Path, target_mb: float) -> tuple[Path, int, int, int]:
    """A ZIP of the monthly file's quote records repeated to about ``target_mb`` MB.

    Returns (path, bytes of text, copies of the monthly records, quote records)."""
    text = tmp / "COTAHIST_A2099.TXT"
    copies, records = write_repeated(text, monthly_text()[1], target_mb)
    size = text.stat().st_size
    year = tmp / "COTAHIST_A2099.ZIP"
    with zipfile.ZipFile(year, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(text, arcname=text.name)
    text.unlink()
    return year, size, copies, records


def ingest_peak(year: Path, out: Path) -> tuple[float, int]:
    """Wall time (s) and peak RSS (bytes) of one ingestion in a fresh process (``wait4``'s own rusage)."""
    cmd = [sys.executable, "-m", "mfg_finance.cli", "ingest", str(year), "-o", str(out / "q.parquet"),
           "--summary", str(out / "summary.json")]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode()[-3000:])
    return elapsed, usage.ru_maxrss * 1024  # Linux: kilobytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=float, default=700.0, help="uncompressed size of the simulated year")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_memory_", dir="/tmp"))
    try:
        year, text_bytes, copies, records = build_year(tmp, args.target_mb)
        print(f"Machine: {describe()}", file=sys.stderr)
        print(f"year file: {text_bytes / 1e6:.0f} MB of text, {year.stat().st_size / 1e6:.0f} MB zipped",
              file=sys.stderr)
        # warm the numba cache once, so the timed runs measure ingestion, not compilation
        ingest_peak(year, tmp)
        runs = [ingest_peak(year, tmp) for _ in range(args.runs)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = statistics.median(r[0] for r in runs)
    peak = statistics.median(r[1] for r in runs)
    print("| file | records | text (MB) | wall, median (s) | peak RSS (MB) | peak / text size | target |")
    print("|---|---|---|---|---|---|---|")
    print(f"| simulated year (M012021 quotes x {copies}) "
          f"| {records:,} | {text_bytes / 1e6:.0f} | {wall:.2f} | {peak / 1e6:.0f} | {peak / text_bytes:.2f} | < 3,000 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
