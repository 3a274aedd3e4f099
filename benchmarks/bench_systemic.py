"""Timings of the systemic solvers (issue 16): common-noise (t, Q) system, paths, agent types (alone and
with common noise), finite-N.

Stiff baseline parameters with sigma0 = 0.2; median of ``REPEATS`` runs after one warm-up (numba
kernels compiled). Prints a Markdown table for benchmarks/RESULTS.md.

``python benchmarks/bench_systemic.py law``: CPU of the law of ``Q_T``'s first-order prediction
(``finite_n.law_prediction``, a fifth of the default 5000 limit paths) against the convergence study it sits beside
(default budget), on real-data-like parameters (``time.process_time``, median of ``REPEATS``).

``python benchmarks/bench_systemic.py epsilon``: the epsilon-Nash confirmation under time refinement instead
(the greedy deviation played in the game and its prediction on 1, 2, 4, 8 sub-steps of the solver's steps,
extrapolated; docs/mfg.md section 10), on the stiff baseline and on real-data-like parameters.
"""

from __future__ import annotations

import statistics
import sys
import time

from mfg_finance.mfg.agent_types import validate_types
from mfg_finance.mfg.agent_types_solver import solve_types
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.common_noise_paths import simulate_paths
from mfg_finance.mfg.common_noise_dispersion import terminal_dispersion
from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate
from mfg_finance.mfg.deviation import complete_epsilon_study, policy_value
from mfg_finance.mfg.deviation_game import play_deviation
from mfg_finance.mfg.epsilon_nash import epsilon_study
from mfg_finance.mfg.finite_n import convergence_study, law_prediction
from mfg_finance.mfg import types_common_noise as tcn
from mfg_finance.mfg.types_common_noise_paths import simulate_paths as simulate_types_paths

REPEATS = 3
PARAMS = dict(sigma=0.5, sigma0=0.2, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
T = 0.5
#: Real-data-like parameters (those of tests/mfg/test_mfg_finite_n.py; parameters only, no data).
REALISTIC = dict(sigma=2.55, sigma0=1.19, eta0=5.83e-3, eta1=3.67e-4, phi=0.0702, gamma_T=7.35, m0_mean=0.5,
                 m0_std=0.5)
TYPES = [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7}, {"name": "patient", "weight": 0.7}]


def median_time(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    L = default_halfwidth(PARAMS, T)
    est = solve_with_estimate(PARAMS, T=T, nt=160, nQ=201, halfwidth=L)
    det = {k: v for k, v in PARAMS.items() if k != "sigma0"}
    types = validate_types(TYPES, PARAMS)
    L2, LD = tcn.default_halfwidths(types, PARAMS["sigma0"], T)

    def two_types_common_noise():
        est2 = tcn.solve_with_estimate(types, PARAMS, T=T, nt=320, nX=201, nD=41, halfwidth=L2, D_halfwidth=LD)
        simulate_types_paths(est2.fine, n_paths=2000, seed=1)

    cases = {
        "(t, Q) system + 2 companions, 160 x 201": lambda: solve_with_estimate(PARAMS, T=T, nt=160, nQ=201, halfwidth=L),
        "(t, Q) system + 2 companions, 320 x 401": lambda: solve_with_estimate(PARAMS, T=T, nt=320, nQ=401, halfwidth=L),
        "2000 common-noise paths (160 steps)": lambda: simulate_paths(est.fine, n_paths=2000, seed=1),
        "two types, PDE 201 x 150": lambda: solve_types({"grid": {"nx": 201, "nt": 150, "T": T}, "params": det}, TYPES,
                                                        estimate_errors=False),
        "two types, PDE 201 x 150 + 4 companions (error estimates)": lambda: solve_types(
            {"grid": {"nx": 201, "nt": 150, "T": T}, "params": det}, TYPES),
        "terminal dispersion, 2000 paths on the three (t, Q) grids": lambda: terminal_dispersion(
            est, n_paths=2000, seed=1),
        "path outcomes with their errors, 2000 paths on the five (t, Q) grids (160 x 201)":
            lambda: path_outcomes_with_estimate(est, n_paths=2000, seed=1),
        "two types + common noise, (t, Y, D) 320 x 201 x 41 + 4 companions + 2000 paths": two_types_common_noise,
        "finite-N study, N = 10..10^4, 10^4 agent paths, 5000 limit paths": lambda: convergence_study(
            est.fine, Ns=[10, 100, 1000, 10000], agent_paths=10000, limit_paths=5000, seed=1, min_replications=10),
        "epsilon-Nash, N = 10 and 100 (two grids)": lambda: epsilon_study(est.fine, est.coarse, [10, 100]),
        "epsilon-Nash with own influence, N = 10 and 100, played on 1 and 2 sub-steps": lambda: complete_epsilon_study(
            est.fine, [10, 100], agent_paths=10000, min_games=10, seed=1),
    }
    print("| case | median wall time (s) |\n|---|---|")
    for name, fn in cases.items():
        print(f"| {name} | {median_time(fn):.3f} |")


def law_cost() -> None:
    """CPU seconds of the convergence study (default budget) and of the law's prediction beside it."""
    sol = solve_with_estimate(REALISTIC, T=T, nt=320, nQ=201, halfwidth=default_halfwidth(REALISTIC, T)).fine

    def cpu(fn):
        runs = []
        for _ in range(REPEATS + 1):
            t0 = time.process_time()
            fn()
            runs.append(time.process_time() - t0)
        return statistics.median(runs[1:])

    study = cpu(lambda: convergence_study(sol, Ns=[10, 100, 1000, 10000], agent_paths=10000, limit_paths=5000,
                                          seed=1616, min_replications=10))
    law = cpu(lambda: law_prediction(sol, M=1000, seed=1618))
    print(f"| convergence study (4 N, default budget) | {study:.2f} CPU-s |\n| law prediction (1000 paths) | "
          f"{law:.2f} CPU-s ({100 * law / study:.0f}% of the study) |")


def epsilon_confirmation(levels=(1, 2, 4, 8)) -> None:
    """Markdown table: per case the level means of the played gain and of its prediction, the extrapolations
    (value ± SE ± time error, from the two finest levels), the observed order and the CPU time."""
    cases = [("stiff baseline", PARAMS, 160, 10, 1000), ("stiff baseline", PARAMS, 160, 100, 100),
             ("real-data-like", REALISTIC, 320, 10, 500), ("real-data-like", REALISTIC, 320, 100, 50)]
    print("| case | steps | N | games | played by sub-steps | predicted by sub-steps | played (extrapolated) "
          "| predicted (extrapolated) | difference | observed orders (predicted, played) | CPU s |")
    print("|---" * 11 + "|")
    for name, params, nt, N, M in cases:
        sol = solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        start = time.process_time()
        games = play_deviation(sol, policy_value(sol, N), M=M, seed=1, levels=levels)
        cpu = time.process_time() - start
        played, predicted, diff = games.simulated, games.greedy, games.difference

        def fmt(e):
            return f"{e.value:.3g} ± {e.se:.2g} ± {e.time_error:.2g}"

        def seq(e):
            return ", ".join(f"{v:.3g}" for v in e.by_substeps.values())

        def order(e):
            return "-" if e.observed_order is None else f"{e.observed_order:.2f}"

        print(f"| {name} | {nt} | {N} | {M} | {seq(played)} | {seq(predicted)} | {fmt(played)} | {fmt(predicted)} "
              f"| {fmt(diff)} | {order(predicted)}, {order(played)} | {cpu:.1f} |")


if __name__ == "__main__":
    if sys.argv[1:] == ["epsilon"]:
        epsilon_confirmation()
    elif sys.argv[1:] == ["law"]:
        law_cost()
    else:
        main()
