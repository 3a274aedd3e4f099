r"""Agent-based check of the equilibrium: ``N`` crowd agents and the market maker with Poisson fills.

Each run (seeded; numba's generator seeded from ``seed``: same seed, same numbers):

* **crowd**: ``N`` agents, ``q_i(0) ~ N(m0_mean, m0_std^2)``, each using the equilibrium feedback
  ``alpha^n(q)`` (linear interpolation of the solver's feedback, constant beyond the grid) on the crowd's
  time steps, drift-implicit as the solver's step (``q' = q + dt alpha^n(q') + sigma sqrt(dt) Z``, solved by
  Newton's method), so that the realised flow of step ``n`` is ``m_N^n = mean_i alpha^n(q_i')``;
* **market maker**: its equilibrium quotes (the solver's sub-step tables ``delta(t, q)``), filled by Poisson
  arrivals of rate ``Lambda_s e^{-k delta}`` with the *realised* intensities
  ``Lambda_b = A + beta max(-F_N, 0)``, ``F_N = units x m_N`` (exact event times: the rates are constant
  between events within a sub-step); the mid moves by ``sigma dW``, so the inventory PnL ``int q dS`` is
  drawn exactly as ``N(0, sigma^2 int q^2 dt)`` given the inventory path;
* **costs**: each agent pays ``sum_n dt_n (phi q_{n+1}^2 + eta_N^n alpha^2) + gamma_T q_T^2`` with the
  realised ``eta_N^n = eta0 + eta1 |m_N^n| + theta S_N^n``, ``S_N^n`` the realised spread the crowd pays (twice
  the realised distance of the side it hits, or the quoted spread: ``crowd_pays``) averaged over step ``n``
  (time when both sides are quoted).

:func:`simulate_market_maker` simulates the market maker alone against given intensities (the
chi-square check of its inventory law).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mfg_finance.equilibrium.fixed_point import EquilibriumSolution
from mfg_finance.equilibrium.market_maker import MarketMakerSolution


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True)
def _interp(q, nodes, values):
    """Linear interpolation on the (uniform or graded) ``nodes``; constant beyond the ends. Returns (value, slope)."""
    n = values.size
    if q <= nodes[0]:
        return values[0], 0.0
    if q >= nodes[n - 1]:
        return values[n - 1], 0.0
    i = min(np.searchsorted(nodes, q, side="right") - 1, n - 2)
    h = nodes[i + 1] - nodes[i]
    w = (q - nodes[i]) / h
    slope = (values[i + 1] - values[i]) / h
    return values[i] + w * (values[i + 1] - values[i]), slope


@njit(cache=True)
def _crowd_runs(n_runs, n_agents, dts, alpha, nodes, sigma, m0_mean, m0_std, phi):
    """Per run and step: realised mean flow ``m``, mean ``alpha^2``, mean ``q^2`` at the step's end, mean ``q``."""
    nt = dts.size
    m = np.zeros((n_runs, nt))
    a2 = np.zeros((n_runs, nt))
    q2 = np.zeros((n_runs, nt + 1))
    qm = np.zeros((n_runs, nt + 1))
    for r in range(n_runs):
        q = m0_mean + m0_std * np.random.standard_normal(n_agents)
        qm[r, 0] = q.mean()
        q2[r, 0] = (q * q).mean()
        for n in range(nt):
            h = dts[n]
            sm, sa2 = 0.0, 0.0
            for i in range(n_agents):
                target = q[i] + sigma * math.sqrt(h) * np.random.standard_normal()
                y = q[i]
                for _ in range(50):            # Newton on y - h alpha(y) - target = 0 (alpha decreasing)
                    a, s = _interp(y, nodes, alpha[n])
                    f = y - h * a - target
                    step = f / (1.0 - h * s)
                    y -= step
                    if abs(step) <= 1e-13 * (1.0 + abs(y)):
                        break
                a, s = _interp(y, nodes, alpha[n])
                q[i] = y
                sm += a
                sa2 += a * a
            m[r, n] = sm / n_agents
            a2[r, n] = sa2 / n_agents
            qm[r, n + 1] = q.mean()
            q2[r, n + 1] = (q * q).mean()
    return m, a2, q2, qm


@njit(cache=True)
def _mm_runs(hs, step_of, up_unit, down_unit, delta_b, delta_a, scale_b, scale_a, q_max, record_at, nt):
    """Per run: spread capture, int q^2 dt, inventory at the sub-nodes ``record_at``, and per crowd step
    the integral of the quoted spread and of the time both sides are quoted; fills per side."""
    n_runs = scale_b.shape[0]
    nq = 2 * q_max + 1
    capture = np.zeros(n_runs)
    q2_time = np.zeros(n_runs)
    recorded = np.zeros((n_runs, record_at.size), dtype=np.int64)
    spread_int = np.zeros((n_runs, nt))
    skew_int = np.zeros((n_runs, nt))
    quoted_int = np.zeros((n_runs, nt))
    fills = np.zeros((n_runs, 2))
    for r in range(n_runs):
        j_rec = 0
        q = 0
        while j_rec < record_at.size and record_at[j_rec] == 0:
            recorded[r, j_rec] = q
            j_rec += 1
        for j in range(hs.size):
            n = step_of[j]
            h = hs[j]
            t = 0.0
            while True:
                idx = q + q_max
                up = scale_b[r, n] * up_unit[j, idx]
                down = scale_a[r, n] * down_unit[j, idx]
                total = up + down
                wait = np.random.exponential(1.0) / total if total > 0.0 else np.inf
                span = min(wait, h - t)
                q2_time[r] += q * q * span
                if 0 < idx < nq - 1:
                    spread_int[r, n] += (delta_b[j, idx] + delta_a[j, idx]) * span
                    skew_int[r, n] += (delta_b[j, idx] - delta_a[j, idx]) * span
                    quoted_int[r, n] += span
                if t + wait >= h:
                    break
                t += wait
                if np.random.random() * total < up:
                    capture[r] += delta_b[j, idx]
                    fills[r, 0] += 1.0
                    q += 1
                else:
                    capture[r] += delta_a[j, idx]
                    fills[r, 1] += 1.0
                    q -= 1
            while j_rec < record_at.size and record_at[j_rec] == j + 1:
                recorded[r, j_rec] = q
                j_rec += 1
    return capture, q2_time, recorded, spread_int, skew_int, quoted_int, fills


@dataclass(frozen=True)
class MarketMakerRuns:
    """Monte Carlo of the market maker's quoting policy: per run spread capture and inventory PnL (BRL per
    share-lot), ``q2_time = int q^2 dt`` (lots^2 s), inventories at the recorded sub-nodes, per crowd step the
    integrals of the quoted spread (BRL s) and of the quoted time (s), fills per side."""

    capture: np.ndarray
    inventory_pnl: np.ndarray
    q2_time: np.ndarray
    inventories: np.ndarray
    spread_integral: np.ndarray
    skew_integral: np.ndarray
    quoted_time: np.ndarray
    fills: np.ndarray


def simulate_market_maker(mm: MarketMakerSolution, *, scale_b: np.ndarray, scale_a: np.ndarray, seed: int,
                          record_at: np.ndarray | None = None) -> MarketMakerRuns:
    """Runs of the market maker's equilibrium quotes against base intensities ``scale_b[r, n]``,
    ``scale_a[r, n]`` (1/s, one row per run, one column per crowd step)."""
    p = mm.params
    lam_b = mm.lambda_b[mm.step_of][:, None]
    lam_a = mm.lambda_a[mm.step_of][:, None]
    up_unit = mm.up_rate / lam_b            # controlled rate per unit of base intensity
    down_unit = mm.down_rate / lam_a
    record = np.asarray([] if record_at is None else record_at, dtype=np.int64)
    _seed(int(seed))
    capture, q2_time, rec, spread_int, skew_int, quoted_int, fills = _mm_runs(
        np.diff(mm.t_sub), mm.step_of, up_unit, down_unit, mm.delta_b, mm.delta_a,
        np.ascontiguousarray(scale_b, dtype=float), np.ascontiguousarray(scale_a, dtype=float), p.Q_max, record,
        mm.t_nodes.size - 1)
    z = np.random.default_rng(np.random.SeedSequence([int(seed), 1])).standard_normal(capture.size)
    return MarketMakerRuns(capture=capture, inventory_pnl=p.sigma * np.sqrt(q2_time) * z, q2_time=q2_time,
                           inventories=rec, spread_integral=spread_int, skew_integral=skew_int,
                           quoted_time=quoted_int, fills=fills)


@dataclass(frozen=True)
class AgentRuns:
    """Per run (rows): realised crowd flow ``m`` (inventory units / day, per step), crowd cost per agent (cost
    units), crowd mean inventory at the nodes, the realised spread the crowd pays per step (BRL) and PnL
    (BRL, lot-sized)."""

    mean_flow: np.ndarray
    crowd_cost: np.ndarray
    crowd_mean_inventory: np.ndarray
    spread: np.ndarray
    mm_pnl: np.ndarray
    n_agents: int


def simulate_agents(solution: EquilibriumSolution, *, n_agents: int, n_runs: int, seed: int) -> AgentRuns:
    """``n_runs`` independent runs of ``n_agents`` crowd agents against the market maker (module docstring)."""
    crowd, mm, coupling = solution.crowd, solution.mm, solution.coupling
    cfg = crowd.config["params"]
    dts = crowd.time_steps
    _seed(int(seed))
    m, a2, q2, qm = _crowd_runs(int(n_runs), int(n_agents), dts, np.ascontiguousarray(crowd.alpha[:-1]),
                                np.ascontiguousarray(crowd.q, dtype=float), float(cfg["sigma"]), float(cfg["m0_mean"]),
                                float(cfg["m0_std"]), float(cfg["phi"]))
    flow = coupling.units.crowd_flow_lots_per_s(m)
    scale_b = mm.params.A + coupling.beta * np.maximum(-flow, 0.0)
    scale_a = mm.params.A + coupling.beta * np.maximum(flow, 0.0)
    runs = simulate_market_maker(mm, scale_b=scale_b, scale_a=scale_a, seed=int(seed) + 1)
    paid = runs.spread_integral
    if coupling.crowd_pays == "side":
        paid = paid + np.sign(-m) * runs.skew_integral
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(runs.quoted_time > 0, paid / runs.quoted_time, solution.spread[:-1])
    floor = cfg["eta0"]
    eta = floor + cfg["eta1"] * np.abs(m) + coupling.theta * spread
    cost = np.sum(dts * (cfg["phi"] * q2[:, 1:] + eta * a2), axis=1) + cfg["gamma_T"] * q2[:, -1]
    lot = coupling.units.lot_shares
    return AgentRuns(mean_flow=m, crowd_cost=cost, crowd_mean_inventory=qm, spread=spread,
                     mm_pnl=lot * (runs.capture + runs.inventory_pnl), n_agents=int(n_agents))


def flow_error_estimate(solution: EquilibriumSolution) -> np.ndarray:
    """Estimated discretisation error of the crowd's mean-flow path (per step, inventory units / day): the
    two-grid estimate of docs/mfg.md section 11 applied to the path, ``|m_h - m_2h| / (r - 1)``, with the
    half-resolution companion solved against the same spread path (its step averages)."""
    from mfg_finance.equilibrium.crowd import best_response
    from mfg_finance.mfg.accuracy import companion_config

    crowd = solution.crowd
    coarse = best_response(companion_config(crowd.config), crowd.t, solution.spread, solution.coupling.theta)
    ratio = coarse.dx / crowd.dx
    index = np.clip(np.searchsorted(coarse.t, crowd.t[:-1], side="right") - 1, 0, coarse.t.size - 2)
    return np.abs(crowd.mean_flow[:-1] - coarse.mean_flow[index]) / (ratio - 1.0)


#: Safety factor on the solvers' error estimates (Roache's grid convergence index, as in docs/mfg.md section 8).
SAFETY = 1.25


def compare_with_model(solution: EquilibriumSolution, runs: AgentRuns, *, n_se: float = 4.0) -> dict[str, dict]:
    """Simulated against predicted: ``{quantity: {simulated, se, predicted, error_estimate, ok}}``; ``ok`` when
    ``|simulated - predicted| <= n_se x se + SAFETY x error_estimate``. Quantities: ``crowd_cost``,
    ``mm_pnl_brl``, ``crowd_paid_spread_brl`` (time average) and ``mean_flow`` (the worst step, with its own se and
    estimate)."""
    o, e = solution.outcomes(), solution.outcome_errors()
    dt = np.diff(solution.crowd.t)
    n = runs.crowd_cost.size
    out = {}

    def entry(sample, predicted, estimate):
        sim, se = float(np.mean(sample)), float(np.std(sample, ddof=1) / math.sqrt(n))
        est = float(estimate or 0.0)
        return {"simulated": sim, "se": se, "predicted": float(predicted), "error_estimate": est,
                "ok": bool(abs(sim - predicted) <= n_se * se + SAFETY * est)}

    out["crowd_cost"] = entry(runs.crowd_cost, o["crowd_cost"], e["crowd_cost"])
    out["mm_pnl_brl"] = entry(runs.mm_pnl, o["mm_pnl_brl"], e["mm_pnl_brl"])
    out["crowd_paid_spread_brl"] = entry(runs.spread @ dt / dt.sum(), o["crowd_paid_spread_brl"],
                                         e["crowd_paid_spread_brl"])
    flow_err = flow_error_estimate(solution)
    sims = runs.mean_flow.mean(axis=0)
    ses = runs.mean_flow.std(axis=0, ddof=1) / math.sqrt(n)
    gap = np.abs(sims - solution.crowd.mean_flow[:-1]) - n_se * ses - SAFETY * flow_err
    worst = int(np.argmax(gap))
    out["mean_flow"] = {"simulated": float(sims[worst]), "se": float(ses[worst]),
                        "predicted": float(solution.crowd.mean_flow[worst]),
                        "error_estimate": float(flow_err[worst]), "step": worst, "ok": bool(gap[worst] <= 0.0)}
    return out
