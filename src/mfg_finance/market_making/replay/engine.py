r"""Replay of one session's prints against a strategy's quotes: fills, inventory, cash and PnL.

Rules (units: BRL, shares, seconds; ``L`` = ``order_size`` shares per lot):

* **Decisions.** At ``t_n = t_start + n dt`` (``n = 0..N-1``, ``N = ceil((t_end - t_start) / dt)``) the
  strategy sees ``(t_n - t_start, q, S(t_n))``, ``q`` the inventory in lots rounded to the nearest
  integer and ``S`` the reference price (:mod:`.tape`), and returns a bid and an ask. A table strategy
  of :mod:`..strategies` (horizon ``N dt``) gives ``bid = S - delta_b[n, q]``, ``ask = S + delta_a[n, q]``
  exactly as in the simulator; a policy ``policy(t, q, S) -> (bid, ask)`` is called in Python.
* **Tick grid.** The bid is rounded down and the ask up to ``tick_size`` (away from the mid); a
  non-positive bid is not posted, and a quote whose bid meets or crosses its ask is not posted at all.
* **Orders.** Each side posts ``min(L, Q_max L -+ inventory)`` shares (never beyond ``|q| <= Q_max``);
  a decision's quotes go live ``latency_s`` after it and replace the previous ones. A side filled
  in full stays empty until the next decision, so without partial fills each side fills at most
  once per step, as in the simulator.
* **Fills.** A seller-initiated print at or below our bid (a buyer-initiated print at or above our
  ask) fills us at *our* price, up to the print's quantity, after the queue ahead of us at our price
  (``front``: none; ``back``: ``queue_ahead``; ``probabilistic``: ``U queue_ahead``) has been served.
  A print strictly through our price means our level was emptied: the queue ahead is gone. So our
  fills on a print never exceed its quantity. Each fill pays ``maker_fee_bps`` of its notional.
* **Accounting.** ``cash`` starts at 0 and the inventory at 0. ``final_pnl = cash + inventory S(t_end)``
  (marked to the reference, the simulator's convention); ``pnl_at_last_print = cash + inventory p_last``;
  ``liquidation_pnl`` closes the inventory at the last print paying ``taker_fee_bps``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from mfg_finance.errors import ConfigError, DataError
from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay.settings import ReplaySettings
from mfg_finance.market_making.replay.tape import Tape, reference_price
from mfg_finance.market_making.simulator import QuoteTable, vectorize_policy
from mfg_finance.market_making.strategies import STRATEGIES, build_quote_table

#: columns of the per-session summary (those shared with the simulated backtests come first)
SUMMARY_COLUMNS = ("session", "final_pnl", "final_inventory", "n_trades", "n_bid_fills", "n_ask_fills",
                   "max_abs_inventory", "mean_spread", "horizon_s", "cash", "pnl_at_last_print",
                   "liquidation_pnl", "fees", "bought_shares", "sold_shares", "n_prints", "traded_shares",
                   "n_unsigned_prints", "n_cancelled", "n_decisions", "last_price", "final_reference")
FILL_COLUMNS = ("time_s", "print_index", "side", "price", "quantity", "fee", "inventory", "cash")
QUOTE_COLUMNS = ("time_s", "q", "reference", "bid", "ask", "bid_size", "ask_size")


@dataclass
class SessionReplay:
    """Outcome of one session: the summary row, every fill, and every decision's quotes."""

    summary: dict
    fills: pd.DataFrame
    quotes: pd.DataFrame


def session_window(tape: Tape, settings: ReplaySettings, session_start_s: float | None = None,
                   session_end_s: float | None = None, *, session: str = "") -> tuple[float, float, np.ndarray]:
    """``(t_start, t_end, decision times)`` (s since midnight): defaults are the first and last prints."""
    t_start = tape.time_s[0] if session_start_s is None else float(session_start_s)
    t_end = tape.time_s[-1] if session_end_s is None else float(session_end_s)
    if not t_end >= t_start:
        raise ConfigError(f"session {session!r}: session end {t_end} s is before its start {t_start} s")
    n = max(1, int(math.ceil((t_end - t_start) / settings.dt_s - 1e-9)))
    return t_start, t_end, t_start + np.arange(n) * settings.dt_s


def session_quote_table(strategy: str, market: MarketParameters, decision_times: np.ndarray,
                        settings: ReplaySettings) -> QuoteTable:
    """The quote table of a named strategy over a session's decisions (horizon ``N dt``)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}")
    n = decision_times.size
    return build_quote_table(strategy, market, np.arange(n) * settings.dt_s, n * settings.dt_s)


def _queue_ahead(settings: ReplaySettings, n: int) -> tuple[np.ndarray, np.ndarray]:
    if settings.queue == "front":
        return np.zeros(n), np.zeros(n)
    if settings.queue == "back":
        return np.full(n, settings.queue_ahead), np.full(n, settings.queue_ahead)
    rng = np.random.Generator(np.random.PCG64(settings.seed))
    return rng.random(n) * settings.queue_ahead, rng.random(n) * settings.queue_ahead


def replay_session(tape: Tape, strategy: str | Callable, market: MarketParameters, settings: ReplaySettings, *,
                   reference: tuple[np.ndarray, np.ndarray] | None = None, session_start_s: float | None = None,
                   session_end_s: float | None = None, session: str = "") -> SessionReplay:
    """Replay ``tape`` against ``strategy`` (a name in ``STRATEGIES`` or a policy callable).

    Parameters
    ----------
    tape : the session's prints (:class:`Tape`).
    strategy : ``"hjb"``, ``"avellaneda_stoikov"``, ``"constant"``, ``"inventory_aware"``, a
        :class:`QuoteTable` (rows = decisions; e.g. :func:`session_quote_table`, built once for several
        replays of one session) or ``policy(t, q, S) -> (bid, ask)`` (t s from the session start,
        q lots, prices BRL).
    market : calibrated parameters; the strategies use them, the replay uses ``Q_max`` and
        ``order_size`` (shares per lot).
    settings : :class:`ReplaySettings`.
    reference : optional ``(times_s, values)`` step function of the reference price; default the
        robust mid proxy of the tape's own prints.
    session_start_s, session_end_s : first decision and the marking time (s since midnight);
        default the first and the last print. Prints outside are not replayed.
    session : label of the session in the summary.
    """
    t_start, t_end, dec_time = session_window(tape, settings, session_start_s, session_end_s, session=session)
    inside = (tape.time_s >= t_start) & (tape.time_s <= t_end)
    if not inside.any():
        raise DataError(f"session {session!r}: no print of {tape.ticker!r} between {t_start} s and {t_end} s")
    p_time, p_price, p_qty = tape.time_s[inside], tape.price[inside], tape.quantity[inside]
    signs = tape.signs()
    if reference is None:
        ref_time, ref_value = tape.time_s, reference_price(tape.price, signs, settings.reference_window)
    else:
        ref_time, ref_value = (np.ascontiguousarray(a, dtype=np.float64) for a in reference)
        if ref_time.size == 0 or ref_time.size != ref_value.size or np.any(np.diff(ref_time) < 0) \
                or not np.isfinite(ref_value).all():
            raise DataError(f"session {session!r}: the reference price must be non-empty, finite, with "
                            "non-decreasing times")
    p_sign = np.ascontiguousarray(signs[inside])

    n_dec = dec_time.size
    Q, lot = market.Q_max, float(market.order_size)
    if isinstance(strategy, str):
        strategy = session_quote_table(strategy, market, dec_time, settings)
    if isinstance(strategy, QuoteTable):
        if strategy.Q_max != Q or strategy.delta_b.shape[0] < n_dec:
            raise ConfigError(f"quote table {strategy.name!r} has {strategy.delta_b.shape[0]} steps and Q_max "
                              f"{strategy.Q_max}; the session needs {n_dec} steps and Q_max {Q}")
        table_b, table_a, policy = strategy.delta_b, strategy.delta_a, None
    elif callable(strategy):
        table_b = table_a = np.zeros((1, 2 * Q + 1))
        policy = vectorize_policy(strategy, 1)
    else:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}, a QuoteTable or a callable, "
                          f"got {strategy!r}")
    ahead_b, ahead_a = _queue_ahead(settings, n_dec)
    out = _run(p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time, settings, table_b, table_a, Q, lot,
               policy, ahead_b, ahead_a, t_start)
    return _outputs(out, tape, p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time, t_end, settings,
                    lot, session)


def _run(p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time, settings, table_b, table_a, Q, lot,
         policy, ahead_b, ahead_a, t_start):
    from mfg_finance.market_making.replay import _kernel as K

    n_dec = dec_time.size
    raw_bid, raw_ask = np.full(n_dec, np.nan), np.full(n_dec, np.nan)
    ist = np.zeros(K.N_ISTATE, dtype=np.int64)
    ist[K.GIVEN] = -1
    fst = np.zeros(K.N_FSTATE)
    fst[K.BID] = fst[K.ASK] = np.nan
    dec = {name: np.full(n_dec, np.nan) for name in ("bid", "ask", "bsize", "asize", "S")}
    dec["q"] = np.zeros(n_dec, dtype=np.int64)
    cap = int(min(p_time.size, 4 * n_dec + 64))
    fills = _fill_buffers(cap)
    fee_rate = settings.maker_fee_bps * 1e-4
    while True:
        status = K.replay_events(p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time,
                                 float(settings.latency_s), table_b, table_a, int(Q), policy is None, raw_bid,
                                 raw_ask, ahead_b, ahead_a, float(settings.tick_size), lot, fee_rate, ist, fst,
                                 dec["bid"], dec["ask"], dec["bsize"], dec["asize"], dec["S"], dec["q"],
                                 *fills.values())
        if status == K.DONE:
            break
        if status == K.FILLS_FULL:
            fills = {key: np.concatenate([arr, np.zeros_like(arr)]) for key, arr in fills.items()}
            continue
        n = int(ist[K.N_DEC])
        bid, ask = policy(float(dec_time[n] - t_start), np.array([dec["q"][n]], dtype=np.int64),
                          np.array([dec["S"][n]]))
        raw_bid[n] = float(np.asarray(bid, dtype=float).reshape(-1)[0])
        raw_ask[n] = float(np.asarray(ask, dtype=float).reshape(-1)[0])
        ist[K.GIVEN] = n
    k = int(ist[K.N_FILLS])
    return {"fst": fst, "decisions": dec, "fills": {key: arr[:k] for key, arr in fills.items()}, "K": K}


def _fill_buffers(cap: int) -> dict:
    return {"print": np.zeros(cap, dtype=np.int64), "side": np.zeros(cap, dtype=np.int8),
            "price": np.zeros(cap), "qty": np.zeros(cap), "fee": np.zeros(cap), "inv": np.zeros(cap),
            "cash": np.zeros(cap)}


def _outputs(out, tape, p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time, t_end, settings, lot,
             session):
    K, fst, dec, f = out["K"], out["fst"], out["decisions"], out["fills"]
    inv, cash = float(fst[K.INV]), float(fst[K.CASH])
    last_price = float(p_price[-1])
    final_reference = float(ref_value[max(0, np.searchsorted(ref_time, t_end, side="right") - 1)])
    at_last = cash + inv * last_price
    both = np.isfinite(dec["bid"]) & np.isfinite(dec["ask"])
    spread = float(np.mean(dec["ask"][both] - dec["bid"][both])) if both.any() else float("nan")
    bought = f["side"] > 0
    summary = {
        "session": str(session),
        "final_pnl": cash + inv * final_reference,
        "final_inventory": inv / lot,
        "n_trades": int(f["side"].size),
        "n_bid_fills": int(bought.sum()),
        "n_ask_fills": int((~bought).sum()),
        "max_abs_inventory": int(math.ceil(float(fst[K.MAX_ABS]) / lot - 1e-9)),
        "mean_spread": spread,
        "horizon_s": float(dec_time.size * settings.dt_s),
        "cash": cash,
        "pnl_at_last_print": at_last,
        "liquidation_pnl": at_last - abs(inv) * last_price * settings.taker_fee_bps * 1e-4,
        "fees": float(fst[K.FEES]),
        "bought_shares": float(f["qty"][bought].sum()),
        "sold_shares": float(f["qty"][~bought].sum()),
        "n_prints": int(p_price.size),
        "traded_shares": float(p_qty.sum()),
        "n_unsigned_prints": int(np.count_nonzero(p_sign == 0)),
        "n_cancelled": int(tape.n_cancelled),
        "n_decisions": int(dec_time.size),
        "last_price": last_price,
        "final_reference": final_reference,
    }
    fills = pd.DataFrame({"time_s": p_time[f["print"]], "print_index": f["print"], "side": f["side"],
                          "price": f["price"], "quantity": f["qty"], "fee": f["fee"], "inventory": f["inv"],
                          "cash": f["cash"]})
    quotes = pd.DataFrame({"time_s": dec_time, "q": dec["q"], "reference": dec["S"], "bid": dec["bid"],
                           "ask": dec["ask"], "bid_size": dec["bsize"], "ask_size": dec["asize"]})
    return SessionReplay(summary=summary, fills=fills, quotes=quotes)


def sessions_frame(replays: list[SessionReplay]) -> pd.DataFrame:
    """One row per session (columns :data:`SUMMARY_COLUMNS`), the input of :func:`replay_statistics`."""
    if not replays:
        raise ConfigError("no session replays to tabulate")
    return pd.DataFrame([r.summary for r in replays], columns=list(SUMMARY_COLUMNS))


def replay_statistics(results) -> pd.DataFrame:
    """The simulated backtests' statistics table over sessions (``n_paths`` = sessions; standard errors
    across sessions, which the table treats as i.i.d.), per (ticker, strategy)."""
    from mfg_finance.market_making.backtest import backtest_statistics

    return backtest_statistics(results).rename(columns={"n_paths": "n_sessions"})
