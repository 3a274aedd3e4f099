"""Equities and the universe table from the year-partitioned dataset, one year at a time.

Same answer as :func:`~mfg_finance.cotahist.select_equities` and
:func:`~mfg_finance.cotahist.universe_table` on all files read into one DataFrame, with memory
bounded by one year of the selected markets' rows: each year is read with the market-type (and BDI
code) filter pushed into the Parquet scan, selected and de-duplicated (:func:`.select.selected_rows`:
duplicates share their date, hence their year), and summarised per ticker (:func:`.universe.ticker_rows`);
the years are then put together and sorted as the one-frame selection sorts.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd
from pandas.api.types import union_categoricals

from mfg_finance.cotahist.classes import classify_instruments
from mfg_finance.cotahist.dataset import TEXT_COLUMNS, dataset_years, read_year
from mfg_finance.cotahist.select import finish_selection, nothing_selected_message, selected_rows
from mfg_finance.cotahist.universe import combine_ticker_rows, ticker_rows, universe_from_rows
from mfg_finance.errors import DataError


def _row_filter(market_types: Sequence[int]):
    """Rows of the selected markets (BDI codes are filtered later: the universe lists every code)."""
    import pyarrow.compute as pc

    return pc.field("market_type").isin(sorted({int(m) for m in market_types}))


def _concat_years(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Years of selected rows as one frame; each text column's categories the sorted union."""
    if len(parts) == 1:
        return parts[0]
    columns = {}
    for name in parts[0].columns:
        if name in TEXT_COLUMNS:
            pieces = [p[name].cat.remove_unused_categories() for p in parts]
            columns[name] = union_categoricals(pieces, sort_categories=True)
        elif name == "instrument_class":
            columns[name] = union_categoricals([p[name] for p in parts])
        else:
            columns[name] = pd.concat([p[name] for p in parts], ignore_index=True)
    return pd.DataFrame(columns)


def _presence(folders: Sequence[str], years: list[int], market_types: Sequence[int]) -> dict:
    """What the no-record message lists, gathered year by year (only when nothing was selected)."""
    n_records, codbdi, markets, counts = 0, set(), set(), pd.Series(dtype="int64")
    for year in years:
        q = read_year(folders, year, columns=["codbdi", "market_type", "spec", "isin", "short_name"])
        n_records += len(q)
        codbdi.update(q["codbdi"].unique().tolist())
        markets.update(q["market_type"].unique().tolist())
        in_market = q["market_type"].isin(sorted({int(m) for m in market_types})).to_numpy()
        counts = counts.add(pd.Series(classify_instruments(q)[in_market]).value_counts(), fill_value=0)
    counts = counts[counts > 0].astype("int64").sort_values(ascending=False, kind="stable")
    return {"n_records": n_records, "codbdi_present": list(codbdi), "market_types_present": list(markets),
            "classes_present": dict(counts)}


def select_from_dataset(folders: Sequence[str], *, classes: Iterable[str] | None = None,
                        codbdi: Iterable[int] | None = None,
                        market_types: Iterable[int] = (10,)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(equities, universe) from the per-file dataset folders, given in input-file order.

    Parameters as :func:`~mfg_finance.cotahist.select_equities`; the result is identical to
    ``select_equities(q, ...)`` and ``universe_table(q, ...)`` with ``q`` every file read into one
    DataFrame in the same order.

    Raises
    ------
    DataError
        If a class is unknown, or if no record passes the filters (naming them and what is present).
    """
    market_types = list(market_types)
    codbdi = None if codbdi is None else list(codbdi)
    classes = None if classes is None else list(classes)
    folders = [str(f) for f in folders]
    years = dataset_years(folders)
    selected, per_ticker = [], []
    for year in years:
        quotes = read_year(folders, year, filter=_row_filter(market_types))
        if len(quotes) == 0:
            continue
        rows = selected_rows(quotes, classes=classes, codbdi=codbdi, market_types=market_types)
        if len(rows):
            selected.append(rows)
        per_ticker.append(ticker_rows(quotes, market_types=market_types))
    if not selected:
        raise DataError(nothing_selected_message(classes=classes, codbdi=codbdi, market_types=market_types,
                                                 **_presence(folders, years, market_types)))
    equities = finish_selection(_concat_years(selected))
    universe = universe_from_rows(combine_ticker_rows(per_ticker), classes=classes, codbdi=codbdi)
    return equities, universe
