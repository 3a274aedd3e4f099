"""The numba kernels of the tests' own process, compiled ahead in the background (docs/testing.md, "numba
kernels of the tests' own process").

A fresh clone's test session compiles every numba kernel its tests call, the first time each is called, in
the tests' own process: about a minute of CPU on the critical path of the session (pytest runs one test at a
time), while the other core has spare time. So when the session starts, one background process
(:func:`start`) runs the workflow's warm-up (:func:`mfg_finance.kernel_warmup.warm`) for the kernel families
the selected tests call, into a cache of its own; the tests' process copies each finished family into its
cache (:func:`merge_finished`, between two tests) and loads those kernels instead of compiling them. The tests
of those families run after the others (``tests/conftest.py``: :data:`KERNEL_DIRS`), which gives the warm-up
the time to finish first. Nothing depends on it: a kernel not yet copied when a test calls it is compiled by
the tests' process, as before.

The warm-up imports the same source files as the tests' process (the checkout's ``src/``), so numba's cache
paths and keys are the same in both caches and a copied kernel is found. Why a cache of its own and a copy
between tests, not one cache written by both processes: numba gives a new signature of a function the first
free data file name of that function's index, so two processes compiling different signatures of one function
into one cache at the same time can record their kernels under one name, and a later load would read the
other's machine code. Here the tests' cache has one writer, the tests' process, and the copy runs in that
process between tests (no compilation going on): a function whose index the tests' cache already has is left
alone (the tests compiled some of it themselves; at worst a kernel is compiled again), and for any other the
data files are copied before the index, so an index never names a data file that is not there or is another's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Test directories whose tests call kernels the warm-up compiles, and those families, in the order the
#: session runs them (after every other directory but the workflow and report tests: ``tests/conftest.py``).
#: The warm-up compiles the families in this order. Measured cold-cache cost in the tests' process (CPU-s,
#: benchmarks/RESULTS.md, stop 29): equilibrium 2, market_making 14, corporate 15, trades 9.
KERNEL_DIRS: dict[str, tuple[str, ...]] = {
    "equilibrium": ("equilibrium",),
    "market_making": ("trades", "market_making", "replay"),
    "corporate": ("cotahist",),
    "cotahist": ("cotahist",),
    "trades": ("trades",),
}

_WARMUP: dict[str, object] = {}      # "proc", "cache" (the warm-up's), "target" (the tests'), "merged" (families)


def families_for(test_dirs: list[str]) -> list[str]:
    """The families of the kernel directories among ``test_dirs`` (top-level names under ``tests/``), each
    once, in the order of :data:`KERNEL_DIRS`."""
    wanted: list[str] = []
    for directory, families in KERNEL_DIRS.items():
        if directory in test_dirs:
            wanted += [family for family in families if family not in wanted]
    return wanted


def _marker(target: Path, family: str) -> Path:
    return target / f".warmed-{family}"


def start(families: list[str], target: Path, workdir: Path) -> None:
    """Start the warm-up of those of ``families`` not yet copied into ``target`` (the tests' numba cache),
    compiling into a cache in ``workdir``. Once per session."""
    todo = [family for family in families if not _marker(target, family).exists()]
    if "proc" in _WARMUP or not todo:
        return
    cache = workdir / "numba-cache"
    cache.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "warmup.log", "w")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.Popen([sys.executable, __file__, str(workdir / "progress"), *todo], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    _WARMUP.update(proc=proc, cache=cache, target=target, progress=workdir / "progress", merged=set())


def merge_finished() -> None:
    """Copy the kernels of the families the warm-up has finished since the last call into the tests' cache.
    Call it only between tests (module docstring)."""
    if "proc" not in _WARMUP:
        return
    progress: Path = _WARMUP["progress"]
    done = set(progress.read_text().split()) if progress.exists() else set()
    new = done - _WARMUP["merged"]
    if new:
        merge_cache(_WARMUP["cache"], _WARMUP["target"])
        for family in new:
            _marker(_WARMUP["target"], family).touch()
        _WARMUP["merged"] |= new


def stop() -> None:
    """At the end of the session: copy what is finished, end the warm-up if it still runs."""
    if "proc" not in _WARMUP:
        return
    proc: subprocess.Popen = _WARMUP["proc"]
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    merge_finished()


def merge_cache(source: Path, target: Path) -> None:
    """Copy into ``target`` the kernels of every function of ``source`` that ``target`` has no index for: its
    data files first, then its index, each under a temporary name renamed into place (module docstring)."""
    for index in sorted(source.rglob("*.nbi")):
        relative = index.relative_to(source)
        if (target / relative).exists():
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        stem = index.name[: -len(".nbi")]
        for data in sorted(index.parent.glob(f"{stem}.*.nbc")):
            _copy(data, target / relative.parent / data.name)
        _copy(index, target / relative)


def _copy(source: Path, dest: Path) -> None:
    temporary = dest.with_name(dest.name + ".merge")
    try:
        shutil.copyfile(source, temporary)
    except FileNotFoundError:          # replaced meanwhile by the warm-up: a kernel compiled again at worst
        return
    os.replace(temporary, dest)


def _warm_families(progress: Path, families: list[str]) -> None:
    """The warm-up process: each family in turn, written to ``progress`` once its kernels are cached.
    ``large_inputs``: the tests call the trade readers' fast kernels too."""
    from mfg_finance.kernel_warmup import warm

    for family in families:
        warm(family, large_inputs=True)
        with open(progress, "a") as fh:
            fh.write(family + "\n")


if __name__ == "__main__":
    _warm_families(Path(sys.argv[1]), sys.argv[2:])
