"""From all COTAHIST records to the cash-market equities the statistics use."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from mfg_finance.errors import DataError

PRICE_COLUMNS = ("open", "high", "low", "avg", "close", "best_bid", "best_ask")
"""Columns quoted per ``quote_factor`` shares in the file, per share after selection."""

DEDUP_KEY = ("date", "ticker", "market_type", "term_days")


def select_equities(quotes: pd.DataFrame, *, codbdi: Iterable[int], market_types: Iterable[int]) -> pd.DataFrame:
    """Keep the configured BDI codes and market types, with prices per share.

    Parameters
    ----------
    quotes : pandas.DataFrame
        As returned by :func:`~mfg_finance.cotahist.read_cotahist`.
    codbdi : list of int
        BDI codes to keep (config ``selection.codbdi``): 2 standard lot, 12 real-estate funds,
        14 funds/ETFs, 34-36 BDRs, ...
    market_types : list of int
        TPMERC codes to keep (config ``selection.market_types``): 10 cash market, 20 odd lot, ...

    Returns
    -------
    pandas.DataFrame
        Same columns; ``open, high, low, avg, close, best_bid, best_ask`` divided by
        ``quote_factor`` (BRL per share; ``quote_factor`` is kept as read, for reference);
        one row per (date, ticker, market_type, term_days), the last one when files overlap;
        sorted by (ticker, date), fresh index. Unused categories are dropped.

    Raises
    ------
    DataError
        If no record passes the filters (the message names the filter values).
    """
    codbdi, market_types = sorted({int(c) for c in codbdi}), sorted({int(m) for m in market_types})
    mask = quotes["codbdi"].isin(codbdi) & quotes["market_type"].isin(market_types)
    out = quotes.loc[mask]
    if out.empty:
        raise DataError(f"no record left after selection.codbdi = {codbdi} and selection.market_types = "
                        f"{market_types} ({len(quotes)} records in; codbdi present: "
                        f"{sorted(quotes['codbdi'].unique().tolist())[:20]}, market types present: "
                        f"{sorted(quotes['market_type'].unique().tolist())[:20]})")
    # The same session may come from two files (e.g. a monthly and an annual one): keep the last.
    out = out.drop_duplicates(list(DEDUP_KEY), keep="last")
    out = out.sort_values(["ticker", "date"], kind="stable", key=_sort_key).reset_index(drop=True)
    factor = out["quote_factor"].to_numpy(dtype="float64")
    out = out.assign(**{c: out[c].to_numpy() / factor for c in PRICE_COLUMNS})
    for column in out.select_dtypes("category").columns:
        out[column] = out[column].cat.remove_unused_categories()
    return out


def _sort_key(column: pd.Series) -> pd.Series:
    # Categoricals sort by category order: that is text order when the categories are sorted (as
    # read_cotahist makes them); otherwise sort by the text itself.
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.cat.categories.is_monotonic_increasing:
        return column.astype(str)
    return column
