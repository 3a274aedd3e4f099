"""CPU of the library calls behind the default pipeline's systemic jobs (issue 16): the ``common_noise`` and
``two_types`` scenarios and the ``sigma0`` and ``urgent_share`` sweeps (three points each), at the default
``systemic.common_noise`` settings (320 steps, 201 nodes, 2000 paths) on the stiff baseline with the calibration
of tests/mfg/test_mfg_systemic.py (sigma0 = 0.3 of sigma = 0.5).

Process time (CPU seconds, steadier than wall time on a shared machine), median of ``--repeats`` runs after one
warm-up (numba kernels compiled). The same script runs on an older tree (``PYTHONPATH=<old>/src``) for a
before/after comparison. Prints one line per job: median, then every run.

    NUMBA_NUM_THREADS=1 python benchmarks/bench_systemic_jobs.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from mfg_finance.config import sweep_run_overrides
from mfg_finance.mfg.systemic import run_common_noise, run_types, systemic_config
from mfg_finance.sweeps import solve_point

CALIBRATED = {"sigma": 0.5, "eta0": 5.0e-4, "eta1": 1.0e-3, "phi": 0.035, "gamma_T": 0.57, "kappa": -50.0,
              "p_ref": 20.0}
SYSTEMIC_DOC = {"sigma0": {"value": 0.3}, "sigma_idiosyncratic": {"value": 0.4}}
GRID = {"x_min": -5.0, "x_max": 5.0, "nx": 101, "T": 0.5, "nt": 80, "time_mesh": "graded", "max_step_ratio": 1.5}
SOLVER = {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5}
RUN = {"grid": GRID, "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": None}, "solver": SOLVER,
       "price": {"enabled": False, "supply": 0.0}}
TYPES = [{"name": "urgent", "weight": 0.3, "phi": 0.35, "gamma_T": 5.7}, {"name": "patient", "weight": 0.7}]
SETTINGS = {"common_noise": {"nt": 320, "nQ": 201, "n_paths": 2000, "seed": 16,
                             "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95]}}
MFG = {"grid": GRID, "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": 0.0}, "solver": SOLVER,
       "price": {"enabled": True, "supply": 0.0},
       "scenarios": {"baseline": {}, "common_noise": {"params": {"sigma0": None}}, "two_types": {"types": TYPES}}}


def _points(scenario: str, key: str, values: list[float]) -> list:
    return [solve_point(CALIBRATED, sweep_run_overrides(MFG, {key: v}, scenario), {key: v},
                        systemic_doc=SYSTEMIC_DOC, settings=SETTINGS) for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    common = systemic_config(CALIBRATED, SYSTEMIC_DOC, RUN)
    types = systemic_config(CALIBRATED, SYSTEMIC_DOC, {**RUN, "params": {**RUN["params"], "sigma0": 0.0},
                                                       "types": TYPES})
    jobs = {"common_noise scenario": lambda: run_common_noise(common, SETTINGS),
            "two_types scenario": lambda: run_types(types),
            "sigma0 sweep (3 points)": lambda: _points("common_noise", "market_share", [0.0, 0.35, 0.7]),
            "urgent_share sweep (3 points)": lambda: _points("two_types", "urgent_share", [0.1, 0.5, 0.9])}
    for name, job in jobs.items():
        job()
        runs = []
        for _ in range(args.repeats):
            start = time.process_time()
            job()
            runs.append(time.process_time() - start)
        print(f"{name}: {statistics.median(runs):.3f} CPU-s ({', '.join(f'{r:.3f}' for r in runs)})", flush=True)


if __name__ == "__main__":
    main()
