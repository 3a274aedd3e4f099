"""Downloading B3's daily trade files, verified before they land (the COTAHIST discipline).

B3 serves the trades of each of the last few sessions at a public address (config
``data.trades.b3.url_template``, with ``{date}`` as ``YYYY-MM-DD``). The file is streamed to a
temporary name beside the destination, read in full with the strict reader (any bad line fails the
attempt, which is retried like a truncated download) and only then renamed into place.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from mfg_finance.cotahist.download import download_verified
from mfg_finance.errors import DownloadError
from mfg_finance.trades.reader import parse_session

DEFAULT_URL_TEMPLATE = "https://arquivos.b3.com.br/rapinegocios/tickercsv/{date}"
"""B3's address of one session's trades, all instruments (config ``data.trades.b3.url_template``)."""


def session_url(date: str, url_template: str = DEFAULT_URL_TEMPLATE) -> str:
    """The address of one session: ``url_template`` with ``{date}`` (YYYY-MM-DD) filled in."""
    if "{date}" not in url_template:
        raise DownloadError(f"URL template {url_template!r} has no {{date}} placeholder")
    try:
        day = dt.date.fromisoformat(date)
    except (TypeError, ValueError):
        raise DownloadError(f"session date {date!r} is not YYYY-MM-DD") from None
    return url_template.format(date=day.isoformat())


def verify_trade_file(path: str | os.PathLike) -> int:
    """Read a downloaded file with the strict reader; return its number of trades."""
    return parse_session(path, strict=True, checksum=False).summary["trades"]


def download_trades(url: str, dest: str | os.PathLike, *, retries: int = 3, timeout_s: float = 300,
                    backoff_s: float = 1.0) -> Path:
    """Download one session's trade file, verify it (strict read) and move it into place atomically.

    Raises
    ------
    DownloadError
        Naming the URL and the cause; nothing is left at ``dest`` (an older file there is kept). A 404
        says that B3 does not serve that date (its service keeps only recent sessions).
    """
    try:
        return download_verified(url, dest, verify=verify_trade_file, what="B3 trade file",
                                 default_name="trades.zip", retries=retries, timeout_s=timeout_s,
                                 backoff_s=backoff_s)
    except DownloadError as exc:
        if "HTTP 404" not in str(exc):
            raise
        raise DownloadError(f"{exc}: B3 has no trade file at this address. Its service keeps only the most recent "
                            "sessions, so the date may be older than it keeps, a weekend or holiday, or not yet "
                            "published; check data.trades.b3.dates (or use data.trades.source: local with files "
                            "you already have)") from exc
