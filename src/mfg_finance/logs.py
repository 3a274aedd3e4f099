"""Logging set-up for pipeline jobs: one log file per job, plus stderr, and uncaught errors logged."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path


def configure_logging(log_path: str | Path | None, name: str = "mfg_finance") -> logging.Logger:
    """Send log records to ``log_path`` and stderr, and record any uncaught exception there too.

    The exception still propagates (the job fails and Snakemake keeps the log). SIGTERM (what
    Snakemake, a batch scheduler or ``kill`` sends to stop a job) becomes ``SystemExit``, so the
    atomic writers of :mod:`mfg_finance.io` remove their temporary files on the way out instead of
    leaving them behind (Python's default is to die on the spot).
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    logger = logging.getLogger(name)

    def _log_uncaught(exc_type, exc, tb):
        logger.error("job failed: %s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = _log_uncaught
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return logger


def _exit_on_sigterm(signum, frame):
    logging.getLogger("mfg_finance").error("job terminated by signal %d", signum)
    raise SystemExit(128 + signum)
