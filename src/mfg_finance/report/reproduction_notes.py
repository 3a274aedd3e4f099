"""The Avellaneda & Stoikov (2008) comparison as the report shows it: every cell, whether it agrees with
the paper, and for each one that does not, the reason, stated where the cell is shown.

Means and standard deviations agree when ``|z| <= 3`` (z = (ours - paper) / Monte Carlo se). The paper
prints one "average spread" per gamma, the constant part ``(2/gamma) ln(1 + gamma/k)`` of the A&S spread;
our ``spread`` is the mean quoted spread, which for the *inventory* strategy also carries the
time-dependent part ``gamma sigma^2 (T - t)``. A spread agrees when it is within the paper's rounding
(0.005) of the printed value, or, for the inventory strategy, of the printed value plus the mean of
``gamma sigma^2 (T - t)`` over the quoting times: the gap is then explained, not a failure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mfg_finance.market_making.reproduction import PAPER_SETUP
from mfg_finance.report.formatting import REPRO_METRICS, finite, num
from mfg_finance.report.uncertain import plus_minus

#: half a unit of the paper's last printed digit (it prints spreads to two decimals)
PAPER_ROUNDING = 0.005
Z_LIMIT = 3.0

_SPREAD_TERM = ("a", "The paper prints one average spread per gamma, the constant part (2/gamma) ln(1 + gamma/k) "
                     "(1.29, 1.33, 1.15). Our inventory strategy's mean quoted spread also carries the "
                     "time-dependent part gamma sigma^2 (T - t) of the A&S formula, on average {terms}: ours "
                     "equals the printed value plus that term, so this is the formula, not a mismatch.")
_INVENTORY_SKEW = ("b", "Known discrepancy of the inventory strategy: the paper's inventory rows are not what its own "
                        "formulas give (r = s - q gamma sigma^2 (T - t)); they match a skew about 1.5 times as strong "
                        "(at gamma = 0.5 that gives 34.8 / 4.7 / 1.78 against the paper's 33.92 / 4.72 / 1.88), "
                        "and the paper does not state its discretisation. We keep the published formulas "
                        "(docs/market_making.md, 'Reproduction').")
_UNEXPLAINED = ("c", "Beyond Monte Carlo error, with no documented cause: rerun with more paths "
                     "(market_making.reproduction.n_paths) to see whether the gap persists.")


def mean_time_term(gamma: float) -> float:
    """Mean over the quoting times t = 0, dt, ..., T - dt of ``gamma sigma^2 (T - t)`` (the paper's setup)."""
    T, dt, sigma = PAPER_SETUP["T"], PAPER_SETUP["dt"], PAPER_SETUP["sigma"]
    times = np.arange(int(round(T / dt))) * dt
    return float(gamma * sigma ** 2 * np.mean(T - times))


def review(compared: pd.DataFrame) -> dict[str, Any]:
    """Rows and notes of the comparison table, and the tally of agreeing numbers.

    ``compared`` is :func:`mfg_finance.market_making.reproduction.compare_with_paper`'s frame. Returns
    ``{"rows": [...], "notes": [{"mark", "text"}], "n": all numbers, "agree": agreeing numbers,
    "n_z", "z2", "z3" (means and stds), "n_spread", "spread_agree", "spread_explained"}``.
    """
    used: dict[str, str] = {}
    rows, z_values, spread_ok, explained_terms = [], [], 0, {}
    for r in compared.to_dict("records"):
        gamma, strategy = float(r["gamma"]), str(r["strategy"])
        expected = r["spread_paper"] + (mean_time_term(gamma) if strategy == "inventory" else 0.0)
        agrees = abs(r["spread"] - r["spread_paper"]) <= PAPER_ROUNDING
        mark = None
        if not agrees and abs(r["spread"] - expected) <= PAPER_ROUNDING:
            mark = _SPREAD_TERM[0]
            explained_terms[gamma] = mean_time_term(gamma)
        elif not agrees:
            mark = _UNEXPLAINED[0]
            used[_UNEXPLAINED[0]] = _UNEXPLAINED[1]
        spread_ok += agrees
        cells = [{"ours": num(r["spread"], 4), "paper": num(r["spread_paper"], 3), "z": None, "off": not agrees,
                  "mark": mark}]
        for metric, _ in REPRO_METRICS:
            z = r[f"{metric}_z"]
            off = finite(z) and abs(z) > Z_LIMIT
            mark = None
            if off:
                mark = _INVENTORY_SKEW[0] if strategy == "inventory" else _UNEXPLAINED[0]
                used[mark] = _INVENTORY_SKEW[1] if mark == _INVENTORY_SKEW[0] else _UNEXPLAINED[1]
            if finite(z):
                z_values.append(abs(z))
            cells.append({"ours": plus_minus(r[metric], r[f"{metric}_se"]), "paper": num(r[f"{metric}_paper"], 4),
                          "z": f"{z:+.1f}" if finite(z) else "—", "off": off, "mark": mark})
        rows.append({"gamma": num(gamma, 3), "strategy": strategy, "cells": cells})
    if explained_terms:
        terms = ", ".join(f"{t:.4g} at gamma = {g:g}" for g, t in sorted(explained_terms.items()))
        used[_SPREAD_TERM[0]] = _SPREAD_TERM[1].format(terms=terms)
    z = np.asarray(z_values)
    n_spread = len(rows)
    return {
        "rows": rows,
        "notes": [{"mark": mark, "text": used[mark]} for mark in sorted(used)],
        "n_z": int(z.size), "z2": int((z <= 2).sum()), "z3": int((z <= Z_LIMIT).sum()),
        "n_spread": n_spread, "spread_agree": int(spread_ok),
        "spread_explained": sum(1 for row in rows if row["cells"][0]["mark"] == _SPREAD_TERM[0]),
        "n": int(z.size) + n_spread, "agree": int((z <= Z_LIMIT).sum()) + int(spread_ok),
    }


def review_sentence(tally: dict[str, Any]) -> str:
    """One sentence with the tally, for the section text and the summary."""
    text = (f"{tally['agree']} of {tally['n']} numbers agree with the paper: {tally['z3']} of {tally['n_z']} means "
            f"and standard deviations within 3 standard errors, and {tally['spread_agree']} of {tally['n_spread']} "
            f"spreads within the rounding of the printed value")
    if tally["agree"] < tally["n"]:
        text += "; every other cell is highlighted and its note below the table says why"
    return text + "."


__all__ = ["review", "review_sentence", "mean_time_term", "PAPER_ROUNDING", "Z_LIMIT"]
