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
@pytest.mark.parametrize("family, large_inputs", [(f, False) for f in FAMILIES] + [("trades", True)])
def test_warm_runs_each_family(family, large_inputs):
    record = warm(family, large_inputs=large_inputs)
    assert record["family"] == family and record["seconds"] >= 0


def test_warm_refuses_an_unknown_family():
    with pytest.raises(ValueError, match="kernel family"):
        warm("nope")


def test_a_passed_check_is_not_repeated_for_the_same_config_and_code(tmp_path):
    from mfg_finance.check_cache import check_key, run_once

    calls = []
    config = {"a": 1, "b": [1.5, "x"]}
    assert run_once(lambda: calls.append(1), config, tmp_path) is True
    assert run_once(lambda: calls.append(1), dict(config), tmp_path) is False and calls == [1]
    assert run_once(lambda: calls.append(2), {**config, "a": 2}, tmp_path) is True and calls == [1, 2]
    assert check_key(config, code="v1") != check_key(config, code="v2")


def test_a_failing_check_is_never_remembered(tmp_path):
    from mfg_finance.check_cache import run_once

    def failing():
        raise ValueError("bad config")

    for _ in range(2):
        with pytest.raises(ValueError, match="bad config"):
            run_once(failing, {"a": 1}, tmp_path)
    assert not any(tmp_path.iterdir())


def test_code_fingerprint_follows_the_package_files(tmp_path):
    from mfg_finance.check_cache import code_fingerprint

    (tmp_path / "m.py").write_text("x = 1\n")
    first = code_fingerprint(tmp_path)
    (tmp_path / "m.py").write_text("x = 22\n")
    assert code_fingerprint(tmp_path) != first
