"""The issuer rule of the inference: an undetermined share factor taken from the issuer's other classes.

A split, reverse split or bonus (desdobramento, grupamento, bonificação) is decided by the company for
its shares and applied in the same ratio to its classes: Oi's grupamento of 2023-01-09 shows on OIBR3
(ON) and OIBR4 (PN) with the same DISMES change and ``EG`` marker. One class's own ex-session can
admit two neighbouring factors (OIBR4: close 0.53, then a 4.70-5.91 session: 1-for-9 and 1-for-10 both
fit, rule 2 leaves it undetermined) while another's admits one (OIBR3: 0.16, then 1.53-1.78: only
1-for-10). Then, and only then, the undetermined event takes the other class's factor:

* both are share classes (:data:`SHARE_CLASS`: the issuer code then 3 for ON, 4 for PN, 5-8 for PNA-PND;
  OIBR3, OIBR4), share the issuer code, the ticker's first :data:`ISSUER_LETTERS` letters (``OIBR``),
  and the ex-date. Other tickers of the code are not shares of the company in one ratio: a unit (11, e.g.
  TAEE11 = 1 ON + 2 PN) may change its composition instead of its count, each BDR program (32-35, 39:
  GOGL34, GOGL35) has its own depositary ratio, and rights and receipts (1, 2, 9, 10, 12, 13) are not
  split with the shares; they neither give nor take a factor here;
* its factor was determined by its own prices (rules 1-6), and all such classes give the same one;
* that factor is one of the undetermined event's own fits (column :data:`FITS`, after the quantity
  veto): its own prices must still admit it, so a class with another ratio is never given it.

What this rule leaves undetermined goes to the later-sessions rule (:mod:`~mfg_finance.corporate.later`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import SHARE_KINDS
from mfg_finance.corporate.ratios import describe, kind_of_factor

FITS = "fits"
"""Column of :func:`~mfg_finance.corporate.infer.infer_candidates`: the factors (tuple of float) an
undetermined share event's own prices admit; empty on every other row."""

ISSUER_LETTERS = 4
"""B3 tickers start with the issuer's four-letter code (OIBR3, OIBR4, OIBR11 are Oi's)."""

SHARE_CLASS = re.compile(r"[A-Z0-9]{4}[3-8]")
"""A share class's ticker: the issuer code, then 3 (ON), 4 (PN) or 5-8 (PNA-PND)."""


def resolve_by_issuer(candidates: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`~mfg_finance.corporate.infer.infer_candidates` after the issuer rule (module
    docstring): same rows and columns, fresh index."""
    events = candidates.reset_index(drop=True)
    fits = events[FITS].to_numpy()
    tickers = events["ticker"].to_numpy(dtype=str)
    dates = events["ex_date"].to_numpy()
    kinds = events["kind"].to_numpy(dtype=object).copy()
    factors = events["factor"].to_numpy(dtype=float).copy()
    evidence = events["evidence"].to_numpy(dtype=object).copy()
    determined: dict[tuple, list[tuple[str, float]]] = {}
    share_class = np.array([SHARE_CLASS.fullmatch(t) is not None for t in tickers], dtype=bool)
    for i in np.flatnonzero(np.isin(kinds, SHARE_KINDS) & share_class):
        determined.setdefault((tickers[i][:ISSUER_LETTERS], dates[i]), []).append((tickers[i], factors[i]))
    for i in np.flatnonzero(kinds == "unexplained"):
        issuer = tickers[i][:ISSUER_LETTERS]
        if not share_class[i]:
            if fits[i]:
                evidence[i] += (f"; {tickers[i]} is not a share class (issuer code then 3-8): the issuer rule "
                                "does not lend it another ticker's factor")
            continue
        others = [(t, f) for t, f in determined.get((issuer, dates[i]), []) if t != tickers[i]]
        named = ", ".join(f"{t} {describe(f)}" for t, f in others)
        common = {f for _, f in others}
        if fits[i] and len(common) == 1 and np.isclose(np.log(fits[i]), np.log(next(iter(common)))).any():
            factors[i] = next(iter(common))
            kinds[i] = kind_of_factor(factors[i])
            evidence[i] += (f"; resolved by issuer {issuer}'s other class the same session ({named}): "
                            f"{describe(factors[i])} is one of this session's fits")
            continue
        if fits[i]:
            evidence[i] += (f"; issuer {issuer}'s other classes that session ({named}) give no single factor "
                            "among these fits" if others else
                            f"; no other class of issuer {issuer} has a factor determined that session")
    return events.assign(kind=kinds.astype(str), factor=factors, evidence=evidence.astype(str))
