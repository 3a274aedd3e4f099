"""Speed of the MFG solve on the 201 x 150 stiff baseline (issue 19's engine item).

Usage::

    python benchmarks/bench_mfg_speed.py [--repeats 7]

Prints, as medians over ``--repeats`` runs in this process (numba cache warm): one HJB backward sweep,
one FP forward sweep, the steady-state solve without and with the error estimate's three companion
solves; and the first solve in fresh processes (``python -c``, warm numba cache on disk), median of 3.
Wall times in seconds (``time.perf_counter``); the machine is shared, so these are "under load" figures.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STIFF = {"grid": {"nx": 201, "nt": 150, "T": 0.5},
         "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
                    "m0_mean": 0.5, "m0_std": 0.5},
         "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 100, "damping": 0.5}}
FRESH = ("import time; t0 = time.perf_counter(); from mfg_finance.mfg import solve; "
         f"s = solve({STIFF!r}, estimate_errors=False); print(time.perf_counter() - t0)")


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import numpy as np

    from mfg_finance.mfg import solve
    from mfg_finance.mfg.config import validate_config
    from mfg_finance.mfg.fp import solve_fp
    from mfg_finance.mfg.hjb import solve_hjb
    from mfg_finance.mfg.solver import Problem, initial_eta

    solution = solve(STIFF)                    # compile / warm up
    problem = Problem.from_config(validate_config(STIFF))
    eta = initial_eta(problem)
    g = problem.grid
    _, _, up, down = solve_hjb(eta, g.q, g.dts, sigma=problem.sigma, phi=problem.phi, gamma_T=problem.gamma_T)
    rows = {
        "HJB backward sweep": median_time(lambda: solve_hjb(eta, g.q, g.dts, sigma=problem.sigma, phi=problem.phi,
                                                            gamma_T=problem.gamma_T), args.repeats),
        "FP forward sweep": median_time(lambda: solve_fp(problem.mu0, up, down, g.dts, problem.weights), args.repeats),
        f"steady solve, no estimate ({solution.iterations} sweeps)":
            median_time(lambda: solve(STIFF, estimate_errors=False), args.repeats),
        "steady solve with the three companions": median_time(lambda: solve(STIFF), args.repeats),
    }
    fresh = [float(subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                                  check=True).stdout.strip()) for _ in range(3)]
    rows["first solve in a fresh process (warm numba cache; import included)"] = statistics.median(fresh)
    for name, value in rows.items():
        print(f"{name:70s} {value * 1e3:9.1f} ms")
    del np


if __name__ == "__main__":
    main()
