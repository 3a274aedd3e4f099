"""Benchmark: years of COTAHIST at B3's real size through ingestion, selection, corporate events and statistics.

Each year is one generated annual file in B3's exact layout (the project's sample generator,
:mod:`mfg_finance.cotahist.sample`), brought to B3's size (``--records``, default 2.8 million records,
about 690 MB of text, zipped like B3's ``COTAHIST_A{year}.ZIP``): the 156 sample equities of a year and
two renamed copies of them (468 shares, about B3's count), their odd lots, funds, BDRs and options, and
renamed copies of the option records until the year holds ``--records`` records (options are most of a
real year's records). Files are cached in ``--cache`` (default ``$TMPDIR/mfg_forty_years``): generating
a year takes about a minute and is not measured.

The pipeline runs in a fresh copy of the workflow (``data.source: local`` on the cached files, the
default selection and statistics), ``snakemake --cores N`` up to ``results/stats/asset_stats.parquet``
and the analytics charts: one ``ingest_cotahist`` job per year, then ``summarize_ingest``,
``select_equities``, ``infer_corporate_events``, ``compute_stats``, ``plot_analytics``. Reported: the
run's wall time, and per rule the jobs' wall time and peak RSS from Snakemake's benchmark files
(sampled). The largest ingestion and each later stage (as the rule computes it, streamed or a batch of
tickers at a time, and for comparison the way it held every row before) are then rerun alone in fresh
processes for their exact peak RSS and CPU time (``wait4``), interpreter and libraries included.

Usage::

    python benchmarks/bench_forty_years.py                    # 10 years, 2.8 M records each, 2 cores
    python benchmarks/bench_forty_years.py --years 3          # a reduced run on a busy machine
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from machine import describe  # benchmarks/machine.py (script directory is on sys.path)

REPO = Path(__file__).resolve().parents[1]
COPIED = ("Snakefile", "workflow", "scripts", "config", "profiles", "envs", "src")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "reports", "logs")
TARGETS = ("results/data/ingest_summary.json", "results/stats/asset_stats.parquet",
           "reports/analytics/volume_profile.png")
OPTION_CODBDI = (b"78", b"82")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _prefix(i: int) -> bytes:
    """A 3-character ticker prefix for copy ``i`` (never SYN/SYO/SYP, the share prefixes)."""
    code = "".join(_ALPHABET[(i // 36 ** k) % 36] for k in (2, 1, 0))
    return ("Q" + code[1:]).encode()


def _renamed(records: np.ndarray, prefix: bytes) -> np.ndarray:
    out = records.copy()
    out[:, 12:15] = np.frombuffer(prefix, dtype=np.uint8)   # CODNEG starts at position 13
    return out


def year_records(year: int, n_records: int) -> np.ndarray:
    """The detail records of one generated year at B3's size (see the module docstring)."""
    from mfg_finance.cotahist.sample import MAX_TICKERS, sample_records

    n_sessions = int(np.busday_count(f"{year}-01-02", f"{year + 1}-01-01"))
    base, _ = sample_records(seed=year, n_tickers=MAX_TICKERS, n_sessions=n_sessions, start_date=f"{year}-01-02")
    codbdi = base[:, 10:12].copy().view("S2").ravel()
    options = base[np.isin(codbdi, OPTION_CODBDI)]
    parts = [base, _renamed(base[~np.isin(codbdi, OPTION_CODBDI)], b"SYO"),
             _renamed(base[~np.isin(codbdi, OPTION_CODBDI)], b"SYP")]
    have, copy = sum(len(p) for p in parts), 0
    while have < n_records:
        piece = _renamed(options, _prefix(copy))[: n_records - have]
        parts.append(piece)
        have, copy = have + len(piece), copy + 1
    return np.concatenate(parts)[:n_records]


def write_year(path: Path, year: int, n_records: int) -> None:
    from mfg_finance.cotahist.encode import cotahist_bytes

    text = cotahist_bytes(year_records(year, n_records), file_name=f"COTAHIST.{year}", origin="SYNTHETC",
                          generation_date=int(f"{year}1231"))
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(f"COTAHIST_A{year}.TXT", text)
    os.replace(tmp, path)


def cached_years(cache: Path, years: list[int], n_records: int) -> list[Path]:
    folder = cache / f"records_{n_records}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in years:
        path = folder / f"COTAHIST_A{year}.ZIP"
        if not path.is_file():
            start = time.perf_counter()
            write_year(path, year, n_records)
            print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB zipped) in "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
        paths.append(path)
    return paths


def fresh_copy(dest: Path, data_glob: str) -> Path:
    for name in COPIED:
        src = REPO / name
        (shutil.copytree(src, dest / name, ignore=IGNORED) if src.is_dir() else shutil.copy2(src, dest / name))
    config_path = dest / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["data"].update(source="local", local={"glob": data_glob})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def job_table(workdir: Path) -> dict[str, list[tuple[float, float]]]:
    """Per rule: (wall s, peak RSS MB) of each job, from Snakemake's benchmark files."""
    rules: dict[str, list[tuple[float, float]]] = {}
    for path in sorted((workdir / "results" / "benchmarks").rglob("*.tsv")):
        header, values = path.read_text().splitlines()[:2]
        record = dict(zip(header.split("\t"), values.split("\t")))
        rule = path.stem
        for prefix in ("ingest_cotahist", "download_cotahist"):
            rule = prefix if rule.startswith(prefix + "_") else rule
        rss = float(record["max_rss"]) if record.get("max_rss") not in (None, "NA", "-", "") else float("nan")
        rules.setdefault(rule, []).append((float(record["s"]), rss))
    return rules


def exact_peak(code: str, cwd: Path) -> tuple[float, float, float]:
    """Wall time (s), CPU time (s) and peak RSS (MB) of ``python -c code`` in a fresh process (``wait4``)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(proc.stderr.read().decode()[-3000:])
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def exact_codes(one_year: Path, folders: list[str]) -> dict[str, str]:
    """Python code of each job measured alone: the rule's way and, for comparison, the one-frame way."""
    events = "read_parquet('results/data/corporate_events.parquet')"
    head = "from mfg_finance.io import read_parquet, write_parquet; "
    return {
        "ingest_cotahist (one year)": (f"from mfg_finance.cotahist.file_ingest import ingest_file; "
                                       f"ingest_file({str(one_year)!r}, 'exact_ingest', strict=True)"),
        "select_equities, streamed (the rule)": (
            "from mfg_finance.cotahist.dataset_select import select_to_parquet; "
            f"select_to_parquet({folders!r}, 'exact/equities.parquet', classes=['stock'])"),
        "select_equities, years held together (before)": (
            head + "from mfg_finance.cotahist.dataset_select import select_from_dataset; "
            f"write_parquet('exact/equities_1.parquet', select_from_dataset({folders!r}, classes=['stock'])[0])"),
        "infer_corporate_events, batches of tickers (the rule)": (
            "from mfg_finance.corporate import EQUITY_COLUMNS; "
            "from mfg_finance.corporate.batched import events_from_parquet; "
            "events_from_parquet('results/data/equities.parquet', columns=EQUITY_COLUMNS)"),
        "infer_corporate_events on the whole frame (before)": (
            head + "from mfg_finance.corporate import EQUITY_COLUMNS, infer_events, merge_events, read_event_files; "
            "q = read_parquet('results/data/equities.parquet', columns=EQUITY_COLUMNS); "
            "merge_events(infer_events(q), read_event_files([], q)[0])"),
        "compute_stats, batches of tickers (the rule)": (
            head + "from mfg_finance.stats import EQUITY_COLUMNS; "
            "from mfg_finance.stats.batched import compute_stats_from_parquet; "
            "compute_stats_from_parquet('results/data/equities.parquet', 'exact/returns.parquet', "
            f"columns=EQUITY_COLUMNS, events={events})"),
        "compute_stats on the whole frame (before)": (
            head + "from mfg_finance.stats import EQUITY_COLUMNS, compute_stats; "
            "compute_stats(read_parquet('results/data/equities.parquet', columns=EQUITY_COLUMNS), "
            f"events={events})"),
        "plot_analytics, reduced inputs (the rule)": (
            "from mfg_finance.report.figures.analytics import analytics_inputs, plot_analytics; "
            "plot_analytics(*analytics_inputs('results/stats/returns.parquet', 'results/stats/asset_stats.parquet', "
            "'results/data/equities.parquet'), 'exact/figures')"),
        "plot_analytics on the whole files (before)": (
            head + "from mfg_finance.report.figures.analytics import plot_analytics; "
            "plot_analytics(read_parquet('results/stats/returns.parquet'), "
            "read_parquet('results/stats/asset_stats.parquet'), read_parquet('results/data/equities.parquet'), "
            "'exact/figures_1')"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10, help="generated years (default: %(default)s)")
    parser.add_argument("--first-year", type=int, default=2014)
    parser.add_argument("--records", type=int, default=2_800_000, help="records per year (default: %(default)s)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "mfg_forty_years")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--generate-only", action="store_true", help="only generate the cached files")
    args = parser.parse_args()

    years = list(range(args.first_year, args.first_year + args.years))
    if args.generate_only:
        cached_years(args.cache, years, args.records)
        return 0
    # Generate in a child process: this process then stays small, and the children it forks for the
    # exact measurements do not start with its pages (Linux counts the parent's resident pages at
    # fork in the child's ru_maxrss, which made every "exact" peak equal to the generator's).
    subprocess.run([sys.executable, __file__, "--generate-only", "--years", str(args.years), "--first-year",
                    str(args.first_year), "--records", str(args.records), "--cache", str(args.cache)], check=True)
    files = cached_years(args.cache, years, args.records)
    text_mb = args.records * 247 / 1e6
    workdir = Path(tempfile.mkdtemp(prefix="bench_forty_years_", dir=args.cache))
    try:
        (workdir / "input").mkdir()        # links to this run's years only (the cache may hold more)
        for path in files:
            (workdir / "input" / path.name).symlink_to(path)
        fresh_copy(workdir, "input/COTAHIST_A*.ZIP")
        snakemake = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), *TARGETS]
        load = os.getloadavg()
        start = time.perf_counter()
        proc = subprocess.run(snakemake, cwd=workdir, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-4000:])
        load_after = os.getloadavg()
        jobs = job_table(workdir)
        folders = sorted(str(p) for p in (workdir / "results/data/quotes").iterdir())
        (workdir / "exact").mkdir()
        exact = {name: exact_peak(code, workdir) for name, code in exact_codes(files[-1], folders).items()}
        equities = pd.read_parquet(workdir / "results/data/equities.parquet", columns=["ticker"])
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"Machine: {describe()}; load average {load[0]:.1f} before, {load_after[0]:.1f} after the run\n")
    print(f"{args.years} generated years ({years[0]}-{years[-1]}), {args.records:,} records and {text_mb:.0f} MB "
          f"of text each ({args.years * text_mb / 1e3:.1f} GB in all); equities kept: {len(equities):,} rows, "
          f"{equities['ticker'].nunique()} tickers. `snakemake --cores {args.cores}` from the zipped files to "
          f"`asset_stats.parquet`: **{wall:.0f} s wall**.\n")
    print("| rule | jobs | wall per job, median (max) (s) | peak RSS per job, max (MB) |")
    print("|---|---|---|---|")
    for rule, rows in sorted(jobs.items(), key=lambda kv: -max(r[1] for r in kv[1])):
        walls, rss = [r[0] for r in rows], [r[1] for r in rows]
        print(f"| {rule} | {len(rows)} | {np.median(walls):.1f} ({max(walls):.1f}) | {max(rss):.0f} |")
    print("\nExact peak RSS in a fresh process (`wait4`):\n")
    print("| job | wall (s) | CPU (s) | peak RSS (MB) | target |")
    print("|---|---|---|---|---|")
    for name, (seconds, cpu, peak) in exact.items():
        print(f"| {name} | {seconds:.1f} | {cpu:.1f} | {peak:.0f} | < 2,500 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
