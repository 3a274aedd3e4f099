"""Inflating the one member of a trade-file ZIP into memory, piece by piece, so that parsing can start early.

A whole-day B3 trade file is a ZIP of one text of up to a few hundred MB; inflating it with the standard
library's zlib (one thread) costs more than parsing the text. :class:`MemberInflater` inflates the member's
raw deflate stream (or copies a stored member) into a preallocated byte array and publishes how much is
filled, so that the reader can frame and parse the whole lines already there (:mod:`.streaming`) while the
rest is inflated on another core. The inflate is ISA-L's (``isal.isal_zlib``, the ``isal`` package, about twice
zlib's speed) when installed, else the standard library's ``zlib``: the output is the same bytes either way
(deflate decodes to one text), and the member's CRC-32 and size are checked at the end.

Only the plain case is handled here: a regular file holding exactly one unencrypted member, deflated or
stored, within the inflation ratio the COTAHIST reader accepts. Anything else (and any failure while
inflating) is left to :func:`mfg_finance.cotahist.source.read_source`, whose checks and messages stay the
reference: :func:`open_member` returns ``None`` for such files.
"""

from __future__ import annotations

import os
import stat
import struct
import threading
import zipfile
from pathlib import Path

import numpy as np

from mfg_finance.cotahist.source import MAX_ZIP_RATIO, is_zip, sha256_file

try:                                        # ISA-L's inflate when installed (pyproject: isal), else zlib
    from isal import isal_zlib as _lib
    BACKEND = "isal"
except ImportError:                         # pragma: no cover - depends on the environment
    import zlib as _lib
    BACKEND = "zlib"

#: Compressed bytes inflated per step (about 0.6 MB of text: each step's output stays in the cache and its
#: buffer is reused by the allocator; 1 MB steps cost twice the CPU in page faults and cache misses).
STEP_BYTES = 1 << 16
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"


class InflateError(Exception):
    """The member could not be inflated as announced (the reference reader then reports why)."""


class MemberInflater:
    """Inflates one ZIP member into :attr:`data` (``uint8``, the member's announced size).

    :meth:`run` does the work (in the calling thread, or in a background thread with :meth:`start`);
    :meth:`wait` blocks until at least ``n`` bytes are filled (or the end) and returns the count filled.
    Errors surface from :meth:`wait` / :meth:`join` as :class:`InflateError`.
    """

    def __init__(self, path: Path, info: zipfile.ZipInfo, data_offset: int, size_bytes: int, *, checksum: bool):
        self.path, self.info, self.size_bytes = path, info, size_bytes
        self.member = info.filename
        self.data = np.empty(info.file_size, dtype=np.uint8)
        self.sha256: str | None = None
        self._offset, self._checksum = data_offset, checksum
        self._filled, self._done, self._error = 0, False, None
        self._cancel = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    # --- producer -------------------------------------------------------------------------------
    def _publish(self, filled: int, done: bool = False, error: BaseException | None = None) -> None:
        with self._cond:
            self._filled, self._done, self._error = filled, done, error
            self._cond.notify_all()

    def _inflate(self) -> None:
        info, view = self.info, memoryview(self.data)
        size, remaining, filled, crc = info.file_size, info.compress_size, 0, 0
        stored = info.compress_type == zipfile.ZIP_STORED
        inflater = None if stored else _lib.decompressobj(-15)   # raw deflate: the ZIP member's stream
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            while remaining and not self._cancel:
                raw = fh.read(min(STEP_BYTES, remaining))
                if not raw:
                    raise InflateError(f"the file ends {remaining} compressed bytes early")
                remaining -= len(raw)
                out = raw if stored else inflater.decompress(raw)
                if filled + len(out) > size:
                    raise InflateError(f"the member inflates to more than the {size} bytes announced")
                view[filled:filled + len(out)] = out
                crc = _lib.crc32(out, crc)
                filled += len(out)
                self._publish(filled)
        if self._cancel:
            return
        if inflater is not None:
            tail = inflater.flush()
            if tail:
                raise InflateError("the deflate stream continues past its data")
            if not inflater.eof:
                raise InflateError("the deflate stream is truncated")
        if filled != size:
            raise InflateError(f"the member inflates to {filled} bytes, {size} announced")
        if crc != info.CRC:
            raise InflateError(f"CRC-32 {crc:08x} of the inflated member, {info.CRC:08x} announced")
        if self._checksum:
            self.sha256 = sha256_file(self.path)

    def run(self) -> None:
        try:
            self._inflate()
        except BaseException as exc:    # noqa: BLE001 - handed to the consumer, which falls back
            self._publish(self._filled, True, exc)
        else:
            self._publish(self._filled, True)

    def start(self) -> "MemberInflater":
        self._thread = threading.Thread(target=self.run, name=f"inflate {self.path.name}", daemon=True)
        self._thread.start()
        return self

    # --- consumer -------------------------------------------------------------------------------
    def wait(self, n: int) -> int:
        """Bytes filled once at least ``n`` are (or the member is complete); raises :class:`InflateError`."""
        with self._cond:
            while self._filled < n and not self._done:
                self._cond.wait()
            if self._error is not None:
                raise InflateError(str(self._error)) from self._error
            return self._filled

    @property
    def done(self) -> bool:
        with self._cond:
            return self._done

    def join(self) -> None:
        """Wait for the end (CRC and size checked); raises :class:`InflateError`."""
        self.wait(self.data.size + 1)
        if self._thread is not None:
            self._thread.join()

    def cancel(self) -> None:
        """Stop inflating (the consumer gave up) and wait for the thread."""
        self._cancel = True
        if self._thread is not None:
            self._thread.join()


def _data_offset(fh, info: zipfile.ZipInfo) -> int | None:
    """Offset of the member's data: after its local header (whose name and extra lengths may differ from the
    central directory's)."""
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size or head[:4] != _LOCAL_MAGIC:
        return None
    fields = _LOCAL_HEADER.unpack(head)
    return info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]


def open_member(path: str | os.PathLike, *, checksum: bool) -> MemberInflater | None:
    """A :class:`MemberInflater` for the single member of the ZIP at ``path``, or ``None`` when the file is
    not the plain case (see the module docstring) and the reference reader must handle it."""
    path = Path(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return None
        with open(path, "rb") as fh:
            if not is_zip(fh.read(8)):
                return None
            with zipfile.ZipFile(fh) as archive:
                members = [i for i in archive.infolist() if not i.is_dir()]
                if len(members) != 1:
                    return None
                info = members[0]
                if (info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
                        or info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) + (1 << 16)
                        or (info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size)):
                    return None
                offset = _data_offset(fh, info)
            if offset is None or offset + info.compress_size > st.st_size:
                return None
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return None
    return MemberInflater(path, info, offset, st.st_size, checksum=checksum)

