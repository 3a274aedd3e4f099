"""Compile one family of numba kernels into the cache before the jobs that use them start.

numba compiles a kernel the first time a process calls it and, with ``cache=True``, stores the machine
code (``NUMBA_CACHE_DIR``; the workflow's is ``.snakemake/numba-cache``, docs/workflow.md). A job that
finds the cache empty compiles everything it calls: 3-8 CPU-seconds per family here, for a job whose
work is often a fraction of a second. When several jobs of a family start at once on an empty cache
(the two trade sessions, the MFG solves and sweep batches after calibration, a hundred sweep jobs on
a cluster), each compiles the same kernels.

:func:`warm` runs a tiny problem of one family through the same public functions the jobs call, so
the same kernels are compiled with the same argument types; the workflow's ``compile_kernels_{group}``
rules run it for the families of a group (:data:`KERNEL_GROUPS`, used by ``workflow/rules/kernels.smk``)
with no inputs (so on the laptop they fill an idle core while the data stage runs), and the families' jobs wait
for them. Results never depend on it: a job whose kernels are missing
from the cache compiles them itself, as before.
"""

from __future__ import annotations

import contextlib

import tempfile
import time
from pathlib import Path
from typing import Callable

#: The families the workflow compiles ahead (the argument of :func:`warm`).
FAMILIES = ("cotahist", "trades", "mfg", "systemic", "equilibrium", "market_making", "replay")

#: The workflow's warm-up jobs (:func:`warmup_rule`) and the families each compiles: the readers' alone (their
#: jobs start first, in the data stage), the models' together (one process start instead of four; their jobs
#: start after calibration, by when it is done). A run has the job of a group only if one of its jobs calls
#: kernels of the group (``kernel_inputs`` in ``workflow/rules/kernels.smk``).
KERNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "cotahist": ("cotahist",), "trades": ("trades",),
    "models": ("mfg", "systemic", "equilibrium", "market_making", "replay"),
}


def _checked(group: str) -> str:
    if group not in KERNEL_GROUPS:
        raise ValueError(f"kernel group {group!r}: expected one of {list(KERNEL_GROUPS)}")
    return group


def warmup_rule(group: str) -> str:
    """The name of the workflow's rule that compiles the kernels of ``group``."""
    return f"compile_kernels_{_checked(group)}"


def warmup_record(group: str) -> str:
    """The file (relative to the working directory) the warm-up job of ``group`` writes once its kernels are
    compiled: the input of the jobs that call them, and what the workflow tests wait for before copying a cache."""
    return f"results/kernels/{_checked(group)}.json"

# The stiff baseline of docs/mfg.md on a tiny grid: the solver's kernels with the pipeline's types.
_MFG = {"grid": {"nx": 21, "nt": 12, "T": 0.5},
        "params": {"sigma": 0.5, "eta0": 5e-4, "eta1": 1e-3, "phi": 0.035, "gamma_T": 0.57}}
_MARKET = {"sigma": 0.01, "A": 0.5, "k": 50.0, "gamma": 0.1, "Q_max": 5, "S0": 20.0, "tick_size": 0.01,
           "order_size": 100}


def _cotahist(tmp: Path, large_inputs: bool) -> None:
    from mfg_finance.cotahist.file_ingest import ingest_file
    from mfg_finance.cotahist.sample import write_sample_cotahist

    from mfg_finance.job_threads import large_input_kernels

    path = tmp / "COTAHIST_WARMUP.TXT"
    write_sample_cotahist(path, seed=1, n_tickers=2, n_sessions=3)
    with large_input_kernels():         # this job runs only for B3's files: the kernels large files take
        ingest_file(path, tmp / "quotes", strict=False)


def _trades(tmp: Path, large_inputs: bool) -> None:
    """A tiny synthetic session in both layouts, parsed and written as the ingest job does: with the exact
    kernels, as files below ``FAST_KERNELS_MIN_BYTES`` are (the sample's), and with ``large_inputs`` also with
    the fast ones (B3's files), on this job's numba threads (:func:`mfg_finance.trades.reader._kernels_for`)."""
    from mfg_finance.job_threads import large_input_kernels
    from mfg_finance.trades import parse_session
    from mfg_finance.trades.bars import write_session
    from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session, write_neg, write_negocios

    trades = simulate_session([SyntheticInstrument("WARM3"), SyntheticInstrument("WARM4")], date="2024-01-02",
                              seed=1, seconds=600.0)
    for name, write in (("neg.zip", write_neg), ("negocios.zip", write_negocios)):
        write(trades, tmp / name)
        for fast in (False, True) if large_inputs else (False,):
            with large_input_kernels() if fast else contextlib.nullcontext():   # as B3's files take them
                session = parse_session(tmp / name, strict=False, fast=fast)
        write_session(session.trades, tmp / f"{name}.parquet", tmp / f"{name}_bars.parquet")


def _mfg(tmp: Path, large_inputs: bool) -> None:
    from mfg_finance.mfg import solve

    solve(_MFG, estimate_errors=True)


# A common-noise run on tiny nested grids (the error estimate needs nt % 4 == 0, (nQ - 1) % 8 == 0) and a
# finite-N study of two small games: the killed tridiagonal solves and the hybrid generator's rates, as
# mfg_finance.mfg.systemic calls them for the workflow's scenarios, sweeps and check (the finite-N games run
# through their sufficient statistics in NumPy: no kernel of their own).
_SYSTEMIC_CALIBRATION = {"sigma": 0.5, "eta0": 5e-4, "eta1": 1e-3, "phi": 0.035, "gamma_T": 0.57}
_SYSTEMIC_RUN = {"grid": {"x_min": -5.0, "x_max": 5.0, "nx": 21, "T": 0.5, "nt": 12},
                 "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": None},
                 "solver": {"method": "newton", "tol": 1e-10, "max_iter": 50, "damping": 0.5},
                 "price": {"enabled": False, "supply": 0.0}}
_SYSTEMIC_SETTINGS = {"common_noise": {"nt": 8, "nQ": 17, "nD": 9, "n_paths": 20, "seed": 1},
                      "finite_n": {"Ns": [2, 4], "game_pairs": 2, "agent_paths": 8, "limit_paths": 8, "min_replications": 2,
                                   "seed": 1, "epsilon_Ns": [2]}}


def _systemic(tmp: Path, large_inputs: bool) -> None:
    from mfg_finance.mfg.systemic import run_common_noise, run_finite_n, systemic_config

    cfg = systemic_config(_SYSTEMIC_CALIBRATION, {"sigma0": {"value": 0.3}, "sigma_idiosyncratic": {"value": 0.4}},
                          _SYSTEMIC_RUN)
    run_common_noise(cfg, _SYSTEMIC_SETTINGS)
    run_finite_n(cfg, _SYSTEMIC_SETTINGS)


def _equilibrium(tmp: Path, large_inputs: bool) -> None:
    import numpy as np

    from mfg_finance.equilibrium.market_maker import MarketMakerParams, richardson_errors, solve_market_maker

    mm = MarketMakerParams(sigma=0.01, A=0.5, k=50.0, gamma=0.1, Q_max=5)
    t = np.linspace(0.0, 600.0, 7)
    lam = np.full(t.size - 1, 0.5)
    fine = solve_market_maker(mm, t, lam, lam * 1.1, substep_s=10.0)
    richardson_errors(fine, solve_market_maker(mm, t, lam, lam * 1.1, substep_s=10.0, coarse=True))


def _market_making(tmp: Path, large_inputs: bool) -> None:
    from mfg_finance.market_making.backtest import run_backtest

    run_backtest("hjb", _MARKET, horizon_s=60.0, dt_s=1.0, n_paths=8, seed=1, engine="numba")


def _replay(tmp: Path, large_inputs: bool) -> None:
    from mfg_finance.market_making.market import MarketParameters
    from mfg_finance.market_making.replay import ReplaySettings, tape_from_frame
    from mfg_finance.market_making.replay.compare import replay_variants

    from mfg_finance.trades.synthetic import SyntheticInstrument, simulate_session

    # the synthetic frame has the parsed sessions' schema: no trade parsing (another family) needed here
    trades = simulate_session([SyntheticInstrument("WARM3")], date="2024-01-02", seed=1, seconds=600.0)
    market = MarketParameters(**_MARKET)
    tape = tape_from_frame(trades, "WARM3", where="warm-up")
    replay_variants(tape, "hjb", market, ReplaySettings(tick_size=market.tick_size), session="warm-up")


_WARM: dict[str, Callable[[Path, bool], None]] = {
    "cotahist": _cotahist, "trades": _trades, "mfg": _mfg, "systemic": _systemic, "equilibrium": _equilibrium,
    "market_making": _market_making, "replay": _replay,
}


def warm(family: str, *, large_inputs: bool = False) -> dict:
    """Compile (or load from the cache) the kernels of ``family`` (one of :data:`FAMILIES`); returns
    ``{"family", "seconds"}`` (wall time of the tiny problem, compilation included).

    ``large_inputs``: also the kernels only large inputs use (the trade readers' fast kernels; the workflow
    sets it when the data are not the synthetic sample). Kernels of a parallel and a serial variant are
    compiled as this process's numba thread count and the inputs' size select
    (:func:`mfg_finance.job_threads.parallel_kernels`: large inputs take the parallel ones on any thread count)."""
    if family not in _WARM:
        raise ValueError(f"kernel family {family!r}: expected one of {list(FAMILIES)}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"warm_{family}_") as tmp:
        _WARM[family](Path(tmp), large_inputs)
    return {"family": family, "seconds": round(time.perf_counter() - start, 3)}
