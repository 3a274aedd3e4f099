"""Helpers of the reproducibility tests: list a run's outputs and compare two runs byte for byte.

What is compared: every file under ``results/``, ``reports/`` and ``resources/`` of a work directory.
What is not, and why (also in README.md, section "Reproducibility and failures"):

* ``logs/`` and ``results/benchmarks/``: log lines carry the time they were written, and Snakemake's
  benchmark files hold measured wall times and memory. They describe the run, not its results.
* ``.snakemake/``: Snakemake's own bookkeeping (metadata with timestamps, locks, incomplete markers).

Two kinds of output are compared after removing exactly their run-dependent parts:

* the executed notebooks (``results/notebooks/*.ipynb``): papermill records when each cell ran
  (``start_time``, ``end_time``, ``duration`` and the kernel's ``execution`` timestamps);
* the report (``reports/final/mfg_report.html``): the run date, and the "Wall time per rule" section,
  which shows the benchmark measurements above.

Everything else (Parquet, NPZ, JSON, YAML, CSV, PNG, the notebooks' HTML export, the COTAHIST sample)
must be byte-identical.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

OUTPUT_ROOTS = ("results", "reports", "resources")
EXCLUDED_PREFIXES = ("results/benchmarks/",)
RUN_DATE = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
WALL_TIME_SECTION = re.compile(rb"<h3>Wall time per rule.*?(?=<h3>|</section>)", re.S)
PAPERMILL_TIMES = ("start_time", "end_time", "duration")


def is_temporary(relpath: str) -> bool:
    """A temporary file of :func:`mfg_finance.io.atomic_path` (``.name.PID.XXXX.tmp``)."""
    name = relpath.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(".tmp")


def output_files(workdir: Path, *, temporaries: bool = True) -> list[str]:
    """Relative paths of the run's outputs (see the module docstring for what is left out)."""
    files = []
    for root in OUTPUT_ROOTS:
        base = workdir / root
        if not base.exists():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(workdir).as_posix()
            if path.is_file() and not rel.startswith(EXCLUDED_PREFIXES) and (temporaries or not is_temporary(rel)):
                files.append(rel)
    return sorted(files)


def normalized(relpath: str, data: bytes) -> bytes:
    """The bytes of an output with its run-dependent parts removed (identity for most files)."""
    if relpath.endswith(".ipynb"):
        nb = json.loads(data)
        nb.get("metadata", {}).get("papermill", {}).update(dict.fromkeys(PAPERMILL_TIMES))
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {})
            meta.pop("execution", None)
            meta.get("papermill", {}).update(dict.fromkeys(PAPERMILL_TIMES))
        return json.dumps(nb, sort_keys=True, indent=1).encode()
    if relpath == "reports/final/mfg_report.html":
        return WALL_TIME_SECTION.sub(b"", RUN_DATE.sub(b"<run date>", data))
    return data


def differences(reference: Path, other: Path, files: list[str] | None = None) -> list[str]:
    """Paths that differ between two runs: missing on either side, or with other (normalized) bytes."""
    ref_files = set(output_files(reference))
    other_files = set(output_files(other))
    problems = [f"only in {reference.name}: {f}" for f in sorted(ref_files - other_files)]
    problems += [f"only in {other.name}: {f}" for f in sorted(other_files - ref_files)]
    for rel in sorted(ref_files & other_files) if files is None else files:
        a, b = (reference / rel).read_bytes(), (other / rel).read_bytes()
        if a != b and normalized(rel, a) != normalized(rel, b):
            problems.append(f"differs: {rel}")
    return problems
