"""Project exceptions.

Every error a user can trigger (bad file, bad config, bad data, non-convergence) is one of these,
with a message naming the file / line / key / value and what was expected.
"""

from __future__ import annotations


class MfgFinanceError(Exception):
    """Base class of every error raised on purpose by mfg_finance."""


class ConfigError(MfgFinanceError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class CotahistError(MfgFinanceError, ValueError):
    """A COTAHIST file is malformed. The message names the file, line number and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}{message}")
        self.path = path
        self.line = line
        self.field = field


class TradesError(CotahistError):
    """A trade-by-trade (tick) file is malformed. The message names the file, line number and field.

    A subclass of :class:`CotahistError` only to share its file/line/field message format.
    """


class DownloadError(MfgFinanceError, OSError):
    """A download failed or delivered something that is not a valid COTAHIST archive."""


class DataError(MfgFinanceError, ValueError):
    """Input data cannot support the requested computation (too few sessions, zero volume, ...)."""


class CalibrationError(DataError):
    """Calibration refused: a statistic it needs is missing, zero, NaN or out of range."""


class MfgConvergenceError(MfgFinanceError, RuntimeError):
    """The MFG fixed point did not converge (or blew up). Carries the residual history."""

    def __init__(self, message: str, residuals=None):
        self.residuals = list(residuals) if residuals is not None else []
        tail = ""
        if self.residuals:
            shown = ", ".join(f"{r:.3e}" for r in self.residuals[-8:])
            tail = f" (last residuals: {shown}; {len(self.residuals)} iterations)"
        super().__init__(message + tail)


class MfgDomainError(MfgFinanceError, RuntimeError):
    """The inventory law reached the ends of the MFG grid: the equilibrium would be the boundary's.

    ``diagnostics`` holds the measured leak (see :func:`mfg_finance.mfg.domain.domain_diagnostics`).
    """

    def __init__(self, message: str, diagnostics=None):
        self.diagnostics = dict(diagnostics or {})
        super().__init__(message)


class MissingOutputError(MfgFinanceError, FileNotFoundError):
    """An output of the pipeline that a notebook or command reads is not there (pipeline not run yet?)."""
