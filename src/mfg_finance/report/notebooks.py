"""Execute a notebook with papermill and export it to HTML (both written atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from mfg_finance.io import atomic_path, write_text


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
        executed = nbformat.read(str(tmp), as_version=4)
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
        write_text(out_html, html)
