"""Problems found in a file, as :class:`Reject` (file, line, field, reason), and the file-level checks.

The kernel only flags *which* field of *which* record broke a rule; the messages are written here
(a Python loop over the bad records only) with the scalar rules of :mod:`.fields`, which also
serve as a cross-check of the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

import numpy as np

from mfg_finance.cotahist.fields import FieldValueError, decode_field
from mfg_finance.cotahist.framing import Framing
from mfg_finance.cotahist.layout import (DATE, DETAIL, DETAIL_FIELDS, HEADER, HEADER_FIELDS, RECORD_BYTES,
                                         TRAILER, TRAILER_FIELDS, Field, field_label)
from mfg_finance.errors import CotahistError


@dataclass(frozen=True, order=True)
class Reject:
    """One problem found in a file: where, which field and why.

    ``line_dropped`` is False for problems of the file as a whole (missing header or trailer, a
    trailer count that disagrees) that do not remove a line from the data.
    """

    line: int
    path: str
    field: str
    reason: str
    line_dropped: bool = dc_field(default=True, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: field {self.field}: {self.reason}"

    def error(self) -> CotahistError:
        return CotahistError(self.reason, path=self.path, line=self.line, field=self.field)


def length_rejects(framing: Framing, path: str, limit: int | None = None) -> list[Reject]:
    """One reject per line whose content is not 245 bytes (the first ``limit`` of them)."""
    bad = zip(framing.bad_line_numbers[:limit], framing.bad_lengths[:limit])
    return [Reject(int(n), path, "RECORD_LENGTH", f"{int(length)} bytes, expected {RECORD_BYTES} followed by CRLF")
            for n, length in bad]


def _decode_record(line: bytes, fields: tuple[Field, ...], record_type: str, path: str, line_no: int,
                   rejects: list[Reject]) -> dict:
    """Decode a header or trailer line; a bad field is appended to ``rejects`` (and gives {})."""
    values = {}
    for f in fields:
        try:
            value = decode_field(f, line[f.offset:f.end], record_type=record_type)
        except FieldValueError as exc:
            rejects.append(Reject(line_no, path, f.name, str(exc)))
            return {}
        if f.column:
            values[f.column] = value.isoformat() if f.kind == DATE else value
    return values


def header_and_trailer(buf: np.ndarray, framing: Framing, path: str,
                       rejects: list[Reject]) -> tuple[dict | None, dict | None, np.ndarray]:
    """Decode the first line as header and the last as trailer; check the trailer's record count.

    Returns the header and trailer (dicts keyed by the layout's column names; None when missing)
    and a mask over ``framing.starts`` of the lines that remain to be parsed as quotes. Problems
    are appended to ``rejects``.
    """
    starts, line_numbers, n_lines = framing.starts, framing.line_numbers, framing.n_lines
    keep = np.ones(starts.size, dtype=bool)
    header = trailer = None
    if n_lines == 0:
        rejects.append(Reject(1, path, "TIPREG", "empty file: expected a header record ('00')", False))
        return header, trailer, keep
    if starts.size and line_numbers[0] == 1:  # else line 1 has a bad length, already reported
        first = buf[starts[0]:starts[0] + RECORD_BYTES].tobytes()
        if first[:2] == HEADER.encode():
            header = _decode_record(first, HEADER_FIELDS, HEADER, path, 1, rejects)
            keep[0] = False
        else:
            rejects.append(Reject(1, path, "TIPREG", "missing header: record type "
                                  f"{first[:2].decode('latin-1')!r} on line 1, expected '00'", False))
    if starts.size and line_numbers[-1] == n_lines and keep[-1]:
        last = buf[starts[-1]:starts[-1] + RECORD_BYTES].tobytes()
        if last[:2] == TRAILER.encode():
            trailer = _decode_record(last, TRAILER_FIELDS, TRAILER, path, n_lines, rejects)
            keep[-1] = False
            count = trailer.get("trailer_count")
            if count is not None and count != n_lines:
                rejects.append(Reject(n_lines, path, "TOTREG", f"trailer counts {count} records but the "
                                      f"file has {n_lines} lines", False))
        else:
            rejects.append(Reject(n_lines, path, "TIPREG", "missing trailer: record type "
                                  f"{last[:2].decode('latin-1')!r} on the last line ({n_lines}), "
                                  "expected '99'", False))
    elif n_lines == 1 and header is not None:
        rejects.append(Reject(1, path, "TIPREG", "missing trailer: the file has only a header", False))
    return header, trailer, keep


def _record_type_reason(raw: bytes) -> str:
    if raw == HEADER.encode():
        return "header record (type '00') after the first line; expected a quote record ('01')"
    if raw == TRAILER.encode():
        return "trailer record (type '99') before the last line; expected a quote record ('01')"
    return f"unknown record type {raw.decode('latin-1')!r}, expected '01' (or '00' first, '99' last)"


def kernel_rejects(buf: np.ndarray, starts: np.ndarray, line_numbers: np.ndarray, err_field: np.ndarray,
                   path: str, limit: int | None = None) -> list[Reject]:
    """Messages for the records the kernel flagged (``err_field >= 0``; the first ``limit`` of them)."""
    rejects = []
    for i in np.flatnonzero(err_field >= 0)[:limit]:
        f = DETAIL_FIELDS[err_field[i]]
        raw = buf[starts[i] + f.offset:starts[i] + f.end].tobytes()
        try:
            decode_field(f, raw, record_type=DETAIL)
        except FieldValueError as exc:
            reason = _record_type_reason(raw) if f.name == "TIPREG" else str(exc)
        else:  # the kernel and the scalar rules disagree: a bug, never a silent value
            raise AssertionError(f"kernel rejected {f.name}={raw!r} at {path}:{line_numbers[i]} "
                                 "but the field rules accept it")
        rejects.append(Reject(int(line_numbers[i]), path, field_label(f), reason))
    return rejects
