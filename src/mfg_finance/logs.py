"""Logging set-up for pipeline jobs: one log file per job, plus stderr, and uncaught errors logged."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def configure_logging(log_path: str | Path | None, name: str = "mfg_finance") -> logging.Logger:
    """Send log records to ``log_path`` and stderr, and record any uncaught exception there too.

    The exception still propagates (the job fails and Snakemake keeps the log).
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
    return logger
