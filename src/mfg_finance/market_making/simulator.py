r"""Vectorized Monte Carlo simulation of a market maker (all paths advance together).

Dynamics on the grid ``t_n = n dt`` (n = 0..N-1), for every path at once:

1. quotes at distances ``delta_b, delta_a`` from the mid ``S_n`` (from a strategy table indexed by
   step and inventory, or from a user policy);
2. each side fills independently with probability ``1 - exp(-A exp(-k delta) dt)`` ("exponential",
   the exact Poisson probability of at least one arrival) or ``min(A exp(-k delta) dt, 1)``
   ("linear", as in Avellaneda & Stoikov 2008); a side whose fill would breach ``|q| <= Q_max``
   is not quoted;
3. the mid moves: ``S_{n+1} = S_n + mu dt + sigma sqrt(dt) Z`` ("gaussian") or
   ``S_n + mu dt +- sigma sqrt(dt)`` with probability 1/2 each ("binomial", the sign of the same Z).

PnL is marked to the mid: each fill earns its distance ``delta``, and inventory earns
``q_{n+1} (S_{n+1} - S_n)``, so ``final_pnl = X_N + q_N S_N - X_0 - q_0 S_0`` (no liquidation cost),
times ``order_size``.

Randomness. The NumPy engine (and :func:`simulate_policy`) draws three independent PCG64 streams
spawned from ``seed`` (mid, bid fills, ask fills), each step-major; results do not depend on how
the steps are split into memory blocks. The compiled engine (``engine="numba"``) draws inside the
kernel from one xoshiro256** stream per path seeded from ``(seed, path)`` (:mod:`._path_rng`),
with paths spread over threads: its results are byte-identical for any thread count and path
``p``'s outcome does not depend on how many paths run. The two engines use different random
numbers, so they agree in law (within Monte Carlo error), not path by path. With either engine the
same seed gives the same mid paths whatever the strategy (common random numbers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks
from mfg_finance.market_making.engines import NUMBA_MIN_PATH_STEPS, compiled_engine_pays

if TYPE_CHECKING:  # pandas where a frame is built: the strategies' importers (quote figures) need none
    import pandas as pd

log = logging.getLogger(__name__)

FILL_MODELS = ("exponential", "linear")
MID_MODELS = ("gaussian", "binomial")
ENGINES = ("auto", "numba", "numpy")
#: random numbers drawn per block and stream (bounds memory at ~6 MB for the three streams)
_BLOCK_ELEMENTS = 1 << 18
#: below this many path-steps "auto" takes the numpy engine (mfg_finance.market_making.engines)
_NUMBA_MIN_PATH_STEPS = NUMBA_MIN_PATH_STEPS

Policy = Callable[[float, np.ndarray, np.ndarray], tuple]


@dataclass(frozen=True)
class Dynamics:
    """Market and simulation settings shared by every strategy.

    Attributes
    ----------
    sigma : mid volatility (price units / sqrt(s)).
    A : fill intensity at zero distance (1/s).
    k : intensity decay (1 / price unit).
    dt : time step (s).
    n_steps : number of steps N (horizon ``N dt`` s).
    S0 : initial mid (price units).
    mu : mid drift (price units / s), default 0.
    fill_model : "exponential" (default) or "linear".
    mid_model : "gaussian" (default) or "binomial".
    order_size : size of each fill (shares per lot); PnL is multiplied by it. Default 1.
    """

    sigma: float
    A: float
    k: float
    dt: float
    n_steps: int
    S0: float = 0.0
    mu: float = 0.0
    fill_model: str = "exponential"
    mid_model: str = "gaussian"
    order_size: float = 1.0

    def __post_init__(self):
        _checks.non_negative("sigma", self.sigma, unit="price units/sqrt(s)")
        _checks.positive("A", self.A, unit="1/s")
        _checks.positive("k", self.k, unit="1/price unit")
        _checks.positive("dt", self.dt, unit="s")
        _checks.positive_int("n_steps", self.n_steps)
        _checks.as_float("S0", self.S0, unit="price units")
        _checks.as_float("mu", self.mu, unit="price units/s")
        _checks.choice("fill_model", self.fill_model, FILL_MODELS)
        _checks.choice("mid_model", self.mid_model, MID_MODELS)
        _checks.positive("order_size", self.order_size, unit="shares")

    @property
    def times(self) -> np.ndarray:
        """Decision times ``t_n = n dt`` (s), n = 0..N-1."""
        return np.arange(self.n_steps) * self.dt


@dataclass
class QuoteTable:
    """Quotes that depend on (step, inventory) only: ``delta[n, q + Q_max]`` (price units, inf = no quote)."""

    delta_b: np.ndarray
    delta_a: np.ndarray
    Q_max: int
    name: str = ""

    def __post_init__(self):
        # Own writable copies: the limits below are written in place, and a caller's array (or a
        # read-only broadcast view, e.g. one decision time) must not be touched.
        self.delta_b = np.array(self.delta_b, dtype=np.float64, order="C", copy=True)
        self.delta_a = np.array(self.delta_a, dtype=np.float64, order="C", copy=True)
        expected = 2 * self.Q_max + 1
        if self.delta_b.shape != self.delta_a.shape or self.delta_b.ndim != 2 \
                or self.delta_b.shape[1] != expected:
            raise ConfigError(f"quote tables must both have shape (n_steps, {expected}); got "
                              f"{self.delta_b.shape} and {self.delta_a.shape}")
        for side, delta in (("bid", self.delta_b), ("ask", self.delta_a)):
            if np.isnan(delta).any() or np.isneginf(delta).any():
                raise ConfigError(f"quote table {self.name!r}: {side} distances must be finite or +inf "
                                  "(no quote); found NaN or -inf")
        # Limits: never quote the side that would breach |q| <= Q_max.
        self.delta_b[:, -1] = np.inf
        self.delta_a[:, 0] = np.inf


@dataclass
class PathResults:
    """Per-path outcomes of a simulation (arrays of length n_paths)."""

    final_pnl: np.ndarray
    final_inventory: np.ndarray
    n_bid_fills: np.ndarray
    n_ask_fills: np.ndarray
    max_abs_inventory: np.ndarray
    mean_spread: np.ndarray
    final_price: np.ndarray
    horizon_s: float = field(default=0.0)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        n = self.final_pnl.size
        return pd.DataFrame({
            "path": np.arange(n, dtype=np.int64),
            "final_pnl": self.final_pnl,
            "final_inventory": self.final_inventory.astype(np.int64),
            "n_trades": (self.n_bid_fills + self.n_ask_fills).astype(np.int64),
            "n_bid_fills": self.n_bid_fills.astype(np.int64),
            "n_ask_fills": self.n_ask_fills.astype(np.int64),
            "max_abs_inventory": self.max_abs_inventory.astype(np.int64),
            "mean_spread": self.mean_spread,
            "horizon_s": np.full(n, float(self.horizon_s)),
        })


def fill_probability(delta, *, A: float, k: float, dt: float, model: str = "exponential") -> np.ndarray:
    """Probability that a quote ``delta`` from the mid fills within ``dt``.

    ``1 - exp(-lambda dt)`` ("exponential") or ``min(lambda dt, 1)`` ("linear"), with
    ``lambda = A exp(-k delta)`` (1/s). ``delta = +inf`` (no quote) gives 0.
    """
    _checks.choice("fill_model", model, FILL_MODELS)
    delta = np.asarray(delta, dtype=float)
    with np.errstate(over="ignore"):           # delta << 0: intensity inf, probability 1
        rate_dt = A * dt * np.exp(-k * delta)
    if model == "exponential":
        return -np.expm1(-rate_dt)
    return np.minimum(rate_dt, 1.0)


# -- random numbers --------------------------------------------------------------------------
def random_streams(seed) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent generators for the mid, the bid fills and the ask fills (``seed`` >= 0 or None)."""
    if seed is not None:
        seed = _checks.seed_value("seed", seed)
    children = np.random.SeedSequence(seed).spawn(3)
    return tuple(np.random.Generator(np.random.PCG64(child)) for child in children)


def _blocks(n_steps: int, n_paths: int):
    size = max(1, _BLOCK_ELEMENTS // max(n_paths, 1))
    for start in range(0, n_steps, size):
        yield start, min(start + size, n_steps)


class _State:
    """Per-path state arrays, updated in place by the engines."""

    def __init__(self, n_paths: int, q0: int, S0: float):
        self.q = np.full(n_paths, q0, dtype=np.int64)
        self.pnl = np.zeros(n_paths)
        self.price = np.full(n_paths, float(S0))
        self.n_bid = np.zeros(n_paths, dtype=np.int64)
        self.n_ask = np.zeros(n_paths, dtype=np.int64)
        self.max_abs_q = np.abs(self.q).copy()
        self.spread_sum = np.zeros(n_paths)
        self.spread_n = np.zeros(n_paths, dtype=np.int64)

    def step(self, prob_b, prob_a, gain_b, gain_a, spread, quoted, z, u_b, u_a, scale, drift, binomial):
        """One step for all paths (numpy); same operations, same order as the numba kernel.

        ``gain`` is the distance of a quoted side (0 if not quoted), ``spread`` is
        ``delta_b + delta_a`` when both sides are quoted (else 0) and ``quoted`` flags that case.
        """
        fill_b = (u_b < prob_b).astype(np.int64)
        fill_a = (u_a < prob_a).astype(np.int64)
        self.spread_sum += spread
        self.spread_n += quoted
        q = self.q + fill_b - fill_a
        wealth = self.pnl + fill_b * gain_b
        wealth = wealth + fill_a * gain_a
        self.n_bid += fill_b
        self.n_ask += fill_a
        if binomial:
            d_price = drift + np.where(z >= 0.0, scale, -scale)
        else:
            d_price = drift + scale * z
        self.pnl = wealth + q * d_price
        self.price += d_price
        self.q = q
        np.maximum(self.max_abs_q, np.abs(q), out=self.max_abs_q)

    def results(self, dyn: Dynamics) -> PathResults:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_spread = np.where(self.spread_n > 0, self.spread_sum / np.maximum(self.spread_n, 1), np.nan)
        return PathResults(final_pnl=self.pnl * dyn.order_size, final_inventory=self.q.copy(),
                           n_bid_fills=self.n_bid, n_ask_fills=self.n_ask, max_abs_inventory=self.max_abs_q,
                           mean_spread=mean_spread, final_price=self.price, horizon_s=dyn.n_steps * dyn.dt)


def step_arrays(delta_b, delta_a, dyn: Dynamics):
    """Fill probabilities, gains, spread and both-quoted flag of quotes ``delta`` (any shape)."""
    prob_b = fill_probability(delta_b, A=dyn.A, k=dyn.k, dt=dyn.dt, model=dyn.fill_model)
    prob_a = fill_probability(delta_a, A=dyn.A, k=dyn.k, dt=dyn.dt, model=dyn.fill_model)
    quoted_b, quoted_a = np.isfinite(delta_b), np.isfinite(delta_a)
    gain_b = np.where(quoted_b, delta_b, 0.0)
    gain_a = np.where(quoted_a, delta_a, 0.0)
    both = quoted_b & quoted_a
    return prob_b, prob_a, gain_b, gain_a, np.where(both, gain_b + gain_a, 0.0), both.astype(np.int64)


def _check_run(n_paths, q0, Q_max):
    n_paths = _checks.positive_int("n_paths", n_paths)
    if abs(int(q0)) > Q_max:
        raise ConfigError(f"initial inventory q0={q0} outside [-{Q_max}, {Q_max}] lots")
    return n_paths


def choose_engine(engine: str, path_steps: int) -> str:
    """Resolve ``engine="auto"``: numba for large runs when it imports, numpy otherwise."""
    _checks.choice("engine", engine, ENGINES)
    if engine != "auto":
        return engine
    if not compiled_engine_pays(path_steps):
        return "numpy"
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency, but keep working without it
        return "numpy"
    return "numba"


def simulate_table(table: QuoteTable, dyn: Dynamics, *, n_paths: int, seed, q0: int = 0,
                   engine: str = "auto") -> PathResults:
    """Simulate ``n_paths`` paths of a table strategy (quotes depend on step and inventory only).

    Parameters
    ----------
    table : QuoteTable with at least ``dyn.n_steps`` rows.
    dyn : Dynamics.
    n_paths : number of Monte Carlo paths.
    seed : int or None, seed of the random streams.
    q0 : initial inventory (lots).
    engine : "auto", "numba" or "numpy". The engines draw different random numbers (see the module
        docstring) and agree within Monte Carlo error; numba is faster on large runs and uses all
        of numba's threads (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``) with identical results.
        "auto" picks numba from ``_NUMBA_MIN_PATH_STEPS`` path-steps on.
    """
    n_paths = _check_run(n_paths, q0, table.Q_max)
    if table.delta_b.shape[0] < dyn.n_steps:
        raise ConfigError(f"quote table has {table.delta_b.shape[0]} steps, simulation needs {dyn.n_steps}")
    arrays = step_arrays(table.delta_b, table.delta_a, dyn)
    state = _State(n_paths, q0, dyn.S0)
    scale, drift = dyn.sigma * np.sqrt(dyn.dt), dyn.mu * dyn.dt
    binomial = dyn.mid_model == "binomial"
    engine = choose_engine(engine, n_paths * dyn.n_steps)
    Q = table.Q_max
    if engine == "numba":
        from mfg_finance.job_threads import several_threads
        from mfg_finance.market_making._kernels import table_paths, table_paths_serial
        (table_paths if several_threads() else table_paths_serial)(*arrays, dyn.n_steps, _numba_seed(seed), scale, drift, binomial, Q, state.q, state.pnl,
                    state.price, state.n_bid, state.n_ask, state.max_abs_q, state.spread_sum, state.spread_n)
        return state.results(dyn)
    mid_rng, bid_rng, ask_rng = random_streams(seed)
    for start, stop in _blocks(dyn.n_steps, n_paths):
        shape = (stop - start, n_paths)
        z, u_b, u_a = mid_rng.standard_normal(shape), bid_rng.random(shape), ask_rng.random(shape)
        for i in range(stop - start):
            j = state.q + Q
            n = start + i
            state.step(*(a[n, j] for a in arrays), z[i], u_b[i], u_a[i], scale, drift, binomial)
    return state.results(dyn)


def _numba_seed(seed) -> int:
    """Seed of the compiled engine's per-path streams; ``None`` draws one from the OS, like NumPy."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    return _checks.seed_value("seed", seed)


def simulate_policy(policy: Policy, dyn: Dynamics, *, Q_max: int, n_paths: int, seed, q0: int = 0) -> PathResults:
    """Simulate a user policy ``policy(t, q, S) -> (bid, ask)`` over ``n_paths`` paths (numpy).

    The policy is called once per step with ``t`` (s, float), ``q`` (int64 array of inventories,
    lots) and ``S`` (float array of mids, price units), and returns bid and ask prices broadcastable
    to ``q``. A policy written for scalars (e.g. with ``if q > 0``) is detected on the first call
    and evaluated path by path (slow but correct). NaN or infinite quotes mean "no quote".
    """
    Q_max = _checks.positive_int("Q_max", Q_max, unit="lots")
    n_paths = _check_run(n_paths, q0, Q_max)
    policy = vectorize_policy(policy, n_paths)
    state = _State(n_paths, q0, dyn.S0)
    scale, drift = dyn.sigma * np.sqrt(dyn.dt), dyn.mu * dyn.dt
    binomial = dyn.mid_model == "binomial"
    mid_rng, bid_rng, ask_rng = random_streams(seed)
    times = dyn.times
    for start, stop in _blocks(dyn.n_steps, n_paths):
        shape = (stop - start, n_paths)
        z, u_b, u_a = mid_rng.standard_normal(shape), bid_rng.random(shape), ask_rng.random(shape)
        for i in range(stop - start):
            delta_b, delta_a = quote_distances(policy, times[start + i], state.q, state.price, Q_max)
            state.step(*step_arrays(delta_b, delta_a, dyn), z[i], u_b[i], u_a[i], scale, drift, binomial)
    return state.results(dyn)


def quote_distances(policy: Policy, t: float, q: np.ndarray, price: np.ndarray, Q_max: int):
    """Distances ``(S - bid, ask - S)`` of a policy's quotes, ``inf`` where not quoted or at a limit."""
    bid, ask = policy(float(t), q.copy(), price.copy())
    bid = np.broadcast_to(np.asarray(bid, dtype=float), q.shape)
    ask = np.broadcast_to(np.asarray(ask, dtype=float), q.shape)
    with np.errstate(invalid="ignore"):
        delta_b = np.where(np.isfinite(bid) & (q < Q_max), price - bid, np.inf)
        delta_a = np.where(np.isfinite(ask) & (q > -Q_max), ask - price, np.inf)
    return delta_b, delta_a


def vectorize_policy(policy: Policy, n_paths: int) -> Policy:
    """Return ``policy`` if it accepts arrays, else a per-path loop around it (seed-style policies)."""
    if getattr(policy, "vectorized", None) is False:
        return _looped(policy)
    probe_q = np.zeros(min(n_paths, 2), dtype=np.int64)
    probe_s = np.ones(probe_q.size)
    try:
        bid, ask = policy(0.0, probe_q, probe_s)
        np.broadcast_to(np.asarray(bid, dtype=float), probe_q.shape)
        np.broadcast_to(np.asarray(ask, dtype=float), probe_q.shape)
    except (TypeError, ValueError):
        log.info("policy %r does not accept arrays; evaluating it path by path", policy)
        return _looped(policy)
    return policy


def _looped(policy: Policy) -> Policy:
    def looped(t, q, S):
        quotes = np.array([policy(t, int(qi), float(si)) for qi, si in zip(q, S)], dtype=float)
        return quotes[:, 0], quotes[:, 1]
    return looped
