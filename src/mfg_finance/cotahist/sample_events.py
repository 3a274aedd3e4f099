"""Corporate events of the synthetic sample, and its extra instrument classes.

Events (applied to the exact bars before they are rounded, so the file shows what B3's would):

========================= ============ ====================== =============================
who                        when (share  kind                   what changes from the ex-date
                           of sessions)
========================= ============ ====================== =============================
1st eligible equity        30%          split, factor 2        prices / 2 (quantities x 2)
2nd eligible equity        50%          reverse_split, 0.1     prices x 10 (quantities / 10)
3rd eligible equity        70%          bonus, factor 1.5      prices / 1.5 (3 shares for 2)
SYNA3                      40%          dividend, 2% of price  prices x (1 - D / C_{t-1})
SYNB4                      60%          jcp, 1.5% of price     prices x (1 - D / C_{t-1})
========================= ============ ====================== =============================

"Eligible" equities are those after the three option underlyings that trade every session at one
share per quoted price (so the special roles of the last tickers keep theirs). On each ex-date the
distribution number DISMES goes up by one and ESPECI carries B3's ex-marker (``EB`` for a split or
bonus, ``EG`` reverse split, ``ED`` dividend, ``EJ`` interest on equity) for
:data:`MARKER_SESSIONS` sessions. The truth is returned as a table ``ticker, ex_date, kind,
factor, amount`` (the CSV format of ``corporate_actions.files``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.cotahist.sample_bars import Bars

MARKER_SESSIONS = 5


@dataclass(frozen=True)
class SampleEvent:
    index: int          # row of the instrument
    session: int        # ex-date (session index)
    kind: str
    factor: float       # new shares per old share (1 for cash)
    yield_: float       # cash paid as a fraction of the previous close (0 for share events)
    marker: str


def plan_events(n_tickers: int, n_sessions: int, quote_factor: np.ndarray, listed: np.ndarray) -> list[SampleEvent]:
    """The events of a sample of ``n_tickers`` equities over ``n_sessions`` (see the module docstring)."""
    at = lambda share: max(1, min(n_sessions - 1, int(round(share * n_sessions))))  # noqa: E731
    eligible = [i for i in range(3, n_tickers) if quote_factor[i] == 1 and listed[i].all()]
    events = []
    for (kind, factor, marker, share), i in zip((("split", 2.0, "EB", 0.3), ("reverse_split", 0.1, "EG", 0.5),
                                                  ("bonus", 1.5, "EB", 0.7)), eligible):
        events.append(SampleEvent(i, at(share), kind, factor, 0.0, marker))
    if n_tickers >= 1 and listed[0].all():
        events.append(SampleEvent(0, at(0.4), "dividend", 1.0, 0.02, "ED"))
    if n_tickers >= 2 and listed[1].all():
        events.append(SampleEvent(1, at(0.6), "jcp", 1.0, 0.015, "EJ"))
    return events


def apply_events(bars: Bars, events: list[SampleEvent]) -> list[float]:
    """Apply the events to the exact bars in place; return each event's cash amount (BRL per share).

    A share event divides every price from the ex-date on by its factor. A cash event of amount
    ``D = round(y C_{t-1}, 2)`` multiplies them by ``1 - D / C_{t-1}``, with ``C_{t-1}`` the close
    before the ex-date rounded to the tick, as the file will show it.
    """
    amounts = []
    for e in events:
        if e.yield_ > 0:
            before = max(round(bars.close[e.index, e.session - 1], 2), 0.01)
            amount = round(e.yield_ * before, 2)
            scale = 1.0 - amount / before
        else:
            amount, scale = float("nan"), 1.0 / e.factor
        for prices in (bars.open, bars.high, bars.low, bars.close, bars.avg):
            prices[e.index, e.session:] *= scale
        amounts.append(amount)
    return amounts


def spec_and_distribution(spec: list[str], distribution: np.ndarray, n_sessions: int,
                          events: list[SampleEvent]) -> tuple[np.ndarray, np.ndarray]:
    """ESPECI and DISMES of every (instrument, session): markers and distribution numbers of the events."""
    specs = np.repeat(np.asarray(spec, dtype=object)[:, None], n_sessions, axis=1)
    dist = np.repeat(np.asarray(distribution, dtype=np.int64)[:, None], n_sessions, axis=1)
    for e in events:
        words = spec[e.index].split()
        segment = words[1] if len(words) > 1 else ""
        marked = f"{words[0]:<4}{e.marker:<4}{segment}".rstrip()
        specs[e.index, e.session:e.session + MARKER_SESSIONS] = marked
        dist[e.index, e.session:] += 1
    return specs, dist


def truth_table(events: list[SampleEvent], amounts: list[float], tickers: list[str], dates: np.ndarray) -> str:
    """The events as CSV text ``ticker,ex_date,kind,factor,amount`` (sorted by ticker, ex-date)."""
    rows = sorted((tickers[e.index], str(dates[e.session]), e.kind, f"{e.factor:g}",
                   "" if not np.isfinite(a) else f"{a:.2f}") for e, a in zip(events, amounts))
    return "ticker,ex_date,kind,factor,amount\n" + "".join(",".join(r) + "\n" for r in rows)
