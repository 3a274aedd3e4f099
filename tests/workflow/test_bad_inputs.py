"""Bad inputs through the whole pipeline: each fails the right rule, says why, and spares the other branches.

Every case runs the real Snakemake workflow in a temporary copy of the repository with ``--keep-going``,
asking only for the targets of the rule that must fail plus one independent branch (the Avellaneda &
Stoikov reproduction, which reads no data, or the other MFG scenario and a backtest), so each case stays
cheap. The non-converging solve starts from a copy of the session's finished run (``finished_run``), its
independent branches deleted so that they run next to the failure. The assertions read Snakemake's own
output (rule name, cause) and the job's log file, and check that the failing rule left no output behind
(not even a temporary file) while the independent branch completed.

Data cases use ``data.source: local`` with ``data.local.glob`` pointing at the bad file.

"Unreadable path": the tests run as root, for whom ``chmod 000`` does not prevent reading, so a
permission-based case would pass for the wrong reason. Two unreadable paths that hold for every user
are used instead: a directory where a COTAHIST file is expected (the ingestion job fails, naming the
file) and a dangling symbolic link (refused before any job runs, naming the link and its target).
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mfg_finance.cotahist.sample import sample_cotahist_bytes
from reproducibility import is_temporary, output_files
from wfutils import SMALL_CONFIG, copy_workflow, edit_config, snakemake

pytestmark = pytest.mark.workflow

AS_2008 = "results/market_making/avellaneda_stoikov_2008.csv"
# Ingestion is one job per input file (results/data/quotes/<file>/, results/data/ingest/<file>.json), then
# summarize_ingest; the per-file outputs are checked through the folders that hold them.
INGEST_OUTPUTS = ("results/data/ingest_summary.json", "results/data/rejects.txt", "results/data/quotes",
                  "results/data/ingest")
INGEST_TARGETS = INGEST_OUTPUTS[:2]


def ingest_log(name: str) -> str:
    return f"logs/data/ingest_cotahist_{name}.log"


def ingest_outputs_left(workdir: Path) -> list[str]:
    """Files of the ingestion outputs present (Snakemake may create the empty output folders)."""
    paths = [workdir / p for p in INGEST_OUTPUTS]
    return [str(f) for p in paths for f in ([p] if p.is_file() else p.rglob("*") if p.is_dir() else [])]


def cotahist_text(n_sessions: int = 20, only_first_session: bool = False) -> bytes:
    """A small synthetic COTAHIST file; with ``only_first_session``, its first session alone (trailer fixed)."""
    data = sample_cotahist_bytes(seed=11, n_tickers=12, n_sessions=n_sessions, start_date="2023-01-02")
    if not only_first_session:
        return data
    lines = data.split(b"\n")
    header, trailer = lines[0], lines[-2]       # the file ends with a newline: lines[-1] == b""
    first = lines[1][2:10]
    details = [line for line in lines[1:-2] if line[2:10] == first]
    count = b"%011d" % (len(details) + 2)       # TOTREG: lines of the file, header and trailer included
    return b"\n".join([header, *details, trailer[:31] + count + trailer[42:], b""])


def zipped(text: bytes, name: str = "COTAHIST_A2023.TXT") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, text)
    return buf.getvalue()


def workflow_copy(repo_root: Path, dest: Path, edit=None) -> Path:
    workdir = copy_workflow(repo_root, dest, repo_root / SMALL_CONFIG)
    if edit is not None:
        edit_config(workdir, edit)
    return workdir


def use_local_file(config: dict) -> None:
    config["data"] = {"source": "local", "local": {"glob": "resources/cotahist/local/COTAHIST_*"}}


def run_keep_going(workdir: Path, *targets: str) -> str:
    proc = snakemake(workdir, "--cores", "2", "--keep-going", *targets, check=False, timeout=600)
    assert proc.returncode != 0, f"snakemake succeeded on a bad input:\n{proc.stdout[-3000:]}"
    return proc.stdout + proc.stderr


def assert_no_temporaries(workdir: Path) -> None:
    left = [f for f in output_files(workdir) if is_temporary(f)]
    assert not left, f"temporary files left behind: {left}"


# -- bad COTAHIST files: ingest_cotahist fails, the A&S reproduction completes -------------------------

def _truncated_zip() -> bytes:
    data = zipped(cotahist_text())
    return data[: len(data) // 2]


BAD_FILES = {
    # case: (file name, content, cause expected in Snakemake's output and in the job's log)
    "truncated_zip": ("COTAHIST_A2023.ZIP", _truncated_zip, "unreadable ZIP archive"),
    "other_format": ("COTAHIST_A2023.TXT",
                     lambda: b"date,ticker,close\n2023-01-02,PETR4,23.10\n2023-01-03,PETR4,23.45\n",
                     "line 1, field RECORD_LENGTH"),
    "pdf_named_zip": ("COTAHIST_A2023.ZIP", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
                      "named like a ZIP archive but is not one (starts with b'%PDF-1.4')"),
    "empty_file": ("COTAHIST_A2023.TXT", lambda: b"", "empty"),
}


# Two cases in the default run, the other two with -m slow: the job, its failure and the spared branch are
# the same for each; what differs, the parser's message, is tested for all four by tests/cotahist
# (test_cotahist_parser.py: the empty file, the PDF named .ZIP).
SLOW_BAD_FILES = ("empty_file", "pdf_named_zip")


@pytest.mark.parametrize("case", [pytest.param(case, marks=pytest.mark.slow) if case in SLOW_BAD_FILES else case
                                  for case in sorted(BAD_FILES)])
def test_bad_cotahist_file_fails_ingestion_only(repo_root, tmp_path, case):
    name, content, cause = BAD_FILES[case]
    data = content()
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_local_file)
    bad = workdir / "resources" / "cotahist" / "local" / name
    bad.parent.mkdir(parents=True)
    bad.write_bytes(data)

    output = run_keep_going(workdir, *INGEST_TARGETS, AS_2008)

    assert "Error in rule ingest_cotahist" in output
    assert cause in output and name in output, output[-4000:]
    log = (workdir / ingest_log(name)).read_text()
    assert "CotahistError" in log and cause in log and name in log, log
    assert not ingest_outputs_left(workdir)
    assert (workdir / AS_2008).is_file()             # the independent branch completed
    assert bad.read_bytes() == data                  # the input is never touched
    assert_no_temporaries(workdir)


def test_directory_in_place_of_a_file_fails_ingestion(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_local_file)
    (workdir / "resources" / "cotahist" / "local" / "COTAHIST_A2023.TXT").mkdir(parents=True)

    output = run_keep_going(workdir, *INGEST_TARGETS, AS_2008)

    assert "Error in rule ingest_cotahist" in output
    assert "COTAHIST_A2023.TXT: cannot read file: Is a directory" in output, output[-4000:]
    assert "cannot read file" in (workdir / ingest_log("COTAHIST_A2023.TXT")).read_text()
    assert not ingest_outputs_left(workdir)
    assert (workdir / AS_2008).is_file()


def test_dangling_symlink_is_refused_before_any_job(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_local_file)
    link = workdir / "resources" / "cotahist" / "local" / "COTAHIST_A2023.ZIP"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "nowhere" / "COTAHIST_A2023.ZIP")

    output = run_keep_going(workdir, *INGEST_TARGETS, AS_2008)

    assert "data.local.glob 'resources/cotahist/local/COTAHIST_*': broken symbolic link(s) " \
           f"resources/cotahist/local/COTAHIST_A2023.ZIP -> {link.readlink()} (target does not exist)" in output, output
    assert not (workdir / "results").exists()        # planning failed: nothing ran, nothing written


# -- bad configuration: refused before any job runs, naming the key --------------------------------------

# One case in the default run (a run without -n, refused before any job); the other three (-m slow) take the same
# path, and their messages are checked in process by tests/unit/test_config.py
# (test_schema_errors_name_every_key_value_and_what_is_allowed).
@pytest.mark.parametrize("edit, expected", [
    (lambda c: c["mfg"]["solver"].update(max_iters=5), "'max_iters' was unexpected"),
    pytest.param(lambda c: c["market_making"].update(n_path=100), "'n_path' was unexpected", marks=pytest.mark.slow),
    pytest.param(lambda c: c["stats"].update(min_sessions=1), "1 is less than the minimum of 2", marks=pytest.mark.slow),
    pytest.param(lambda c: c["market_making"].update(Q_max=0), "0 is less than the minimum of 1", marks=pytest.mark.slow),
], ids=["typo_nested_key", "typo_mm_key", "min_sessions_out_of_range", "q_max_out_of_range"])
def test_bad_config_is_refused_before_any_job(repo_root, tmp_path, edit, expected):
    workdir = workflow_copy(repo_root, tmp_path / "wf", edit)
    proc = snakemake(workdir, "--cores", "1", "--keep-going", "all", check=False, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert expected in output, output[-3000:]
    assert not (workdir / "results").exists() and not (workdir / "resources" / "cotahist" / "sample").exists()


# -- data that cannot support a calibration: calibrate fails, ingestion and statistics stand ------------

def test_single_session_fails_calibration_with_the_reason(repo_root, tmp_path):
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_local_file)
    one = workdir / "resources" / "cotahist" / "local" / "COTAHIST_D02012023.TXT"
    one.parent.mkdir(parents=True)
    one.write_bytes(cotahist_text(only_first_session=True))
    calibrations = ["results/calibration/mfg_params.yaml", "results/calibration/mm_params.yaml"]

    output = run_keep_going(workdir, *calibrations, AS_2008)

    assert "Error in rule calibrate" in output
    assert "no included asset to calibrate on" in output and "n_sessions=1" in output, output[-4000:]
    for model in ("mfg", "mm"):
        log = (workdir / f"logs/calibration/calibrate_{model}.log").read_text()
        assert "CalibrationError" in log and "n_sessions=1" in log
    assert not any((workdir / p).exists() for p in calibrations)
    # upstream of the failure, everything was computed; the independent branch too
    for path in ("results/data/quotes/COTAHIST_D02012023.TXT/year=2023/part-0.parquet", "results/data/equities.parquet",
                 "results/stats/asset_stats.parquet", AS_2008):
        assert (workdir / path).is_file(), path
    assert_no_temporaries(workdir)


# -- a solver that cannot converge: that scenario fails, the other scenario and market making complete ---

def test_non_converging_scenario_fails_only_its_solve(finished_run):
    # from the session's finished run (calibration done); the branches that must complete next to the
    # failing solve are deleted first, so they are computed in the same run as the failure
    workdir = finished_run
    stuck = [f"results/mfg/stuck/{name}" for name in ("solution.npz", "metrics.json")]
    others = ["results/mfg/baseline/metrics.json", "results/mfg/baseline/solution.npz",
              "results/market_making/SYNA3/hjb.parquet", AS_2008]
    for path in others:
        (workdir / path).unlink()
    edit_config(workdir, lambda config: config["mfg"]["scenarios"].update(stuck={"solver": {"max_iter": 1}}))

    output = run_keep_going(workdir, *stuck, *others)

    assert "Error in rule solve_mfg" in output and "scenario=stuck" in output
    assert "MfgConvergenceError" in output, output[-4000:]
    log = (workdir / "logs/mfg/solve_mfg_stuck.log").read_text()
    assert "MfgConvergenceError" in log and "1 iterations" in log, log[-2000:]
    assert not (workdir / "results/mfg/stuck").exists() or not any((workdir / "results/mfg/stuck").iterdir())
    for path in others:
        assert (workdir / path).is_file(), path
    assert_no_temporaries(workdir)


# -- ingest.on_error: quarantine: bad lines set aside with the reason, the pipeline goes on ---------------

def test_quarantine_keeps_good_lines_and_lists_the_bad_ones(repo_root, tmp_path):
    def edit(config):
        use_local_file(config)
        config["ingest"] = {"on_error": "quarantine"}

    workdir = workflow_copy(repo_root, tmp_path / "wf", edit)
    lines = cotahist_text().split(b"\n")
    lines[5] = lines[5][:56] + b"00000000X0123" + lines[5][69:]     # PREABE (57-69) is not a number
    lines[9] = lines[9][:200] + lines[9][201:]                       # one byte short
    bad = workdir / "resources" / "cotahist" / "local" / "COTAHIST_A2023.TXT"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\n".join(lines))

    snakemake(workdir, "--cores", "2", "results/stats/asset_stats.parquet", *INGEST_TARGETS)

    rejects = (workdir / "results/data/rejects.txt").read_text().splitlines()
    assert len(rejects) == 2, rejects
    assert "COTAHIST_A2023.TXT:6: field PREABE (open): non-digit" in rejects[0]
    assert "COTAHIST_A2023.TXT:10: field RECORD_LENGTH: 244 bytes" in rejects[1]
    summary = json.loads((workdir / "results/data/ingest_summary.json").read_text())
    assert summary["rejected"] == 2 and summary["records"] == len(lines) - 2 - 3  # header, trailer, final ""


# -- data.source: b3 against a local server that misbehaves on purpose -----------------------------------

class B3Server(BaseHTTPRequestHandler):
    """Serves /ok (the file), /flaky (503, then the file), /bad-count (a ZIP whose trailer count is off)."""

    archive = b""
    hits: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        route = self.path.split("/")[1]
        B3Server.hits[route] = B3Server.hits.get(route, 0) + 1
        body, code = self.archive, 200
        if route == "flaky" and B3Server.hits[route] == 1:
            body, code = b"busy", 503
        elif route == "bad-count":
            text = zipfile.ZipFile(io.BytesIO(self.archive)).read("COTAHIST_A2023.TXT")
            count = text.rstrip(b"\r\n").rsplit(b"\n", 1)[-1][31:42]
            body = zipped(text.replace(count, b"%011d" % (int(count) + 1)))
        self.send_response(code)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def b3_server():
    B3Server.archive, B3Server.hits = zipped(cotahist_text()), {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), B3Server)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def use_b3(server: str, route: str):
    def edit(config):
        config["data"] = {"source": "b3", "b3": {"years": [2023], "url_template": f"{server}/{route}/A{{year}}.ZIP",
                                                  "retries": 1, "timeout_s": 10}}
    return edit


def test_b3_download_retries_a_server_error_then_feeds_the_pipeline(repo_root, tmp_path, b3_server):
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_b3(b3_server, "flaky"))
    snakemake(workdir, "--cores", "2", "results/data/ingest_summary.json")
    assert B3Server.hits["flaky"] == 2
    assert (workdir / "resources/cotahist/b3/COTAHIST_A2023.ZIP").read_bytes() == B3Server.archive
    assert "HTTP 503" in (workdir / "logs/data/download_cotahist_2023.log").read_text()
    summary = json.loads((workdir / "results/data/ingest_summary.json").read_text())
    assert summary["records"] > 0 and summary["rejected"] == 0


def test_b3_download_with_a_wrong_trailer_count_is_never_cached(repo_root, tmp_path, b3_server):
    workdir = workflow_copy(repo_root, tmp_path / "wf", use_b3(b3_server, "bad-count"))

    output = run_keep_going(workdir, *INGEST_TARGETS, AS_2008)

    assert "Error in rule download_cotahist" in output
    assert "trailer counts" in output and "/bad-count/A2023.ZIP" in output, output[-4000:]
    assert B3Server.hits["bad-count"] == 2                     # retried once, as configured
    downloads = workdir / "resources" / "cotahist" / "b3"
    assert not downloads.exists() or list(downloads.iterdir()) == []   # nothing cached, not even a temporary
    assert not ingest_outputs_left(workdir)
    assert (workdir / AS_2008).is_file()
