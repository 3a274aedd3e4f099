"""Issue 21: hostile and degenerate files get a CotahistError (or a bounded result) within a memory cap.

Each file is fed through ``ingest`` (strict and quarantine) in one child process whose address
space is capped, after warm-up, at its size plus :data:`BUDGET_MB`: far below what reading these
files line by line used to take (5-6 GB), and above what a legitimate file of their size needs.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from cotahist_testing import join_lines, lines_of, valid_file_bytes
from mfg_finance.cotahist import ingest, read_cotahist
from mfg_finance.cotahist.parser import MAX_REJECTS_LISTED
from mfg_finance.errors import CotahistError

BUDGET_MB = 512
GOOD = valid_file_bytes(4)   # 1 header, 4 quotes, 1 trailer (CRLF)
HEADER = lines_of(GOOD)[0] + b"\r\n"

CHILD = textwrap.dedent("""
    import json, resource, sys
    from mfg_finance.cotahist import ingest
    from mfg_finance.errors import CotahistError

    warm, budget, cases = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    ingest(warm)                                   # imports and JIT before the cap
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + budget, vm + budget))
    out = {}
    for path, strict in cases:
        try:
            result = ingest(path, strict=strict)
        except CotahistError as exc:
            out[f"{path}|{strict}"] = {"error": "CotahistError", "message": str(exc)}
        except BaseException as exc:               # MemoryError included: reported, not hidden
            out[f"{path}|{strict}"] = {"error": type(exc).__name__, "message": str(exc)[:300]}
        else:
            out[f"{path}|{strict}"] = {"summary": result.summary, "n_rejects": len(result.rejects),
                                       "last_reject": result.rejects[-1] if result.rejects else None}
    print(json.dumps(out))
""")


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _encrypted(zip_bytes: bytes) -> bytes:
    """Set the 'encrypted' flag bit of the member in both the local and the central header."""
    data = bytearray(zip_bytes)
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 1
    data[central + 8] |= 1
    return bytes(data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    files = {
        "newlines_zip": ("NEWLINES.ZIP", _zip("COTAHIST.TXT", b"\n" * (40 << 20))),
        "newlines_txt": ("NEWLINES.TXT", b"\n" * (20 << 20)),
        "header_then_newlines": ("HEADNL.TXT", HEADER + b"\r\n" * (10 << 20)),
        "header_lines_zip": ("HEADERS.ZIP", _zip("COTAHIST.TXT", HEADER * 200_000)),
        "header_lines_txt": ("HEADERS.TXT", HEADER * 20_000),
        "encrypted_zip": ("ENC.ZIP", _encrypted(_zip("COTAHIST.TXT", GOOD))),
    }
    paths = {}
    for key, (name, data) in files.items():
        paths[key] = root / name
        paths[key].write_bytes(data)
    warm = root / "WARM.TXT"
    warm.write_bytes(GOOD)
    cases = [[str(p), strict] for p in paths.values() for strict in (True, False)]
    proc = subprocess.run([sys.executable, "-c", CHILD, str(warm), str(BUDGET_MB << 20), json.dumps(cases)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)
    return {key: {strict: results[f"{paths[key]}|{strict}"] for strict in (True, False)} for key in paths}


@pytest.mark.parametrize("key, message", [
    ("newlines_zip", "inflates"),
    ("newlines_txt", "not a COTAHIST file: none of its first 16 lines"),
    ("header_lines_zip", "inflates"),
    ("encrypted_zip", "encrypted"),
])
def test_hostile_file_fails_with_cotahist_error_in_both_modes(hostile, key, message):
    for strict in (True, False):
        outcome = hostile[key][strict]
        assert outcome.get("error") == "CotahistError", outcome
        assert message in outcome["message"]


@pytest.mark.parametrize("key, n_lines", [("header_then_newlines", 1 + (10 << 20)), ("header_lines_txt", 20_000)])
def test_many_bad_lines_are_counted_and_the_list_is_capped(hostile, key, n_lines):
    assert hostile[key][True].get("error") == "CotahistError"
    quarantined = hostile[key][False]
    assert "summary" in quarantined, quarantined
    summary = quarantined["summary"]["files"][0]
    assert summary["lines"] == n_lines and summary["records"] == 0
    assert summary["rejected"] == n_lines - 1                  # all but the header
    listed = summary["rejected"] - summary["rejects_not_listed"]
    assert listed <= MAX_REJECTS_LISTED and quarantined["n_rejects"] <= 2 * MAX_REJECTS_LISTED + 3
    assert quarantined["last_reject"].startswith("# ") and \
        f"{summary['rejects_not_listed']} more rejected lines not listed" in quarantined["last_reject"]


def test_fifo_is_refused_not_opened(tmp_path):
    fifo = tmp_path / "COTAHIST.TXT"
    os.mkfifo(fifo)
    # in a child with a timeout: opening a FIFO without a writer would block this test run forever
    code = "import sys; from mfg_finance.cotahist import ingest; ingest(sys.argv[1])"
    proc = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "CotahistError" in proc.stderr and "FIFO" in proc.stderr


def test_directory_is_refused(tmp_path):
    with pytest.raises(CotahistError, match="directory"):
        ingest(tmp_path)


def _stray_lf(data: bytes, line: int, column: int, *, insert: bool) -> bytes:
    """An LF at 1-based ``column`` of ``line``: inserted, or in place of the byte there."""
    lines = lines_of(data)
    old = lines[line - 1]
    lines[line - 1] = old[:column - 1] + b"\n" + old[column - 1 if insert else column:]
    return join_lines(lines)


@pytest.mark.parametrize("insert", [False, True], ids=["replaced byte (fast path)", "inserted (general path)"])
def test_stray_lf_in_a_crlf_file_is_framed_one_way(tmp_path, insert):
    data = _stray_lf(GOOD, 3, 150, insert=insert)       # inside line 3's n_trades field
    path = tmp_path / "STRAY.TXT"
    path.write_bytes(data)
    with pytest.raises(CotahistError) as info:
        read_cotahist(path)
    assert info.value.line == 3                          # not shifted, whichever path read it
    assert info.value.field == ("RECORD_LENGTH" if insert else "TOTNEG (n_trades)")
    result = ingest(path, strict=False)
    f = result.summary["files"][0]
    assert f["lines"] == 6 and f["trailer_count"] == 6 and f["records"] == 3 and f["rejected"] == 1
    assert [r.split(":")[1] for r in result.rejects] == ["3"]   # no trailer-count complaint either


def test_lf_files_still_split_at_every_lf(tmp_path):
    path = tmp_path / "LF.TXT"
    path.write_bytes(GOOD.replace(b"\r\n", b"\n"))
    assert len(read_cotahist(path)) == 4


def test_zero_quote_factor_is_rejected_not_turned_into_inf_prices(tmp_path):
    lines = lines_of(GOOD)
    lines[2] = lines[2][:210] + b"0000000" + lines[2][217:]     # FATCOT, columns 211-217
    path = tmp_path / "FATCOT.TXT"
    path.write_bytes(join_lines(lines))
    with pytest.raises(CotahistError, match=r"line 3, field FATCOT \(quote_factor\): '0000000' is zero"):
        read_cotahist(path)
    result = ingest(path, strict=False)
    assert result.summary["records"] == 3 and result.summary["rejected"] == 1


def test_encrypted_download_is_refused_by_the_archive_check(tmp_path):
    from mfg_finance.cotahist.download import verify_cotahist_zip

    path = tmp_path / "COTAHIST_A2023.ZIP"
    path.write_bytes(_encrypted(_zip("COTAHIST_A2023.TXT", GOOD)))
    with pytest.raises(CotahistError, match="encrypted"):
        verify_cotahist_zip(path)


def test_report_counts_the_rejects_that_were_not_listed(tmp_path):
    from mfg_finance.report.render import _rejects

    path = tmp_path / "rejects.txt"
    path.write_text("F:2: field X: bad\nF:3: field X: bad\n# F: 5 more rejected lines not listed (at most 1000 "
                    "per file and kind of problem)\n")
    shown = _rejects(path)
    assert shown["total"] == 7 and shown["n_shown"] == 2 and shown["lines"][-1].startswith("F: 5 more")
