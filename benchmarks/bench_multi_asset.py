"""Speed of the multi-asset quotes (issue 18): exact lattice solution and closed-form approximation.

Run: ``python benchmarks/bench_multi_asset.py [--repeats 5]``. Each figure is the median of several
runs after one warm-up. Prints a Markdown table for benchmarks/RESULTS.md.

* exact, ``d = 2``, ``Q = 10`` (441 lattice points), one-hour horizon, quotes at ``t = 0`` (target < 1 s);
  and the full 1-s quote table (3,600 times) a backtest uses;
* exact, ``d = 3``, ``Q = 10`` (9,261 points), one hour, ``t = 0``;
* implicit ODE (Radau), ``d = 2``, ``Q = 10``, one hour (the unequal-``k`` solver);
* approximation, ``d = 100``: Riccati matrix at ``t = 0`` plus the ergodic matrix (target < 0.1 s).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from machine import describe  # benchmarks/machine.py (script directory is on sys.path)


def median_time(func, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (all threads) over ``repeats`` runs (s).

    The CPU time is the figure to read on a shared, loaded machine: waiting for a core does not count.
    """
    func()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        func()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from mfg_finance.market_making.multi_approx import ergodic_matrix, riccati_matrix
    from mfg_finance.market_making.multi_asset import MultiAssetParameters, MultiAssetQuotes

    rng = np.random.default_rng(0)

    def params(d, **kw):
        factor = rng.normal(size=(d, d))
        corr = np.corrcoef(factor @ factor.T + d * np.eye(d))
        vol = rng.uniform(0.2, 0.4, d)
        return MultiAssetParameters(covariance=corr * np.outer(vol, vol), A=0.9, k=0.3, gamma=0.01,
                                    T=3600.0, **kw)

    p2, p3, p100 = params(2, Q_max=10), params(3, Q_max=10), params(100, Q_max=10)
    rows = [
        ("exact d=2, Q=10, T=3600 s, quotes at t=0", median_time(lambda: MultiAssetQuotes(p2).spread_table([0.0]),
                                                                 args.repeats), "< 1 s"),
        ("exact d=2, Q=10, T=3600 s, table at 3,600 times (dt = 1 s)",
         median_time(lambda: MultiAssetQuotes(p2).spread_table(np.arange(3600.0)), max(1, args.repeats // 2)), ""),
        ("exact d=3, Q=10, T=3600 s, quotes at t=0", median_time(lambda: MultiAssetQuotes(p3).spread_table([0.0]),
                                                                 max(1, args.repeats // 2)), ""),
        ("implicit ODE (Radau) d=2, Q=10, T=3600 s, t=0",
         median_time(lambda: MultiAssetQuotes(p2, method="ode").theta([0.0]), max(1, args.repeats // 2)), ""),
        ("approximation d=100: A(t=0) + ergodic A", median_time(lambda: (riccati_matrix(p100, [0.0]),
                                                                         ergodic_matrix(p100)), args.repeats),
         "< 0.1 s"),
    ]
    print(f"Machine: {describe()}\n")
    print("| measurement | wall time | CPU time | target |\n|---|---|---|---|")
    for name, (wall, cpu), target in rows:
        print(f"| {name} | {wall:.4f} s | {cpu:.4f} s | {target} |")


if __name__ == "__main__":
    main()
