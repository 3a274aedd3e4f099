"""Sub-commands ``mfg-finance ingest | sample | download``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _ingest(args: argparse.Namespace) -> int:
    from mfg_finance.cotahist.parser import ingest
    from mfg_finance.io import write_json, write_parquet, write_text

    result = ingest(args.files, strict=args.quarantine is None)
    write_parquet(args.output, result.quotes)
    if args.quarantine is not None:
        write_text(args.quarantine, "".join(f"{line}\n" for line in result.rejects))
    if args.summary is not None:
        write_json(args.summary, result.summary)
    for f in result.summary["files"]:
        print(f"{f['path']}: {f['records']} records, {f['rejected']} rejected, {f['date_min']} .. {f['date_max']}")
    s = result.summary
    print(f"total: {s['records']} records, {s['rejected']} rejected, {s['n_tickers']} tickers, "
          f"{s['date_min']} .. {s['date_max']} -> {args.output}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from mfg_finance.cotahist.sample import write_sample_cotahist

    write_sample_cotahist(args.output, seed=args.seed, n_tickers=args.n_tickers, n_sessions=args.n_sessions,
                          start_date=args.start_date, truth_path=args.truth)
    print(f"synthetic COTAHIST sample written to {args.output}"
          + (f", its corporate events to {args.truth}" if args.truth else ""))
    return 0


def _download(args: argparse.Namespace) -> int:
    from mfg_finance.cotahist.download import annual_url, download_cotahist

    url = annual_url(args.year, args.url_template)
    args.output.mkdir(parents=True, exist_ok=True)
    path = download_cotahist(url, args.output / Path(url.split("?")[0]).name, retries=args.retries,
                             timeout_s=args.timeout_s)
    print(f"{url} -> {path} (verified)")
    return 0


def register(subparsers) -> None:
    """Add the ``ingest``, ``sample`` and ``download`` sub-commands to ``mfg-finance``."""
    from mfg_finance.cotahist.download import DEFAULT_URL_TEMPLATE

    p = subparsers.add_parser("ingest", help="parse COTAHIST files (.TXT or .ZIP) into Parquet",
                              description="Parse B3 COTAHIST files into one typed Parquet table.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="COTAHIST .TXT or single-file .ZIP")
    p.add_argument("-o", "--output", type=Path, required=True, help="output Parquet file (quotes)")
    p.add_argument("--quarantine", type=Path, metavar="REJECTS.txt",
                   help="keep going past bad lines and list them in this file (default: stop at the first)")
    p.add_argument("--summary", type=Path, metavar="SUMMARY.json", help="also write the ingest summary")
    p.set_defaults(func=_ingest)

    p = subparsers.add_parser("sample", help="write the deterministic synthetic COTAHIST file",
                              description="Write a synthetic COTAHIST file (tickers SYNA3, SYNB4, ...).")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .TXT file")
    p.add_argument("--seed", type=int, default=20230102, help="random seed (default: %(default)s)")
    p.add_argument("--n-tickers", type=int, default=40, help="equities (default: %(default)s)")
    p.add_argument("--n-sessions", type=int, default=250, help="sessions (default: %(default)s)")
    p.add_argument("--start-date", default="2023-01-02", help="first session YYYY-MM-DD (default: %(default)s)")
    p.add_argument("--truth", type=Path, metavar="EVENTS.csv",
                   help="also write the corporate events put in the sample (ticker,ex_date,kind,factor,amount)")
    p.set_defaults(func=_sample)

    p = subparsers.add_parser("download", help="download and verify B3's annual COTAHIST archive",
                              description="Download COTAHIST_A{year}.ZIP from B3, verified, atomically.")
    p.add_argument("--year", type=int, required=True, help="year of the annual file")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="destination folder")
    p.add_argument("--url-template", default=DEFAULT_URL_TEMPLATE,
                   help="address with a {year} placeholder (default: %(default)s)")
    p.add_argument("--retries", type=int, default=3, help="retries after transient errors (default: %(default)s)")
    p.add_argument("--timeout-s", type=float, default=120.0, help="seconds without data before giving up "
                   "an attempt (default: %(default)s)")
    p.set_defaults(func=_download)
