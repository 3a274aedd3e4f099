"""``data.local.glob`` read while the workflow is parsed (mfg_finance.cotahist.local_files): a glob that
matches nothing, or a broken link, stops the run naming the key; the message says what the folder holds.
The same refusal through Snakemake, before any job and after a finished run: tests/workflow/test_new_user_path.py."""

from __future__ import annotations

import pytest

from mfg_finance.cotahist.local_files import local_input_files
from mfg_finance.errors import ConfigError


def test_matches_are_sorted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "local").mkdir()
    for name in ("COTAHIST_A2022.TXT", "COTAHIST_A2021.ZIP"):
        (tmp_path / "local" / name).write_bytes(b"x")
    assert local_input_files("local/COTAHIST_*") == ["local/COTAHIST_A2021.ZIP", "local/COTAHIST_A2022.TXT"]


def test_no_match_names_the_key_the_glob_and_what_the_folder_holds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^data.local.glob: no file matches 'local/\*' .*the folder local/ "
                                          r"does not exist"):
        local_input_files("local/*")
    (tmp_path / "local").mkdir()
    with pytest.raises(ConfigError, match=r"no file matches 'local/\*' .*local/ holds no file"):
        local_input_files("local/*")
    (tmp_path / "local" / "COTAHIST_M012021.ZIP").write_bytes(b"x")      # a mistyped glob: the file is listed
    with pytest.raises(ConfigError, match=r"^data.trades.local.glob: no file matches 'local/COTAHIST_M012022.ZIP' "
                                          r".*local/ holds 1 entries \(COTAHIST_M012021.ZIP\)"):
        local_input_files("local/COTAHIST_M012022.ZIP", key="data.trades.local.glob")


def test_broken_link_is_refused_naming_its_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "COTAHIST_A2023.ZIP").symlink_to(tmp_path / "nowhere.zip")
    with pytest.raises(ConfigError, match=r"broken symbolic link\(s\) local/COTAHIST_A2023.ZIP -> .*nowhere.zip "
                                          r"\(target does not exist\)"):
        local_input_files("local/*")
