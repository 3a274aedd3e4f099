"""Corporate events of an equities Parquet file, a batch of whole tickers at a time.

Inference (:func:`~mfg_finance.corporate.infer.infer_candidates`) looks at one ticker's sessions at a
time; a batch holds whole tickers, so the later-sessions verdict (rule 8) reads every session after an
ex-date that the file has, whatever the batch size. The issuer and later-sessions rules
(:func:`~mfg_finance.corporate.infer.resolve_candidates`) then read the candidates of every batch
together (an issuer's classes may fall in two batches), and the event files are matched against each
ticker's last record and the session calendar (:class:`~mfg_finance.corporate.files.Listing`), so
nothing needs every row at once:
:func:`events_from_parquet` reads the file with
:func:`mfg_finance.parquet_stream.iter_ticker_frames` (one pass over a file sorted by ticker), keeps
each batch's candidate events, last records and distinct dates, and then resolves the candidates,
matches and merges the files' events as the one-frame rule did. Memory: one batch of rows, plus 8 bytes
per distinct session.

Same events, disagreements and notes as the one-frame computation: candidate rows of disjoint batches of
whole tickers, concatenated in ticker order, then stably sorted, are the one-frame candidates sorted (the
sort key starts with the ticker), and rules 7 and 8 read only those rows.
"""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import empty_events, sort_events
from mfg_finance.corporate.files import Listing, last_records, read_event_files
from mfg_finance.corporate.infer import (DEFAULT_QUANTITY_WINDOW, DEFAULT_TOLERANCE, infer_candidates, infer_events,
                                         resolve_candidates)
from mfg_finance.corporate.later import DEFAULT_LATER_SESSIONS, DEFAULT_SIGMAS
from mfg_finance.corporate.merge import merge_events

#: Rows of equities held at a time (whole tickers; a longer ticker is a batch alone).
DEFAULT_BATCH_ROWS = 25_000


def events_from_parquet(equities_path: str | os.PathLike, *, columns: Iterable[str],
                        files: Iterable[dict | str] = (), tolerance: float = DEFAULT_TOLERANCE,
                        quantity_window: int = DEFAULT_QUANTITY_WINDOW, later_sessions: int = DEFAULT_LATER_SESSIONS,
                        later_sigmas: float = DEFAULT_SIGMAS,
                        batch_rows: int = DEFAULT_BATCH_ROWS) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(events, disagreements, notes) of the equities file, as the one-frame rule computes them.

    ``infer_events`` on every ticker's rows (candidates a batch at a time, rules 7 and 8 on all of them),
    ``read_event_files(files, ...)`` against the tickers and sessions of the file, then ``merge_events``.
    ``columns``: those of the file to read (:data:`~mfg_finance.corporate.EQUITY_COLUMNS`); ``tolerance``,
    ``quantity_window``, ``later_sessions``, ``later_sigmas`` as :func:`infer_events`.
    """
    from mfg_finance.parquet_stream import iter_ticker_frames

    settings = dict(tolerance=tolerance, quantity_window=quantity_window, later_sessions=later_sessions,
                    later_sigmas=later_sigmas)
    inferred, lasts, dates = [], [], []
    for equities in iter_ticker_frames(equities_path, list(columns), batch_rows):
        candidates = infer_candidates(equities, **settings)
        if len(candidates):
            inferred.append(candidates)
        lasts.append(last_records(equities))
        dates.append(np.unique(equities["date"].to_numpy(dtype="datetime64[ns]")))
        del equities
    if not lasts:       # no row: what the one-frame inference gives for an empty table
        inferred_events = infer_events(pd.read_parquet(equities_path, columns=list(columns)), **settings)
        listing = Listing(pd.read_parquet(equities_path, columns=list(columns)))
    else:
        inferred_events = (resolve_candidates(sort_events(pd.concat(inferred, ignore_index=True))) if inferred
                           else empty_events())
        last = pd.concat(lasts) if len(lasts) > 1 else lasts[0]
        listing = Listing(last=last.sort_index(kind="stable"),
                          calendar=pd.DatetimeIndex(np.unique(np.concatenate(dates))))
    from_files, notes = read_event_files(list(files), listing)
    events, disagreements = merge_events(inferred_events, from_files)
    return events, disagreements, notes
