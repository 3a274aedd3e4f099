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

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "COLUMNS": "mfg_finance.trades.layout",
    "NEG_FIELDS": "mfg_finance.trades.layout",
    "NEGOCIOS_FIELDS": "mfg_finance.trades.layout",
    "NEGOCIOS_HEADER": "mfg_finance.trades.layout",
    "TradeSession": "mfg_finance.trades.reader",
    "iter_sessions": "mfg_finance.trades.reader",
    "parse_session": "mfg_finance.trades.reader",
    "read_trades": "mfg_finance.trades.reader",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["COLUMNS", "NEGOCIOS_FIELDS", "NEGOCIOS_HEADER", "NEG_FIELDS", "TradeSession",
           "iter_sessions", "parse_session", "read_trades"]
