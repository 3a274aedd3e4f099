"""Problems found in a trade file, as :class:`Reject` (file, line, field, reason).

The kernels only flag *which* field of *which* line broke a rule; the messages are written here (a
Python loop over the bad lines only) with the scalar rules of :mod:`.fields`. A kernel flag the
scalar rules do not confirm is a bug and raises, never a silent value.
"""

from __future__ import annotations

import numpy as np

from mfg_finance.cotahist.rejects import Reject as FileReject
from mfg_finance.errors import TradesError
from mfg_finance.trades.fields import FieldValueError, decode_field
from mfg_finance.trades.kernels import REASON_SEPARATOR
from mfg_finance.trades.layout import NEG_FIELDS, NEG_OFFSETS, NEGOCIOS_FIELDS


class Reject(FileReject):
    """One problem: where, which field and why (``line_dropped`` False for file-level problems).

    The COTAHIST reader's record, raising the trade readers' own error.
    """

    def error(self) -> TradesError:
        return TradesError(self.reason, path=self.path, line=self.line, field=self.field)


def _confirm(field, raw: bytes, *, fixed: bool, path: str, line: int) -> str:
    try:
        decode_field(field, raw, fixed=fixed)
    except FieldValueError as exc:
        return str(exc)
    raise AssertionError(f"kernel rejected {field.name}={raw!r} at {path}:{line} but the field rules accept it")


def neg_rejects(buf: np.ndarray, starts: np.ndarray, line_numbers: np.ndarray, err_field: np.ndarray,
                err_reason: np.ndarray, path: str, limit: int | None) -> list[Reject]:
    """Messages for the NEG lines the kernel flagged (the first ``limit`` of them)."""
    out = []
    for i in np.flatnonzero(err_field >= 0)[:limit]:
        j = int(err_field[i])
        f = NEG_FIELDS[j]
        start = starts[i] + NEG_OFFSETS[j]
        line = int(line_numbers[i])
        if err_reason[i] == REASON_SEPARATOR:
            sep = bytes(buf[start + f.width:start + f.width + 1])
            reason = f"{sep.decode('latin-1')!r} after the field, expected ';' (fixed-width NEG layout)"
        else:
            reason = _confirm(f, bytes(buf[start:start + f.width]), fixed=True, path=path, line=line)
        out.append(Reject(line, path, f.name, reason))
    return out


def negocios_rejects(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, line_numbers: np.ndarray,
                     err_field: np.ndarray, err_reason: np.ndarray, path: str, limit: int | None) -> list[Reject]:
    """Messages for the NEGOCIOS lines the kernel flagged (the first ``limit`` of them)."""
    out = []
    for i in np.flatnonzero(err_field >= 0)[:limit]:
        line = int(line_numbers[i])
        parts = bytes(buf[starts[i]:ends[i]]).split(b";")
        if err_reason[i] == REASON_SEPARATOR:
            out.append(Reject(line, path, "line", f"{len(parts)} ';'-separated fields, expected "
                              f"{len(NEGOCIOS_FIELDS)}"))
            continue
        f = NEGOCIOS_FIELDS[int(err_field[i])]
        reason = _confirm(f, parts[int(err_field[i])], fixed=False, path=path, line=line)
        out.append(Reject(line, path, f.name, reason))
    return out
