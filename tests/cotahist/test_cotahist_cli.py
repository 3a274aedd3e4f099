"""mfg-finance ingest | sample | download (run in-process through the real entry point)."""

from __future__ import annotations

import json

import pandas as pd

from cotahist_testing import join_lines, lines_of, valid_file_bytes
from mfg_finance.cli import main
from mfg_finance.cotahist import COLUMNS


def test_sample_then_ingest(tmp_path, capsys):
    sample = tmp_path / "S.TXT"
    assert main(["sample", "-o", str(sample), "--seed", "3", "--n-tickers", "5", "--n-sessions", "20",
                 "--start-date", "2024-03-01", "--truth", str(tmp_path / "events.csv")]) == 0
    assert (tmp_path / "events.csv").read_text().startswith("ticker,ex_date,kind,factor,amount\n")
    out = tmp_path / "quotes.parquet"
    assert main(["ingest", str(sample), "-o", str(out), "--summary", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert f"{sample}: " in printed and "records, 0 rejected" in printed and "2024-03-01 .. " in printed
    quotes = pd.read_parquet(out)
    assert tuple(quotes.columns) == COLUMNS and isinstance(quotes["ticker"].dtype, pd.CategoricalDtype)
    assert json.loads((tmp_path / "s.json").read_text())["records"] == len(quotes)


def test_ingest_strict_error_and_quarantine(tmp_path, capsys):
    lines = lines_of(valid_file_bytes(3))
    lines[2] = lines[2][:60] + b"?" + lines[2][61:]
    bad = tmp_path / "BAD.TXT"
    bad.write_bytes(join_lines(lines))
    out = tmp_path / "q.parquet"
    assert main(["ingest", str(bad), "-o", str(out)]) == 2
    assert f"{bad}, line 3, field PREABE (open)" in capsys.readouterr().err
    assert not out.exists()
    rejects = tmp_path / "rejects.txt"
    assert main(["ingest", str(bad), "-o", str(out), "--quarantine", str(rejects)]) == 0
    assert rejects.read_text().startswith(f"{bad}:3: field PREABE (open): non-digit")
    assert len(pd.read_parquet(out)) == 2
    assert "2 records, 1 rejected" in capsys.readouterr().out


def test_download_error_is_reported(tmp_path, capsys):
    code = main(["download", "--year", "2021", "-o", str(tmp_path / "b3"), "--url-template",
                 "http://127.0.0.1:9/COTAHIST_A{year}.ZIP", "--retries", "0", "--timeout-s", "2"])
    assert code == 2
    assert "http://127.0.0.1:9/COTAHIST_A2021.ZIP" in capsys.readouterr().err
