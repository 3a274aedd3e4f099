"""Benchmark of the MFG solver: Picard vs the default (newton = Anderson) on the stiff baseline.

Usage::

    python benchmarks/bench_mfg.py [--repeats 5] [--skip-verification]

Prints a Markdown section (machine, table of median wall times and sweep counts, verification
time) ready to append to ``benchmarks/RESULTS.md``. The baseline is the stiff calibrated case of
issue 5: domain [-5, 5], T = 0.5 trading days, sigma = 0.5, eta0 = 5e-4, eta1 = 1e-3, phi = 0.035,
gamma_T = 0.57, m0 = N(0.5, 0.5^2), tol = 1e-10.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time

import numpy as np
import scipy

from mfg_finance.mfg import solve
from mfg_finance.mfg.verify import run_verification

from machine import cpu_model  # benchmarks/machine.py (script directory is on sys.path)

BASELINE = {
    "grid": {"x_min": -5.0, "x_max": 5.0, "nx": 201, "T": 0.5, "nt": 150},
    "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
               "m0_mean": 0.5, "m0_std": 0.5},
    "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 100, "damping": 0.5},
}
GRIDS = ((201, 150), (801, 600))


def config_for(method: str, nx: int, nt: int, time_mesh: str = "graded") -> dict:
    cfg = copy.deepcopy(BASELINE)
    cfg["grid"].update(nx=nx, nt=nt, time_mesh=time_mesh)
    cfg["solver"]["method"] = method
    return cfg


def time_solve(cfg: dict, repeats: int) -> tuple[float, float, int, float, float]:
    """(median s, min s, sweeps, final residual, max_n max|alpha^n| dt_n/dx) over ``repeats`` solves."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solve(cfg)
        times.append(time.perf_counter() - start)
    cfl = float(sol.max_cfl)   # per step: max_n max|alpha^n| dt_n / dx
    return statistics.median(times), min(times), sol.iterations, sol.residuals[-1], cfl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-verification", action="store_true")
    args = parser.parse_args()
    solve(config_for("newton", 51, 40))   # warm-up: imports, LAPACK first touch

    lines = ["## MFG solver (issue 5)", "",
             f"Machine: `nproc` = {os.cpu_count()}, CPU {cpu_model()}; Python {platform.python_version()}, "
             f"NumPy {np.__version__}, SciPy {scipy.__version__}. Median of {args.repeats} runs "
             f"(after one warm-up), `benchmarks/bench_mfg.py`.", "",
             "Stiff baseline: domain [-5, 5], T = 0.5 trading days, sigma = 0.5, eta0 = 5e-4, eta1 = 1e-3, "
             "phi = 0.035, gamma_T = 0.57, m0 = N(0.5, 0.5^2), tol = 1e-10.", "",
             "| grid (nx x nt) | time mesh | method | sweeps | final residual | median wall (s) | min wall (s) "
             "| max abs(alpha) dt/dx |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for nx, nt in GRIDS:
        for mesh in ("graded", "uniform"):
            for method in ("picard", "newton"):
                med, best, its, res, cfl = time_solve(config_for(method, nx, nt, mesh), args.repeats)
                label = "newton (default, Anderson)" if method == "newton" else "picard (damped, adaptive)"
                mesh_label = "graded (default)" if mesh == "graded" else mesh
                lines.append(f"| {nx} x {nt} | {mesh_label} | {label} | {its} | {res:.1e} | {med:.3f} | {best:.3f} "
                             f"| {cfl:.0f} |")
    if not args.skip_verification:
        start = time.perf_counter()
        result = run_verification(BASELINE)
        wall = time.perf_counter() - start
        orders = ", ".join(f"{k} {v:.2f}" for k, v in result.observed_order.items())
        lines += ["", f"Verification (refinements 51x40 ... 401x320, exact LQ reference included): "
                      f"{wall:.2f} s; observed orders (last pair): {orders}."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
