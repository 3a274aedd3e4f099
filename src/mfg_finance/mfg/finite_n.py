r"""Finite-N check: the N-player game played with the MFG feedback at the empirical mean.

Game (time in trading days, units of :mod:`mfg_finance.mfg.config`). Agents ``i = 1..N`` start
from ``q_i(0) ~ N(m0_mean, m0_std^2)`` i.i.d. and follow::

    dq_i = alpha_i dt + sigma dW_i + sigma0 dW0,      alpha_i = -(k(t, Qbar) q_i + l(t, Qbar)),

the MFG feedback of :mod:`mfg_finance.mfg.common_noise` evaluated at the *empirical* mean
``Qbar = (1/N) sum_j q_j`` (``sigma0 = 0``: the deterministic MFG as the limit of that system). Each
pays ``int_0^T (eta_N alpha_i^2 + phi q_i^2) dt + gamma_T q_i(T)^2`` with the *realised* cost
``eta_N = eta0 + eta1 |mbar|``, ``mbar = (1/N) sum_j alpha_j``.

Time stepping: each step of the MFG mesh is split in ``substeps`` equal steps (the policy of the
MFG step, re-evaluated at the current ``Qbar``), linearly implicit in ``q`` as the solver::

    q_i' = (q_i - l h + sigma sqrt(h) Z_i + sigma0 sqrt(h) Z0) / (1 + k h),   alpha_i = -(k q_i' + l),

and the running cost is charged at the end of the step (the solver's convention).

Variance reduction (common random numbers). Each replication also carries the ``N = inf`` limit
driven by the *same* ``Z0``: the conditional law ``N(Q, V)`` of an agent given ``W0``, with
``Q' = (Q - l h + sigma0 sqrt(h) Z0)/(1 + k h)``, ``V' = (V + sigma^2 h)/(1 + k h)^2`` and the
conditional expected cost ``J_inf = sum eta ((k Q' + l)^2 + k^2 V') + phi (Q'^2 + V')``, and every
agent has a *twin* in that limit: same initial draw, same ``Z_i`` and ``Z0``, feedback at the limit's
``Q`` and cost ``eta_inf = eta0 + eta1 |k Q' + l|`` (so ``E[J_i^inf | W0] = J_inf``). The gap
``E[J_N] - E[J_inf]`` is estimated by ``mean (J_i - J_i^inf)``: it only depends on ``Qbar - Q =
O(N^{-1/2})``; its part linear in ``Qbar - Q`` (mean zero, standard deviation ``O(N^{-1/2})``) is
removed by antithetic pairs (idiosyncratic draws mirrored, ``Z0`` shared), so what is left, like
the bias it measures, is ``O(1/N)``; ``E[J_inf]`` comes from an independent, larger sample of limit
paths (:func:`simulate_limit`), and the N-player mean cost is their sum (standard errors add in quadrature).
:func:`simulate_game` plays the game agent by agent (the reference); :func:`convergence_study` plays the same game
through its sufficient statistics (:mod:`mfg_finance.mfg.finite_n_statistics`: exact in law for ``Qbar``, a
conditional expectation for the costs, at a cost independent of ``N``), which is what resolves the gap at large ``N``.

Time step of the limit sample. On the solver's steps the linearly implicit step, with the running
cost charged at the step's end, is biased at first order: on the real-data calibration (B3, January
2021: ``k dt ~ 0.07`` through a terminal layer of ``eta0/gamma_T = 8e-4`` day) by -1.1% of the cost at 320
steps (-2.6% at 160), several times the Monte Carlo error of the default sample; with the solver's
cancelling companions this bias made the N = 10,000 check fail. So :func:`simulate_limit` runs the
paths at one sub-step and a tenth of them also at 2 and 4 sub-steps of each solver step, driven by the
*same* Brownian path (the fine normals drawn given the coarse one), with the policy's coefficients
interpolated linearly in time between the solver's nodes (at one sub-step this is the step's policy).
The cost is extrapolated per correction path, ``R = 2 J_4 - J_2`` (Richardson, first order), and the
mean is ``mean(J_1) + mean(R - J_1)`` (multilevel Monte Carlo: with common random numbers the
correction varies far less than the cost); ``1.25 |R - R'| / 3`` with ``R' = 2 J_2 - J_1`` estimates the
residual. The game's finite-population gap is measured at one sub-step: its own time bias is a relative
``O(k dt)`` of a gap that is already ``O(1/N)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numba
import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution
from mfg_finance.mfg.common_noise_paths import policy_at


@dataclass(frozen=True)
class GameSample:
    """One batch of ``M`` replications of the ``N``-player game (each (M,)):
    ``mean_cost`` = ``(1/N) sum_i J_i``, ``Qbar_T``; and the limit driven by the same ``W0``:
    ``limit_cost``, ``limit_Q_T``; ``twin_gap`` = ``(1/N) sum_i (J_i - J_i^inf)``, each agent against
    its twin driven by the same noises in the limit system; ``spread_T`` (2M,) each replication's empirical
    variance ``(1/N) sum_i (q_i(T) - Qbar_T)^2`` (inventory units^2)."""

    N: int
    mean_cost: np.ndarray
    Qbar_T: np.ndarray
    limit_cost: np.ndarray
    limit_Q_T: np.ndarray
    twin_gap: np.ndarray
    spread_T: np.ndarray


def pair_means(x: np.ndarray) -> np.ndarray:
    """(M,) means of the ``M`` antithetic pairs of a (2M,) sample: draws ``r`` and ``M + r`` (mirrored
    idiosyncratic noise, shared ``Z0``)."""
    M = x.shape[0] // 2
    return 0.5 * (x[:M] + x[M:])


@numba.njit(cache=True)
def _agents_step(q, twin, cost, twin_cost, z, common, k, l_, kt, lt, eta_t, h, sigma_h, eta0, eta1, phi):
    """One step of every agent and its twin, in place (fused loops; (R, N) arrays, (R,) coefficients).

    ``common`` (R,) is ``sigma0 sqrt(h) Z0`` of each replication, ``sigma_h = sigma sqrt(h)``.
    """
    R, N = q.shape
    for r in range(R):
        dk, dkt = 1.0 / (1.0 + k[r] * h), 1.0 / (1.0 + kt[r] * h)
        flow = 0.0
        for i in range(N):
            noise = sigma_h * z[r, i] + common[r]
            q[r, i] = (q[r, i] - l_[r] * h + noise) * dk
            twin[r, i] = (twin[r, i] - lt[r] * h + noise) * dkt
            flow += k[r] * q[r, i] + l_[r]
        eta = eta0 + eta1 * abs(flow / N)
        for i in range(N):
            a = k[r] * q[r, i] + l_[r]
            at = kt[r] * twin[r, i] + lt[r]
            cost[r, i] += h * (eta * a * a + phi * q[r, i] * q[r, i])
            twin_cost[r, i] += h * (eta_t[r] * at * at + phi * twin[r, i] * twin[r, i])


def _limit_step(sol, n, Q, V, h, z0, params):
    k, l_, _ = policy_at(sol, n, Q)
    Q_new = (Q - l_ * h + params["sigma0"] * math.sqrt(h) * z0) / (1.0 + k * h)
    V_new = (V + params["sigma"] ** 2 * h) / (1.0 + k * h) ** 2
    m = -(k * Q_new + l_)
    eta = params["eta0"] + params["eta1"] * np.abs(m)
    cost = h * (eta * (m * m + k * k * V_new) + params["phi"] * (Q_new * Q_new + V_new))
    return Q_new, V_new, cost


def simulate_game(sol: CommonNoiseSolution, *, N: int, M: int, seed: int | np.random.SeedSequence,
                  substeps: int = 1) -> GameSample:
    """Simulate ``M`` independent antithetic pairs of replications of the ``N``-player game.

    The second replication of a pair mirrors the idiosyncratic draws (initial ``q_i - m0_mean`` and
    every ``Z_i``) and shares ``Z0``: the part of the gap linear in ``Qbar - Q`` cancels in the pair
    average. Costs are pair averages (M,); ``Qbar_T`` and ``limit_Q_T`` are the 2M draws (the laws).
    """
    p = sol.params
    rng = np.random.default_rng(seed)
    xi = rng.standard_normal((M, N))
    q = p["m0_mean"] + p["m0_std"] * np.concatenate([xi, -xi])       # antithetic pairs r, M + r
    twin = q.copy()
    cost = np.zeros((2 * M, N))
    twin_cost = np.zeros((2 * M, N))
    Q = np.full(2 * M, p["m0_mean"])
    V = np.full(2 * M, p["m0_std"] ** 2)
    limit = np.zeros(2 * M)
    sig = p["sigma"]
    for n, dt in enumerate(sol.dts):
        h = float(dt) / substeps
        for _ in range(substeps):
            z0 = np.tile(rng.standard_normal(M), 2)
            z = rng.standard_normal((M, N))
            z = np.concatenate([z, -z])
            k, l_, _ = policy_at(sol, n, q.mean(axis=1))          # at the empirical mean
            kt, lt, _ = policy_at(sol, n, Q)                       # twins: at the limit's mean
            Q, V, c = _limit_step(sol, n, Q, V, h, z0, p)
            eta_t = p["eta0"] + p["eta1"] * np.abs(kt * Q + lt)
            _agents_step(q, twin, cost, twin_cost, z, p["sigma0"] * math.sqrt(h) * z0, k, l_, kt, lt,
                         eta_t, h, sig * math.sqrt(h), p["eta0"], p["eta1"], p["phi"])
            limit += c
    cost += p["gamma_T"] * q * q
    twin_cost += p["gamma_T"] * twin * twin
    limit += p["gamma_T"] * (Q * Q + V)
    return GameSample(N=N, mean_cost=pair_means(cost.mean(axis=1)), Qbar_T=q.mean(axis=1),
                      limit_cost=pair_means(limit), limit_Q_T=Q,
                      twin_gap=pair_means((cost - twin_cost).mean(axis=1)), spread_T=q.var(axis=1))


#: Sub-steps per solver step of the limit sample's three levels (each level halves the previous step).
LIMIT_LEVELS = (1, 2, 4)
#: Paths that also run the finer levels (multilevel Monte Carlo: the corrections between levels, with common
#: random numbers, vary far less than the cost, so a tenth of the paths, at least this many, suffices).
MIN_CORRECTION_PATHS = 500


def _limit_substeps(Q, V, J, grid, a0, a1, b0, b1, h, z, sigma, sigma0, eta0, eta1, phi):
    """``s = z.shape[0]`` equal sub-steps of one solver step for every path; returns the new ``(Q, V, J)``.

    The coefficients are ``(1 - w) f^n + w f^{n+1}`` at the sub-step's end ``w = (j + 1)/s``, linear in
    ``Q`` on ``grid``; the step is linearly implicit and the running cost charged at its end (the
    solver's convention). NumPy over the paths (no kernel to compile in a cold pipeline run)."""
    s = z.shape[0]
    hs = h / s
    root = math.sqrt(hs)
    last = grid.size - 2
    for j in range(s):
        w = (j + 1.0) / s
        i = np.clip(np.searchsorted(grid, Q) - 1, 0, last)
        f = np.clip((Q - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
        a_lo, a_hi = (1.0 - w) * a0[i] + w * a1[i], (1.0 - w) * a0[i + 1] + w * a1[i + 1]
        b_lo, b_hi = (1.0 - w) * b0[i] + w * b1[i], (1.0 - w) * b0[i + 1] + w * b1[i + 1]
        a = a_lo + f * (a_hi - a_lo)
        b = b_lo + f * (b_hi - b_lo)
        eta = 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 2.0 * eta1 * np.abs(2.0 * a * Q + b)))
        k, l_ = a / eta, b / (2.0 * eta)
        step = 1.0 + k * hs
        Q = (Q - l_ * hs + sigma0 * root * z[j]) / step
        V = (V + sigma * sigma * hs) / (step * step)
        m = -(k * Q + l_)
        J = J + hs * ((eta0 + eta1 * np.abs(m)) * (m * m + k * k * V) + phi * (Q * Q + V))
    return Q, V, J


@dataclass(frozen=True)
class LimitSample:
    """``M`` paths of the ``N = inf`` limit (multilevel, :func:`simulate_limit`).

    ``cost_one``, ``Q_T`` (M,): every path's cost and ``Q_T`` at one sub-step (the solver's steps);
    ``levels[s]`` (Mc,): the costs of the first ``Mc`` paths at ``s`` = 1, 2, 4 sub-steps, driven by the
    same Brownian paths (``levels[1]`` is ``cost_one[:Mc]``)."""

    cost_one: np.ndarray
    Q_T: np.ndarray
    levels: dict[int, np.ndarray]

    @property
    def correction(self) -> np.ndarray:
        """Per correction path, the extrapolated cost ``2 J_4 - J_2`` minus the one-sub-step cost ``J_1``."""
        return 2.0 * self.levels[4] - self.levels[2] - self.levels[1]

    @property
    def mean_cost(self) -> float:
        """``mean(J_1)`` over all paths + ``mean(2 J_4 - J_2 - J_1)`` over the correction paths (cost units)."""
        return float(self.cost_one.mean() + self.correction.mean())

    @property
    def mean_cost_se(self) -> float:
        """Standard error of :attr:`mean_cost`: the two means' variances added (the correction paths are
        among the others; their covariance is small against either variance and not counted)."""
        c = self.correction
        return float(math.sqrt(self.cost_one.var(ddof=1) / self.cost_one.size + c.var(ddof=1) / c.size))

    @property
    def time_error(self) -> float:
        """Estimate of what the extrapolation leaves: ``1.25 |R - R'| / 3``, ``R = 2 J_4 - J_2``,
        ``R' = 2 J_2 - J_1`` (cost units)."""
        from mfg_finance.mfg.common_noise import SAFETY

        L = self.levels
        return float(SAFETY * abs(np.mean((2.0 * L[4] - L[2]) - (2.0 * L[2] - L[1]))) / 3.0)


def simulate_limit(sol: CommonNoiseSolution, *, M: int, seed: int | np.random.SeedSequence,
                   correction_paths: int | None = None) -> LimitSample:
    """``M`` paths of the ``N = inf`` limit (conditional law ``N(Q, V)`` given ``W0``, conditional expected
    cost) at one sub-step of each solver step, and the first ``Mc`` of them (``correction_paths``; default
    ``max(M // 10, MIN_CORRECTION_PATHS)``, at most ``M``) also at 2 and 4 sub-steps, driven by the same
    Brownian paths (module docstring)."""
    p = sol.params
    # level one's normals from their own stream, so its paths do not depend on Mc; the finer levels' are
    # drawn given them (Brownian bridge: z_j = z / 2 + e_j - mean(e), i.i.d. N(0, 1) summing to 2 z)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng_one, rng_fine = (np.random.default_rng(s) for s in root.spawn(2))
    Mc = min(M, max(M // 10, MIN_CORRECTION_PATHS) if correction_paths is None else int(correction_paths))
    finest = LIMIT_LEVELS[-1]
    sizes = {s: (M if s == 1 else Mc) for s in LIMIT_LEVELS}
    state = {s: (np.full(n, float(p["m0_mean"])), np.full(n, float(p["m0_std"]) ** 2), np.zeros(n))
             for s, n in sizes.items()}
    args = tuple(float(p[name]) for name in ("sigma", "sigma0", "eta0", "eta1", "phi"))
    for n, dt in enumerate(sol.dts):
        one = rng_one.standard_normal((1, M))
        e = rng_fine.standard_normal((finest, Mc))
        fine = one[:, :Mc] / math.sqrt(finest) + e - e.mean(axis=0)
        for s in LIMIT_LEVELS:
            group = finest // s     # the level's increment is the sum of `group` finest ones
            zs = one if s == 1 else fine.reshape(s, group, Mc).sum(axis=1) / math.sqrt(group)
            state[s] = _limit_substeps(*state[s], sol.Q, sol.a[n], sol.a[n + 1], sol.b[n], sol.b[n + 1], float(dt),
                                       zs, *args)
    costs = {s: J + p["gamma_T"] * (Q * Q + V) for s, (Q, V, J) in state.items()}
    return LimitSample(cost_one=costs[1], Q_T=state[1][0],
                       levels={s: (c[:Mc] if s == 1 else c) for s, c in costs.items()})


@dataclass(frozen=True)
class ConvergenceRow:
    """Estimates for one ``N`` (cost units, inventory units) with their Monte Carlo standard errors."""

    N: int
    replications: int
    mean_cost: float
    mean_cost_se: float
    cost_gap: float             # E[J_N] - E[J_inf] (the finite-population effect)
    cost_gap_se: float
    mean_Q_T: float
    mean_Q_T_se: float
    var_Q_T: float
    var_Q_T_se: float
    # the law of Q_T as paired differences with the limit (common random numbers; the SEs of the pairs):
    # E[Qbar_T] - E[Q_T] and var(Qbar_T) - var(Q_T) (inventory units, inventory units^2); the levels above are
    # the limit's plus these, their SEs the pairs' and the limit sample's in quadrature
    Q_T_mean_gap: float = math.nan
    Q_T_mean_gap_se: float = math.nan
    Q_T_var_gap: float = math.nan
    Q_T_var_gap_se: float = math.nan

    def as_dict(self) -> dict:
        return {k: (int(v) if k in ("N", "replications") else float(v)) for k, v in self.__dict__.items()}


def _var_se(x: np.ndarray) -> float:
    """Standard error of the sample variance (fourth-moment formula)."""
    n = x.size
    d = x - x.mean()
    m4, m2 = float(np.mean(d ** 4)), float(np.mean(d ** 2))
    return math.sqrt(max(m4 - (n - 3) / (n - 1) * m2 * m2, 0.0) / n)


def paired_law_gaps(g: GameSample) -> dict[str, float]:
    """``E[Qbar_T] - E[Q_T]`` and ``var(Qbar_T) - var(Q_T)`` of one game sample with the SEs of the pairs.

    The ``2M`` draws are ``M`` independent antithetic pairs (replications ``r`` and ``M + r``), each game beside
    its limit driven by the same ``Z0``: the gaps are estimated from the same draws (common random numbers), and
    each SE from the ``M`` pair averages of its per-draw terms: ``Qbar_T - Q_T`` for the mean, the influence
    ``(Qbar_T - mean)^2 - (Q_T - mean)^2`` for the variance (the delta method; the means' own noise is of higher
    order). The law's gaps are ``O(1/N)`` (docs/mfg.md section 10); the levels' SEs are ``O(1)`` and hide them."""
    M = g.Qbar_T.size // 2
    B, L = g.Qbar_T, g.limit_Q_T

    def se(x):
        return float(pair_means(x).std(ddof=1) / math.sqrt(M))

    dQ = B - L
    influence = (B - B.mean()) ** 2 - (L - L.mean()) ** 2
    return {"Q_T_mean_gap": float(dQ.mean()), "Q_T_mean_gap_se": se(dQ),
            "Q_T_var_gap": float(B.var(ddof=1) - L.var(ddof=1)), "Q_T_var_gap_se": se(influence)}


def convergence_study(sol: CommonNoiseSolution, *, Ns: Sequence[int], pairs: int, limit_paths: int, seed: int,
                      substeps: int = 1) -> tuple[list[ConvergenceRow], dict]:
    """Mean cost and law of ``Qbar_T`` for each ``N`` against the ``N = inf`` limit.

    ``pairs``: antithetic pairs of games per ``N``, simulated through the game's sufficient statistics
    (:func:`mfg_finance.mfg.finite_n_statistics.simulate_game_statistics`: the law of :func:`simulate_game`'s
    at a cost independent of ``N``). Returns the rows and the limit's estimates ``{mean_cost, mean_cost_se,
    mean_Q_T, var_Q_T, ...}``.
    """
    from mfg_finance.mfg.finite_n_statistics import simulate_game_statistics

    seeds = np.random.SeedSequence(seed).spawn(len(Ns) + 1)
    sample = simulate_limit(sol, M=limit_paths, seed=seeds[0])
    limit_Q = sample.Q_T
    lim = {"mean_cost": sample.mean_cost, "mean_cost_se": sample.mean_cost_se,
           "mean_Q_T": float(limit_Q.mean()), "mean_Q_T_se": float(limit_Q.std(ddof=1) / math.sqrt(limit_paths)),
           "var_Q_T": float(limit_Q.var(ddof=1)), "var_Q_T_se": _var_se(limit_Q), "paths": int(limit_paths),
           "correction_paths": int(sample.correction.size),
           "mean_cost_by_substeps": {str(s): float(c.mean()) for s, c in sample.levels.items()},
           "time_step_correction": float(sample.correction.mean()), "time_step_error": sample.time_error}
    rows = []
    for N, ss in zip(Ns, seeds[1:]):
        M = int(pairs)
        g = simulate_game_statistics(sol, N=N, M=M, seed=ss, substeps=substeps)
        gap = g.twin_gap
        gap_se = float(gap.std(ddof=1) / math.sqrt(M))
        law = paired_law_gaps(g)
        rows.append(ConvergenceRow(
            N=int(N), replications=int(M),
            mean_cost=lim["mean_cost"] + float(gap.mean()),
            mean_cost_se=math.hypot(gap_se, lim["mean_cost_se"]),
            cost_gap=float(gap.mean()), cost_gap_se=gap_se,
            # the levels: the limit's plus the paired gaps (SEs in quadrature)
            mean_Q_T=lim["mean_Q_T"] + law["Q_T_mean_gap"],
            mean_Q_T_se=math.hypot(law["Q_T_mean_gap_se"], lim["mean_Q_T_se"]),
            var_Q_T=lim["var_Q_T"] + law["Q_T_var_gap"],
            var_Q_T_se=math.hypot(law["Q_T_var_gap_se"], lim["var_Q_T_se"]), **law))
    return rows, lim


#: Range of exponents searched by :func:`fit_rate` (the gap is a positive, decreasing effect).
EXPONENT_RANGE = (0.0, 4.0)


@dataclass(frozen=True)
class RateFit:
    """Fit of ``gap_N = C N^{-p}`` to every ``N`` with the Monte Carlo standard errors (cost units).

    ``exponent`` ``p`` and ``exponent_se`` (Gauss-Newton: inverse of ``J^T W J`` at the optimum);
    ``exponent_interval`` the profile-likelihood 68% interval (``chi2(p) <= chi2_min + 1``; an end is
    ``None`` where ``chi2`` stays below that inside :data:`EXPONENT_RANGE`, i.e. the data do not bound it);
    ``constant`` ``C`` and its SE; ``chi2`` at the optimum with ``dof = len(N) - 2`` and its goodness-of-fit
    p-value ``p_value_fit`` (small: the points scatter more than their SEs about ``C N^-p``); ``constant_one_over_N``
    (with its SE ``constant_one_over_N_se = (sum_i N_i^-2 / SE_i^2)^(-1/2)``, linear least squares, times the
    Birge ratio ``sqrt(chi2_one_over_N / (len(N) - 1))`` where that exceeds 1) and
    ``chi2_one_over_N``: the fit with ``p = 1`` held; ``p_value_one_over_N`` the likelihood-ratio test
    of ``p = 1`` (``chi2_one_over_N - chi2`` against chi-square with one degree of freedom);
    ``resolved``: the ``N`` whose gap exceeds twice its SE; ``local_exponents``: between consecutive ``N`` whose gaps
    are both positive and resolved, ``p_loc = ln(gap_1/gap_2) / ln(N_2/N_1)`` with its SE (delta method, the two gaps
    independent): where the rate stands at each scale, the last pair its largest-N estimate; ``expansion``: the
    weighted fit of the first two terms of the gap's expansion in ``1/N``, ``gap = C/N + D/N^2``
    (:func:`fit_expansion`), whose chi-square tests ``O(1/N)`` with its next-order term, which a pure power law
    mistakes for an exponent below 1 when the smallest ``N`` is measured precisely."""

    exponent: float
    exponent_se: float
    exponent_interval: tuple[float | None, float | None]
    constant: float
    constant_se: float
    chi2: float
    dof: int
    p_value_fit: float
    constant_one_over_N: float
    chi2_one_over_N: float
    p_value_one_over_N: float
    resolved: tuple[int, ...]
    local_exponents: tuple[dict, ...] = ()
    expansion: dict | None = None
    constant_one_over_N_se: float = math.nan

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items()}
        out["exponent_interval"] = list(self.exponent_interval)
        out["resolved"] = list(self.resolved)
        out["local_exponents"] = [dict(e) for e in self.local_exponents]
        out["expansion"] = None if self.expansion is None else dict(self.expansion)
        return out


def fit_expansion(N: Sequence[float], gap: Sequence[float], se: Sequence[float]) -> dict:
    """Weighted least squares of ``gap = C/N + D/N^2`` (linear in ``C, D``; weights ``1/SE^2``) over every point:
    ``{"constant": C, "constant_se", "next_order": D, "next_order_se", "chi2", "dof": len(N) - 2, "p_value"}``
    (cost units; the SEs from the inverse normal matrix). Needs three points or more, every SE > 0."""
    from scipy.stats import chi2 as chi2_dist

    N, g, s = (np.asarray(x, dtype=float) for x in (N, gap, se))
    if N.size < 3 or np.any(s <= 0.0):
        raise ValueError(f"fit_expansion needs >= 3 points with SE > 0; got N={N}, SE={s}")
    X = np.column_stack([1.0 / N, 1.0 / (N * N)]) / s[:, None]
    y = g / s
    cov = np.linalg.inv(X.T @ X)
    coef = cov @ (X.T @ y)
    resid = y - X @ coef
    chi2 = float(resid @ resid)
    return {"constant": float(coef[0]), "constant_se": float(math.sqrt(cov[0, 0])), "next_order": float(coef[1]),
            "next_order_se": float(math.sqrt(cov[1, 1])), "chi2": chi2, "dof": int(N.size - 2),
            "p_value": float(chi2_dist.sf(chi2, N.size - 2))}


def local_exponents(N: Sequence[float], gap: Sequence[float], se: Sequence[float]) -> tuple[dict, ...]:
    """``{"N": [N_1, N_2], "exponent", "exponent_se"}`` for consecutive ``N`` (in the given order) whose gaps are
    both above twice their SEs (:class:`RateFit` ``local_exponents``)."""
    out = []
    for (n1, g1, s1), (n2, g2, s2) in zip(zip(N, gap, se), list(zip(N, gap, se))[1:]):
        if g1 > 2.0 * s1 and g2 > 2.0 * s2:
            scale = math.log(float(n2) / float(n1))
            out.append({"N": [int(n1), int(n2)], "exponent": math.log(g1 / g2) / scale,
                        "exponent_se": math.hypot(s1 / g1, s2 / g2) / scale})
    return tuple(out)


def fit_rate(N: Sequence[float], gap: Sequence[float], se: Sequence[float]) -> RateFit:
    """Weighted least squares (the Gaussian likelihood) of ``gap = C N^{-p}`` over every point, negative
    or unresolved gaps included: ``C`` is profiled out in closed form, ``p`` minimised over
    :data:`EXPONENT_RANGE` (grid, then bounded refinement). Needs three points or more, every SE > 0."""
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import chi2 as chi2_dist

    N, g, s = (np.asarray(x, dtype=float) for x in (N, gap, se))
    if N.size < 3 or np.any(s <= 0.0) or not np.all(np.isfinite(np.concatenate([N, g, s]))):
        raise ValueError(f"fit_rate needs >= 3 points with finite values and SE > 0; got N={N}, SE={s}")
    w = 1.0 / (s * s)

    def best_constant(p):
        x = N ** -p
        return float(np.sum(w * g * x) / np.sum(w * x * x))

    def chi2(p):
        return float(np.sum(w * (g - best_constant(p) * N ** -p) ** 2))

    lo, hi = EXPONENT_RANGE
    grid = np.linspace(lo, hi, 401)
    values = np.array([chi2(p) for p in grid])
    i = int(np.argmin(values))
    bracket = (grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)])
    p_hat = float(minimize_scalar(chi2, bounds=bracket, method="bounded", options={"xatol": 1e-10}).x)
    c_min = chi2(p_hat)
    C = best_constant(p_hat)
    x = N ** -p_hat
    J = np.column_stack([x, -C * x * np.log(N)]) / s[:, None]
    cov = np.linalg.pinv(J.T @ J)

    def crossing(end):
        if chi2(end) <= c_min + 1.0:
            return None
        return float(brentq(lambda p: chi2(p) - c_min - 1.0, *sorted((p_hat, end))))

    c_one = chi2(1.0)
    return RateFit(exponent=p_hat, exponent_se=float(math.sqrt(max(cov[1, 1], 0.0))),
                   exponent_interval=(crossing(lo), crossing(hi)), constant=C,
                   constant_se=float(math.sqrt(max(cov[0, 0], 0.0))), chi2=c_min, dof=int(N.size - 2),
                   p_value_fit=float(chi2_dist.sf(c_min, N.size - 2)),
                   constant_one_over_N=best_constant(1.0), chi2_one_over_N=c_one,
                   p_value_one_over_N=float(chi2_dist.sf(max(c_one - c_min, 0.0), 1)),
                   resolved=tuple(int(n) for n, gi, si in zip(N, g, s) if abs(gi) > 2.0 * si),
                   local_exponents=local_exponents(N, g, s), expansion=fit_expansion(N, g, s),
                   constant_one_over_N_se=_one_over_N_se(N, w, c_one))


def _one_over_N_se(N: np.ndarray, w: np.ndarray, chi2_one: float) -> float:
    """SE of the ``p = 1`` fit's ``C``: the weighted least-squares ``(sum_i N_i^-2 / SE_i^2)^(-1/2)``, scaled by
    ``sqrt(chi2 / dof)`` (``dof = len(N) - 1``) where the points scatter about ``C/N`` more than their SEs allow
    (the Birge ratio: a rejected ``p = 1`` fit's ``C`` is less certain than the SEs alone say); never scaled below."""
    statistical = 1.0 / math.sqrt(float(np.sum(w / (N * N))))
    dof = N.size - 1
    return float(statistical * math.sqrt(max(1.0, chi2_one / dof))) if dof > 0 else float(statistical)


def rate_fit_of(rows: Sequence[ConvergenceRow]) -> RateFit:
    """:func:`fit_rate` of the study's cost gaps."""
    return fit_rate([r.N for r in rows], [r.cost_gap for r in rows], [r.cost_gap_se for r in rows])


def law_rate_fit_of(rows: Sequence[ConvergenceRow]) -> RateFit:
    """:func:`fit_rate` of the study's variance gaps of ``Q_T`` (the law's ``O(1/N)``)."""
    return fit_rate([r.N for r in rows], [r.Q_T_var_gap for r in rows], [r.Q_T_var_gap_se for r in rows])


#: Finite-difference step of :func:`law_prediction`'s derivatives of the step map, relative to the ``Q`` grid's
#: spacing: the game's ``Qbar - Q`` (``sqrt(W/N)``) is far below a cell, so it sees the piecewise-linear policy
#: and the kink of ``|m|`` locally; the coefficients agree at 0.05 and 0.01 of a cell (real-data-like
#: parameters: 0.01557 and 0.01556) and differ by 50% at one cell.
LAW_FD_STEP = 0.05


@dataclass(frozen=True)
class LawPrediction:
    """The first-order law of the empirical mean: ``E[Qbar_T] - E[Q_T] ~ mean_coefficient / N`` and
    ``var(Qbar_T) - var(Q_T) ~ var_coefficient / N`` (inventory units, units^2), with Monte Carlo SEs over
    ``paths`` limit paths; ``idiosyncratic`` ``E[V_T]``, what the variance coefficient would be if the feedback
    did not depend on ``Qbar`` (exact then: ``eta1 = 0``), with its Monte Carlo SE over the same paths
    (``idiosyncratic_se``: 0 when ``V_T`` does not depend on the path, as at ``eta1 = 0``)."""

    var_coefficient: float
    var_coefficient_se: float
    mean_coefficient: float
    mean_coefficient_se: float
    idiosyncratic: float
    paths: int
    idiosyncratic_se: float = 0.0

    def as_dict(self) -> dict:
        return {k: (int(v) if k == "paths" else float(v)) for k, v in self.__dict__.items()}


def law_prediction(sol: CommonNoiseSolution, *, M: int, seed: int | np.random.SeedSequence,
                   fd_step: float = LAW_FD_STEP) -> LawPrediction:
    """The ``O(1/N)`` law of ``Qbar_T`` predicted from the solution (docs/mfg.md section 10, "Law of Q_T").

    On a step, given ``Z0``, the limit moves by ``Q' = g(Q)``, ``g(x) = (x - l(x) h + sigma0 sqrt(h) Z0) /
    (1 + k(x) h)`` (the game's step with the feedback at ``x``), and the empirical mean by ``Qbar' = g(Qbar) +
    sigma sqrt(h) Zbar / (1 + k(Qbar) h)``, ``var(Zbar) = 1/N``. Expanding ``D = Qbar - Q`` to second order,
    ``E[D | W0] = mu/N``, ``var(D | W0) = W/N`` up to ``O(N^-2)``, with::

        W' = g'(Q)^2 W + sigma^2 h / (1 + k h)^2,   mu' = g'(Q) mu + g''(Q) W / 2,   W(0) = m0_std^2, mu(0) = 0,

    so ``E[Qbar_T] - E[Q_T] = E[mu_T]/N`` and ``var(Qbar_T) - var(Q_T) = (E[W_T] + 2 cov(Q_T, mu_T))/N``.
    ``g'``, ``g''`` by central differences of step ``fd_step`` times the ``Q`` grid's spacing, along ``M`` limit
    paths at the solver's steps (the game's). ``eta1 = 0``: ``k`` does not depend on ``Q``, ``b = 0``, so
    ``g' = 1/(1 + k h)``, ``g'' = 0`` and ``W = V`` (one agent's conditional variance): ``V_T/N`` exactly."""
    p = sol.params
    rng = np.random.default_rng(seed)
    Q = np.full(M, float(p["m0_mean"]))
    W = np.full(M, float(p["m0_std"]) ** 2)
    V, mu = W.copy(), np.zeros(M)
    d = fd_step * float(sol.Q[1] - sol.Q[0])
    for n, dt in enumerate(sol.dts):
        h = float(dt)
        common = p["sigma0"] * math.sqrt(h) * rng.standard_normal(M)

        def step(x):
            k, l_, _ = policy_at(sol, n, x)
            return (x - l_ * h + common) / (1.0 + k * h), k

        lo, _ = step(Q - d)
        mid, k = step(Q)
        hi, _ = step(Q + d)
        slope, curvature = (hi - lo) / (2.0 * d), (hi - 2.0 * mid + lo) / (d * d)
        mu = slope * mu + 0.5 * curvature * W
        noise = p["sigma"] ** 2 * h / (1.0 + k * h) ** 2
        W = slope * slope * W + noise
        V = V / (1.0 + k * h) ** 2 + noise
        Q = mid
    per_path = W + 2.0 * (Q - Q.mean()) * (mu - mu.mean())
    root = math.sqrt(M)
    return LawPrediction(var_coefficient=float(per_path.mean()), var_coefficient_se=float(per_path.std(ddof=1) / root),
                         mean_coefficient=float(mu.mean()), mean_coefficient_se=float(mu.std(ddof=1) / root),
                         idiosyncratic=float(V.mean()), paths=int(M), idiosyncratic_se=float(V.std(ddof=1) / root))
