"""Corporate events inferred from the quotes: DISMES changes, ex-markers, prices and quantities.

Candidates
----------
For each ticker and each of its sessions ``t`` after its first, with ``t-1`` its previous session:
a candidate event has ex-date ``t`` when the distribution number DISMES changes between ``t-1`` and
``t``, or when ESPECI at ``t`` carries an ex-marker letter it did not carry at ``t-1``
(:mod:`~mfg_finance.corporate.markers`).

Decision
--------
With ``C`` the close, ``L, H`` the low and high, ``A`` the average price (BRL per share) and the
candidate sets of :mod:`~mfg_finance.corporate.ratios`:

1. The share candidates are ``up`` (new letter ``B``), ``down`` (``G``), both (``B`` and ``G``), or
   else ``whole`` (integer splits and reverse splits, and 1 = no share change).
2. A candidate ``f`` fits when ``C_{t-1} / f`` is within the tolerance ``tol`` (log distance) of
   ``[L_t, H_t]``; of those that fit, the nearest to ``C_{t-1} / A_t`` is kept -- unless the fits
   spread over more than ``2 tol`` in log (``ln(f_max / f_min) > 2 tol``, e.g. 4- to 9-for-1 on an
   ex-session whose range spans a factor 2): then the factor is undetermined and the event falls
   under rule 5 (``unexplained``, a break; rules 7 and 8 may still resolve it) or, with a cash letter,
   keeps only its cash rows.
   2b. Without a share marker (set ``whole``), a fit ``f != 1`` must also have ``C_{t-1} / f`` within
   ``2 tol`` of the average ``A_t``: a split nobody marked must be the session's price, not the edge of a
   range one stray trade widened (LOFT11B on 2021-01-05, docs); else it is dropped from the fits.
3. A share event (``split`` for an integer ``f >= 2``, ``reverse_split`` for ``f < 1``, ``bonus``
   otherwise) is emitted when the kept ``f`` is not 1. Its quantity evidence, the median traded
   quantity of up to ``w`` sessions from ``t`` over that of up to ``w`` sessions before, should be
   near ``f``; for ``|ln f| >= ln 2`` a quantity ratio on the other side of 1 by more than
   ``sqrt(f)`` vetoes the factor (the event becomes ``unexplained``).
4. Each new cash or other letter gives its own row (``dividend``, ``jcp``, ``income``,
   ``subscription``, ``update``, ``other_marker``), factor 1, amount unknown (NaN: COTAHIST does not
   carry it). A cash letter explains a fall of the price: for such a candidate no fit of 1 is needed.
5. Nothing fits (a share marker whose ratio is not simple, or a DISMES change with the price outside
   the previous close's reach): one ``unexplained`` row, which the statistics treat as a break.
6. A DISMES change with no new letter and ``f = 1`` fitting: one ``distribution`` row.
7. An undetermined share factor (rule 2) of a share class takes the factor another share class of the
   same issuer (ticker's first four letters, then 3-8) determined on the same ex-date, when that factor
   is one of its own fits (:mod:`~mfg_finance.corporate.issuer`: OIBR4 and OIBR3 on 2023-01-09).
8. An undetermined share factor rule 7 leaves takes the one fit that the closes of the ex-session and
   the sessions after it (``later_sessions`` closes in all; default 0, the rule off: on stocks it takes news for a factor, docs) are
   consistent with, compared with the asset's own volatility, when every other fit is excluded beyond
   ``later_sigmas`` (default 3) standard deviations and no session between those closes moves beyond
   that (:mod:`~mfg_finance.corporate.later`: ARCT11 on 2021-01-27). Every row still ``unexplained``
   then ends its evidence saying that its return is excluded (:data:`~mfg_finance.corporate.events.BREAK`).

Every row carries its evidence: DISMES and ESPECI before and after, the prices, the ratio, the fitted
candidates and their distance, the quantity ratio.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mfg_finance.corporate.events import BREAK, EVENT_COLUMNS, empty_events, sort_events
from mfg_finance.corporate.issuer import FITS, resolve_by_issuer
from mfg_finance.corporate.later import (DEFAULT_LATER_SESSIONS, DEFAULT_SIGMAS, LATER, MIN_AFTER_SESSIONS,
                                        judge_by_later_sessions, resolve_by_later_sessions)
from mfg_finance.corporate.markers import MARKER_KINDS, marker_letters
from mfg_finance.corporate.ratios import candidates, describe, kind_of_factor, range_distance
from mfg_finance.errors import DataError

REQUIRED = ("date", "ticker", "spec", "distribution", "low", "high", "avg", "close", "quantity")

DEFAULT_TOLERANCE = 0.05
"""Log distance (dimensionless, about 5%) within which a candidate factor fits."""

AMBIGUITY_FACTOR = 2.0
"""Fitting factors spread (log) over more than this many tolerances leave the factor undetermined."""

DEFAULT_QUANTITY_WINDOW = 3
"""Sessions on each side of the ex-date whose median traded quantity is compared."""


def _share_set(letters: frozenset[str]) -> np.ndarray:
    if "B" in letters and "G" in letters:
        return np.union1d(candidates("up"), candidates("down"))
    if "B" in letters:
        return candidates("up")
    if "G" in letters:
        return candidates("down")
    return candidates("whole")


def _quantity_vetoes(factor: float, q_ratio: float) -> bool:
    """Rule 3: for ``|ln f| >= ln 2``, a quantity ratio on the other side of 1 by more than ``sqrt(f)``."""
    if not (np.isfinite(q_ratio) and q_ratio > 0) or abs(math.log(factor)) < math.log(2):
        return False
    return math.log(q_ratio) * math.log(factor) < 0 and abs(math.log(q_ratio)) > abs(math.log(factor)) / 2


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x) & (x > 0)]
    return float(np.median(x)) if x.size else math.nan


def infer_events(equities: pd.DataFrame, *, tolerance: float = DEFAULT_TOLERANCE,
                 quantity_window: int = DEFAULT_QUANTITY_WINDOW, later_sessions: int = DEFAULT_LATER_SESSIONS,
                 later_sigmas: float = DEFAULT_SIGMAS) -> pd.DataFrame:
    """Corporate events of every ticker in ``equities`` (see the module docstring).

    :func:`infer_candidates`, then :func:`resolve_candidates` (rules 7 and 8).

    Parameters
    ----------
    equities : pandas.DataFrame
        Cash-market rows with prices per share (``select_equities``' output): at least
        ``date, ticker, spec, distribution, low, high, avg, close, quantity``. With several market
        types per ticker and session, the lowest TPMERC is used.
    tolerance : float
        Log distance within which a share factor fits (dimensionless; 0.05 ~ 5%).
    quantity_window : int
        Sessions on each side of the ex-date in the quantity ratio.
    later_sessions : int
        Closes from the ex-date (the ex-session included) read by rule 8; 0 turns rule 8 off, else at
        least :data:`~mfg_finance.corporate.later.MIN_AFTER_SESSIONS`.
    later_sigmas : float
        Rule 8's tolerance ``k`` of ``|z|`` (standard deviations of the mean implied return; > 0).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~mfg_finance.corporate.EVENT_COLUMNS`, ``source = "inferred"``, sorted.
    """
    return resolve_candidates(infer_candidates(equities, tolerance=tolerance, quantity_window=quantity_window,
                                               later_sessions=later_sessions, later_sigmas=later_sigmas))


def resolve_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """The event table of :func:`infer_candidates` rows (of any set of whole tickers): the issuer rule (7),
    then the later-sessions rule (8); every row still ``unexplained`` ends its evidence with
    :data:`~mfg_finance.corporate.events.BREAK`. Columns :data:`EVENT_COLUMNS`, sorted."""
    events = resolve_by_later_sessions(resolve_by_issuer(candidates)).drop(columns=[FITS, LATER])
    unexplained = events["kind"].to_numpy() == "unexplained"
    events.loc[unexplained, "evidence"] = events.loc[unexplained, "evidence"] + f"; {BREAK}"
    return sort_events(events)


def infer_candidates(equities: pd.DataFrame, *, tolerance: float = DEFAULT_TOLERANCE,
                     quantity_window: int = DEFAULT_QUANTITY_WINDOW, later_sessions: int = DEFAULT_LATER_SESSIONS,
                     later_sigmas: float = DEFAULT_SIGMAS) -> pd.DataFrame:
    """Rules 1-6, each ticker on its own sessions: the event table plus the columns
    :data:`~mfg_finance.corporate.issuer.FITS` (the factors an undetermined share event's own prices
    admit, for the issuer rule) and :data:`~mfg_finance.corporate.later.LATER` (the later sessions'
    verdict on them, for rule 8), both empty elsewhere. Sorted; same parameters as :func:`infer_events`."""
    missing = [c for c in REQUIRED if c not in equities.columns]
    if missing:
        raise DataError(f"infer_events: equities lack column(s) {missing}; present: {list(equities.columns)}")
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise DataError(f"corporate_actions.tolerance = {tolerance!r}: expected a number in (0, 1) (log distance)")
    if not (isinstance(quantity_window, int) and quantity_window >= 1):
        raise DataError(f"corporate_actions.quantity_window = {quantity_window!r}: expected an integer >= 1")
    if not (isinstance(later_sessions, int) and not isinstance(later_sessions, bool)
            and (later_sessions == 0 or later_sessions >= MIN_AFTER_SESSIONS)):
        raise DataError(f"corporate_actions.later_sessions = {later_sessions!r}: expected 0 (rule 8 off) or an "
                        f"integer >= {MIN_AFTER_SESSIONS} (closes from the ex-date read)")
    if not (isinstance(later_sigmas, (int, float)) and not isinstance(later_sigmas, bool)
            and 0 < later_sigmas < math.inf):
        raise DataError(f"corporate_actions.later_sigmas = {later_sigmas!r}: expected a finite number > 0 "
                        "(standard deviations)")
    frame = equities.loc[:, list(REQUIRED) + (["market_type"] if "market_type" in equities.columns else [])].copy()
    frame["ticker"] = frame["ticker"].astype(str)
    frame["spec"] = frame["spec"].astype(str)
    sort = ["ticker", "date"] + (["market_type"] if "market_type" in frame.columns else [])
    frame = frame.sort_values(sort, kind="stable").drop_duplicates(["ticker", "date"]).reset_index(drop=True)
    if frame.empty:
        return _no_candidates()

    ticker = frame["ticker"].to_numpy()
    spec = frame["spec"].to_numpy()
    letters_of = {s: marker_letters(s) for s in pd.unique(spec)}
    letters = np.array([letters_of[s] for s in spec], dtype=object)
    dist = frame["distribution"].to_numpy(dtype=np.int64)
    same = np.r_[False, ticker[1:] == ticker[:-1]]
    new_letters = np.full(len(frame), frozenset(), dtype=object)
    for i in np.flatnonzero(same & (spec != np.r_[spec[:1], spec[:-1]])):  # only where ESPECI changes
        new_letters[i] = letters[i] - letters[i - 1]
    dismes_changed = same & (dist != np.r_[-1, dist[:-1]])
    is_candidate = same & (dismes_changed | np.array([bool(x) for x in new_letters]))

    close, low, high, avg = (frame[c].to_numpy(dtype=float) for c in ("close", "low", "high", "avg"))
    quantity = frame["quantity"].to_numpy(dtype=float)
    dates = frame["date"].to_numpy()
    start = np.r_[0, np.flatnonzero(~same[1:]) + 1] if len(frame) > 1 else np.array([0])
    group_start = np.repeat(start, np.diff(np.r_[start, len(frame)]))
    group_end = np.repeat(np.r_[start[1:], len(frame)], np.diff(np.r_[start, len(frame)]))

    rows = []
    for i in np.flatnonzero(is_candidate):
        rows.extend(_decide(i, ticker, dates, spec, dist, new_letters, dismes_changed, is_candidate, close, low, high,
                            avg, quantity, group_start[i], group_end[i], tolerance, quantity_window,
                            later_sessions, later_sigmas))
    if not rows:
        return _no_candidates()
    out = pd.DataFrame(rows, columns=[*EVENT_COLUMNS, FITS, LATER])
    out["ex_date"] = pd.to_datetime(out["ex_date"]).astype("datetime64[ns]")
    return sort_events(out)


def _no_candidates() -> pd.DataFrame:
    return empty_events().assign(**{FITS: pd.Series([], dtype=object), LATER: pd.Series([], dtype=object)})


def _decide(i, ticker, dates, spec, dist, new_letters, dismes_changed, is_candidate, close, low, high, avg,
            quantity, first, end, tolerance, window, later_sessions, later_sigmas) -> list[tuple]:
    before = close[i - 1]
    lo, hi = low[i], high[i]
    level = avg[i] if np.isfinite(avg[i]) and avg[i] > 0 else close[i]
    letters = new_letters[i]
    share_letters = letters & {"B", "G"}
    cash_letters = {x for x in letters if MARKER_KINDS.get(x) in ("dividend", "jcp", "income")}
    q_ratio = _median(quantity[i:min(end, i + window)]) / _median(quantity[max(first, i - window):i])
    evidence = [f"DISMES {dist[i - 1]}->{dist[i]}" if dismes_changed[i] else f"DISMES {dist[i]} unchanged",
                f"ESPECI '{spec[i - 1]}'->'{spec[i]}'",
                f"new ex-marker letters {''.join(sorted(letters)) or 'none'}",
                f"close before {before:.2f}, ex-session low {lo:.2f} high {hi:.2f} avg {level:.2f} BRL",
                f"quantity ratio {q_ratio:.3g} (median of {window} sessions after / before)"]
    base = (ticker[i], dates[i])
    rows: list[tuple] = []

    prices_ok = all(np.isfinite(x) and x > 0 for x in (before, lo, hi, level)) and lo <= hi
    if not prices_ok:
        evidence.append("non-positive or missing prices across the event")
        return [(*base, "unexplained", 1.0, math.nan, "inferred", "; ".join(evidence), (), ())]

    values = _share_set(share_letters)
    distance = range_distance(values, before, lo, hi)
    fits = values[distance <= tolerance]
    ratio = before / level
    evidence.append(f"price ratio {ratio:.4g} (close before / ex-session avg)")
    dropped_unmarked = False
    if not share_letters:
        # Rule 2b: unmarked, a factor must be the session's, not one stray trade's at the range's edge.
        far = (fits != 1.0) & (np.abs(np.log(ratio) - np.log(fits)) > AMBIGUITY_FACTOR * tolerance)
        dropped_unmarked = bool(far.any())
        if dropped_unmarked:
            evidence.append(f"no share marker: {', '.join(describe(f) for f in fits[far])} fit the range but not the "
                            f"average (log distance > {AMBIGUITY_FACTOR:g} x tolerance {tolerance:g}): not taken")
            fits = fits[~far]
    spread = float(np.log(fits.max() / fits.min())) if fits.size else 0.0
    undetermined: tuple[float, ...] = ()
    if spread > AMBIGUITY_FACTOR * tolerance:
        # The ex-session's range admits factors so far apart that the adjusted return across the
        # event is unknown to within their spread: better a break than a guess (or the issuer's
        # other class, rule 7, among these fits).
        best = math.nan
        undetermined = tuple(float(f) for f in fits if not _quantity_vetoes(float(f), q_ratio))
        evidence.append(f"ambiguous: {', '.join(describe(f) for f in fits)} all fit (log spread {spread:.3f} > "
                        f"{AMBIGUITY_FACTOR:g} x tolerance {tolerance:g}): factor undetermined")
    elif fits.size:
        best = float(fits[np.argmin(np.abs(np.log(ratio) - np.log(fits)))])
        others = [describe(f) for f in fits if f != best]
        evidence.append(f"fits {describe(best)} (log distance to the range "
                        f"{float(distance[values == best][0]):.3f} <= tolerance {tolerance:g})"
                        + (f"; also fit: {', '.join(others)}" if others else ""))
    else:
        best = math.nan
        if not dropped_unmarked:      # else rule 2b's evidence already says why none is kept
            near = float(values[np.argmin(distance)])
            evidence.append(f"no candidate within tolerance {tolerance:g}: nearest {describe(near)} at log distance "
                            f"{float(distance.min()):.3f}")

    if np.isfinite(best) and _quantity_vetoes(best, q_ratio):
        evidence.append("quantity moved the other way: factor vetoed")
        best = math.nan

    text = "; ".join(evidence)
    if np.isfinite(best) and best != 1.0:
        rows.append((*base, kind_of_factor(best), best, math.nan, "inferred", text, (), ()))
    elif not (np.isfinite(best) or cash_letters) or (share_letters and not np.isfinite(best)):
        # Nothing explains the move (or a share marker came without a fitting factor).
        if not undetermined:
            later = ()
        elif later_sessions == 0:
            later = (math.nan, "later sessions not read (corporate_actions.later_sessions = 0)")
        else:
            later = judge_by_later_sessions(undetermined, close[first:end], dates[first:end], is_candidate[first:end],
                                            i - first, sessions=later_sessions, sigmas=later_sigmas)
        rows.append((*base, "unexplained", 1.0, math.nan, "inferred", text, undetermined, later))
    for letter in sorted(letters - {"B", "G"}):
        kind = MARKER_KINDS.get(letter, "other_marker")
        rows.append((*base, kind, 1.0, math.nan, "inferred", text, (), ()))
    if not rows:
        rows.append((*base, "distribution", 1.0, math.nan, "inferred", text, (), ()))
    return rows
