"""The statistics of an equities Parquet file a batch of tickers at a time: memory bounded by the batch.

:func:`~mfg_finance.stats.compute_stats` holds every row of every ticker, with the returns and the
per-row terms beside them (about 0.6 KB a row at peak): forty years of B3 would need gigabytes.
Every statistic is per ticker except the session calendar (the sorted union of all dates) and the
cross-sectional summary, so :func:`compute_stats_from_parquet`

1. reads only the ``ticker`` and ``date`` columns (12 bytes a row): the calendar, the tickers and
   their row counts, and the (ticker, date) uniqueness check over all rows;
2. reads the rows of consecutive tickers (in sorted order) up to ``batch_rows`` rows at a time
   (:func:`mfg_finance.parquet_stream.iter_ticker_frames`: one pass over a file sorted by ticker, as
   the selection writes it), and computes their returns and per-asset rows
   (:func:`~.compute.ticker_batch_stats`);
3. appends the returns to the output file in row groups of :data:`RETURNS_ROW_GROUP_ROWS` rows, and keeps
   only the per-asset rows and a :class:`~.compute.Tally` (counts, and the included tickers' finite
   returns, 8 bytes a row, for the pooled moments);
4. finishes with the same checks and summary as :func:`~mfg_finance.stats.compute_stats`.

The outputs are those of ``compute_stats`` on the whole file, byte for byte up to
:data:`RETURNS_ROW_GROUP_ROWS` returns (tested on the sample and with batches of one ticker; above, the
returns file holds the same rows in smaller row groups).
"""

from __future__ import annotations

import os
from typing import Sequence

import pandas as pd

from mfg_finance.errors import DataError
from mfg_finance.parquet_stream import FrameAppender, iter_ticker_frames
from mfg_finance.stats.compute import StatsResult, Tally, check_settings, finish_stats, ticker_batch_stats
from mfg_finance.stats.returns import check_one_row_per_session, prepare_equities, session_calendar

#: Rows of equities read per batch (whole tickers; a ticker longer than this is one batch alone).
DEFAULT_BATCH_ROWS = 25_000
#: Rows per row group of the returns file: the writer holds at most this many rows. A file of fewer rows
#: is byte for byte a one-shot write's (whose row groups are 1,048,576 rows).
RETURNS_ROW_GROUP_ROWS = 65_536


def _ticker_index(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """(ticker, date) of every row, checked one row per session, and the session calendar."""
    import pyarrow.parquet as pq

    index = pq.read_table(path, columns=["ticker", "date"]).to_pandas()
    if len(index) == 0:
        raise DataError("equities: no rows (did the selection keep any CODBDI/TPMERC record?)")
    index["ticker"] = index["ticker"].astype("category")
    check_one_row_per_session(index)
    return index, session_calendar(index["date"])


def compute_stats_from_parquet(equities_path: str | os.PathLike, returns_path: str | os.PathLike, *,
                               columns: Sequence[str], events: pd.DataFrame | None = None,
                               batch_rows: int = DEFAULT_BATCH_ROWS, trading_days_per_year: float = 252,
                               rolling_window: int = 21, min_sessions: int = 60,
                               adjust: str = "splits") -> StatsResult:
    """:func:`~mfg_finance.stats.compute_stats` of the equities file, a batch of tickers at a time.

    Parameters
    ----------
    equities_path
        The selection's Parquet file (``results/data/equities.parquet``).
    returns_path
        Where the returns are written (atomically; the file ``compute_stats``' ``returns`` would give).
    columns
        Columns of the equities to read (:data:`~mfg_finance.stats.EQUITY_COLUMNS` present in the file).
    batch_rows
        Rows of equities held at a time (whole tickers).
    Other parameters as :func:`~mfg_finance.stats.compute_stats`.

    Returns
    -------
    StatsResult
        ``asset_stats`` and ``summary``; ``returns`` is None (it is in ``returns_path``).
    """
    from mfg_finance.io import atomic_path

    settings = dict(trading_days_per_year=trading_days_per_year, rolling_window=rolling_window,
                    min_sessions=min_sessions, adjust=adjust)
    check_settings(**settings)
    index, calendar = _ticker_index(equities_path)
    del index
    tally, per_asset = Tally(), []
    with atomic_path(returns_path) as tmp:
        writer = FrameAppender(tmp, RETURNS_ROW_GROUP_ROWS)
        try:
            for equities in iter_ticker_frames(equities_path, columns, batch_rows):
                returns, asset_stats = ticker_batch_stats(prepare_equities(equities), equities, calendar, events,
                                                          **settings)
                del equities
                writer.add(returns)
                tally.add(returns, asset_stats)
                per_asset.append(asset_stats)
                del returns
        finally:
            writer.close()
        asset_stats = pd.concat(per_asset, ignore_index=True) if len(per_asset) > 1 else per_asset[0]
        summary = finish_stats(asset_stats, tally, calendar, **settings)
    return StatsResult(returns=None, asset_stats=asset_stats, summary=summary)
