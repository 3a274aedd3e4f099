"""Speed of the market-making stage: vectorized Monte Carlo, seed-style loop, A&S experiment, GLFT solve.

Run: ``python benchmarks/bench_market_making.py [--quick]``. Each figure is the median of several
runs after one warm-up; cold-start figures run in fresh processes (numba cache warm, then empty).
Prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from machine import cpu_model  # benchmarks/machine.py (script directory is on sys.path)


def median_time(func, repeats: int) -> float:
    func()  # warm-up (numba load, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_wall_and_cpu(func, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU time (all threads of this process) of ``func()``, and its last result."""
    func()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def fresh_process(code: str, env_extra: dict | None = None) -> float:
    """Wall time of ``python -c code`` in a new interpreter (imports included)."""
    env = dict(os.environ, **(env_extra or {}))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    repeats = 3 if args.quick else 5

    from mfg_finance.market_making import InventoryHJB, HJBParameters, create_default_simulator
    from mfg_finance.market_making.backtest import run_backtest
    from mfg_finance.market_making.market import default_market_parameters
    from mfg_finance.market_making.reproduction import avellaneda_stoikov_2008

    params = default_market_parameters()
    rows = []

    # 1. vectorized Monte Carlo, GLFT strategy (table build included); numba with 1 and 2 threads.
    #    Rates per wall second and per CPU second (all threads): on a shared machine the CPU figure is
    #    the one that does not depend on what else runs.
    import numba

    n_paths, horizon, dt = int(10_000 * scale), 3600.0, 1.0
    path_steps = n_paths * int(horizon / dt)
    frames = {}
    vector_rate = None
    runs = [("numba", t) for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS] + [("numpy", 1)]
    for engine, threads in runs:
        numba.set_num_threads(threads)
        wall, cpu, result = median_wall_and_cpu(
            lambda: run_backtest("hjb", params, horizon_s=horizon, dt_s=dt, n_paths=n_paths, seed=1,
                                 engine=engine), repeats if engine == "numba" else max(1, repeats - 2))
        frames[(engine, threads)] = result
        rows.append((f"run_backtest hjb, {n_paths} paths x {int(horizon / dt)} steps, engine={engine}, "
                     f"{threads} thread{'s' if threads > 1 else ''}",
                     f"{wall:.3f} s wall, {cpu:.3f} s CPU",
                     f"{path_steps / wall / 1e6:.1f} M path-steps/s wall, {path_steps / cpu / 1e6:.1f} per CPU-s"))
        if engine == "numba":
            vector_rate = path_steps / wall
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    numba_runs = [frames[r] for r in runs if r[0] == "numba"]
    identical = all(f.equals(numba_runs[0]) for f in numba_runs[1:])
    rows.append(("numba engine output, 1 vs 2 threads", "", "byte-identical" if identical else "DIFFERENT"))

    # 2. the seed's style: one path at a time, a Python policy call and scalar updates per step
    simulator = create_default_simulator(T=horizon, dt=dt)
    model = InventoryHJB(HJBParameters(T=horizon, Q_max=simulator.params.Q_max))
    table_b, table_a = model.spread_table(np.arange(int(horizon / dt)) * dt)
    Q = simulator.params.Q_max

    def tabulated_policy(t, q, S):
        n = int(round(t / dt))
        return S - table_b[n, q + Q], S + table_a[n, q + Q]

    loop_paths = max(2, int(20 * scale))

    def seed_loop():
        for path in range(loop_paths):
            simulator.run_simulation(tabulated_policy, seed=path)

    seconds = median_time(seed_loop, max(1, repeats - 2))
    loop_rate = loop_paths * int(horizon / dt) / seconds
    rows.append((f"seed-style per-path loop, {loop_paths} paths x {int(horizon / dt)} steps",
                 f"{seconds:.3f} s", f"{loop_rate / 1e6:.3f} M path-steps/s"))
    rows.append(("speed-up vectorized (numba) / per-path loop", "", f"{vector_rate / loop_rate:.0f}x"))

    # 3. A&S 2008 experiment (6 x 1000 paths x 200 steps)
    seconds = median_time(lambda: avellaneda_stoikov_2008(n_paths=1000, seed=2008), repeats)
    rows.append(("A&S 2008 experiment, in process", f"{seconds:.3f} s", ""))
    code = ("from mfg_finance.market_making.reproduction import avellaneda_stoikov_2008; "
            "avellaneda_stoikov_2008()")
    rows.append(("A&S 2008 experiment, fresh process (imports included)", f"{fresh_process(code):.2f} s", ""))

    # 4. cold start of a pipeline job: fresh process, numba cache warm vs empty
    code = ("from mfg_finance.market_making.backtest import run_backtest; "
            "from mfg_finance.market_making.market import default_market_parameters; "
            "run_backtest('hjb', default_market_parameters(), horizon_s=3600, dt_s=1, n_paths=2000, seed=1, "
            "engine='numba')")
    fresh_process(code)  # make sure the cache is populated
    warm = statistics.median(fresh_process(code) for _ in range(3))
    with tempfile.TemporaryDirectory() as cache:
        cold = fresh_process(code, {"NUMBA_CACHE_DIR": cache})
    rows.append(("backtest job 2000 x 3600, fresh process, numba cache warm", f"{warm:.2f} s", ""))
    rows.append(("same, empty numba cache (compile included)", f"{cold:.2f} s", ""))

    # 5. GLFT exact quotes at long horizons (eigendecomposition), 1000 time points
    for T in (1e3, 1e4, 1e5):
        m = InventoryHJB(HJBParameters(T=T))
        seconds = median_time(lambda: m.spread_table(np.linspace(0.0, T, 1000)), repeats)
        rows.append((f"GLFT exact quote table, T={T:g} s, 1000 times x 61 inventories", f"{seconds * 1e3:.2f} ms", ""))
    seconds = median_time(lambda: InventoryHJB(HJBParameters(), method="numerical").spread_table([0.0]), 3)
    rows.append(("GLFT numerical scheme, T=600 s, dt=0.1 s", f"{seconds * 1e3:.1f} ms", ""))

    print(f"### Market making (bench_market_making.py{' --quick' if args.quick else ''})\n")
    print(f"Machine: `nproc` = {os.cpu_count()}, CPU: {cpu_model()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}; median of {repeats} runs after a warm-up (numpy engine: {max(1, repeats - 2)}); "
          "only the numba engine uses more than one thread.\n")
    print("| measurement | time | rate |")
    print("|---|---|---|")
    for name, t, rate in rows:
        print(f"| {name} | {t} | {rate} |")


if __name__ == "__main__":
    main()
