"""B3 trade-by-trade (tick) files: readers for the NEG and NEGOCIOS layouts, bars, synthetic sessions.

Public API
----------
read_trades(paths, *, strict=True, drop_cancelled=False) -> pandas.DataFrame
parse_session(path, *, strict=True) -> TradeSession (trades, summary, rejects)
iter_sessions(paths, *, strict=True) -> iterator of TradeSession

Modules: :mod:`.bars` (time bars, Parquet of a session), :mod:`.synthetic` (sessions from known
parameters, writers of both layouts), :mod:`.sample` (the sample run's sessions), :mod:`.download`
(B3 downloads, verified). See ``docs/trades.md``.
"""

from mfg_finance.trades.layout import COLUMNS, NEG_FIELDS, NEGOCIOS_FIELDS, NEGOCIOS_HEADER
from mfg_finance.trades.reader import TradeSession, iter_sessions, parse_session, read_trades

__all__ = ["COLUMNS", "NEG_FIELDS", "NEGOCIOS_FIELDS", "NEGOCIOS_HEADER", "TradeSession", "iter_sessions",
           "parse_session", "read_trades"]
