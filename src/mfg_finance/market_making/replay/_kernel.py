"""Compiled event loop of the replay (numba; imported lazily, like the simulator's kernel).

One loop merges three time-ordered event streams: prints, quote decisions (every ``dt``) and quote
arrivals (decision + latency). At equal times a print comes first, then a decision, then an
arrival, so a decision sees every print stamped at or before it and nothing later. The loop is
resumable: its position lives in ``ist`` / ``fst`` and it returns

* ``DONE`` when every event is processed;
* ``NEED_QUOTE`` when decision ``ist[N_DEC]`` needs a quote from a Python policy (``dec_S`` and
  ``dec_q`` hold its inputs; the caller writes ``raw_bid`` / ``raw_ask``, sets ``ist[GIVEN]`` and
  calls again);
* ``FILLS_FULL`` when the fill buffers are full (the caller enlarges them and calls again).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

DONE, NEED_QUOTE, FILLS_FULL = 0, 1, 2
# integer state slots
I_PRINT, N_DEC, M_ARR, N_FILLS, GIVEN, REF = range(6)
N_ISTATE = 6
# float state slots
INV, CASH, FEES, BID, ASK, REM_B, REM_A, AHEAD_B, AHEAD_A, MAX_ABS = range(10)
N_FSTATE = 10


@njit(cache=True, nogil=True)
def signed_mid_median(price, signs, window):  # pragma: no cover - compiled
    """Rolling median over ``window`` prints of the midpoint of the last buy- and sell-initiated prints."""
    n = price.size
    mid = np.empty(n)
    last_a = np.nan
    last_b = np.nan
    for i in range(n):
        if signs[i] > 0:
            last_a = price[i]
        elif signs[i] < 0:
            last_b = price[i]
        if last_a == last_a and last_b == last_b:
            mid[i] = 0.5 * (last_a + last_b)
        else:
            mid[i] = price[i]
    if window == 1:
        return mid
    out = np.empty(n)
    buf = np.empty(window)
    for i in range(n):
        start = max(0, i - window + 1)
        m = i - start + 1
        for j in range(m):                       # insertion sort of the (short) window, no allocation
            x = mid[start + j]
            k = j
            while k > 0 and buf[k - 1] > x:
                buf[k] = buf[k - 1]
                k -= 1
            buf[k] = x
        out[i] = buf[m // 2] if m % 2 == 1 else 0.5 * (buf[m // 2 - 1] + buf[m // 2])
    return out


@njit(cache=True, nogil=True)
def _on_grid(bid, ask, tick):  # pragma: no cover - compiled
    """Bid rounded down and ask up to the tick grid (tick 0: unchanged); NaN = not quoted.

    A non-positive bid is not quoted, and if the bid meets or crosses the ask (before or after
    rounding) neither side is.
    """
    if bid == bid and ask == ask and bid >= ask:
        return np.nan, np.nan
    if tick > 0.0:
        if bid == bid:
            bid = math.floor(bid / tick + 1e-9) * tick
        if ask == ask:
            ask = math.ceil(ask / tick - 1e-9) * tick
    if bid == bid and bid <= 0.5 * tick:
        bid = np.nan
    if bid == bid and ask == ask and bid >= ask - 0.5 * tick:
        bid = np.nan
        ask = np.nan
    return bid, ask


@njit(cache=True, nogil=True)
def replay_events(p_time, p_price, p_qty, p_sign, ref_time, ref_value, dec_time, latency,
                  table_b, table_a, Q, use_table, raw_bid, raw_ask, ahead_b, ahead_a,
                  tick, lot, fee_rate, ist, fst,
                  dec_bid, dec_ask, dec_bsize, dec_asize, dec_S, dec_q,
                  f_print, f_side, f_price, f_qty, f_fee, f_inv, f_cash):  # pragma: no cover - compiled
    n_prints = p_time.size
    n_dec = dec_time.size
    cap = f_print.size
    qmax = Q * lot
    tol = 1e-6 * tick
    inf = np.inf
    while True:
        i = ist[I_PRINT]
        n = ist[N_DEC]
        m = ist[M_ARR]
        tp = p_time[i] if i < n_prints else inf
        td = dec_time[n] if n < n_dec else inf
        ta = dec_time[m] + latency if m < n else inf
        if tp == inf and td == inf and ta == inf:
            return DONE
        if tp <= td and tp <= ta:
            # -- a print: it can fill the side it hits, at our price, up to its size
            s = p_sign[i]
            price = p_price[i]
            f = 0.0
            side = 0
            if s < 0 and fst[REM_B] > 0.0 and price <= fst[BID] + tol:
                avail = p_qty[i]
                if price >= fst[BID] - tol:          # at our level: the queue ahead trades first
                    take = min(fst[AHEAD_B], avail)
                    fst[AHEAD_B] -= take
                    avail -= take
                else:                                # traded through: our level is gone
                    fst[AHEAD_B] = 0.0
                f = min(fst[REM_B], avail, qmax - fst[INV])
                side = 1
            elif s > 0 and fst[REM_A] > 0.0 and price >= fst[ASK] - tol:
                avail = p_qty[i]
                if price <= fst[ASK] + tol:
                    take = min(fst[AHEAD_A], avail)
                    fst[AHEAD_A] -= take
                    avail -= take
                else:
                    fst[AHEAD_A] = 0.0
                f = min(fst[REM_A], avail, qmax + fst[INV])
                side = -1
            if f > 0.0:
                k = ist[N_FILLS]
                if k >= cap:
                    return FILLS_FULL                # nothing consumed: the print is re-read
                ours = fst[BID] if side > 0 else fst[ASK]
                fee = f * ours * fee_rate
                if side > 0:
                    fst[REM_B] -= f
                    fst[INV] += f
                    fst[CASH] -= f * ours + fee
                else:
                    fst[REM_A] -= f
                    fst[INV] -= f
                    fst[CASH] += f * ours - fee
                fst[FEES] += fee
                fst[MAX_ABS] = max(fst[MAX_ABS], abs(fst[INV]))
                f_print[k] = i
                f_side[k] = side
                f_price[k] = ours
                f_qty[k] = f
                f_fee[k] = fee
                f_inv[k] = fst[INV]
                f_cash[k] = fst[CASH]
                ist[N_FILLS] = k + 1
            ist[I_PRINT] = i + 1
        elif td <= ta:
            # -- a decision at dec_time[n] from (t, q, S) then; it arrives latency later
            r = ist[REF]
            while r + 1 < ref_time.size and ref_time[r + 1] <= td:
                r += 1
            ist[REF] = r
            S = ref_value[r]
            inv = fst[INV]
            q = min(max(int(np.rint(inv / lot)), -Q), Q)
            dec_S[n] = S
            dec_q[n] = q
            if use_table:
                bid = S - table_b[n, q + Q] if table_b[n, q + Q] < inf else np.nan
                ask = S + table_a[n, q + Q] if table_a[n, q + Q] < inf else np.nan
            else:
                if ist[GIVEN] != n:
                    return NEED_QUOTE
                bid = raw_bid[n] if abs(raw_bid[n]) < inf else np.nan
                ask = raw_ask[n] if abs(raw_ask[n]) < inf else np.nan
            bid, ask = _on_grid(bid, ask, tick)
            bsize = min(lot, qmax - inv) if bid == bid else 0.0
            asize = min(lot, qmax + inv) if ask == ask else 0.0
            dec_bid[n] = bid if bsize > 0.0 else np.nan
            dec_ask[n] = ask if asize > 0.0 else np.nan
            dec_bsize[n] = max(bsize, 0.0)
            dec_asize[n] = max(asize, 0.0)
            ist[N_DEC] = n + 1
        else:
            # -- arrival of decision m: it replaces the live quotes; an unfilled order left at the same
            # price keeps its place in the queue, any other order joins the queue afresh
            bid = dec_bid[m]
            if bid == bid:
                if not (fst[BID] == bid and fst[REM_B] > 0.0):
                    fst[AHEAD_B] = ahead_b[m]
                fst[BID] = bid
                fst[REM_B] = dec_bsize[m]
            else:
                fst[BID] = np.nan
                fst[REM_B] = 0.0
            ask = dec_ask[m]
            if ask == ask:
                if not (fst[ASK] == ask and fst[REM_A] > 0.0):
                    fst[AHEAD_A] = ahead_a[m]
                fst[ASK] = ask
                fst[REM_A] = dec_asize[m]
            else:
                fst[ASK] = np.nan
                fst[REM_A] = 0.0
            ist[M_ARR] = m + 1
