"""From all COTAHIST records to the cash-market equities the statistics use."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from mfg_finance.cotahist.classes import CLASSES, classify_instruments
from mfg_finance.cotahist.currency import units_per_brl
from mfg_finance.errors import DataError

PRICE_COLUMNS = ("open", "high", "low", "avg", "close", "best_bid", "best_ask")
"""Columns quoted per ``quote_factor`` shares in the file, per share after selection."""

VALUE_COLUMNS = ("volume", "strike")
"""Columns in the session's currency (BRL from 1994-07-01), converted to BRL like the prices."""

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
        read, for reference); sessions before 1994-07-01 converted from the currency of their day to
        BRL (prices, ``volume`` and ``strike``; :mod:`~mfg_finance.cotahist.currency`); one row per (date, ticker, market_type, term_days), the last one when
        files overlap; sorted by (ticker, date), fresh index. Unused categories are dropped.

    Raises
    ------
    DataError
        If a class is unknown, if no record passes the filters (the message names the filter
        values and what is present), or if a record's MODREF is not the currency of its date.
    """
    out = selected_rows(quotes, classes=classes, codbdi=codbdi, market_types=market_types)
    if out.empty:
        raise DataError(nothing_selected_message(
            quotes, classes=classes, codbdi=codbdi, market_types=market_types))
    return finish_selection(out)


def _filters(classes, codbdi, market_types) -> tuple[list | None, list | None, list[int], list[str]]:
    """The filters, normalised (sorted, classes checked), and how messages name them."""
    market_types = sorted({int(m) for m in market_types})
    named = [f"selection.market_types = {market_types}"]
    if codbdi is not None:
        codbdi = sorted({int(c) for c in codbdi})
        named.insert(0, f"selection.codbdi = {codbdi}")
    if classes is not None:
        unknown = sorted(set(classes) - set(CLASSES))
        if unknown:
            raise DataError(f"selection.classes: unknown class(es) {unknown}; expected some of {list(CLASSES)}")
        classes = sorted(set(classes), key=CLASSES.index)
        named.insert(0, f"selection.classes = {classes}")
    return classes, codbdi, market_types, named


def selected_rows(quotes: pd.DataFrame, *, classes: Iterable[str] | None = None,
                  codbdi: Iterable[int] | None = None, market_types: Iterable[int] = (10,)) -> pd.DataFrame:
    """The rows :func:`select_equities` keeps, with ``instrument_class``, de-duplicated, as quoted.

    Rows stay in their order (the last of each (date, ticker, market_type, term_days) kept); prices
    are not yet per share and categories not yet pruned (:func:`finish_selection` does both). May be
    empty. The year-by-year selection (:mod:`.dataset_select`) calls it on one year at a time: a
    duplicate key holds its date, so de-duplicating each year gives the same rows as the whole.
    """
    classes, codbdi, market_types, _ = _filters(classes, codbdi, market_types)
    mask = quotes["market_type"].isin(market_types).to_numpy().copy()
    if codbdi is not None:
        mask &= quotes["codbdi"].isin(codbdi).to_numpy()
    instrument = classify_instruments(quotes)
    if classes is not None:
        mask &= pd.Series(instrument).isin(classes).to_numpy()
    out = quotes.loc[mask].assign(instrument_class=instrument[mask])
    # The same session may come from two files (e.g. a monthly and an annual one): keep the last.
    return out.drop_duplicates(list(DEDUP_KEY), keep="last")


def finish_selection(out: pd.DataFrame) -> pd.DataFrame:
    """Sort :func:`selected_rows`' rows by (ticker, date), prices per share, unused categories dropped."""
    out = per_share(sort_selected(out))
    for column in out.select_dtypes("category").columns.drop("instrument_class"):
        out[column] = out[column].cat.remove_unused_categories()
    return out


def sort_selected(out: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by (ticker text, date), stably (rows of one key keep their order), fresh index."""
    return out.sort_values(["ticker", "date"], kind="stable", key=_sort_key).reset_index(drop=True)


def per_share(out: pd.DataFrame) -> pd.DataFrame:
    """Prices divided by ``quote_factor`` (BRL per share); sessions before the real converted to BRL.

    Row by row, so it may be applied to any batch of rows (the streamed selection does).
    """
    factor = out["quote_factor"].to_numpy(dtype="float64")
    out = out.assign(**{c: out[c].to_numpy() / factor for c in PRICE_COLUMNS})
    if "currency" in out.columns:   # a frame without MODREF (built by hand) is taken as in BRL
        units = units_per_brl(out["date"], out["currency"], out["ticker"])
        if (units != 1.0).any():    # sessions before the real (1994-07-01): in BRL, see .currency
            out = out.assign(**{c: out[c].to_numpy() / units for c in (*PRICE_COLUMNS, *VALUE_COLUMNS)
                                if c in out.columns})
    return out


def nothing_selected_message(quotes: pd.DataFrame | None = None, *, classes=None, codbdi=None,
                             market_types=(10,), n_records: int | None = None, codbdi_present=None,
                             market_types_present=None, classes_present: dict | None = None) -> str:
    """What :class:`DataError` says when no record passes the filters.

    From ``quotes``, or (the year-by-year selection) from the counts already gathered:
    ``n_records``, the BDI codes and market types present, and the classes present in the selected
    markets (class -> records).
    """
    _, _, market_types, named = _filters(classes, codbdi, market_types)
    if quotes is not None:
        in_market = quotes["market_type"].isin(market_types).to_numpy()
        counts = pd.Series(classify_instruments(quotes)[in_market]).value_counts()
        n_records, classes_present = len(quotes), dict(counts[counts > 0])
        codbdi_present = quotes["codbdi"].unique().tolist()
        market_types_present = quotes["market_type"].unique().tolist()
    return (f"no record left after {' and '.join(named)} ({n_records} records in; codbdi present: "
            f"{sorted(codbdi_present)[:20]}, market types present: {sorted(market_types_present)[:20]}, "
            f"classes present in those markets: {classes_present})")


def _sort_key(column: pd.Series) -> pd.Series:
    # Categoricals sort by category order: that is text order when the categories are sorted (as
    # read_cotahist makes them); otherwise sort by the text itself.
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.cat.categories.is_monotonic_increasing:
        return column.astype(str)
    return column
