"""Inferred and file events together: a file event overrides the inferred one, disagreements are listed.

Events are compared per (ticker, ex_date) and per family: *share* (split, reverse split, bonus, and
``unexplained``, which a file share event explains) and *cash* (dividend, jcp, income, cash_other).
For a (ticker, ex_date, family) that a file gives, the file's rows replace the inferred ones. A
disagreement is recorded when

* both give the family and differ (other kinds, or a factor off by more than 1e-6 in log), or
* the file gives it and the prices showed nothing (no DISMES change or ex-marker that day), or
* the prices show it for a ticker the files cover, and the files do not (the file may be partial).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import CASH_KINDS, SHARE_KINDS, sort_events, validate_events

FAMILIES = {**{k: "share" for k in SHARE_KINDS + ("unexplained",)}, **{k: "cash" for k in CASH_KINDS}}
DISAGREEMENT_COLUMNS = ("ticker", "ex_date", "family", "inferred", "file", "note")


def _describe(rows: pd.DataFrame) -> str:
    parts = []
    for kind, factor, amount in rows[["kind", "factor", "amount"]].itertuples(index=False):
        text = kind
        if kind in SHARE_KINDS:
            text += f" x{factor:g}"
        if np.isfinite(amount):
            text += f" {amount:g} BRL"
        parts.append(text)
    return ", ".join(sorted(parts))


def merge_events(inferred: pd.DataFrame, files: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, disagreements): see the module docstring. Both sorted; same input, same output."""
    inferred = validate_events(inferred, where="inferred events")
    files = validate_events(files, where="file events")
    family = lambda frame: frame["kind"].map(FAMILIES).fillna("other")  # noqa: E731
    inferred = inferred.assign(family=family(inferred))
    files = files.assign(family=family(files))
    covered = set(files["ticker"])
    keep = np.ones(len(inferred), dtype=bool)
    disagreements = []
    file_groups = files.groupby(["ticker", "ex_date", "family"], sort=True)
    inferred_keys = inferred.groupby(["ticker", "ex_date", "family"]).groups
    seen_dates = set(zip(inferred["ticker"], inferred["ex_date"]))
    for (ticker, ex_date, fam), rows in file_groups:
        index = inferred_keys.get((ticker, ex_date, fam))
        if index is not None:
            keep[inferred.index.get_indexer(index)] = False
            mine = inferred.loc[index]
            same = (sorted(mine["kind"]) == sorted(rows["kind"])
                    and np.allclose(np.log(np.sort(mine["factor"].to_numpy())),
                                    np.log(np.sort(rows["factor"].to_numpy())), atol=1e-6))
            if not same:
                disagreements.append((ticker, ex_date, fam, _describe(mine), _describe(rows),
                                      "file overrides the inferred event"))
        elif (ticker, ex_date) not in seen_dates:
            disagreements.append((ticker, ex_date, fam, "", _describe(rows),
                                  "no DISMES change or ex-marker in the quotes that session"))
        elif fam == "share":
            disagreements.append((ticker, ex_date, fam, "", _describe(rows), "the quotes show no share change"))
    file_keys = set(file_groups.groups)
    for (ticker, ex_date, fam), index in inferred_keys.items():
        if fam in ("share", "cash") and ticker in covered and (ticker, ex_date, fam) not in file_keys:
            disagreements.append((ticker, ex_date, fam, _describe(inferred.loc[index]), "",
                                  "inferred only (the files may not cover it)"))
    events = pd.concat([inferred.loc[keep], files], ignore_index=True).drop(columns="family")
    table = pd.DataFrame(disagreements, columns=list(DISAGREEMENT_COLUMNS))
    table = table.sort_values(["ticker", "ex_date", "family"], kind="stable").reset_index(drop=True)
    return sort_events(events), table
