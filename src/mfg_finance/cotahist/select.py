"""From all COTAHIST records to the cash-market equities the statistics use."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from mfg_finance.cotahist.classes import CLASSES, classify_instruments
from mfg_finance.errors import DataError

PRICE_COLUMNS = ("open", "high", "low", "avg", "close", "best_bid", "best_ask")
"""Columns quoted per ``quote_factor`` shares in the file, per share after selection."""

DEDUP_KEY = ("date", "ticker", "market_type", "term_days")


def select_equities(quotes: pd.DataFrame, *, classes: Iterable[str] | None = None,
                    codbdi: Iterable[int] | None = None, market_types: Iterable[int] = (10,)) -> pd.DataFrame:
    """Keep the configured instrument classes, BDI codes and market types, with prices per share.

    Parameters
    ----------
    quotes : pandas.DataFrame
        As returned by :func:`~mfg_finance.cotahist.read_cotahist`.
    classes : list of str or None
        Instrument classes to keep (config ``selection.classes``; see
        :mod:`~mfg_finance.cotahist.classes`): ``stock``, ``unit``, ``bdr``, ``etf``, ``reit``,
        ``fund``, ``right``, ``option``, ``other``. ``None`` keeps every class.
    codbdi : list of int or None
        Advanced filter (config ``selection.codbdi``): BDI codes to keep on top of the classes
        (2 standard lot, 8 judicial recovery, ...). ``None`` keeps every code.
    market_types : list of int
        TPMERC codes to keep (config ``selection.market_types``): 10 cash market, 20 odd lot, ...

    Returns
    -------
    pandas.DataFrame
        Same columns plus ``instrument_class`` (categorical); ``open, high, low, avg, close,
        best_bid, best_ask`` divided by ``quote_factor`` (BRL per share; ``quote_factor`` is kept as
        read, for reference); one row per (date, ticker, market_type, term_days), the last one when
        files overlap; sorted by (ticker, date), fresh index. Unused categories are dropped.

    Raises
    ------
    DataError
        If a class is unknown, or if no record passes the filters (the message names the filter
        values and what is present).
    """
    market_types = sorted({int(m) for m in market_types})
    mask = quotes["market_type"].isin(market_types).to_numpy().copy()
    filters = [f"selection.market_types = {market_types}"]
    if codbdi is not None:
        codbdi = sorted({int(c) for c in codbdi})
        mask &= quotes["codbdi"].isin(codbdi).to_numpy()
        filters.insert(0, f"selection.codbdi = {codbdi}")
    instrument = classify_instruments(quotes)
    if classes is not None:
        unknown = sorted(set(classes) - set(CLASSES))
        if unknown:
            raise DataError(f"selection.classes: unknown class(es) {unknown}; expected some of {list(CLASSES)}")
        classes = sorted(set(classes), key=CLASSES.index)
        mask &= pd.Series(instrument).isin(classes).to_numpy()
        filters.insert(0, f"selection.classes = {classes}")
    out = quotes.loc[mask].assign(instrument_class=instrument[mask])
    if out.empty:
        present = pd.Series(instrument[quotes["market_type"].isin(market_types).to_numpy()]).value_counts()
        raise DataError(f"no record left after {' and '.join(filters)} ({len(quotes)} records in; codbdi present: "
                        f"{sorted(quotes['codbdi'].unique().tolist())[:20]}, market types present: "
                        f"{sorted(quotes['market_type'].unique().tolist())[:20]}, classes present in those "
                        f"markets: {dict(present[present > 0])})")
    # The same session may come from two files (e.g. a monthly and an annual one): keep the last.
    out = out.drop_duplicates(list(DEDUP_KEY), keep="last")
    out = out.sort_values(["ticker", "date"], kind="stable", key=_sort_key).reset_index(drop=True)
    factor = out["quote_factor"].to_numpy(dtype="float64")
    out = out.assign(**{c: out[c].to_numpy() / factor for c in PRICE_COLUMNS})
    for column in out.select_dtypes("category").columns.drop("instrument_class"):
        out[column] = out[column].cat.remove_unused_categories()
    return out


def _sort_key(column: pd.Series) -> pd.Series:
    # Categoricals sort by category order: that is text order when the categories are sorted (as
    # read_cotahist makes them); otherwise sort by the text itself.
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.cat.categories.is_monotonic_increasing:
        return column.astype(str)
    return column
