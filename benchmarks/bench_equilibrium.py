"""Timings of the market maker / crowd equilibrium (issue 17): the time-varying GLFT solve, one equilibrium,
the default regimes grid and the agent-based check.

Sample-like calibration (the synthetic SYNA3 market maker: sigma 8.3e-4 BRL/sqrt(s), A 0.134 /s, k 100 /BRL,
gamma 0.1 /BRL, Q_max 10; the crowd: the stiff baseline, 8,776 shares a unit, 100 agents). Median of ``REPEATS``
runs after one warm-up (numba kernels compiled); wall and CPU (process) time, since the machine is shared.
Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np

from machine import describe
from mfg_finance.equilibrium import Coupling, MarketMakerParams, Units, solve_equilibrium, solve_market_maker
from mfg_finance.equilibrium.regimes import solve_regimes
from mfg_finance.equilibrium.simulation import simulate_agents

REPEATS = 3
CROWD = {"grid": {"nx": 201, "nt": 150, "T": 0.5},
         "params": {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57,
                    "m0_mean": 0.5, "m0_std": 0.5}}
MM = MarketMakerParams(sigma=8.26e-4, A=0.1337, k=100.16, gamma=0.1, Q_max=10)
UNITS = Units(seconds_per_day=25200.0, inventory_unit_shares=8776.0, lot_shares=100.0, crowd_size=100.0)
COUPLING = Coupling(theta=0.5 * 5.0e-4 / 0.020174, beta=0.1, units=UNITS, substep_s=10.0)
MFG_DOC = {"units": {"inventory_unit_shares": 8776.0, "seconds_per_trading_day": 25200}}
MM_DOC = {"tickers": {"SYNA3": {k: {"value": v} for k, v in
                                dict(sigma=8.26e-4, A=0.1337, k=100.16, gamma=0.1, Q_max=10).items()}}}
SPEC = {"gamma": [0.1, 10.0], "Q_max": [5, 10], "crowd_size": [50.0, 200.0], "m0_mean": [0.5, 0.0],
        "grid": {"nx": 101, "nt": 60}}


def timed(fn):
    fn()
    walls, cpus = [], []
    for _ in range(REPEATS):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    t = np.linspace(0.0, 0.5, 151) * 25200.0
    lam = 0.1337 * (1.0 + np.linspace(1.0, 0.0, 150))
    solution = solve_equilibrium(copy.deepcopy(CROWD), MM, COUPLING)
    rows = [
        ("market maker alone: 150 steps, 12,600 s, 10 s sub-steps (backward + forward law)",
         timed(lambda: solve_market_maker(MM, t, lam, 0.1337, substep_s=10.0))),
        ("one equilibrium, crowd 201 x 150, with both error estimates",
         timed(lambda: solve_equilibrium(copy.deepcopy(CROWD), MM, COUPLING))),
        ("regimes grid, 16 points, crowd 101 x 60 (the default sweep_regimes job's work)",
         timed(lambda: solve_regimes(copy.deepcopy(CROWD), MFG_DOC, MM_DOC, {"theta_share": 0.5}, SPEC))),
        ("agent-based check: N = 1,000 agents x 20 runs on the equilibrium above",
         timed(lambda: simulate_agents(solution, n_agents=1000, n_runs=20, seed=1))),
    ]
    print(f"Machine: {describe()}; rounds of the equilibrium: {solution.iterations}\n")
    print("| measurement | wall (s) | CPU (s) |\n|---|---|---|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
