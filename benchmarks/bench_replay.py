"""Speed of the tape replay: one session of 1 million prints against each strategy.

Run: ``python benchmarks/bench_replay.py [--quick]``. The tape is synthetic but shaped like a liquid
B3 session (8 h 20 min, prices on the 0.01 grid bouncing around a random-walk mid, lots of 100-900
shares, aggressor flags on). Each figure is the median of several runs after one warm-up and covers
the whole ``replay_session`` call (reference price, quote table, event loop, output frames).
Prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

from machine import cpu_model  # benchmarks/machine.py (script directory is on sys.path)


def median_time(func, repeats: int) -> float:
    func()  # warm-up (numba load, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def session_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    open_s, length_s = 10 * 3600.0, 30_000.0
    time_ns = np.sort((open_s + rng.random(n) * length_s) * 1e9).astype(np.int64)
    mid = 25.0 + np.cumsum(rng.normal(0.0, 0.002, n))
    side = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    price = np.round(mid + side * 0.005 * rng.integers(1, 4, n), 2)
    return pd.DataFrame({"ticker": "SYNA3", "time": time_ns, "price": price,
                         "quantity": rng.integers(1, 10, n) * 100, "side": side, "cancelled": False,
                         "trade_id": np.arange(n) * 10})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k prints (smoke test)")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    repeats = 3 if args.quick else 5

    from mfg_finance.market_making.market import MarketParameters
    from mfg_finance.market_making.replay import ReplaySettings, replay_session, tape_from_frame
    from mfg_finance.market_making.strategies import STRATEGIES

    market = MarketParameters(sigma=0.004, A=0.5, k=60.0, gamma=0.1, Q_max=10, S0=25.0, tick_size=0.01,
                              order_size=100)
    frame = session_frame(n)
    rows = []
    seconds = median_time(lambda: tape_from_frame(frame, "SYNA3"), repeats)
    rows.append((f"trades frame -> tape ({n:,} prints: select, sort, validate)", f"{seconds:.3f} s",
                 f"{n / seconds / 1e6:.1f} M prints/s"))
    tape = tape_from_frame(frame, "SYNA3")
    for strategy in STRATEGIES:
        for queue, ahead in (("front", 0.0), ("back", 500.0), ("probabilistic", 500.0)):
            settings = ReplaySettings(dt_s=1.0, tick_size=0.01, queue=queue, queue_ahead=ahead, latency_s=0.05,
                                      maker_fee_bps=2.3, taker_fee_bps=2.3)
            seconds = median_time(lambda: replay_session(tape, strategy, market, settings), repeats)
            fills = replay_session(tape, strategy, market, settings).summary["n_trades"]
            rows.append((f"replay_session {strategy}, queue {queue}, latency 50 ms, dt 1 s ({n:,} prints, "
                         f"{fills:,} fills)", f"{seconds:.3f} s", f"{n / seconds / 1e6:.1f} M prints/s"))

    def policy(t, q, S):
        return S - 0.02 - 0.002 * q, S + 0.02 - 0.002 * q

    settings = ReplaySettings(dt_s=1.0, tick_size=0.01)
    seconds = median_time(lambda: replay_session(tape, policy, market, settings), max(1, repeats - 2))
    rows.append((f"replay_session Python policy callable (30,000 decisions, {n:,} prints)", f"{seconds:.3f} s",
                 f"{n / seconds / 1e6:.1f} M prints/s"))

    print(f"### Tape replay (bench_replay.py{' --quick' if args.quick else ''})\n")
    print(f"Machine: `nproc` = {os.cpu_count()}, CPU: {cpu_model()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, single-threaded; median of {repeats} runs after a warm-up.\n")
    print("| measurement | time | rate |")
    print("|---|---|---|")
    for name, t, rate in rows:
        print(f"| {name} | {t} | {rate} |")


if __name__ == "__main__":
    main()
