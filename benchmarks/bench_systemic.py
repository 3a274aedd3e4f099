"""Timings of the systemic solvers (issue 16): common-noise (t, Q) system, paths, agent types (alone and
with common noise), finite-N.

Stiff baseline parameters with sigma0 = 0.2; median of ``REPEATS`` runs after one warm-up (numba
kernels compiled). Prints a Markdown table for benchmarks/RESULTS.md.

``python benchmarks/bench_systemic.py law``: CPU of the law of ``Q_T``'s first-order prediction
(``finite_n.law_prediction``, a fifth of the default 5000 limit paths) against the convergence study it sits beside
(default budget), on real-data-like parameters (``time.process_time``, median of ``REPEATS``).

``python benchmarks/bench_systemic.py finite_n``: the finite-N gap at large N by the agent-by-agent game
(``finite_n.simulate_game``, a few hundred pairs) against the game through its sufficient statistics
(``finite_n_statistics``, thousands of pairs), several seeds, on real-data-like parameters and the stiff baseline;
and the rate fit over every N.

``python benchmarks/bench_systemic.py epsilon``: the epsilon-Nash confirmation under time refinement instead
(the greedy deviation played in the game and its prediction on 1, 2, 4, 8 sub-steps of the solver's steps,
extrapolated; docs/mfg.md section 10), on the stiff baseline and on real-data-like parameters;
``... epsilon-isolation``: the value marched once per solver step against its Richardson value without the kink,
without common noise and on finer solver steps.

``python benchmarks/bench_systemic.py best_response``: the best response's gain on the ``(t, Q, x)`` grid next to
the greedy deviation's (grid and played), their error estimates and CPU time (``mfg.best_response``), on the stiff
baseline and real-data-like parameters at N = 10 and 100; then both gains under ``x``, ``Q`` and time refinement.
``... best_response_reference``: the default grid's gains and error estimates against a much finer grid, the ratio
estimate / true error, same cases. ``... best_response_played``: the grid best response's policy played in the game (``deviation_game``, paired with
the greedy deviation on the same noises) against its grid gain, same cases.
"""

from __future__ import annotations

import math
import statistics
import sys
import time

from mfg_finance.mfg.agent_types import validate_types
from mfg_finance.mfg.agent_types_solver import solve_types
from mfg_finance.mfg.common_noise import default_halfwidth, solve_with_estimate
from mfg_finance.mfg.common_noise_paths import simulate_paths
from mfg_finance.mfg.common_noise_dispersion import terminal_dispersion
from mfg_finance.mfg.common_noise_outcomes import path_outcomes_with_estimate
from mfg_finance.mfg.best_response import best_response, grid_gains
from mfg_finance.mfg.deviation import complete_epsilon_study, policy_value
from mfg_finance.mfg.deviation_game import extrapolate, play_deviation
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

    study = cpu(lambda: convergence_study(sol, Ns=[10, 100, 1000, 10000], pairs=3000, limit_paths=5000, seed=1616))
    law = cpu(lambda: law_prediction(sol, M=1000, seed=1618))
    print(f"| convergence study (4 N, default budget) | {study:.2f} CPU-s |\n| law prediction (1000 paths) | "
          f"{law:.2f} CPU-s ({100 * law / study:.0f}% of the study) |")


def epsilon_confirmation(levels=(1, 2, 4, 8)) -> None:
    """Markdown table: per case the level means of the played gain and of its prediction, the extrapolations
    (value ± SE ± time error, from the two finest levels), the observed order and the CPU time; then the
    difference with the value function marched on the solver's steps only (``time_extrapolated=False``, the
    first-order value that left the 9-15% difference; same games)."""
    cases = [("stiff baseline", PARAMS, 160, 10, 1000), ("stiff baseline", PARAMS, 160, 100, 100),
             ("real-data-like", REALISTIC, 320, 10, 1000), ("real-data-like", REALISTIC, 320, 100, 50)]
    print("| case | steps | N | games | played by sub-steps | predicted by sub-steps | played (extrapolated) "
          "| predicted (extrapolated) | difference | difference, V on the solver's steps "
          "| observed orders (predicted, played) | CPU s |")
    print("|---" * 12 + "|")
    for name, params, nt, N, M in cases:
        sol = solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        start = time.process_time()
        games = play_deviation(sol, policy_value(sol, N), M=M, seed=1, levels=levels)
        cpu = time.process_time() - start
        before = play_deviation(sol, policy_value(sol, N, time_extrapolated=False), M=M, seed=1,
                                levels=levels).difference
        played, predicted, diff = games.simulated, games.predicted, games.difference

        def fmt(e):
            return f"{e.value:.3g} ± {e.se:.2g} ± {e.time_error:.2g}"

        def seq(e):
            return ", ".join(f"{v:.3g}" for v in e.by_substeps.values())

        def order(e):
            return "-" if e.observed_order is None else f"{e.observed_order:.2f}"

        print(f"| {name} | {nt} | {N} | {M} | {seq(played)} | {seq(predicted)} | {fmt(played)} | {fmt(predicted)} "
              f"| {fmt(diff)} | {fmt(before)} | {order(predicted)}, {order(played)} | {cpu:.1f} |", flush=True)


def epsilon_isolation(levels=(1, 2, 4, 8)) -> None:
    """Markdown rows: the value marched once per solver step against its Richardson value, on the stiff baseline
    without the kink (``eta1 = 0``), without common noise (``sigma0 = 0``) and on 320 and 640 steps (N = 10,
    1000 games, seed 1): played / predicted (extrapolated), the per-game difference by level, the extrapolated
    difference ± SE (docs/mfg.md section 10, "Isolating experiments")."""
    cases = [("eta1 = 0, 160 steps", dict(PARAMS, eta1=0.0), 160),
             ("sigma0 = 0, 160 steps", dict(PARAMS, sigma0=0.0), 160),
             ("stiff, 320 steps", PARAMS, 320), ("stiff, 640 steps", PARAMS, 640)]
    print("| case | value | played / predicted | differences by level | difference ± SE |\n|---|---|---|---|---|")
    for name, params, nt in cases:
        sol = solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        for extrapolated in (False, True):
            games = play_deviation(sol, policy_value(sol, 10, time_extrapolated=extrapolated), M=1000, seed=1,
                                   levels=levels)
            diffs = ", ".join(f"{games.level_difference(s)[0]:.2e}" for s in levels)
            d = games.difference
            print(f"| {name} | {'Richardson' if extrapolated else 'single march'} | {games.simulated.value:.3g} / "
                  f"{games.predicted.value:.3g} | {diffs} | {d.value:.2e} ± {d.se:.1e} |", flush=True)


def finite_n_crosscheck(pairs: int = 12000, agent_pairs: int = 200, seeds=(1, 2, 3)) -> None:
    """Markdown tables: per case, N and seed the gap ``E J_N - E J_inf`` (± SE) of the agent-by-agent game and of the
    game through its sufficient statistics, with their CPU times; then per case and seed the rate fit over every N."""
    from mfg_finance.mfg.finite_n import fit_rate, simulate_game
    from mfg_finance.mfg.finite_n_statistics import simulate_game_statistics

    def mean_se(x):
        return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))

    print("| case | N | seed | agent by agent: pairs, gap ± SE, CPU s | statistics: pairs, gap ± SE, CPU s "
          "| difference / combined SE |\n|---|---|---|---|---|---|")
    fits = []
    for name, params in (("real-data-like", REALISTIC), ("stiff baseline", PARAMS)):
        sol = solve_with_estimate(params, T=T, nt=320, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        for seed in seeds:
            points = []
            for N in (10, 100, 1000, 10000):
                start = time.process_time()
                stats = mean_se(simulate_game_statistics(sol, N=N, M=pairs, seed=seed).twin_gap)
                cpu_stats = time.process_time() - start
                points.append((N, *stats))
                if N < 1000:
                    continue
                start = time.process_time()
                full = mean_se(simulate_game(sol, N=N, M=agent_pairs, seed=seed + 100).twin_gap)
                cpu_full = time.process_time() - start
                z = (full[0] - stats[0]) / math.hypot(full[1], stats[1])
                print(f"| {name} | {N} | {seed} | {agent_pairs}, {full[0]:.3g} ± {full[1]:.2g}, {cpu_full:.1f} "
                      f"| {pairs}, {stats[0]:.4g} ± {stats[1]:.2g}, {cpu_stats:.1f} | {z:+.1f} |")
            fit = fit_rate(*zip(*points))
            fits.append((name, seed, points, fit))
    print("\n| case | seed | N x gap at N = 10, 100, 1000, 10000 (± SE) | p ± SE | chi2 / dof (p-value) "
          "| LR p-value of p = 1 | C/N + D/N^2: C, D, chi2 / dof (p-value) | local exponents |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, seed, points, fit in fits:
        ng = ", ".join(f"{N * g:.4g} ± {N * s:.2g}" for N, g, s in points)
        e = fit.expansion
        local = ", ".join(f"{x['exponent']:.3f} ± {x['exponent_se']:.3f}" for x in fit.local_exponents)
        print(f"| {name} | {seed} | {ng} | {fit.exponent:.4f} ± {fit.exponent_se:.4f} | {fit.chi2:.1f} / {fit.dof} "
              f"({fit.p_value_fit:.2f}) | {fit.p_value_one_over_N:.3f} | {e['constant']:.4g} ± {e['constant_se']:.2g}, "
              f"{e['next_order']:.3g} ± {e['next_order_se']:.2g}, {e['chi2']:.1f} / {e['dof']} ({e['p_value']:.2f}) "
              f"| {local} |")


def best_response_study(nt: int = 320, levels=(1, 2, 4, 8)) -> None:
    """Markdown tables (docs/mfg.md section 10): per case and N the best response's gain and the greedy
    deviation's on the default grid of ``mfg.best_response`` (± error estimate), their difference and ratio, the
    greedy deviation played in the game (``deviation_game``, seed 1, ``levels`` sub-steps, ± SE ± time error) and
    the CPU seconds of ``best_response`` (``time.process_time``, kernels compiled); then on N = 10 both gains on
    the main grid under refinement."""
    cases = [("stiff baseline", PARAMS), ("real-data-like", REALISTIC)]
    sols = {name: solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
            for name, params in cases}
    best_response(sols["stiff baseline"], 10, nx=21)                     # compile the kernel
    print(f"| case | N | BR (± error) | greedy on the grid (± error) | BR - greedy (± error) | BR / greedy "
          f"| greedy played ({len(levels)} levels, ± SE ± time error) | CPU s |")
    print("|---" * 8 + "|")
    for name, _ in cases:
        sol = sols[name]
        for N, M in ((10, 1000), (100, 100)):
            br = best_response(sol, N)
            played = play_deviation(sol, br.value, M=M, seed=1, levels=levels).simulated
            print(f"| {name} | {N} | {br.epsilon:.4g} ± {br.epsilon_error:.2g} | {br.greedy:.4g} ± "
                  f"{br.greedy_error:.2g} | {br.difference:.3g} ± {br.difference_error:.2g} | "
                  f"{br.epsilon / br.greedy:.3f} | {played.value:.3g} ± {played.se:.2g} ± {played.time_error:.2g} "
                  f"| {br.cpu_seconds:.2f} |", flush=True)
    grids = [(53, 2, 1), (101, 2, 1), (201, 2, 1), (401, 2, 1), (101, 1, 1), (101, 4, 1), (101, 2, 4),
             (101, 2, 16)]
    print("\n| case | nx | Q nodes | sub-steps | greedy | BR | BR - greedy |\n|---|---|---|---|---|---|---|")
    for name, _ in cases:
        sol = sols[name]
        for nx, stride, substeps in grids:
            greedy, br = grid_gains(sol, 10, nx=nx, q_stride=stride, substeps=substeps)
            print(f"| {name} | {nx} | {(sol.Q.size - 1) // stride + 1} | {substeps} | {greedy:.5g} | {br:.5g} "
                  f"| {br - greedy:.4g} |", flush=True)


def best_response_reference(nt: int = 320, reference=(401, 1, 16)) -> None:
    """Markdown table (benchmarks/RESULTS.md, review of the best response's error estimate): per case and N the
    default grid's BR, greedy and difference with their error estimates against a much finer grid (``reference``:
    ``x`` nodes, ``Q`` stride, sub-steps), and the ratio estimate / true error; CPU seconds (under load)."""
    print("| case | N | figure | default grid ± estimate | reference | true error | estimate / true error |")
    print("|---" * 7 + "|")
    for name, params in (("stiff baseline", PARAMS), ("real-data-like", REALISTIC)):
        sol = solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        for N in (10, 100):
            br = best_response(sol, N)
            start = time.process_time()
            greedy, best = grid_gains(sol, N, nx=reference[0], q_stride=reference[1], substeps=reference[2])
            cpu = time.process_time() - start
            for label, value, error, ref in (("BR", br.epsilon, br.epsilon_error, best),
                                             ("greedy", br.greedy, br.greedy_error, greedy),
                                             ("BR - greedy", br.difference, br.difference_error, best - greedy)):
                print(f"| {name} | {N} | {label} | {value:.5g} ± {error:.2g} | {ref:.5g} | {abs(value - ref):.2g} "
                      f"| {error / abs(value - ref):.2f} |", flush=True)
            print(f"<!-- CPU s: default with companions {br.cpu_seconds:.1f}, reference {cpu:.1f} -->", flush=True)


def best_response_played(nt: int = 320, levels=(1, 2, 4, 8)) -> None:
    """Markdown table (docs/mfg.md section 10): per case and N the grid best response (± error estimate), played in
    the game (the ``BestResponse`` as the deviation rule) against the ``N - 1`` others, the greedy deviation played on
    the same noises, and the paired difference BR - greedy (seed 1, ``levels`` sub-steps, ± SE ± time error),
    against the grid's difference; CPU seconds of the two plays (``time.process_time``, under load)."""
    print(f"| case | N | games | BR on the grid | BR played | greedy played | BR - greedy played (paired) "
          f"| BR - greedy on the grid | CPU s (both plays) |")
    print("|---" * 9 + "|")
    for name, params in (("stiff baseline", PARAMS), ("real-data-like", REALISTIC)):
        sol = solve_with_estimate(params, T=T, nt=nt, nQ=201, halfwidth=default_halfwidth(params, T)).fine
        for N, M in ((10, 1000), (100, 100)):
            br = best_response(sol, N)
            start = time.process_time()
            played = play_deviation(sol, br.value, M=M, seed=1, levels=levels, deviation=br)
            greedy = play_deviation(sol, br.value, M=M, seed=1, levels=levels)
            cpu = time.process_time() - start
            extra = extrapolate({s: played.levels[s].gain - greedy.levels[s].gain for s in levels})
            cells = [f"{e.value:.3g} ± {e.se:.2g} ± {e.time_error:.2g}" for e in (played.simulated, greedy.simulated,
                                                                                  extra)]
            print(f"| {name} | {N} | {M} | {br.epsilon:.4g} ± {br.epsilon_error:.2g} | {' | '.join(cells)} "
                  f"| {br.difference:.3g} ± {br.difference_error:.2g} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    modes = {"epsilon": epsilon_confirmation, "epsilon-isolation": epsilon_isolation, "finite_n": finite_n_crosscheck,
             "law": law_cost, "best_response": best_response_study, "best_response_played": best_response_played,
             "best_response_reference": best_response_reference}
    modes.get(sys.argv[1] if sys.argv[1:] else "", main)()
