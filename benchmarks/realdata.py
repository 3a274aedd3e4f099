"""Real B3 files for the benchmarks (imported by the benchmark scripts, run as `python benchmarks/X.py`).

The files live in the shared data folder beside the checkout (``../shared/data/cotahist``, or
``$MFG_SHARED_DATA``) and are never copied into the project; larger files are built in a temporary folder
by repeating the quote records of the real monthly file between one header and a trailer with the right count.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

RECORD_LINE = 247  # 245 bytes + CRLF
MONTHLY = "COTAHIST_M012021.ZIP"


def shared_data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "cotahist"
    return Path(os.environ.get("MFG_SHARED_DATA", default))


def monthly_text() -> tuple[str, bytes]:
    """(member name, text) of B3's real monthly file; exits with a message when it is not there."""
    archive = shared_data_dir() / MONTHLY
    if not archive.is_file():
        sys.exit(f"real file not found: {archive} (set MFG_SHARED_DATA)")
    with zipfile.ZipFile(archive) as zf:
        member = zf.infolist()[0]
        return member.filename, zf.read(member)


def split_records(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(header line, quote lines, trailer line) of a COTAHIST text."""
    return data[:RECORD_LINE], data[RECORD_LINE:-RECORD_LINE], data[-RECORD_LINE:]


def with_trailer_count(trailer: bytes, count: int) -> bytes:
    """The trailer line with TOTREG (positions 32-42: lines including header and trailer) set to ``count``."""
    return trailer[:31] + b"%011d" % count + trailer[42:]


def write_repeated(dest: Path, data: bytes, target_mb: float) -> tuple[int, int]:
    """Write ``data``'s quote records repeated to about ``target_mb`` MB as one valid COTAHIST file at
    ``dest``; return (copies, quote records)."""
    header, details, trailer = split_records(data)
    copies = max(1, round(target_mb * 1e6 / len(details)))
    records = copies * (len(details) // RECORD_LINE)
    with open(dest, "wb") as fh:
        fh.write(header)
        for _ in range(copies):
            fh.write(details)
        fh.write(with_trailer_count(trailer, records + 2))
    return copies, records
