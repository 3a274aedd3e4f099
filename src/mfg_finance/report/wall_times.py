"""Wall time and peak memory per job and per rule, from Snakemake's ``benchmark:`` files."""

from __future__ import annotations

import csv
import glob
import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

def _pattern_regex(pattern: str) -> re.Pattern:
    """Regex of a Snakemake path pattern: ``{name}`` matches any text, ``{name,regex}`` (a constrained
    wildcard, braces may nest as in ``{id,[0-9a-f]{12}}``) matches ``regex``."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] != "{":
            out.append(re.escape(pattern[i]))
            i += 1
            continue
        depth, j = 0, i
        while j < len(pattern):
            depth += {"{": 1, "}": -1}.get(pattern[j], 0)
            if depth == 0:
                break
            j += 1
        body = pattern[i + 1:j]
        out.append(f"(?:{body.split(',', 1)[1]})" if "," in body else ".+?")
        i = j + 1
    return re.compile("^" + "".join(out) + "$")


def rule_wall_times(benchmark_dir: str | Path = "results/benchmarks",
                    rules: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Wall time and peak memory per job from Snakemake's ``benchmark:`` files.

    ``rules`` maps each rule to its benchmark path pattern (e.g. ``results/benchmarks/solve_mfg_{scenario}.tsv``);
    with it every file is attributed to its rule. Without it the job is the file name (sweep points grouped
    per sweep). Columns: ``rule, job, wall_s, max_rss_mb``.
    """
    benchmark_dir = Path(benchmark_dir)
    matchers = [(name, _pattern_regex(Path(pattern).as_posix())) for name, pattern in (rules or {}).items()]
    rows = []
    for path in sorted(glob.glob(f"{benchmark_dir}/**/*.tsv", recursive=True)):
        with open(path, newline="") as fh:
            records = list(csv.DictReader(fh, delimiter="\t"))
        if not records:
            continue
        rel = Path(path).relative_to(benchmark_dir)
        job = str(rel.with_suffix("").as_posix())
        full = (benchmark_dir / rel).as_posix()
        rule = next((name for name, regex in matchers if regex.match(full) or regex.match(path)), None)
        if rule is None:
            rule = str(rel.parent.as_posix()) if rel.parts[0] == "sweeps" else rel.stem
        rss = records[-1].get("max_rss", "NA")
        rows.append({"rule": rule, "job": job, "wall_s": float(records[-1]["s"]),
                     "max_rss_mb": float(rss) if rss not in ("-", "NA", "", None) else np.nan})
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "max_rss_mb"])


def wall_time_per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """Jobs, total and longest wall time, and peak memory per rule."""
    if jobs.empty:
        return pd.DataFrame(columns=["rule", "jobs", "total_wall_s", "max_wall_s", "max_rss_mb"])
    return (jobs.groupby("rule", sort=True)
            .agg(jobs=("wall_s", "size"), total_wall_s=("wall_s", "sum"), max_wall_s=("wall_s", "max"),
                 max_rss_mb=("max_rss_mb", "max"))
            .reset_index())


def clock(seconds: float) -> str:
    """A wall time as people say it: ``0.42 s``, ``12.3 s``, ``18 min 40 s``, ``1 h 02 min`` (``—`` if unknown)."""
    if seconds is None or not np.isfinite(seconds):
        return "—"
    if seconds < 59.95:
        return f"{seconds:.3g} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


def for_display(table: pd.DataFrame) -> pd.DataFrame:
    """``wall_time_per_rule`` or ``rule_wall_times`` output with durations as text and readable headers."""
    names = {"total_wall_s": "total wall time", "max_wall_s": "longest job", "wall_s": "wall time",
             "max_rss_mb": "peak memory (MB)"}
    shown = table.copy()
    for column in ("total_wall_s", "max_wall_s", "wall_s"):
        if column in shown:
            shown[column] = [clock(v) for v in shown[column]]
    return shown.rename(columns=names)
