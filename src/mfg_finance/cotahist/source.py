"""Reading a COTAHIST file's bytes: plain ``.TXT`` or a ZIP holding one member.

B3 ships the files zipped (``COTAHIST_A2021.ZIP``, ``COTAHIST_D04012016.ZIP``); the member's name
varies by era and by who re-zipped it, so the single member is opened whatever its name. The
format is recognised by content (ZIP magic bytes): a text file may have any name, but a file named
``.zip`` must be a ZIP archive.

The text is read straight into a NumPy byte array (no intermediate ``bytes`` object): large NumPy
allocations are backed by huge pages, which makes reading a 200 MB file several times faster.

Before anything large is read, the input is checked to be worth reading, so that memory stays
bounded by what a COTAHIST file of that size would need:

* only regular files are opened (a FIFO or a device would block or never end);
* an encrypted ZIP member is refused (no password can be given);
* a ZIP member must not inflate more than :data:`MAX_ZIP_RATIO` times its compressed size (B3's
  archives inflate about 8 times; a "ZIP bomb" of newlines or repeated lines, thousands of times);
* the first :data:`SNIFF_LINES` lines must include a 245-byte record: a file whose first lines are
  all of another length (a file of newlines, a text file) is not COTAHIST and is not read further.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfg_finance.cotahist.layout import RECORD_BYTES
from mfg_finance.errors import CotahistError

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # local file header; end of (empty) central directory
_HASH_CHUNK = 1 << 22
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this (guards a corrupt size field)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)
#: Largest accepted uncompressed / compressed size of a ZIP member (B3's files: about 8).
MAX_ZIP_RATIO = 64
#: Lines looked at before reading a whole file: one of them at least must be a 245-byte record.
SNIFF_LINES = 16
_SNIFF_BYTES = SNIFF_LINES * (RECORD_BYTES + 2)


@dataclass(frozen=True)
class SourceFile:
    """One input file, as stored, and the COTAHIST text it holds.

    Attributes
    ----------
    path : Path
        The file as given.
    size_bytes : int
        Size of the stored file (bytes).
    sha256 : str or None
        SHA-256 of the stored file (hex); None when not asked for.
    member : str or None
        Name of the ZIP member read, ``None`` for a plain text file.
    data : ndarray of uint8
        The (uncompressed) COTAHIST text.
    """

    path: Path
    size_bytes: int
    sha256: str | None
    member: str | None
    data: np.ndarray


def is_zip(head: bytes) -> bool:
    """Whether the first bytes of a file are a ZIP signature."""
    return head[:4] in _ZIP_MAGIC


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def single_member(archive: zipfile.ZipFile, path: str | os.PathLike) -> zipfile.ZipInfo:
    """The one file member of a COTAHIST ZIP; :class:`CotahistError` if there are none or several."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        names = ", ".join(info.filename for info in members) or "none"
        raise CotahistError(f"ZIP archive holds {len(members)} files ({names}); a COTAHIST archive "
                            "holds exactly one", path=str(path))
    return members[0]


def _read_into(stream, size: int) -> np.ndarray:
    """Exactly ``size`` bytes of ``stream`` into a new array; EOFError if it ends early or runs on."""
    data = np.empty(size, dtype=np.uint8)
    view = memoryview(data)
    filled = 0
    while filled < size:
        n = stream.readinto(view[filled:])
        if not n:
            raise EOFError(f"data ends after {filled} of {size} bytes")
        filled += n
    if stream.read(1):  # also makes a ZIP stream check its CRC at the end of the data
        raise EOFError(f"more than the {size} bytes announced")
    return data


#: Files at least this large are read in up to :data:`READ_PARTS` pieces by as many threads, one per core
#: available and within ``NUMBA_NUM_THREADS`` (the copy out of the page cache is a serial part of a parse
#: the kernels spread over the cores).
PARALLEL_READ_BYTES = 1 << 25
READ_PARTS = 2


def _thread_budget() -> int:
    """Threads this process may use: ``NUMBA_NUM_THREADS`` when set (a pipeline job's own ``threads``,
    :mod:`mfg_finance.job_threads`), else no limit here."""
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else READ_PARTS


def _read_file(fh, size: int) -> np.ndarray:
    """The ``size`` bytes of the open regular file ``fh`` into a new array, in parallel pieces when large.

    Each piece is read with ``os.preadv`` at its own offset (the GIL is released during the read);
    EOFError if the file is shorter or longer than ``size`` (it changed while being read).
    """
    parts = min(READ_PARTS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
                _thread_budget())
    if size < PARALLEL_READ_BYTES or parts < 2:
        fh.seek(0)
        return _read_into(fh, size)
    from concurrent.futures import ThreadPoolExecutor

    data = np.empty(size, dtype=np.uint8)
    view = memoryview(data)
    fd = fh.fileno()
    bounds = [size * k // parts for k in range(parts + 1)]

    def read_piece(k: int) -> None:
        pos, stop = bounds[k], bounds[k + 1]
        while pos < stop:
            n = os.preadv(fd, [view[pos:stop]], pos)
            if not n:
                raise EOFError(f"data ends after {pos} of {size} bytes")
            pos += n

    with ThreadPoolExecutor(parts) as pool:
        for future in [pool.submit(read_piece, k) for k in range(parts)]:
            future.result()
    if os.pread(fd, 1, size):
        raise EOFError(f"more than the {size} bytes announced")
    return data


def check_looks_like_cotahist(head: bytes, *, whole: bool, path) -> None:
    """Refuse a file whose first :data:`SNIFF_LINES` lines hold no 245-byte record.

    ``head`` is the start of the text (``whole``: all of it). Fewer complete lines than that are
    left to the full checks, which then report each line (there are few).
    """
    lines = head.split(b"\n")
    if whole and lines[-1] == b"":
        lines.pop()
    elif not whole:
        lines.pop()                                   # the last piece may be cut
    if len(lines) < SNIFF_LINES:
        return
    lengths = [len(line) - line.endswith(b"\r") for line in lines[:SNIFF_LINES]]
    if RECORD_BYTES not in lengths:
        shown = ", ".join(map(str, lengths[:6]))
        raise CotahistError(f"not a COTAHIST file: none of its first {SNIFF_LINES} lines is a "
                            f"{RECORD_BYTES}-byte record (line lengths {shown}, ... bytes); the file "
                            "is not read further", path=str(path), line=1, field="RECORD_LENGTH")


def _regular_file(path: Path) -> None:
    """CotahistError unless ``path`` is a regular file (opening a FIFO would block forever)."""
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = "is a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "Is a directory" if stat.S_ISDIR(mode) \
            else "not a regular file"
        raise CotahistError(f"cannot read file: {kind}; expected a COTAHIST .TXT file or ZIP archive",
                            path=str(path))


def refuse_encrypted(info: zipfile.ZipInfo, path) -> None:
    """CotahistError for an encrypted member (zipfile would raise a bare RuntimeError)."""
    if info.flag_bits & 0x1:
        raise CotahistError(f"ZIP member {info.filename!r} is encrypted (password protected); "
                            "expected an unencrypted COTAHIST archive", path=str(path))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int, path,
                 sniff=check_looks_like_cotahist) -> np.ndarray:
    """The member's bytes, after the encryption, inflation-ratio and first-lines checks."""
    refuse_encrypted(info, path)
    if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) + (1 << 16):
        raise CotahistError(f"ZIP member {info.filename!r} inflates {info.compress_size} bytes to "
                            f"{info.file_size} (ratio {info.file_size / max(info.compress_size, 1):.0f}, "
                            f"limit {MAX_ZIP_RATIO}; B3's archives inflate about 8 times): not a COTAHIST "
                            "archive, refused before inflating it", path=str(path))
    if info.file_size > _MAX_DEFLATE_RATIO * size + (1 << 16):
        raise zipfile.BadZipFile(f"member {info.filename!r} claims {info.file_size} bytes, more than "
                                 f"{size} compressed bytes can hold")
    with archive.open(info) as stream:
        sniff(stream.read(_SNIFF_BYTES), whole=info.file_size <= _SNIFF_BYTES, path=path)
    with archive.open(info) as stream:
        return _read_into(stream, info.file_size)


def read_source(path: str | os.PathLike, *, checksum: bool = True, sniff=check_looks_like_cotahist) -> SourceFile:
    """Read a COTAHIST ``.TXT`` file, or the single member of a ZIP archive, into memory.

    Parameters
    ----------
    path : path
        The file.
    checksum : bool
        Compute the SHA-256 of the stored file (costs about as much as parsing a text file).
    sniff : callable
        ``sniff(head, whole=, path=)`` checks the first bytes of the text before the whole is read
        (default: :func:`check_looks_like_cotahist`; the trade-file readers pass their own).

    Raises
    ------
    CotahistError
        If the file cannot be read, or is a ZIP that is truncated, corrupt (CRC) or does not hold
        exactly one file.
    """
    path = Path(path)
    try:
        _regular_file(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            if not is_zip(head):
                if path.suffix.lower() == ".zip":  # by name an archive, by content something else
                    raise CotahistError(f"named like a ZIP archive but is not one (starts with {head!r}); "
                                        "expected a ZIP holding one COTAHIST text file", path=str(path))
                size = os.fstat(fh.fileno()).st_size
                fh.seek(0)
                sniff(fh.read(_SNIFF_BYTES), whole=size <= _SNIFF_BYTES, path=path)
                data = _read_file(fh, size)
                digest = hashlib.sha256(data).hexdigest() if checksum else None
                return SourceFile(path, data.size, digest, None, data)
        size, digest = path.stat().st_size, sha256_file(path) if checksum else None
    except OSError as exc:
        raise CotahistError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    except EOFError as exc:  # the file changed size while being read
        raise CotahistError(f"cannot read file: {exc}", path=str(path)) from exc
    try:
        with zipfile.ZipFile(path) as archive:
            info = single_member(archive, path)
            data = _read_member(archive, info, size, path, sniff)
    except CotahistError:
        raise
    except _ZIP_ERRORS as exc:
        raise CotahistError(f"unreadable ZIP archive (truncated or corrupt): {exc}", path=str(path)) from exc
    except OSError as exc:
        raise CotahistError(f"cannot read ZIP archive: {exc.strerror or exc}", path=str(path)) from exc
    return SourceFile(path, size, digest, info.filename, data)
