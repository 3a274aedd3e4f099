"""What a pipeline job does before its work: numba's thread count, the kernel warm-up of a family."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mfg_finance.kernel_warmup import FAMILIES, warm


def _run(code: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return out.stdout.strip()


def test_job_threads_set_before_numba_loads_size_its_pool():
    code = ("from mfg_finance.job_threads import use_job_threads\n"
            "print(use_job_threads(1))\n"
            "import numba\n"
            "print(numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())")
    assert _run(code, NUMBA_NUM_THREADS="2").split() == ["1", "1", "1"]


def test_job_threads_after_numba_loads_are_capped_at_its_pool():
    code = ("import numba\n"
            "from mfg_finance.job_threads import use_job_threads\n"
            "print(use_job_threads(8), numba.get_num_threads())")
    assert _run(code, NUMBA_NUM_THREADS="1").split() == ["1", "1"]


def test_job_threads_refuse_less_than_one():
    from mfg_finance.job_threads import use_job_threads

    with pytest.raises(ValueError, match="threads"):
        use_job_threads(0)


@pytest.mark.slow  # compiles every family on a cold cache; the workflow tests run the warm-up jobs too
@pytest.mark.parametrize("family", FAMILIES)
def test_warm_runs_each_family(family):
    record = warm(family)
    assert record["family"] == family and record["seconds"] >= 0


def test_warm_refuses_an_unknown_family():
    with pytest.raises(ValueError, match="kernel family"):
        warm("nope")
