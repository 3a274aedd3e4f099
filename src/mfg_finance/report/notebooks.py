"""Execute a notebook with papermill and export it to HTML (both written atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from mfg_finance.errors import MissingOutputError
from mfg_finance.io import atomic_path, write_text


def pipeline_file(pipeline_dir: str | Path, relative: str | Path) -> Path:
    """``pipeline_dir / relative``, the absolute path of a pipeline output a notebook reads.

    Raises :class:`MissingOutputError` saying where it looked and what to do when it is not there,
    instead of a traceback from deep inside a reader.
    """
    root = Path(pipeline_dir).expanduser().resolve()
    path = root / relative
    if not path.is_file():
        raise MissingOutputError(
            f"{Path(relative).as_posix()}: not found under pipeline_dir {root}. Run the pipeline there "
            "first (snakemake --cores all), or pass the checkout that ran it: papermill ... "
            "-p pipeline_dir /path/to/mfg-finance")
    return path


def execute_notebook(notebook: str | Path, out_ipynb: str | Path, out_html: str | Path, *,
                     parameters: Mapping[str, Any], cwd: str | Path | None = None,
                     kernel_name: str = "python3") -> None:
    """Run ``notebook`` with papermill (``parameters`` injected after its ``parameters`` cell).

    A failing cell raises papermill's ``PapermillExecutionError``; no output is left behind then.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    with atomic_path(out_ipynb) as tmp:
        papermill.execute_notebook(str(notebook), str(tmp), parameters=dict(parameters),
                                   kernel_name=kernel_name, cwd=str(cwd or os.getcwd()),
                                   progress_bar=False, log_output=False)
        executed = _without_run_paths(nbformat.read(str(tmp), as_version=4), out_ipynb)
        nbformat.write(executed, str(tmp))
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
        write_text(out_html, html)


def _without_run_paths(nb, out_ipynb: str | Path):
    """Make the executed notebook independent of where and under which temporary name it ran.

    Papermill records the path it wrote to (here the temporary name, absolute) and gives its injected
    parameters cell a random id; both would make equal runs give different bytes. The execution times
    papermill records (``start_time``, ``end_time``, ``duration``) are kept: they are the run's timestamp.
    """
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["output_path"] = Path(out_ipynb).as_posix()
    for index, cell in enumerate(nb.cells):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = f"injected-parameters-{index}"
    return nb
