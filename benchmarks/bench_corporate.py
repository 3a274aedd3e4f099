"""Instrument classes, corporate events and adjusted statistics on B3's real files: the cost they add.

`python benchmarks/bench_corporate.py [--runs 5]`: for each real file present (monthly 2021, partial
annual 2023), times (median of --runs) read_cotahist, classify_instruments, select_equities +
universe_table, infer_events, and compute_stats with and without adjustment. Figures go to
benchmarks/RESULTS.md by hand, with the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402
from realdata import shared_data_dir  # noqa: E402

from mfg_finance.corporate import infer_events  # noqa: E402
from mfg_finance.cotahist import classify_instruments, read_cotahist, select_equities, universe_table  # noqa: E402
from mfg_finance.stats import compute_stats  # noqa: E402

FILES = ("COTAHIST_M012021.ZIP", "COTAHIST_A2023.ZIP")
CLASSES = ["stock", "unit", "bdr", "etf", "reit", "fund"]


def median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {describe()}; load average {os.getloadavg()[0]:.1f}")
    print("| file | records | step | median (s) |")
    print("|---|---|---|---|")
    for name in FILES:
        path = shared_data_dir() / name
        if not path.is_file():
            print(f"| {name} | - | not available | - |")
            continue
        t, quotes = median_time(lambda: read_cotahist([path]), args.runs)
        rows = [("read_cotahist", t)]
        rows.append(("classify_instruments", median_time(lambda: classify_instruments(quotes), args.runs)[0]))
        t, equities = median_time(lambda: select_equities(quotes, classes=CLASSES), args.runs)
        rows.append(("select_equities (6 classes)", t))
        rows.append(("universe_table", median_time(lambda: universe_table(quotes, classes=CLASSES), args.runs)[0]))
        t, events = median_time(lambda: infer_events(equities), args.runs)
        rows.append((f"infer_events ({len(events)} events)", t))
        settings = dict(min_sessions=10, rolling_window=10)
        rows.append(("compute_stats, adjust none",
                     median_time(lambda: compute_stats(equities, adjust="none", **settings), args.runs)[0]))
        rows.append(("compute_stats, adjust splits",
                     median_time(lambda: compute_stats(equities, events=events, **settings), args.runs)[0]))
        for step, seconds in rows:
            print(f"| {name} | {len(quotes):,} | {step} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
