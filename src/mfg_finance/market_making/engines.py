"""Which Monte Carlo engine a table backtest takes with ``engine="auto"`` (no numpy or numba import: the
workflow asks it while planning, to compile the compiled engine's kernels ahead only when a job will run them)."""

from __future__ import annotations

#: below this many path-steps the numpy engine (~35 ns/path-step) finishes before numba would
#: have repaid its import and cache load (~0.3 s in a fresh process) at ~7-14 ns/path-step
NUMBA_MIN_PATH_STEPS = 10_000_000


def compiled_engine_pays(path_steps: int) -> bool:
    """True if a run of ``path_steps`` (paths x steps) takes the compiled (numba) engine on ``engine="auto"``."""
    return path_steps >= NUMBA_MIN_PATH_STEPS
