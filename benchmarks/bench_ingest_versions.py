"""Benchmark: COTAHIST parsing throughput of this checkout against another version, as a ratio.

Compares ``read_cotahist`` of the working tree with that of a git revision (default ``main``),
alternating the two in fresh processes pinned to one core on the same files, so that machine
load affects both alike; reports the median time of each and their ratio. Files: B3's real
monthly file (CRLF, fast path), ~``--mb`` MB built by repeating its records, and the same with
LF line ends (general path). Built in a temporary folder, never committed.

Usage::

    python benchmarks/bench_ingest_versions.py [--rev main] [--runs 5] [--mb 100] [--cpu 0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from realdata import monthly_text, write_repeated

ROOT = Path(__file__).resolve().parents[1]
TIMER = ("import sys, time; from mfg_finance.cotahist import read_cotahist; read_cotahist(sys.argv[2]); "
         "t = time.perf_counter(); read_cotahist(sys.argv[1]); print(time.perf_counter() - t)")


def _time(src: Path, path: Path, warm: Path, cpu: int) -> float:
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    out = subprocess.run(["taskset", "-c", str(cpu), sys.executable, "-c", TIMER, str(path), str(warm)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        other = tmp / "other"
        other.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.rev, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
        _, text = monthly_text()
        files = {"monthly": tmp / "M.TXT", "big CRLF": tmp / "BIG.TXT", "big LF": tmp / "BIGLF.TXT"}
        files["monthly"].write_bytes(text)
        write_repeated(files["big CRLF"], text, args.mb)
        files["big LF"].write_bytes(files["big CRLF"].read_bytes().replace(b"\r\n", b"\n"))
        warm = files["monthly"]
        print(f"{'file':10} {'MB':>6} {args.rev + ' s':>10} {'this s':>10} {'ratio':>7}")
        for name, path in files.items():
            times = {"rev": [], "this": []}
            for _ in range(args.runs):
                times["rev"].append(_time(other / "src", path, warm, args.cpu))
                times["this"].append(_time(ROOT / "src", path, warm, args.cpu))
            rev, this = statistics.median(times["rev"]), statistics.median(times["this"])
            print(f"{name:10} {path.stat().st_size / 1e6:6.1f} {rev:10.3f} {this:10.3f} {this / rev:7.3f}")


if __name__ == "__main__":
    main()
