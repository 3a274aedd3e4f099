"""The universe table: every ticker of the selected markets, its class, and whether it was kept."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from mfg_finance.cotahist.classes import CLASSES, classify_instruments, spec_class

UNIVERSE_COLUMNS = ("ticker", "instrument_class", "kept", "reason", "codbdi", "spec", "isin", "short_name",
                    "n_sessions", "first_date", "last_date")


def universe_table(quotes: pd.DataFrame, *, classes: Iterable[str] | None = None,
                   codbdi: Iterable[int] | None = None, market_types: Iterable[int] = (10,)) -> pd.DataFrame:
    """One row per ticker traded in ``market_types``: its class, whether the selection kept it, and why not.

    Same filters as :func:`~mfg_finance.cotahist.select_equities`. A ticker's class, BDI code, ESPECI
    class word (ex-markers and listing segment removed), ISIN and name are those of its last record.
    ``reason`` names the filter that dropped it (empty when kept). Sorted by ticker.
    """
    return universe_from_rows(ticker_rows(quotes, market_types=market_types), classes=classes, codbdi=codbdi)


def ticker_rows(quotes: pd.DataFrame, *, market_types: Iterable[int] = (10,)) -> pd.DataFrame:
    """Per ticker of ``market_types``: its last record's class, BDI code, ESPECI class word, ISIN and
    name, its sessions, first and last date (sorted by ticker; the universe before the filters)."""
    market_types = sorted({int(m) for m in market_types})
    in_market = quotes["market_type"].isin(market_types).to_numpy()
    frame = quotes.loc[in_market, ["date", "ticker", "codbdi", "spec", "isin", "short_name"]].copy()
    frame["instrument_class"] = classify_instruments(quotes.loc[in_market])
    frame["ticker"] = frame["ticker"].astype(str)
    frame = frame.sort_values(["ticker", "date"], kind="stable")
    grouped = frame.groupby("ticker", sort=True)
    last = grouped.last()
    return pd.DataFrame({
        "ticker": last.index.astype(str),
        "instrument_class": pd.Categorical(last["instrument_class"].astype(str), categories=CLASSES),
        "codbdi": last["codbdi"].astype("int16").to_numpy(),
        "spec": [spec_class(s) for s in last["spec"].astype(str)],
        "isin": last["isin"].astype(str).to_numpy(),
        "short_name": last["short_name"].astype(str).to_numpy(),
        "n_sessions": grouped["date"].nunique().astype("int64").to_numpy(),
        "first_date": grouped["date"].min().to_numpy(),
        "last_date": grouped["date"].max().to_numpy(),
    })


def combine_ticker_rows(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`ticker_rows` of consecutive, non-overlapping periods (in time order) as one table.

    The last record is the latest period's; sessions add up (the periods share no date).
    """
    if len(parts) == 1:
        return parts[0]
    rows = pd.concat(parts, ignore_index=True)
    grouped = rows.groupby("ticker", sort=True)
    last = grouped[["instrument_class", "codbdi", "spec", "isin", "short_name"]].last()
    return pd.DataFrame({
        "ticker": last.index.astype(str),
        "instrument_class": pd.Categorical(last["instrument_class"].astype(str), categories=CLASSES),
        "codbdi": last["codbdi"].astype("int16").to_numpy(),
        "spec": last["spec"].astype(str).to_numpy(),
        "isin": last["isin"].astype(str).to_numpy(),
        "short_name": last["short_name"].astype(str).to_numpy(),
        "n_sessions": grouped["n_sessions"].sum().astype("int64").to_numpy(),
        "first_date": grouped["first_date"].min().to_numpy(),
        "last_date": grouped["last_date"].max().to_numpy(),
    })


def universe_from_rows(out: pd.DataFrame, *, classes: Iterable[str] | None = None,
                       codbdi: Iterable[int] | None = None) -> pd.DataFrame:
    """The universe table from :func:`ticker_rows`: whether each ticker was kept, and why not."""
    out = out.reset_index(drop=True)
    reasons = pd.Series("", index=out.index, dtype=object)
    if classes is not None:
        classes = sorted(set(classes), key=lambda c: CLASSES.index(c) if c in CLASSES else len(CLASSES))
        off = ~out["instrument_class"].isin(classes)
        reasons[off] = [f"class {c} not in selection.classes {classes}" for c in out.loc[off, "instrument_class"]]
    if codbdi is not None:
        codbdi = sorted({int(c) for c in codbdi})
        off = ~out["codbdi"].isin(codbdi) & (reasons == "")
        reasons[off] = [f"codbdi {c} not in selection.codbdi {codbdi}" for c in out.loc[off, "codbdi"]]
    out["reason"] = reasons.astype(str)
    out["kept"] = out["reason"] == ""
    return out.loc[:, list(UNIVERSE_COLUMNS)].reset_index(drop=True)


def class_counts(universe: pd.DataFrame) -> pd.DataFrame:
    """Tickers kept and dropped per class (rows in :data:`CLASSES` order, classes with no ticker left out)."""
    counts = (universe.assign(dropped=~universe["kept"]).groupby("instrument_class", observed=False)
              [["kept", "dropped"]].sum().astype("int64"))
    counts = counts.reindex(list(CLASSES), fill_value=0)
    counts = counts[(counts["kept"] + counts["dropped"]) > 0]
    counts.index.name = "instrument_class"
    return counts.reset_index()
