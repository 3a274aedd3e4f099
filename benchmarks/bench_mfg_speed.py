"""Speed of the MFG solve on the 201 x 150 stiff baseline (issue 19's engine item).

Usage::

    python benchmarks/bench_mfg_speed.py [--repeats 7] [--fresh 5]

Prints, as medians over ``--repeats`` runs in this process (numba cache warm): one HJB backward sweep, one
FP forward sweep (refactoring the matrices, as :func:`mfg_finance.mfg.fp.solve_fp` does), one fused sweep
(HJB + FP with the HJB's factors + mean flow, what a coupling iteration runs), the steady-state solve
without and with the error estimate's three companion solves (the same config each time, and with new
parameters each run so that no cache of the grid or envelope helps); then the first solve in
``--fresh`` fresh processes (``python -c``, warm numba cache on disk, import included) and, for
comparison, the floors of a fresh process part by part (Python, numpy, the solver's modules, numba, one
cached numba kernel). The kernels' build (:mod:`mfg_finance.mfg.kernels`: the C extension if installed, else
numba; ``MFG_FINANCE_KERNELS=numba`` selects numba) is printed first.

Each row gives the CPU time of the process (``time.process_time``; for a fresh process, its total CPU
time from start-up, children excluded) and the wall time. The machine is shared: the CPU time is the
figure to compare, the wall time is "under load".
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
_REPORT = "import time; print(time.process_time(), time.perf_counter() - t0)"
FRESH = ("import time; t0 = time.perf_counter(); from mfg_finance.mfg import solve; "
         f"s = solve({STIFF!r}, estimate_errors=False); " + _REPORT)
#: The floors of a fresh process, part by part: Python alone; numpy; numpy and the solver's modules (no kernel
#: loaded); numpy and numba; numpy, numba and one cached numba kernel call (the floor of any numba-compiled solve).
FLOORS = {
    "  floor: Python start-up alone": "import time; t0 = time.perf_counter(); " + _REPORT,
    "  floor: + import numpy": "import time; t0 = time.perf_counter(); import numpy; " + _REPORT,
    "  floor: + import numpy and the solver's modules (no kernel)":
        "import time; t0 = time.perf_counter(); import numpy; from mfg_finance.mfg import solver; " + _REPORT,
    "  floor: + import numpy and numba": "import time; t0 = time.perf_counter(); import numpy, numba; " + _REPORT,
    "  floor: + numpy, numba and one cached numba kernel call":
        ("import time; t0 = time.perf_counter(); import numpy as np; from mfg_finance.mfg import tridiag; "
         "tridiag.factor(np.ones(4), np.ones(4), 0.1); " + _REPORT),
}


def median_time(fn, repeats: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``repeats`` calls of ``fn``."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def fresh_process(code: str, runs: int) -> tuple[float, float]:
    """Median (CPU, wall) seconds of ``python -c code`` as the child measures itself (start-up included).

    A first, unmeasured run warms both caches a user's second run finds: numba's, and Python's bytecode
    (``__pycache__``, written even when this process has ``PYTHONDONTWRITEBYTECODE`` set).
    """
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    cpu, wall = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        c, w = (float(v) for v in out.split()[-2:])
        cpu.append(c)
        wall.append(w)
    return statistics.median(cpu), statistics.median(wall)


def perturbed(run: int) -> dict:
    """The baseline with parameters changed by a few parts in 1e6 (a new grid, envelope and initial law)."""
    import copy

    cfg = copy.deepcopy(STIFF)
    cfg["params"]["sigma"] *= 1.0 + 3e-6 * (run + 1)
    cfg["params"]["m0_mean"] *= 1.0 - 2e-6 * (run + 1)
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fresh", type=int, default=5)
    args = parser.parse_args()

    from mfg_finance.mfg import solve
    from mfg_finance.mfg.config import validate_config
    from mfg_finance.mfg.fp import solve_fp
    from mfg_finance.mfg import hjb
    from mfg_finance.mfg.hjb import solve_hjb
    from mfg_finance.mfg.solver import Problem, initial_eta

    solution = solve(STIFF)                    # compile / warm up
    problem = Problem.from_config(validate_config(STIFF))
    eta = initial_eta(problem)
    g = problem.grid
    kw = dict(sigma=problem.sigma, phi=problem.phi, gamma_T=problem.gamma_T)
    _, _, up, down = solve_hjb(eta, g.q, g.dts, **kw)
    mass0 = problem.mu0 * problem.weights
    runs = iter(range(10 ** 6))
    rows = {
        "HJB backward sweep": median_time(lambda: solve_hjb(eta, g.q, g.dts, **kw), args.repeats),
        "FP forward sweep (refactoring)": median_time(lambda: solve_fp(problem.mu0, up, down, g.dts, problem.weights),
                                                      args.repeats),
        "fused sweep (HJB + FP with its factors + mean flow)":
            median_time(lambda: hjb.solve_sweep(eta, g.q, g.dts, mass0, **kw), args.repeats)
            if hasattr(hjb, "solve_sweep") else (float("nan"), float("nan")),    # (a checkout before issue 19)
        f"steady solve, no estimate ({solution.iterations} sweeps)":
            median_time(lambda: solve(STIFF, estimate_errors=False), args.repeats),
        "steady solve, no estimate, new parameters each run":
            median_time(lambda: solve(perturbed(next(runs)), estimate_errors=False), args.repeats),
        "steady solve with the error companions": median_time(lambda: solve(STIFF), args.repeats),
        "first solve in a fresh process (warm numba cache; start-up and import included)":
            fresh_process(FRESH, args.fresh),
    }
    rows.update({name: fresh_process(code, args.fresh) for name, code in FLOORS.items()})
    try:
        from mfg_finance.mfg.kernels import backend_name
        print(f"kernels: {backend_name()} build")
    except ImportError:                                                   # (a checkout before the C build)
        print("kernels: numba (a checkout before mfg.kernels)")
    print(f"{'':78s} {'CPU ms':>9s} {'wall ms':>9s}")
    for name, (cpu, wall) in rows.items():
        print(f"{name:78s} {cpu * 1e3:9.1f} {wall * 1e3:9.1f}")


if __name__ == "__main__":
    main()
