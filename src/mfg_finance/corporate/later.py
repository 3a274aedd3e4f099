"""The later-sessions rule of the inference: an undetermined share factor decided by the sessions after it.

When the ex-session's range admits factors too far apart (rule 2) and no other class of the issuer
lends one (rule 7, :mod:`~mfg_finance.corporate.issuer`), the closes of the ex-session and of the
sessions after it can still tell the candidates apart, if the asset moves little compared with their
gap (ARCT11, a fund, on 2021-01-27: 1270.20 before, then about 129.5 for days; 9- and 10-for-1 are
0.105 apart in log, its daily moves about 1%).

Model. Without an event, the log close is a random walk with daily standard deviation ``sigma`` (per
weekday: a return over ``d`` weekdays has standard deviation ``sigma sqrt(d)``). Under the candidate
factor ``f``, the implied log return from the close before the event ``C_{t-1}`` to the close of the
``j``-th session from the ex-date (``j = 0`` the ex-session, ``D_j`` weekdays after ``t-1``) is

    x_j(f) = ln(f C_{t+j} / C_{t-1}),   E x_j = 0,   Cov(x_i, x_j) = sigma^2 min(D_i, D_j).

The ``n`` (at most ``corporate_actions.later_sessions``, at least :data:`MIN_AFTER_SESSIONS`) implied returns
are averaged (one erratic close, typical of the first session after an event, weighs ``1/n``) and
standardised by the exact standard deviation of that mean under the model:

    z(f) = mean_j x_j(f) / s,   s = sigma sqrt(sum_i sum_j min(D_i, D_j)) / n,

N(0, 1) under ``f``. A candidate is *consistent* when ``|z(f)| <= k`` (``k`` =
:data:`DEFAULT_SIGMAS` = 3: a true factor is rejected 0.27% of the time) and *excluded* otherwise. The
factor is taken only when exactly one candidate is consistent (every other is then excluded beyond ``k``)
and no return between the closes used exceeds ``k`` of its own standard deviations (news after the
event, which the random walk does not describe, would move the mean); else the event stays a break and
the evidence names the candidates' ``z``. News on the ex-session itself cannot be told from the factor,
and the rule runs only when the ex-session's range admits two factors, mostly a news day on a stock: on
the stocks of January 2021, every session taken as the ex-date of a 10-for-1 (9-for-1, 5-for-1, 4-for-1)
split, the rule picks the neighbour in 0.4% of its decisions over all sessions but in 34% (35 of 103)
over those whose range admits both factors; on funds 4 of 38
(``tests/corporate/test_corporate_realdata.py``). Hence it is off by default
(``corporate_actions.later_sessions: 0``: a break, not a guess); a user who knows the asset turns it on.

``sigma`` is the asset's own, from its sessions away from events: the returns ``r / sqrt(d)`` of
consecutive sessions (``d`` weekdays apart), leaving out the return into the ex-session, those between
the sessions used above and the return into every other candidate ex-session of the ticker (a DISMES
change or a new ex-marker: the known jumps); ``sigma`` is their root mean square about 0. Robust to
other events by leaving them out, not by down-weighting large moves: a median absolute deviation
would read a thin line pinned at resting orders as nearly still (ARCT11 before its event: 10 of its 14
returns away from events under 0.5% in size and two near 5%; MAD x 1.4826 = 0.14%, RMS = 1.86%), and a
scale too small makes the test sure of the wrong factor after one ordinary move; a scale too large only
leaves more events unexplained. At least :data:`MIN_RETURNS` such returns are needed. With ``m`` returns,
``sigma`` is itself uncertain (relative standard error about ``1/sqrt(2m)`` for normal returns), so
``|z| > 3`` rejects a true factor with probability about ``P(|t_m| > 3)`` (1.0% for ``m = 14``), not
0.27%. Weekdays, not the market's sessions, measure time: a holiday counts as a day, which only widens
the tolerance (the rule needs no session calendar, so a batch of tickers decides as the whole file does).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from mfg_finance.corporate.ratios import describe, kind_of_factor

LATER = "later"
"""Column of :func:`~mfg_finance.corporate.infer.infer_candidates`: ``(factor or NaN, evidence)`` of
:func:`judge_by_later_sessions` on an undetermined share event's row; empty on every other row."""

DEFAULT_AFTER_SESSIONS = 5
"""Closes from the ex-date that :func:`later_scores` and :func:`judge_by_later_sessions` read when not told (the
inference passes ``corporate_actions.later_sessions``)."""

DEFAULT_LATER_SESSIONS = 0
"""Sessions from the ex-date (the ex-session included) whose closes are read (``corporate_actions.later_sessions``);
by default 0, the rule off. It cannot tell news on the ex-session from a neighbouring factor (a third of its
decisions wrong on stocks at such sessions, module docstring): better a break than a guess; a user who knows the
asset is quiet turns it on (e.g. 5)."""

MIN_AFTER_SESSIONS = 2
"""Fewer than the ex-session and one session after: no verdict (rule 2 already read the ex-session)."""

DEFAULT_SIGMAS = 3.0
"""Tolerance ``k`` of ``|z|``: standard deviations of the mean implied return (``corporate_actions.later_sigmas``)."""

MIN_RETURNS = 10
"""Returns away from the event needed to estimate the asset's volatility."""


def sigma_away_from_events(close: np.ndarray, dates: np.ndarray, keep: np.ndarray) -> tuple[float, int]:
    """(sigma per sqrt(weekday), number of returns): the root mean square of the returns into the sessions
    where ``keep``, each over the square root of its weekdays.

    ``close`` and ``dates`` are one ticker's sessions in order; ``keep[k]`` says whether the return from
    session ``k-1`` to ``k`` may be used (``keep[0]`` is ignored). NaN when fewer than
    :data:`MIN_RETURNS` returns are usable.
    """
    days = np.busday_count(dates[:-1].astype("datetime64[D]"), dates[1:].astype("datetime64[D]"))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(close)) / np.sqrt(np.maximum(days, 1))
    r = r[keep[1:] & np.isfinite(r)]
    if r.size < MIN_RETURNS:
        return math.nan, int(r.size)
    return float(np.sqrt(np.mean(r ** 2))), int(r.size)


class LaterScores(NamedTuple):
    """What the later sessions say of an event, for every candidate at once: ``z(f) = (mean_return + ln f)
    / scale`` (module docstring)."""

    mean_return: float      #: mean over the closes of ln(C_{t+j} / C_{t-1}) (no factor applied)
    scale: float            #: standard deviation of that mean under the random walk
    sigma: float            #: the asset's volatility per sqrt(weekday)
    n_returns: int          #: returns away from events behind ``sigma``
    n_closes: int           #: closes from the ex-date averaged
    largest_move: float     #: largest |return| between those closes, in sd of its weekdays

    def z(self, factor: float) -> float:
        return (self.mean_return + math.log(factor)) / self.scale


def later_scores(close: np.ndarray, dates: np.ndarray, events: np.ndarray, at: int, *,
                 sessions: int = DEFAULT_AFTER_SESSIONS) -> LaterScores | str:
    """The :class:`LaterScores` of the event at session ``at`` (``at >= 1``), or why there are none.

    ``close`` and ``dates`` are the ticker's sessions in order, ``events`` whether each is a candidate
    ex-session; at most ``sessions`` closes from ``at`` are read.
    """
    end = min(len(close), at + sessions)
    after = close[at:end]
    if end - at < MIN_AFTER_SESSIONS or not (np.all(np.isfinite(after) & (after > 0)) and close[at - 1] > 0):
        return (f"{end - at} session(s) from the ex-date with positive closes, fewer than {MIN_AFTER_SESSIONS}: "
                "no verdict")
    keep = ~events.astype(bool)
    keep[at:end] = False
    sigma, n_returns = sigma_away_from_events(close, dates, keep)
    if not (np.isfinite(sigma) and sigma > 0):
        why = (f"{n_returns} returns away from events, fewer than {MIN_RETURNS}" if not np.isfinite(sigma)
               else "the close never moves away from events")
        return f"no volatility to judge by ({why}): no verdict"
    days = np.busday_count(np.datetime64(dates[at - 1], "D"), dates[at:end].astype("datetime64[D]"))
    days = np.maximum(days, 1).astype(float)
    n = end - at
    scale = sigma * math.sqrt(float(np.minimum.outer(days, days).sum())) / n
    moves = np.abs(np.diff(np.log(after))) / (sigma * np.sqrt(np.diff(days)))
    return LaterScores(float(np.mean(np.log(after / close[at - 1]))), scale, sigma, n_returns, n,
                       float(moves.max()))


def judge_by_later_sessions(fits: tuple[float, ...], close: np.ndarray, dates: np.ndarray, events: np.ndarray,
                            at: int, *, sessions: int = DEFAULT_AFTER_SESSIONS,
                            sigmas: float = DEFAULT_SIGMAS) -> tuple[float, str]:
    """(factor or NaN, evidence) of the later-sessions rule (module docstring) for one undetermined event
    whose ex-session admits ``fits`` (after the quantity veto); other arguments as :func:`later_scores`."""
    scores = later_scores(close, dates, events, at, sessions=sessions)
    if isinstance(scores, str):
        return math.nan, f"later sessions: {scores}"
    z = {f: scores.z(f) for f in fits}
    consistent = [f for f in fits if abs(z[f]) <= sigmas]
    listed = ", ".join(f"{describe(f)} z={z[f]:+.1f}" for f in sorted(fits, key=lambda f: -f))
    text = (f"later sessions: mean implied log return of {scores.n_closes} closes from the ex-date against "
            f"volatility {scores.sigma:.3g} per weekday (RMS of {scores.n_returns} returns away from events), "
            f"sd of the mean {scores.scale:.3g}: {listed}")
    if scores.largest_move > sigmas:
        return math.nan, (f"{text}; but a session among them moves {scores.largest_move:.1f} sd (> {sigmas:g}): "
                          "not the random walk the test assumes (news after the event), no verdict")
    if len(consistent) == 1:
        return consistent[0], (f"{text}; only {describe(consistent[0])} within {sigmas:g} sd, every other beyond: "
                               "resolved by the later sessions")
    if consistent:
        return math.nan, f"{text}; {', '.join(describe(f) for f in consistent)} all within {sigmas:g} sd: no verdict"
    return math.nan, f"{text}; none within {sigmas:g} sd: no verdict"


def resolve_by_later_sessions(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidate rows after the later-sessions rule: a row still ``unexplained`` with a verdict in
    :data:`LATER` takes its factor, if any, and its evidence. Same rows and columns, fresh index."""
    events = candidates.reset_index(drop=True)
    kinds = events["kind"].to_numpy(dtype=object).copy()
    factors = events["factor"].to_numpy(dtype=float).copy()
    evidence = events["evidence"].to_numpy(dtype=object).copy()
    verdicts = events[LATER].to_numpy()
    for i in np.flatnonzero(kinds == "unexplained"):
        if not verdicts[i]:
            continue
        factor, text = verdicts[i]
        evidence[i] += f"; {text}"
        if np.isfinite(factor):
            kinds[i], factors[i] = kind_of_factor(factor), factor
    return events.assign(kind=kinds.astype(str), factor=factors, evidence=evidence.astype(str))
