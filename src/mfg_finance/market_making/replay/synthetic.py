r"""Tapes printed by the project's own simulated market, for checking the replay against the simulator.

Both generators use the simulator's market (:mod:`..simulator`): a mid on the grid ``t_n = n dt``
moving by ``sigma sqrt(dt) Z`` (or ``+-sigma sqrt(dt)``), and market orders whose reach beyond the mid
makes a quote at distance ``delta`` fill at rate ``A exp(-k delta)``. They return, per path, a
:class:`~.tape.Tape` (aggressor flags set, each print ``order_size`` shares) and the mid as the
reference ``(times, values)`` at ``t_n``, ``n = 0..N``.

:func:`simulator_tapes` prints the simulator's own random numbers. In step ``n`` the sell flow reaches
down to ``S_n - D_b`` and the buy flow up to ``S_n + D_a``, where ``D`` inverts the simulator's fill
probability at the same uniform ``u``: ``u < p(delta)  <=>  delta < D(u)`` with
``D(u) = (1/k) ln(A dt / -ln(1 - u))`` ("exponential") or ``(1/k) ln(A dt / u)`` ("linear"). One
seller-initiated print at ``S_n - D_b`` (at ``t_n + dt/3``) and one buyer-initiated at ``S_n + D_a``
(at ``t_n + 2 dt/3``) per step then fill a quote at distance ``delta`` exactly when the simulator
fills it: replayed with the front queue, zero latency, no tick grid and the mid as reference, any
table strategy gets the simulator's fills and PnL path by path.

:func:`poisson_tapes` draws fresh random numbers in continuous time: sell (buy) market orders arrive
as a Poisson process of rate ``A`` (1/s), each reaching a depth ``D ~ Exponential(k)`` below (above)
the current mid, so orders reaching beyond ``delta >= 0`` arrive at rate ``A exp(-k delta)``. A quote
re-posted every ``dt`` fills within a step with probability ``1 - exp(-A exp(-k delta) dt)``, the
simulator's "exponential" law, so replay and simulator agree in distribution (for ``delta >= 0``).
"""

from __future__ import annotations

import numpy as np

from mfg_finance.market_making.market import MarketParameters
from mfg_finance.market_making.replay.tape import Tape
from mfg_finance.market_making.simulator import Dynamics, _blocks, random_streams


def _dynamics(market: MarketParameters, horizon_s: float, dt_s: float, fill_model: str, mid_model: str) -> Dynamics:
    from mfg_finance.market_making.backtest import n_steps_of

    return Dynamics(sigma=market.sigma, A=market.A, k=market.k, dt=float(dt_s), n_steps=n_steps_of(horizon_s, dt_s),
                    S0=market.S0, fill_model=fill_model, mid_model=mid_model, order_size=market.order_size)


def _mid_paths(z: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """Mid at ``t_0..t_N`` for every path, shape (N + 1, n_paths), accumulated as the simulator does."""
    scale, drift = dyn.sigma * np.sqrt(dyn.dt), dyn.mu * dyn.dt
    step = drift + (np.where(z >= 0.0, scale, -scale) if dyn.mid_model == "binomial" else scale * z)
    mid = np.empty((z.shape[0] + 1, z.shape[1]))
    mid[0] = dyn.S0
    for n in range(z.shape[0]):                   # sequential sums, bit-identical to the simulator's mid
        mid[n + 1] = mid[n] + step[n]
    return mid


def reach(u: np.ndarray, dyn: Dynamics) -> np.ndarray:
    """Distance ``D(u)`` reached by the flow of one step: ``u < p(delta)`` exactly when ``delta < D(u)``."""
    with np.errstate(divide="ignore"):
        if dyn.fill_model == "exponential":
            return np.log(dyn.A * dyn.dt / -np.log1p(-u)) / dyn.k
        return np.log(dyn.A * dyn.dt / u) / dyn.k


def simulator_tapes(market: MarketParameters, *, horizon_s: float, dt_s: float, n_paths: int, seed,
                    fill_model: str = "exponential", mid_model: str = "gaussian") -> list[tuple[Tape, tuple]]:
    """Per path ``(tape, (ref_times, ref_mid))`` from the random numbers of ``simulate_table(seed)``."""
    dyn = _dynamics(market, horizon_s, dt_s, fill_model, mid_model)
    mid_rng, bid_rng, ask_rng = random_streams(seed)
    z, u_b, u_a = [], [], []
    for start, stop in _blocks(dyn.n_steps, n_paths):   # the simulator's draw order
        shape = (stop - start, n_paths)
        z.append(mid_rng.standard_normal(shape))
        u_b.append(bid_rng.random(shape))
        u_a.append(ask_rng.random(shape))
    z, u_b, u_a = np.concatenate(z), np.concatenate(u_b), np.concatenate(u_a)
    mid = _mid_paths(z, dyn)
    times = np.arange(dyn.n_steps + 1) * dyn.dt
    step_t = times[:-1]
    lowest = 1e-9 * np.abs(mid[:-1]) + 1e-300   # a flow reaching "infinitely" deep (u = 0) prints near 0
    sell_price = np.maximum(mid[:-1] - reach(u_b, dyn), lowest)
    buy_price = mid[:-1] + np.minimum(reach(u_a, dyn), 1e300)
    out = []
    for p in range(n_paths):
        time_s = np.column_stack([step_t + dyn.dt / 3.0, step_t + 2.0 * dyn.dt / 3.0]).ravel()
        price = np.column_stack([sell_price[:, p], buy_price[:, p]]).ravel()
        side = np.tile(np.array([-1, 1], dtype=np.int8), dyn.n_steps)
        tape = Tape(time_s=time_s, price=price, quantity=np.full(time_s.size, float(dyn.order_size)), side=side,
                    ticker="simulated", n_flagged=time_s.size)
        out.append((tape, (times, mid[:, p].copy())))
    return out


def poisson_tapes(market: MarketParameters, *, horizon_s: float, dt_s: float, n_paths: int, seed,
                  mid_model: str = "gaussian") -> list[tuple[Tape, tuple]]:
    """Per path ``(tape, (ref_times, ref_mid))`` with continuous-time Poisson market orders (fresh draws)."""
    dyn = _dynamics(market, horizon_s, dt_s, "exponential", mid_model)
    rng = np.random.Generator(np.random.PCG64(seed))
    times = np.arange(dyn.n_steps + 1) * dyn.dt
    out = []
    for _ in range(n_paths):
        mid = _mid_paths(rng.standard_normal((dyn.n_steps, 1)), dyn)[:, 0]
        parts = []
        for sign in (-1, 1):
            counts = rng.poisson(dyn.A * dyn.dt, dyn.n_steps)
            step = np.repeat(np.arange(dyn.n_steps), counts)
            t = times[step] + rng.random(step.size) * dyn.dt
            depth = rng.exponential(1.0 / dyn.k, step.size)
            parts.append((t, mid[step] + sign * depth, np.full(step.size, sign, dtype=np.int8)))
        t = np.concatenate([parts[0][0], parts[1][0]])
        order = np.argsort(t, kind="stable")
        price = np.concatenate([parts[0][1], parts[1][1]])[order]
        side = np.concatenate([parts[0][2], parts[1][2]])[order]
        tape = Tape(time_s=t[order], price=np.maximum(price, 1e-9 * dyn.S0), side=side,
                    quantity=np.full(t.size, float(dyn.order_size)), ticker="simulated", n_flagged=t.size)
        out.append((tape, (times, mid)))
    return out
