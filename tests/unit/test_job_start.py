"""What a pipeline job does before its work: numba's thread count, the kernel warm-up of a family."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mfg_finance.kernel_warmup import FAMILIES, KERNEL_GROUPS, warm, warmup_record


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


def test_every_family_is_in_exactly_one_warm_up_group_with_its_own_record():
    grouped = [family for families in KERNEL_GROUPS.values() for family in families]
    assert sorted(grouped) == sorted(FAMILIES)                      # each family once, none missing
    records = [warmup_record(group) for group in KERNEL_GROUPS]
    assert len(set(records)) == len(records) and all(r.startswith("results/kernels/") for r in records)
    with pytest.raises(ValueError, match="kernel group"):
        warmup_record("mfg")                                        # a family is not a group


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


def test_auto_engine_is_the_one_the_workflow_compiles_ahead_for():
    # kernels.smk compiles the Monte Carlo kernels ahead only when compiled_engine_pays says the backtests
    # take numba: the same threshold as engine="auto"
    from mfg_finance.market_making.engines import NUMBA_MIN_PATH_STEPS, compiled_engine_pays
    from mfg_finance.market_making.simulator import choose_engine

    for path_steps in (1, NUMBA_MIN_PATH_STEPS - 1, NUMBA_MIN_PATH_STEPS, 4 * NUMBA_MIN_PATH_STEPS):
        assert (choose_engine("auto", path_steps) == "numba") == compiled_engine_pays(path_steps)
    assert not compiled_engine_pays(2000 * 3600) and compiled_engine_pays(5000 * 3600)


_SYSTEMIC_JOB = """
from mfg_finance.mfg.systemic import run_common_noise, run_finite_n, systemic_config
from mfg_finance.kernel_warmup import _SYSTEMIC_CALIBRATION, _SYSTEMIC_RUN
run = {**_SYSTEMIC_RUN, "grid": {**_SYSTEMIC_RUN["grid"], "nx": 41, "nt": 20}}
cfg = systemic_config({**_SYSTEMIC_CALIBRATION, "phi": 0.05}, {"sigma0": {"value": 0.25},
                      "sigma_idiosyncratic": {"value": 0.45}}, run)
settings = {"common_noise": {"nt": 12, "nQ": 25, "nD": 9, "n_paths": 30, "seed": 5},
            "finite_n": {"Ns": [3, 6, 12], "game_pairs": 4, "agent_paths": 24, "limit_paths": 16, "min_replications": 2,
                         "seed": 2, "epsilon_Ns": [3, 6]}}
run_common_noise(cfg, settings)
run_finite_n(cfg, settings)
"""


@pytest.mark.slow  # two processes, one compiling the systemic kernels on a cold cache
def test_systemic_warm_up_compiles_what_the_systemic_jobs_call(tmp_path):
    # a job after the warm-up (other sizes and values, as the workflow's scenarios, sweeps and finite-N check
    # have) loads every kernel it calls and compiles none (NUMBA_DEBUG_CACHE prints "data saved" per compile)
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_NUM_THREADS": "1", "NUMBA_DEBUG_CACHE": "1"}
    warmed = subprocess.run([sys.executable, "-c", "from mfg_finance.kernel_warmup import warm; warm('systemic')"],
                            env=env, capture_output=True, text=True, check=True)
    assert "data saved" in warmed.stdout
    job = subprocess.run([sys.executable, "-c", _SYSTEMIC_JOB], env=env, capture_output=True, text=True, check=True)
    assert "data loaded" in job.stdout and "data saved" not in job.stdout, job.stdout[-2000:]


def test_a_job_exit_keeps_its_log_and_status_and_skips_the_final_collection(tmp_path):
    # a cycle with a finalizer is collected by the interpreter's last garbage collection, which a job skips
    # (mfg_finance.logs.configure_logging); the log is still complete and a failure still fails the process
    code = ("import sys\n"
            "from mfg_finance.logs import configure_logging\n"
            f"log = configure_logging({str(tmp_path / 'job.log')!r})\n"
            "class Cycle:\n"
            "    def __del__(self):\n"
            "        print('collected', flush=True)\n"
            "import gc; gc.disable()\n"                    # no collection before the exit's
            "a = Cycle(); a.me = a; del a\n"
            "log.info('done')\n"
            "if sys.argv[1] == 'fail':\n"
            "    raise ValueError('bad input')\n")
    ok = subprocess.run([sys.executable, "-c", code, "ok"], capture_output=True, text=True)
    failed = subprocess.run([sys.executable, "-c", code, "fail"], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (0, "")
    assert failed.returncode == 1 and "job failed: ValueError: bad input" in (tmp_path / "job.log").read_text()
    assert "INFO mfg_finance: done" in (tmp_path / "job.log").read_text()
