"""The event table: columns, kinds and its validation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.errors import DataError

EVENT_COLUMNS = ("ticker", "ex_date", "kind", "factor", "amount", "source", "evidence")
"""Columns of every event table (``results/data/corporate_events.parquet``).

``ticker`` (str); ``ex_date`` (datetime64, first session traded without the right); ``kind`` (one
of :data:`KINDS`); ``factor`` (new shares per old share: 2 for a 2-for-1 split, 0.1 for a 1-for-10
reverse split, 1.25 for a 25% bonus; 1 for every other kind); ``amount`` (BRL per share before the
event, cash kinds only, NaN when unknown); ``source`` (``inferred`` or ``file``); ``evidence``
(text: what the decision rests on).
"""

SHARE_KINDS = ("split", "reverse_split", "bonus")
CASH_KINDS = ("dividend", "jcp", "income", "cash_other")
OTHER_KINDS = ("subscription", "update", "distribution", "other_marker", "unexplained")
KINDS = SHARE_KINDS + CASH_KINDS + OTHER_KINDS
"""Every kind. ``jcp`` = juros sobre capital próprio (interest on equity); ``income`` = a fund's
rendimento; ``update`` = B3's ex-atualização; ``distribution`` = DISMES changed with no ex-marker and
no share change; ``other_marker`` = an ex-marker letter outside B3's table; ``unexplained`` = a
DISMES change or share marker whose price ratio matches no simple ratio within the tolerance."""

SOURCES = ("inferred", "file")

BREAK = "left unexplained: the return across this session is excluded from every statistic (a break)"
"""How the evidence of every inferred ``unexplained`` row ends."""


def empty_events() -> pd.DataFrame:
    """An event table with no row and the right dtypes."""
    return pd.DataFrame({"ticker": pd.Series([], dtype=str), "ex_date": pd.Series([], dtype="datetime64[ns]"),
                         "kind": pd.Series([], dtype=str), "factor": pd.Series([], dtype=float),
                         "amount": pd.Series([], dtype=float), "source": pd.Series([], dtype=str),
                         "evidence": pd.Series([], dtype=str)})


def validate_events(events: pd.DataFrame, *, where: str = "events") -> pd.DataFrame:
    """Check columns, kinds, factors and sources; return a copy with canonical dtypes, sorted.

    Raises
    ------
    DataError
        Naming ``where``, the row and what was expected.
    """
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; expected {list(EVENT_COLUMNS)}")
    out = events.loc[:, list(EVENT_COLUMNS)].copy()
    out["ticker"] = out["ticker"].astype(str)
    out["ex_date"] = pd.to_datetime(out["ex_date"]).astype("datetime64[ns]")
    out["kind"] = out["kind"].astype(str)
    out["factor"] = out["factor"].astype(float)
    out["amount"] = out["amount"].astype(float)
    out["source"] = out["source"].astype(str)
    out["evidence"] = out["evidence"].astype(str)
    bad = ~out["kind"].isin(KINDS)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {i} ({out['ticker'].iat[i]}): kind {out['kind'].iat[i]!r}; expected one of "
                        f"{list(KINDS)}")
    bad = ~(np.isfinite(out["factor"]) & (out["factor"] > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        factor = float(out["factor"].iat[i])
        raise DataError(f"{where}: row {i} ({out['ticker'].iat[i]}): factor {factor!r}; expected a positive number "
                        "(new shares per old share)")
    bad = out["amount"].notna() & ~(out["amount"] >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {i} ({out['ticker'].iat[i]}): amount {float(out['amount'].iat[i])!r}; expected "
                        "BRL per share >= 0 or empty")
    bad = ~out["source"].isin(SOURCES)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {i}: source {out['source'].iat[i]!r}; expected one of {list(SOURCES)}")
    return sort_events(out)


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by (ticker, ex_date, kind, source), fresh index: the same events give the same bytes."""
    return events.sort_values(["ticker", "ex_date", "kind", "source"], kind="stable").reset_index(drop=True)
