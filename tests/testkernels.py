"""The numba kernels of the tests' own process, compiled ahead in the background (docs/testing.md, "The
tests' own process: its kernels compiled ahead in the background").

A fresh clone's test session compiles every numba kernel its tests call, the first time each is called, in
the tests' own process: about a minute of CPU on the critical path of the session (pytest runs one test at a
time), while the other core has spare time. So when the session starts, one background process
(:func:`start`) runs the workflow's warm-up (:func:`mfg_finance.kernel_warmup.warm`) for the kernel families
the selected tests call, and compiles the other signatures they call (:data:`SIGNATURES`), into a cache of its
own; the tests' process copies each finished step into its cache (:func:`merge_finished`, between two tests)
and loads those kernels instead of compiling them. The tests of those families run after the others
(``tests/conftest.py``: :data:`KERNEL_DIRS`), which gives the warm-up the time to finish first. Nothing
depends on it: a kernel not yet copied when a test calls it is compiled by the tests' process, as before.

The warm-up imports the same source files as the tests' process (the checkout's ``src/``), so numba's cache
paths and keys are the same in both caches and a copied kernel is found. Why a cache of its own and a copy
between tests, not one cache written by both processes: numba gives a new signature of a function the first
free data file name of that function's index, so two processes compiling different signatures of one function
into one cache at the same time can record their kernels under one name, and a later load would read the
other's machine code. Here the tests' cache has one writer, the tests' process, and the copy runs in that
process between tests (no compilation going on): data files are copied before the index that names them, and
into a function the tests' cache already has an index for only under file names that index and folder do not
use, so an index never names a data file that is not there or is another's (a kernel not copied is compiled
again by the tests, never a wrong one loaded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Test directories whose tests call kernels the warm-up compiles, and those families, in the order the
#: session runs them (after every other directory but tests/workflow: ``tests/conftest.py``).
#: The warm-up compiles the families in this order. What they cost the tests' process on a cold cache (CPU-s
#: under load, benchmarks/RESULTS.md, stop 29): equilibrium 2, market_making 14, corporate 15, trades 9.
KERNEL_DIRS: dict[str, tuple[str, ...]] = {
    "equilibrium": ("equilibrium",),
    "market_making": ("trades", "market_making", "replay"),
    "corporate": ("cotahist",),
    "cotahist": ("cotahist",),
    "trades": ("trades",),
}


def A(dtype: str, ndim: int, layout: str = "C", readonly: bool = False) -> tuple:      # noqa: N802 (a type)
    """An array argument of :data:`SIGNATURES` (made a numba type by :func:`numba_types`, which imports numba)."""
    return ("array", dtype, ndim, layout, readonly)


def numba_types(signature: tuple) -> tuple:
    """The numba argument types of a :data:`SIGNATURES` entry's signature."""
    from numba.core import types

    def scalar(name: str):
        return getattr(types, "boolean" if name == "bool" else name)

    return tuple(types.Array(scalar(arg[1]), arg[2], arg[3], readonly=arg[4]) if isinstance(arg, tuple)
                 else scalar(arg) for arg in signature)


#: Signatures the tests call that the workflow's warm-up does not compile (read-only or Fortran-ordered arrays,
#: the numba twins of the C kernels, the agents' simulation), by test directory: the compile events of a session on
#: a cache warmed by :func:`mfg_finance.kernel_warmup.warm` (benchmarks/RESULTS.md, stop 29; about 25 CPU-s). A
#: stale entry costs only a kernel compiled by the tests (``tests/unit/test_testkernels.py`` checks each names a
#: cached numba kernel).
SIGNATURES: dict[str, list[tuple[str, str, tuple]]] = {
    "mfg": [
        ("mfg_finance.mfg.types_common_noise", "solve_killed_rows", (
            A("float64", 2), A("float64", 2), A("float64", 2), "float64", A("float64", 2),
        )),
        ("mfg_finance.mfg.sweep_kernel", "_policy", (
            A("float64", 1), "float64", A("float64", 2), "float64", A("float64", 1),
        )),
        ("mfg_finance.mfg.tridiag", "factor", (A("float64", 1), A("float64", 1), "float64",)),
        ("mfg_finance.mfg.sweep_kernel", "sweep_into", (
            A("float64", 1), A("float64", 1), A("float64", 1), "float64", "float64", "float64", "float64", "int64",
            A("float64", 1), A("float64", 1), "float64", A("float64", 2), A("float64", 2), A("float64", 2),
            A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 1), A("int64", 1),
            A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 1),
        )),
        ("mfg_finance.mfg.sweep_kernel", "moment_recursions_into", (
            A("float64", 1), A("float64", 1), "float64", "float64", "float64", "float64", "float64",
            A("float64", 1), A("float64", 1), A("float64", 1), A("float64", 1),
        )),
        ("mfg_finance.mfg.tridiag", "forward_sweep", (
            A("float64", 1), A("float64", 2), A("float64", 2), A("float64", 1),
        )),
        ("mfg_finance.mfg.tridiag", "solve_transpose", (
            A("float64", 1), A("float64", 1), A("float64", 1), "float64", A("float64", 1),
        )),
        ("mfg_finance.mfg.best_response_kernel", "march", (
            A("float64", 1), A("float64", 1), A("float64", 1), A("float64", 3), A("float64", 2), A("float64", 2),
            "float64", "float64", "float64", "float64", "float64", A("float64", 3), "int64", "int64",
            A("float64", 3), A("float64", 3),
        )),
        ("mfg_finance.mfg.best_response_kernel", "minimise", (
            "float64", "float64", "float64", "float64", "float64", "float64", "float64",
        )),
    ],
    "equilibrium": [
        ("mfg_finance.equilibrium.simulation", "_seed", ("int64",)),
        ("mfg_finance.equilibrium.simulation", "_crowd_runs", (
            "int64", "int64", A("float64", 1), A("float64", 2), A("float64", 1), "float64", "float64", "float64",
            "float64",
        )),
        ("mfg_finance.equilibrium.simulation", "_mm_runs", (
            A("float64", 1), A("int64", 1), A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2),
            A("float64", 2), A("float64", 2), "int64", A("int64", 1), "int64",
        )),
        ("mfg_finance.mfg.tilt_kernel", "tilt_rows", (
            A("float64", 1), A("float64", 1), A("float64", 1), "float64", A("int64", 1), A("int64", 1), "int64",
            "float64", A("float64", 2),
        )),
    ],
    "market_making": [
        ("mfg_finance.market_making._path_rng", "path_draws", ("int64", "int64", "int64", "int64",)),
        ("mfg_finance.trades.kernels", "counting_order", (A("int16", 1, readonly=True), "int64",)),
        ("mfg_finance.trades.kernels", "order_by_ticker_time", (A("int16", 1), A("int64", 1), A("int64", 1),)),
        ("mfg_finance.market_making._kernels", "table_paths_serial", (
            A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2), A("float64", 2), A("int64", 2),
            "int64", "int64", "float64", "float64", "bool", "int64", A("int64", 1), A("float64", 1),
            A("float64", 1), A("int64", 1), A("int64", 1), A("int64", 1), A("float64", 1), A("int64", 1),
        )),
    ],
    "cotahist": [
        ("mfg_finance.cotahist.typed_rows", "typed_rows", (
            A("int64", 2, "F"), A("int64", 1), "none", A("int64", 1), A("int64", 1), A("int64", 1), A("int8", 2),
            A("int16", 2), A("int32", 2), A("int64", 2), A("bool", 2),
        )),
        ("mfg_finance.cotahist.kernel", "gather_bytes", (A("uint8", 1), A("int64", 1), A("int64", 1),)),
        ("mfg_finance.cotahist.kernel", "gather_bytes", (
            A("uint8", 1, readonly=True), A("int64", 1), A("int64", 1),
        )),
        ("mfg_finance.cotahist.detail_kernel", "renumber_and_check", (
            A("uint8", 1), A("int64", 1), A("int64", 1), A("int64", 1), A("int64", 1), A("int64", 1),
        )),
        ("mfg_finance.cotahist.detail_kernel", "renumber_and_check", (
            A("uint8", 1, readonly=True), A("int64", 1), A("int64", 1), A("int64", 1), A("int64", 1),
            A("int64", 1),
        )),
        ("mfg_finance.cotahist.kernel", "parse_records", (
            A("uint8", 1), A("int64", 1), A("int64", 1), A("int64", 1), A("int64", 1), A("int64", 1),
            A("float64", 1), A("uint8", 1, readonly=True), A("int64", 2), A("float64", 2), A("uint64", 1),
            A("int16", 1), A("int8", 1),
        )),
        ("mfg_finance.cotahist.kernel", "first_text_mismatch", (
            A("uint8", 1), A("int64", 1), A("int64", 1), A("uint8", 2), A("int64", 1),
        )),
    ],
    "trades": [
        ("mfg_finance.trades.kernels", "counting_order", (A("int8", 1, readonly=True), "int64",)),
        ("mfg_finance.trades.kernels", "counting_order", (A("int8", 1), "int64",)),
        ("mfg_finance.trades.kernels", "order_by_ticker_time", (A("int8", 1), A("int64", 1), A("int64", 1),)),
        ("mfg_finance.trades.fast_kernels", "line_bounds", (A("uint8", 1),)),
        ("mfg_finance.trades.fast_kernels", "line_bounds", (A("uint8", 1, readonly=True),)),
    ],
}

_WARMUP: dict[str, object] = {}      # "proc", "cache" (the warm-up's), "target" (the tests'), "merged" (steps)


def steps_for(test_dirs: list[str], first_dir: str) -> list[str]:
    """The warm-up's steps for a session selecting tests of ``test_dirs`` (top-level names under ``tests/``)
    whose first test is in ``first_dir``, in the order the session will call them: the :data:`SIGNATURES` of
    the directories that run before those of :data:`KERNEL_DIRS` (called in the middle of them), then for each
    directory of :data:`KERNEL_DIRS` its families and its signatures (``"signatures:<dir>"``); each once, and
    not the families of ``first_dir`` (its first tests call them before the warm-up could have them)."""
    steps: list[str] = [f"signatures:{d}" for d in SIGNATURES if d in test_dirs and d not in KERNEL_DIRS]
    for directory, families in KERNEL_DIRS.items():
        if directory in test_dirs:
            if directory != first_dir:
                steps += [family for family in families if family not in steps]
            if directory in SIGNATURES:
                steps.append(f"signatures:{directory}")
    return steps


def _marker(target: Path, step: str) -> Path:
    return target / f".warmed-{step.replace(':', '-')}"


def start(steps: list[str], target: Path, workdir: Path) -> None:
    """Start the warm-up of those of ``steps`` (:func:`steps_for`) not yet copied into ``target`` (the tests'
    numba cache), compiling into a cache in ``workdir``. Once per session."""
    todo = [step for step in steps if not _marker(target, step).exists()]
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
    """Copy the kernels of the steps the warm-up has finished since the last call into the tests' cache.
    Call it only between tests (module docstring)."""
    if "proc" not in _WARMUP:
        return
    progress: Path = _WARMUP["progress"]
    done = set(progress.read_text().split()) if progress.exists() else set()
    new = done - _WARMUP["merged"]
    if new:
        merge_cache(_WARMUP["cache"], _WARMUP["target"])
        for step in new:
            _marker(_WARMUP["target"], step).touch()
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
    """Copy into ``target`` the kernels of ``source`` it does not have: for a function ``target`` has no index
    for, its data files and then its index; for one it has (the tests compiled some of its signatures, or an
    earlier step brought some), the other signatures' data files under names free in ``target`` and then
    ``target``'s index with them added (:func:`_merge_index`). Each file under a temporary name renamed into
    place: a reader finds the old index or the new one, and every data file either names (module docstring)."""
    for index in sorted(source.rglob("*.nbi")):
        relative = index.relative_to(source)
        stem = index.name[: -len(".nbi")]
        if (target / relative).exists():
            _merge_index(index, target / relative, stem)
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        for data in sorted(index.parent.glob(f"{stem}.*.nbc")):
            _copy(data, target / relative.parent / data.name)
        _copy(index, target / relative)


def _read_index(path: Path) -> tuple:
    """numba's index file: its version, then the pickled ``(source stamp, {key: data file name})``."""
    import pickle

    with open(path, "rb") as fh:
        version = pickle.load(fh)
        stamp, overloads = pickle.loads(fh.read())
    return version, stamp, overloads


def _merge_index(source: Path, target: Path, stem: str) -> None:
    """Add to the index ``target`` the entries of ``source`` it lacks, their data files copied first under
    names that neither index nor any file in ``target``'s folder uses. Nothing if the two indexes are of
    another numba version or source stamp, or cannot be read (a kernel compiled again at worst)."""
    import pickle

    from numba.core.serialize import dumps

    try:
        source_version, source_stamp, source_overloads = _read_index(source)
        version, stamp, overloads = _read_index(target)
    except Exception:                # noqa: BLE001 -- another numba's format: leave the target as it is
        return
    missing = {key: name for key, name in source_overloads.items() if key not in overloads}
    if (source_version, source_stamp) != (version, stamp) or not missing:
        return
    taken = set(overloads.values()) | {path.name for path in target.parent.glob(f"{stem}.*.nbc")}
    number = 0
    for key, name in missing.items():
        number += 1
        while f"{stem}.{number}.nbc" in taken:
            number += 1
        free = f"{stem}.{number}.nbc"
        if _copy(source.parent / name, target.parent / free):
            taken.add(free)
            overloads[key] = free
    temporary = target.with_name(target.name + ".merge")
    with open(temporary, "wb") as fh:
        pickle.dump(version, fh, protocol=-1)
        fh.write(dumps((stamp, overloads)))
    os.replace(temporary, target)


def _copy(source: Path, dest: Path) -> bool:
    temporary = dest.with_name(dest.name + ".merge")
    try:
        shutil.copyfile(source, temporary)
    except FileNotFoundError:          # not written yet or replaced meanwhile: a kernel compiled again at worst
        return False
    os.replace(temporary, dest)
    return True


def compile_signatures(directory: str) -> None:
    """Compile (into the cache) the :data:`SIGNATURES` of a test directory; an entry that no longer fits the
    source is reported and skipped (the tests then compile what they call)."""
    import importlib

    for module, name, signature in SIGNATURES[directory]:
        try:
            getattr(importlib.import_module(module), name).compile(numba_types(signature))
        except Exception as error:           # noqa: BLE001 -- a stale entry must not stop the warm-up
            print(f"{module}.{name}{signature}: {type(error).__name__}: {error}", flush=True)


def _warm(progress: Path, steps: list[str]) -> None:
    """The warm-up process: each step in turn (a family of :func:`mfg_finance.kernel_warmup.warm`, with
    ``large_inputs`` as the tests call the trade readers' fast kernels too, or ``signatures:<dir>``), written
    to ``progress`` once its kernels are cached."""
    from mfg_finance.kernel_warmup import warm

    for step in steps:
        if step.startswith("signatures:"):
            compile_signatures(step.split(":", 1)[1])
        else:
            warm(step, large_inputs=True)
        with open(progress, "a") as fh:
            fh.write(step + "\n")


if __name__ == "__main__":
    _warm(Path(sys.argv[1]), sys.argv[2:])
