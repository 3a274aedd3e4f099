"""Logging set-up for pipeline jobs: one log file per job, plus stderr, and uncaught errors logged."""

from __future__ import annotations

import atexit
import gc
import logging
import signal
import sys
import threading
from pathlib import Path


def configure_logging(log_path: str | Path | None, name: str = "mfg_finance") -> logging.Logger:
    """Send log records to ``log_path`` and stderr, and record any uncaught exception there too (a pipeline
    job's first call; at exit it skips the interpreter's final garbage collection, see below).

    The exception still propagates (the job fails and Snakemake keeps the log). On stderr a project
    exception is one line (its message); the log file keeps its traceback. SIGTERM (what
    Snakemake, a batch scheduler or ``kill`` sends to stop a job) becomes ``SystemExit``, so the
    atomic writers of :mod:`mfg_finance.io` remove their temporary files on the way out instead of
    leaving them behind (Python's default is to die on the spot).
    """
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(_ProjectErrorsOnOneLine(_FORMAT))
    handlers: list[logging.Handler] = [terminal]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format=_FORMAT, handlers=handlers, force=True)
    logger = logging.getLogger(name)

    def _log_uncaught(exc_type, exc, tb):
        logger.error("job failed: %s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = _log_uncaught
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # At exit the interpreter's garbage collector walks every object of the job's imports (numpy, pandas,
    # numba, matplotlib) before the process ends: about 0.1-0.2 CPU-s a job, 5 CPU-s over a cold run.
    # Frozen objects are left to the operating system. The other exit handlers (logging's flush and close,
    # weakref finalizers such as temporary folders) still run; the outputs are closed by then (mfg_finance.io).
    atexit.register(gc.freeze)
    return logger


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ProjectErrorsOnOneLine(logging.Formatter):
    """A project exception (bad input, bad config, no convergence) is one line on the terminal.

    Its message already names the file, key and value; the traceback goes to the job's log file
    only. Any other exception is a bug and keeps its traceback everywhere.
    """

    def format(self, record: logging.LogRecord) -> str:
        from mfg_finance.errors import MfgFinanceError

        if record.exc_info and isinstance(record.exc_info[1], MfgFinanceError):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg += " (traceback in the job's log file)"
        return super().format(record)


def _exit_on_sigterm(signum, frame):
    logging.getLogger("mfg_finance").error("job terminated by signal %d", signum)
    raise SystemExit(128 + signum)
