"""Downloading B3's annual COTAHIST archives, verified before they land.

B3 publishes ``COTAHIST_A{year}.ZIP`` at a public address (config ``data.b3.url_template``). The
file is streamed to a temporary name beside the destination, checked (a readable ZIP holding one
file whose first record is a header and whose trailer counts the lines before it) and only then
renamed into place: an interrupted or bad download never leaves a file that looks finished.
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from mfg_finance import __version__
from mfg_finance.cotahist.fields import FieldValueError, decode_field
from mfg_finance.cotahist.layout import HEADER, RECORD_BYTES, TRAILER, TRAILER_FIELDS
from mfg_finance.cotahist.source import refuse_encrypted, single_member
from mfg_finance.errors import CotahistError, DownloadError
from mfg_finance.io import atomic_path

DEFAULT_URL_TEMPLATE = "https://bvmf.bmfbovespa.com.br/InstDados/SerHist/COTAHIST_A{year}.ZIP"
"""B3's address of the annual files (config ``data.b3.url_template``)."""

_CHUNK = 1 << 20
_USER_AGENT = f"mfg-finance/{__version__} (research pipeline; urllib)"
_TOTREG = next(f for f in TRAILER_FIELDS if f.name == "TOTREG")
log = logging.getLogger(__name__)


class _Retryable(Exception):
    """A failure worth another attempt (connection, timeout, 5xx, truncated or corrupt file)."""


def annual_url(year: int, url_template: str = DEFAULT_URL_TEMPLATE) -> str:
    """The address of one year's archive: ``url_template`` with ``{year}`` filled in."""
    if "{year}" not in url_template:
        raise DownloadError(f"URL template {url_template!r} has no {{year}} placeholder")
    return url_template.format(year=int(year))


def verify_cotahist_zip(path: str | os.PathLike) -> int:
    """Check a downloaded archive without loading it whole; return its number of lines.

    Raises
    ------
    CotahistError
        Not a ZIP, not exactly one member, truncated or corrupt data (CRC), no header first, no
        trailer last, or a trailer count that disagrees with the number of lines.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            member = single_member(archive, path)
            refuse_encrypted(member, path)
            lines, head, tail, ends_with_newline = 0, b"", b"", True
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    if not head:
                        head = chunk[:2]
                    lines += chunk.count(b"\n")
                    tail = (tail + chunk)[-2 * (RECORD_BYTES + 2):]
                    ends_with_newline = chunk.endswith(b"\n")
    except CotahistError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError) as exc:
        raise CotahistError(f"unreadable ZIP archive (truncated or corrupt): {exc}", path=str(path)) from exc
    lines += 0 if ends_with_newline else 1
    if head != HEADER.encode():
        raise CotahistError(f"first record type {head.decode('latin-1')!r}, expected '00' (header)",
                            path=str(path), line=1, field="TIPREG")
    last = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].rstrip(b"\r")
    if len(last) != RECORD_BYTES or last[:2] != TRAILER.encode():
        raise CotahistError(f"last line is not a trailer record ('99', {RECORD_BYTES} bytes)",
                            path=str(path), line=lines, field="TIPREG")
    try:
        count = decode_field(_TOTREG, last[_TOTREG.offset:_TOTREG.end])
    except FieldValueError as exc:
        raise CotahistError(str(exc), path=str(path), line=lines, field="TOTREG") from None
    if count != lines:
        raise CotahistError(f"trailer counts {count} records but the file has {lines} lines",
                            path=str(path), line=lines, field="TOTREG")
    return lines


def _fetch(url: str, dest: Path, timeout_s: float) -> int:
    """Stream ``url`` to ``dest``; return the number of bytes written."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, open(dest, "wb") as out:
            # get_content_type() says text/plain when the header is absent: look at the header itself
            content_type = response.headers.get_content_type() if response.headers.get("Content-Type") else ""
            if content_type.startswith("text/"):
                # an error or maintenance page served with status 200 where the archive should be
                raise _Retryable(f"server sent a {content_type} page, not a ZIP archive")
            expected = response.headers.get("Content-Length")
            shutil.copyfileobj(response, out, _CHUNK)
            written = out.tell()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from exc
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc
    if expected is not None and expected.isdigit() and int(expected) != written:
        raise _Retryable(f"connection closed after {written} of {expected} bytes")
    return written


def download_cotahist(url: str, dest: str | os.PathLike, *, retries: int = 3, timeout_s: float = 120,
                      backoff_s: float = 1.0) -> Path:
    """Download a COTAHIST ZIP archive, verify it and move it into place atomically.

    :func:`download_verified` with :func:`verify_cotahist_zip`; parameters, return value and errors
    as there.
    """
    return download_verified(url, dest, verify=verify_cotahist_zip, what="COTAHIST archive",
                             default_name="COTAHIST.ZIP", retries=retries, timeout_s=timeout_s,
                             backoff_s=backoff_s)


def download_verified(url: str, dest: str | os.PathLike, *, verify: Callable[[Path], int], what: str,
                      default_name: str, retries: int = 3, timeout_s: float = 120,
                      backoff_s: float = 1.0) -> Path:
    """Download a file, check it with ``verify`` and move it into place atomically.

    ``verify(path)`` returns a count for the log (lines, trades) or raises a
    :class:`~mfg_finance.errors.CotahistError` (or subclass) naming what is wrong; a file that
    fails it is retried like a truncated download.

    Parameters
    ----------
    url : str
        Address of the archive (``http(s)://`` or ``file://``).
    dest : path
        Destination file; if it is an existing directory, the URL's file name inside it.
    retries : int
        Further attempts after a connection error, a timeout, an HTTP 5xx/408/429 answer or a
        truncated/corrupt file (attempts = retries + 1). HTTP 4xx answers are not retried.
    timeout_s : float
        Seconds without any data before an attempt is abandoned.
    backoff_s : float
        Wait before the first retry (seconds); doubled at each further retry.

    Returns
    -------
    Path
        The verified archive.

    Raises
    ------
    DownloadError
        Naming the URL and the cause; nothing is left at ``dest`` (an older file there is kept).
    """
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / (Path(urlparse(url).path).name or default_name)
    causes = []
    for attempt in range(int(retries) + 1):
        if attempt:
            delay = backoff_s * 2 ** (attempt - 1)
            log.warning("download of %s failed (%s); retry %d/%d in %.1f s", url, causes[-1], attempt, retries, delay)
            time.sleep(delay)
        try:
            with atomic_path(dest) as tmp:
                size = _fetch(url, tmp, timeout_s)
                try:
                    count = verify(tmp)
                except CotahistError as exc:
                    raise _Retryable(f"downloaded file is not a valid {what}: {exc}") from exc
            log.info("downloaded %s: %d bytes, %d lines/records, verified", url, size, count)
            return dest
        except _Retryable as exc:
            causes.append(str(exc))
        except OSError as exc:
            if isinstance(exc, DownloadError):
                raise
            raise DownloadError(f"{url}: cannot write {dest}: {exc}") from exc
    raise DownloadError(f"{url}: failed after {len(causes)} attempt(s); last cause: {causes[-1]}")
