"""The simple share ratios an inferred factor may take, and the nearest one to a price ratio.

A share event (split, reverse split, bonus) multiplies the shares by ``f`` (new shares per old
share) and so divides the price by ``f``: the last close before the event, ``C_{t-1}``, becomes
``C_{t-1} / f`` in post-event shares and must lie in the ex-session's range ``[L_t, H_t]`` up to
the overnight move. A candidate ``f`` *fits* when the log distance of ``C_{t-1} / f`` to that range
is at most the tolerance (:func:`range_distance`); among the candidates that fit, the one nearest to
``C_{t-1} / A_t`` (``A_t`` the ex-session's average price) is taken.

Candidate sets (``n`` in :data:`WHOLE`):

* ``up`` (marker ``B``: a bonus or a split): ``n`` and the bonus ratios 1 + k/100 for k in
  :data:`BONUS_PERCENT`;
* ``down`` (marker ``G``: a reverse split): ``1/n``;
* ``whole`` (no share marker: a split or reverse split must be unmistakable): ``n``, ``1/n``, and 1
  (no share change).

The sets are sparse on purpose: neighbours differ by at least ln(1.2) = 0.18 above 2 and by 0.04 to
0.18 among bonuses, so a tolerance of 0.05 rarely admits two. A ratio outside them (a 7-for-3 split)
is not inferred: give it in a ``corporate_actions.files`` CSV.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

WHOLE = (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 20, 25, 30, 40, 50, 60, 80, 100, 200, 250, 500, 1000)
BONUS_PERCENT = (5, 10, 20, 25, 50)


def candidates(which: str) -> np.ndarray:
    """Sorted candidate factors of a set: ``up``, ``down`` or ``whole`` (see the module docstring)."""
    if which == "up":
        values = {Fraction(n) for n in WHOLE} | {1 + Fraction(k, 100) for k in BONUS_PERCENT}
    elif which == "down":
        values = {Fraction(1, n) for n in WHOLE}
    elif which == "whole":
        values = {Fraction(n) for n in WHOLE} | {Fraction(1, n) for n in WHOLE} | {Fraction(1)}
    else:
        raise ValueError(f"unknown candidate set {which!r}")
    return np.array(sorted(float(v) for v in values))


def range_distance(values: np.ndarray, before: float, low: float, high: float) -> np.ndarray:
    """Log distance of ``before / f`` to the ex-session's range ``[low, high]`` (0 inside), for each f.

    ``before`` is the last close before the event: if ``f`` is the event's factor, ``before / f`` is
    that close in post-event shares and lies in the ex-session's range up to the overnight move.
    """
    level = np.log(before) - np.log(values)
    return np.maximum(0.0, np.maximum(np.log(low) - level, level - np.log(high)))


def kind_of_factor(factor: float) -> str:
    """The share kind of a factor other than 1: ``reverse_split`` (f < 1), ``split`` (an integer f >= 2),
    ``bonus`` (any other f > 1)."""
    if factor < 1:
        return "reverse_split"
    return "split" if abs(factor - round(factor)) < 1e-9 and factor >= 2 else "bonus"


def describe(factor: float) -> str:
    """``2 -> '2-for-1'``, ``0.1 -> '1-for-10'``, ``1.25 -> '5-for-4'`` (new shares for old shares)."""
    f = Fraction(factor).limit_denominator(1000)
    return f"{f.numerator}-for-{f.denominator}"
