"""B3 COTAHIST historical quotes: layout, parser, equity selection, synthetic sample and download.

Public API
----------
LAYOUT
    The record layout, one declarative table (:mod:`.layout`).
read_cotahist(paths, *, strict=True) -> pandas.DataFrame
ingest(paths, *, strict=True) -> IngestResult
select_equities(quotes, *, classes=None, codbdi=None, market_types=(10,)) -> pandas.DataFrame
classify_instruments(quotes) -> pandas.Categorical
    stock, unit, bdr, etf, reit, fund, right, option, other (:mod:`.classes`).
universe_table(quotes, *, classes, codbdi, market_types) -> pandas.DataFrame
write_sample_cotahist(path, *, seed, n_tickers=40, n_sessions=250, start_date="2023-01-02") -> None
download_cotahist(url, dest, *, retries=3, timeout_s=120, backoff_s=1.0) -> pathlib.Path

See ``docs/cotahist.md``.
"""

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "CLASSES": "mfg_finance.cotahist.classes",
    "classify_instruments": "mfg_finance.cotahist.classes",
    "DEFAULT_URL_TEMPLATE": "mfg_finance.cotahist.download",
    "annual_url": "mfg_finance.cotahist.download",
    "download_cotahist": "mfg_finance.cotahist.download",
    "COLUMNS": "mfg_finance.cotahist.layout",
    "LAYOUT": "mfg_finance.cotahist.layout",
    "Field": "mfg_finance.cotahist.layout",
    "IngestResult": "mfg_finance.cotahist.parser",
    "ingest": "mfg_finance.cotahist.parser",
    "read_cotahist": "mfg_finance.cotahist.parser",
    "write_sample_cotahist": "mfg_finance.cotahist.sample",
    "select_equities": "mfg_finance.cotahist.select",
    "class_counts": "mfg_finance.cotahist.universe",
    "universe_table": "mfg_finance.cotahist.universe",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["CLASSES", "COLUMNS", "DEFAULT_URL_TEMPLATE", "Field", "IngestResult", "LAYOUT", "annual_url",
           "class_counts", "classify_instruments", "download_cotahist", "ingest", "read_cotahist",
           "select_equities", "universe_table", "write_sample_cotahist"]
