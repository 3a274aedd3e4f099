"""Atomic, deterministic writers for every artefact the pipeline produces.

Two rules hold for every file written through this module:

* **Atomic**: data go to a temporary name in the destination folder and are renamed into place only
  when complete, so an interrupted job never leaves a partial file that looks finished.
* **Deterministic**: the same content gives the same bytes (sorted JSON keys, no timestamps in
  Parquet metadata, fixed NPZ member timestamps), so reruns can be compared byte for byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from glob import escape as glob_escape
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # a live process of another user, or not a PID at all: leave its file alone
    return True


def remove_stale_temporaries(dest: str | os.PathLike) -> list[Path]:
    """Remove temporary files of :func:`atomic_path` for ``dest`` whose writer process is gone.

    A writer killed outright (``SIGKILL``, out of memory, power loss) cannot remove its temporary
    file; the next writer of the same destination does. Temporary names carry the writer's PID
    (``.{name}.{pid}.XXXXXXXX.tmp``); files of a live process are left alone, so concurrent
    writers never remove each other's work. Returns the removed paths.
    """
    dest = Path(dest)
    removed = []
    for tmp in dest.parent.glob(f".{glob_escape(dest.name)}.*.tmp"):
        pid = tmp.name[len(dest.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    On failure (including ``SystemExit`` from a SIGTERM handler) the temporary file is removed; one
    left by a killed writer is removed by the next writer of ``path`` (:func:`remove_stale_temporaries`).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs should be shareable
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new temporary folder beside ``path``; it replaces ``path`` only if the block succeeds.

    Like :func:`atomic_path` for a folder output (a per-file dataset folder): a reader never sees a
    half-written folder. A folder already at ``path`` is removed first; on failure the temporary
    folder is removed, and one left by a killed writer is removed by the next writer of ``path``.
    """
    import shutil

    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{glob_escape(dest.name)}.*.tmp"):
        pid = stale.name[len(dest.name) + 2:].split(".", 1)[0]
        if stale.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def to_builtin(obj: Any) -> Any:
    """Convert numpy scalars/arrays and paths to plain Python types for JSON/YAML."""
    if isinstance(obj, dict):
        return {str(k): to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_builtin(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_builtin(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def _json_safe(obj: Any) -> Any:
    # JSON has no NaN/inf; write them as null so files stay standard (and say so explicitly).
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def dumps_json(obj: Any) -> str:
    return json.dumps(_json_safe(to_builtin(obj)), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, dumps_json(obj))


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    import yaml

    write_text(path, yaml.safe_dump(to_builtin(obj), sort_keys=False, default_flow_style=False,
                                    allow_unicode=True))


def read_yaml(path: str | os.PathLike) -> Any:
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def write_parquet(path: str | os.PathLike, frame) -> None:
    """Write a DataFrame to Parquet without the pandas index, deterministically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", write_statistics=True)


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None):
    """A Parquet file as a DataFrame; with ``columns``, only those are read (column pushdown)."""
    import pandas as pd

    return pd.read_parquet(path, columns=None if columns is None else list(columns))


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with fixed member timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    write_bytes(path, buf.getvalue())


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110) -> None:
    """Save a matplotlib figure atomically as PNG without run-dependent metadata, then close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
