"""Two types under common noise: uniform against graded D nodes on the stiff case at sigma0 = 0 (issue 16).

Against the exact multi-type equilibrium (:func:`mfg_finance.mfg.agent_types_exact.exact_types`):

1. the fine grid alone at 160 steps and 201 Y nodes for nD = 17, 33, 65, 129: each type's liquidation speed and
   terminal mean (error in %) and the observed order in D of their successive differences (log scale for
   ``Q_T``), with the fine solve's CPU seconds (median of ``REPEATS``);
2. the reported (estimated) outcomes on ``(160, 201, 33)`` and ``(320, 201, 33)``: value error and estimate /
   error per type, with the CPU seconds of the five solves and their paths.

Docs: docs/mfg.md section 8b. ``python benchmarks/bench_types_d_nodes.py`` prints Markdown for RESULTS.md.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from mfg_finance.mfg import types_common_noise as tcn
from mfg_finance.mfg.agent_types import validate_types
from mfg_finance.mfg.agent_types_exact import exact_types
from mfg_finance.mfg.common_noise_outcomes import outcome_values, path_outcomes_with_estimate, type_paths
from mfg_finance.mfg.outcomes import path_outcomes
from mfg_finance.mfg.types_common_noise_paths import simulate_paths

REPEATS = 3
#: The stiff two-type case of tests/mfg/test_mfg_common_noise_outcomes.py.
STIFF = dict(sigma=0.5, eta0=5.0e-4, eta1=1.0e-3, phi=0.035, gamma_T=0.57, m0_mean=0.5, m0_std=0.5)
TYPES = [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7},
         {"name": "patient", "weight": 0.7, "m0_mean": 0.8, "sigma": 0.3}]
T = 0.5


def cpu(fn):
    """(result, median CPU seconds of ``REPEATS`` runs) after one warm-up run."""
    result = fn()
    times = []
    for _ in range(REPEATS):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return result, statistics.median(times)


def main() -> None:
    types = validate_types(TYPES, STIFF)
    params = {"eta0": STIFF["eta0"], "eta1": STIFF["eta1"], "sigma0": 0.0}
    L, LD = tcn.default_halfwidths(types, 0.0, T)
    ref = exact_types(np.linspace(0.0, T, 20001), types, T=T, eta0=STIFF["eta0"], eta1=STIFF["eta1"])
    exact = []
    for k in range(2):
        flow = -(ref.h2[k] / ref.eta) * ref.mean[k]
        exact.append(dict(path_outcomes(ref.t, ref.mean[k], 0.0, flow, ref.eta, 0.0, None),
                          mean_flow_abs_max=float(np.max(np.abs(flow)))))

    print("| D nodes | nD | urgent speed | urgent Q_T | patient speed | patient Q_T | fine solve CPU-s |")
    print("|---|---|---|---|---|---|---|")
    for nodes in ("uniform", "graded"):
        seqs = {}
        for nD in (17, 33, 65, 129):
            sol, seconds = cpu(lambda: tcn.solve_system(types, params, T=T, nt=160, nX=201, nD=nD, halfwidth=L,
                                                        D_halfwidth=LD, D_nodes=nodes))
            paths = simulate_paths(sol, n_paths=1, seed=0)
            cells = []
            for k in range(2):
                v = outcome_values(type_paths(paths, k))
                for key in ("liquidation_speed", "mean_inventory_terminal"):
                    cells.append(f"{100 * (v[key] / exact[k][key] - 1):+.2f}%")
                    seqs.setdefault((k, key), []).append(math.log(v[key]) if key != "liquidation_speed"
                                                         else v[key])
            print(f"| {nodes} | {nD} | " + " | ".join(cells) + f" | {seconds:.2f} |")
        orders = []
        for (k, key), seq in seqs.items():
            d = np.diff(seq)
            orders.append(f"{('urgent', 'patient')[k]} {key}: " + ", ".join(
                f"{math.log2(d[i] / d[i + 1]):.2f}" if d[i] * d[i + 1] > 0 else "turns" for i in range(d.size - 1)))
        print(f"\nobserved orders in D ({nodes}): " + "; ".join(orders) + "\n")

    print("| D nodes | grid | type | speed | Q_T | m_T | half-life | m_0 | CPU-s (5 solves + paths) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for nodes in ("uniform", "graded"):
        for nt in (160, 320):
            def run():
                est = tcn.solve_with_estimate(types, params, T=T, nt=nt, nX=201, nD=33, halfwidth=L,
                                              D_halfwidth=LD, D_nodes=nodes)
                return path_outcomes_with_estimate(est, n_paths=2, seed=1, simulate=simulate_paths)
            po, seconds = cpu(run)
            for k in range(2):
                o, cells = po.types[k], []
                for key in ("liquidation_speed", "mean_inventory_terminal", "mean_flow_terminal",
                            "liquidation_half_life", "mean_flow_initial"):
                    true = o.values[key] - exact[k][key]
                    flag = " *u*" if key in o.unresolved else ""
                    cells.append(f"{100 * true / abs(exact[k][key]):+.2f}% ({o.errors[key] / abs(true):.1f}){flag}")
                print(f"| {nodes} | ({nt}, 201, 33) | {('urgent', 'patient')[k]} | " + " | ".join(cells)
                      + f" | {seconds:.1f} |")


if __name__ == "__main__":
    main()
