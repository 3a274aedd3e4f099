"""The README's real-data recipe, run as written on real B3 files from ../shared (skipped when absent).

The commands are read from README.md (section "Using real B3 data"), so the README cannot drift from what
is tested: copy the files into resources/cotahist/local/, then the README's snakemake command.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wfutils import copy_workflow

pytestmark = pytest.mark.workflow

MONTH = "COTAHIST_M012021.ZIP"      # 19 sessions of January 2021
PARTIAL_YEARS = ("COTAHIST_A2021.ZIP", "COTAHIST_A2023.ZIP")   # annual files saved after 16 and 12 sessions


def readme_recipe(repo_root: Path) -> tuple[str, list[str]]:
    """(folder the files go to, snakemake command) of the README's real-data recipe."""
    readme = (repo_root / "README.md").read_text()
    section = readme.split("## Using real B3 data", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    folder = next(line for line in lines if line.startswith("mkdir -p ")).removeprefix("mkdir -p ").strip()
    command = next(line for line in lines if line.startswith("snakemake "))
    return folder, shlex.split(command)


def run_recipe(repo_root: Path, workdir: Path, files: list[Path], *targets: str) -> subprocess.CompletedProcess:
    folder, command = readme_recipe(repo_root)
    copy_workflow(repo_root, workdir, repo_root / "config" / "config.yaml")
    (workdir / folder).mkdir(parents=True)
    for f in files:
        shutil.copy2(f, workdir / folder / f.name)
    # targets go right after "snakemake": after --configfile they would be read as more config files
    proc = subprocess.run([sys.executable, "-m", command[0], *targets, *command[1:]], cwd=workdir,
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def test_readme_recipe_is_the_shipped_config(repo_root):
    folder, command = readme_recipe(repo_root)
    assert command[:2] == ["snakemake", "--cores"] and "--configfile" in command
    configfile = command[command.index("--configfile") + 1]
    assert configfile == "config/real_b3.yaml" and (repo_root / configfile).is_file()
    assert folder == "resources/cotahist/local"


@pytest.mark.slow
@pytest.mark.realdata
def test_readme_recipe_runs_on_a_month_of_real_data(repo_root, real_data_dir, tmp_path):
    workdir = tmp_path / "wf"
    run_recipe(repo_root, workdir, [real_data_dir / MONTH])
    html = (workdir / "reports/final/mfg_report.html").read_text()
    assert "SYNTHETIC SAMPLE DATA" not in html
    assert "PETR4" in html and "VALE3" in html
    provenance = json.loads((workdir / "results/provenance.json").read_text())
    assert [Path(f["path"]).name for f in provenance["inputs"]] == [MONTH]
    assert provenance["source"] == "local"


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", PARTIAL_YEARS)
def test_readme_recipe_calibrates_on_partial_annual_files(repo_root, real_data_dir, tmp_path, name):
    workdir = tmp_path / "wf"
    run_recipe(repo_root, workdir, [real_data_dir / name],
               "results/calibration/mfg_params.yaml", "results/calibration/mm_params.yaml")
    assert (workdir / "results/calibration/mm_params.yaml").read_text().count("PETR4") >= 1
