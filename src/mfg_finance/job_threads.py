"""How many threads a pipeline job's compiled kernels use: the job's own ``threads``.

numba starts as many threads as the machine has cores (``NUMBA_NUM_THREADS``). Snakemake runs several
jobs at once, each counted as ``threads`` cores (1 unless a rule or profile says otherwise), so every job
starting a thread per core would put ``jobs x cores`` threads on the cores. The workflow therefore sets
``NUMBA_NUM_THREADS=1`` for every job (``workflow/rules/common.smk``, unless the user set it), and a job
that runs a parallel kernel (COTAHIST and trade parsing, the Monte Carlo backtests) calls
:func:`use_job_threads` with its ``snakemake.threads`` first. Results do not depend on the thread count
(docs/cotahist.md, docs/market_making.md).
"""

from __future__ import annotations

import contextlib
import os
import sys

#: An input at least this large runs the compiled parallel kernels even on one thread: their per-byte speed
#: (word-wise checks, compiled line ends) is worth compiling them (a synthetic sample stays below it).
LARGE_INPUT_BYTES = 8 * 2 ** 20


def use_job_threads(threads: int) -> int:
    """Run numba's parallel kernels on ``threads`` threads in this process; returns the number set.

    Called before numba is imported it only sets ``NUMBA_NUM_THREADS`` (numba reads it when it starts
    its threads; nothing is loaded here). Once numba is imported its thread pool may already be sized,
    so the count is capped at that size and set with ``numba.set_num_threads``.
    """
    n = int(threads)
    if n < 1:
        raise ValueError(f"threads: expected an integer >= 1, got {threads!r}")
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
        return n
    import numba

    n = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    return n


def several_threads() -> bool:
    """Whether numba's parallel kernels would run on more than one thread in this process.

    Callers with a parallel kernel (``parallel=True``, ``prange`` over blocks) run its serial body
    instead when not: the same outputs, and numba compiles no parallel variant on an empty cache
    (about 1-2 CPU-seconds each; a pipeline job has one thread unless its rule says otherwise).
    """
    import numba

    return numba.get_num_threads() > 1


def parallel_kernels(nbytes: int) -> bool:
    """Whether an input of ``nbytes`` runs the parallel kernels (more than one thread, or a large input; on one
    thread they run as fast as their serial bodies and faster than the NumPy and byte-loop helpers beside them)."""
    return nbytes >= LARGE_INPUT_BYTES or several_threads()


@contextlib.contextmanager
def large_input_kernels():
    """Inputs of any size take the large inputs' kernels (the warm-up jobs compile those for B3's files)."""
    global LARGE_INPUT_BYTES
    saved, LARGE_INPUT_BYTES = LARGE_INPUT_BYTES, 0
    try:
        yield
    finally:
        LARGE_INPUT_BYTES = saved
