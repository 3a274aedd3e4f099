"""download_cotahist against a local HTTP server on 127.0.0.1 (bounded: it stops itself)."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cotahist_testing import valid_file_bytes
from mfg_finance.cotahist import annual_url, download_cotahist, read_cotahist
from mfg_finance.cotahist.download import verify_cotahist_zip
from mfg_finance.errors import CotahistError, DownloadError

GOOD_TEXT = valid_file_bytes(300)


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


GOOD_ZIP = zipped({"COTAHIST_A2021.TXT": GOOD_TEXT})
BAD_COUNT_ZIP = zipped({"COTAHIST_A2021.TXT": GOOD_TEXT.replace(b"00000000302", b"00000000303")})
TWO_MEMBERS_ZIP = zipped({"a.TXT": GOOD_TEXT, "b.TXT": GOOD_TEXT})


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, code: int, body: bytes = b"", length: int | None = None, content_type: str | None = None):
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        hits = Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/COTAHIST_A2021.ZIP":
            self._send(200, GOOD_ZIP)
        elif self.path == "/flaky/COTAHIST_A2021.ZIP":  # two server errors, then the file
            self._send(503) if hits <= 2 else self._send(200, GOOD_ZIP)
        elif self.path == "/truncated-once/COTAHIST_A2021.ZIP":  # connection cut mid-body, then fine
            if hits == 1:
                self._send(200, GOOD_ZIP[:len(GOOD_ZIP) // 2], length=len(GOOD_ZIP))
                self.close_connection = True
            else:
                self._send(200, GOOD_ZIP)
        elif self.path == "/always-500.ZIP":
            self._send(500)
        elif self.path == "/html.ZIP":  # a web page where the archive should be
            self._send(200, b"<html><body>Not available</body></html>", content_type="text/html; charset=utf-8")
        elif self.path == "/untyped.ZIP":  # the same page with no content type: caught by the ZIP check
            self._send(200, b"<html><body>Not available</body></html>")
        elif self.path == "/bad-count.ZIP":
            self._send(200, BAD_COUNT_ZIP)
        elif self.path == "/two-members.ZIP":
            self._send(200, TWO_MEMBERS_ZIP)
        elif self.path == "/slow.ZIP":  # headers, then silence longer than the client's timeout
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD_ZIP)))
            self.end_headers()
            time.sleep(1.5)
        else:
            self._send(404, b"not found")


@pytest.fixture(scope="module")
def server():
    Handler.hits = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(120, httpd.shutdown)  # never outlives a stuck test run
    watchdog.daemon = True
    watchdog.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    watchdog.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


FAST = dict(timeout_s=5, backoff_s=0.01)


def test_downloads_verifies_and_parses(server, tmp_path):
    dest = tmp_path / "b3" / "COTAHIST_A2021.ZIP"
    path = download_cotahist(f"{server}/COTAHIST_A2021.ZIP", dest, **FAST)
    assert path == dest and path.read_bytes() == GOOD_ZIP
    assert len(read_cotahist(path)) == 300
    assert [p.name for p in dest.parent.iterdir()] == ["COTAHIST_A2021.ZIP"]  # no temporary left


def test_destination_folder_takes_the_url_name(server, tmp_path):
    assert download_cotahist(f"{server}/COTAHIST_A2021.ZIP", tmp_path, **FAST) == tmp_path / "COTAHIST_A2021.ZIP"


@pytest.mark.parametrize("route", ["/flaky/COTAHIST_A2021.ZIP", "/truncated-once/COTAHIST_A2021.ZIP"])
def test_transient_failures_are_retried(server, tmp_path, route):
    path = download_cotahist(server + route, tmp_path / "A.ZIP", retries=3, **FAST)
    assert path.read_bytes() == GOOD_ZIP


@pytest.mark.parametrize("route, cause, retried", [
    ("/missing.ZIP", "HTTP 404", False),
    ("/always-500.ZIP", "HTTP 500", True),
    ("/html.ZIP", "server sent a text/html page, not a ZIP archive", True),
    ("/untyped.ZIP", "unreadable ZIP archive", True),
    ("/bad-count.ZIP", "trailer counts 303 records but the file has 302 lines", True),
    ("/two-members.ZIP", "holds 2 files", True),
])
def test_failures_name_url_and_cause_and_leave_nothing(server, tmp_path, route, cause, retried):
    dest = tmp_path / "X.ZIP"
    before = Handler.hits.get(route, 0)
    with pytest.raises(DownloadError) as info:
        download_cotahist(server + route, dest, retries=2, **FAST)
    assert server + route in str(info.value) and cause in str(info.value), str(info.value)
    assert Handler.hits[route] - before == (3 if retried else 1)
    assert list(tmp_path.iterdir()) == []


def test_timeout(server, tmp_path):
    with pytest.raises(DownloadError, match="TimeoutError|timed out"):
        download_cotahist(f"{server}/slow.ZIP", tmp_path / "S.ZIP", retries=0, timeout_s=0.3, backoff_s=0)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_the_previous_file(server, tmp_path):
    dest = tmp_path / "COTAHIST_A2021.ZIP"
    dest.write_bytes(GOOD_ZIP)
    with pytest.raises(DownloadError):
        download_cotahist(f"{server}/html.ZIP", dest, retries=0, **FAST)
    assert dest.read_bytes() == GOOD_ZIP


def test_connection_refused(tmp_path):
    with pytest.raises(DownloadError, match="127.0.0.1:9/x.ZIP"):
        download_cotahist("http://127.0.0.1:9/x.ZIP", tmp_path / "x.ZIP", retries=1, timeout_s=2, backoff_s=0)


def test_verify_and_url_helpers(tmp_path):
    path = tmp_path / "ok.zip"
    path.write_bytes(GOOD_ZIP)
    assert verify_cotahist_zip(path) == 302
    path.write_bytes(zipped({"x.TXT": GOOD_TEXT.replace(b"\r\n", b"\n")}))  # LF line ends are fine
    assert verify_cotahist_zip(path) == 302
    path.write_bytes(zipped({"x.TXT": GOOD_TEXT[:-2]}))  # no final line end
    assert verify_cotahist_zip(path) == 302
    path.write_bytes(zipped({"x.TXT": GOOD_TEXT[247:]}))
    with pytest.raises(CotahistError, match="expected '00'"):
        verify_cotahist_zip(path)
    assert annual_url(2023, "https://example.org/COTAHIST_A{year}.ZIP") == "https://example.org/COTAHIST_A2023.ZIP"
    with pytest.raises(DownloadError, match="placeholder"):
        annual_url(2023, "https://example.org/fixed.ZIP")
