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

from mfg_finance.cotahist.classes import CLASSES, classify_instruments
from mfg_finance.cotahist.download import DEFAULT_URL_TEMPLATE, annual_url, download_cotahist
from mfg_finance.cotahist.layout import COLUMNS, LAYOUT, Field
from mfg_finance.cotahist.parser import IngestResult, ingest, read_cotahist
from mfg_finance.cotahist.sample import write_sample_cotahist
from mfg_finance.cotahist.select import select_equities
from mfg_finance.cotahist.universe import class_counts, universe_table

__all__ = ["CLASSES", "COLUMNS", "DEFAULT_URL_TEMPLATE", "LAYOUT", "Field", "IngestResult", "annual_url",
           "class_counts", "classify_instruments", "download_cotahist", "ingest", "read_cotahist",
           "select_equities", "universe_table", "write_sample_cotahist"]
