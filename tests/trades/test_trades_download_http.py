"""download_trades against a local HTTP server laid out like B3's trade service (bounded: it stops itself).

The default template (arquivos.b3.com.br/rapinegocios/tickercsv/{date}) could not be tried against
B3 from the machines the project was built on (no internet); these tests serve files under the same
path structure from 127.0.0.1.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mfg_finance.errors import DownloadError
from mfg_finance.trades import read_trades
from mfg_finance.trades.download import DEFAULT_URL_TEMPLATE, download_trades, session_url
from mfg_finance.trades.synthetic import negocios_text
from trades_testing import small_session

PREFIX = "/rapinegocios/tickercsv/"
TEXT = negocios_text(small_session())


def _zipped(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    return buf.getvalue()


GOOD = _zipped("01-07-2024_NEGOCIOSAVISTA.txt", TEXT)
BAD = _zipped("01-07-2024_NEGOCIOSAVISTA.txt", TEXT.replace(b";", b",", 40))   # damaged lines


class B3Like(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes = b"", length: int | None = None, content_type="application/zip"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        date = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else None
        hits = B3Like.hits[self.path] = B3Like.hits.get(self.path, 0) + 1
        if date == "2024-07-01":
            self._send(200, GOOD)
        elif date == "2024-07-02":                      # overloaded twice, then the file
            self._send(503, b"busy", content_type="text/plain") if hits <= 2 else self._send(200, GOOD)
        elif date == "2024-07-03":                      # silent past the client's timeout once
            if hits == 1:
                self.send_response(200)
                self.send_header("Content-Length", str(len(GOOD)))
                self.end_headers()
                time.sleep(1.0)
            else:
                self._send(200, GOOD)
        elif date == "2024-07-04":                      # cut mid-body once
            if hits == 1:
                self._send(200, GOOD[:len(GOOD) // 2], length=len(GOOD))
                self.close_connection = True
            else:
                self._send(200, GOOD)
        elif date == "2024-07-05":
            self._send(200, BAD)
        elif date == "2024-07-08":
            self._send(200, b"not a zip at all")
        else:
            self._send(404, b"<html>not found</html>", content_type="text/html")


@pytest.fixture(scope="module")
def b3(tmp_path_factory):
    B3Like.hits = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), B3Like)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(120, httpd.shutdown)
    watchdog.daemon = True
    watchdog.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}{{date}}"
    watchdog.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


FAST = dict(timeout_s=0.5, backoff_s=0.01)


def test_same_path_structure_as_the_default_template(b3):
    assert DEFAULT_URL_TEMPLATE.endswith(PREFIX + "{date}") and b3.endswith(PREFIX + "{date}")


def test_a_session_downloads_verified_and_reads(b3, tmp_path):
    dest = download_trades(session_url("2024-07-01", b3), tmp_path / "2024-07-01.zip", retries=0, **FAST)
    assert dest.read_bytes() == GOOD and len(read_trades(dest)) == len(small_session())
    assert [p.name for p in tmp_path.iterdir()] == ["2024-07-01.zip"]          # no temporary left


@pytest.mark.parametrize("date, attempts", [("2024-07-02", 3), ("2024-07-03", 2), ("2024-07-04", 2)])
def test_server_errors_timeouts_and_truncation_are_retried(b3, tmp_path, date, attempts):
    url = session_url(date, b3)
    dest = download_trades(url, tmp_path / f"{date}.zip", retries=3, **FAST)
    assert dest.read_bytes() == GOOD and B3Like.hits[PREFIX + date] == attempts


@pytest.mark.parametrize("date, cause", [("2024-07-05", "not a valid B3 trade file"),
                                         ("2024-07-08", "not a valid B3 trade file")])
def test_a_bad_file_is_refused_naming_the_url_and_an_older_file_is_kept(b3, tmp_path, date, cause):
    dest = tmp_path / f"{date}.zip"
    dest.write_bytes(b"older copy")
    url = session_url(date, b3)
    with pytest.raises(DownloadError) as info:
        download_trades(url, dest, retries=1, **FAST)
    assert url in str(info.value) and cause in str(info.value)
    assert B3Like.hits[PREFIX + date] == 2 and dest.read_bytes() == b"older copy"
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]


def test_404_is_not_retried_and_says_what_to_check(b3, tmp_path):
    url = session_url("2019-01-02", b3)
    with pytest.raises(DownloadError) as info:
        download_trades(url, tmp_path / "old.zip", retries=3, **FAST)
    message = str(info.value)
    assert url in message and "HTTP 404" in message and "most recent sessions" in message
    assert "data.trades.b3.dates" in message and B3Like.hits[PREFIX + "2019-01-02"] == 1
    assert list(tmp_path.iterdir()) == []
