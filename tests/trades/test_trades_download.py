"""Downloads of trade files: verified before they land, retried, nothing left on failure."""

from __future__ import annotations

import zipfile

import pytest

from mfg_finance.errors import DownloadError
from mfg_finance.trades import read_trades
from mfg_finance.trades.download import download_trades, session_url
from mfg_finance.trades.synthetic import write_negocios
from trades_testing import small_session


def test_session_url():
    assert session_url("2024-07-04", "https://x/{date}") == "https://x/2024-07-04"
    with pytest.raises(DownloadError, match="no {date}"):
        session_url("2024-07-04", "https://x/")
    with pytest.raises(DownloadError, match="YYYY-MM-DD"):
        session_url("04/07/2024", "https://x/{date}")


def test_download_verifies_and_refuses_a_damaged_file(tmp_path):
    good = tmp_path / "src" / "04-07-2024_NEGOCIOSAVISTA.zip"
    good.parent.mkdir()
    write_negocios(small_session(), good)
    dest = download_trades(good.as_uri(), tmp_path / "out" / "s.zip", retries=0)
    assert len(read_trades(dest)) == len(small_session())
    bad = tmp_path / "src" / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("bad.txt", "DataReferencia;nope\n")
    with pytest.raises(DownloadError, match="not a valid B3 trade file"):
        download_trades(bad.as_uri(), tmp_path / "out" / "b.zip", retries=1, backoff_s=0.0)
    assert not (tmp_path / "out" / "b.zip").exists()
