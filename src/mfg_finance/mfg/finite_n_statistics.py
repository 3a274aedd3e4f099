r"""The N-player game of :mod:`mfg_finance.mfg.finite_n` simulated through its sufficient statistics.

Why it is exact. In the game every agent uses the same feedback ``alpha_i = -(k(t, Qbar) q_i + l(t, Qbar))``, linear in
its own inventory with coefficients that depend on the crowd only through the empirical mean ``Qbar``, and pays the
realised ``eta_N = eta0 + eta1 |k Qbar + l|``. Averaged over the agents, a step's running cost is::

    (1/N) sum_i [eta_N (k q_i + l)^2 + phi q_i^2] = eta_N ((k Qbar + l)^2 + k^2 S) + phi (Qbar^2 + S),

``S = (1/N) sum_i (q_i - Qbar)^2`` the empirical variance (and ``gamma_T (Qbar^2 + S)`` at ``T``): the *mean cost* of
the ``N`` players is a function of the paths of ``Qbar`` and ``S``, and it is linear in ``S``. The twins (module
``finite_n``: each agent's copy in the ``N = inf`` limit, feedback ``(kt, lt)`` at the limit's ``Q``, cost ``eta_t``
at the limit's flow) likewise, through their empirical mean ``Tbar`` and variance ``St``. With ``Zbar`` the mean of
a step's idiosyncratic normals, the linearly implicit step of the game gives, exactly::

    Qbar' = (Qbar - l h + sigma sqrt(h) Zbar + sigma0 sqrt(h) Z0) / (1 + k h),
    Tbar' = (Tbar - lt h + sigma sqrt(h) Zbar + sigma0 sqrt(h) Z0) / (1 + kt h),

a closed system driven by ``Zbar ~ N(0, 1/N)``, ``Z0`` and the initial
``Qbar(0) = Tbar(0) = m0_mean + m0_std xibar``, ``xibar ~ N(0, 1/N)``. The deviations from the empirical mean
evolve by ``y' = (y + sigma sqrt(h) (Z - Zbar))/(1 + k h)``, and ``Z - Zbar`` is independent of ``Zbar`` (and of
``Z0``): given the paths of the means, the conditional expectation of the empirical variances is a deterministic
recursion::

    E[S'] = (E[S] + sigma^2 h (N - 1)/N) / (1 + k h)^2,      E[St'] = (E[St] + sigma^2 h (N - 1)/N) / (1 + kt h)^2,

from ``E[S(0)] = E[St(0)] = m0_std^2 (N - 1)/N`` (``E[St] = (N - 1)/N V``, the limit's conditional variance). The
mean cost being linear in ``S``, the cost with ``E[S]`` in place of ``S`` is its conditional expectation given the
means' paths (Rao-Blackwell over the ``N - 1`` idiosyncratic directions): the same expectation and less variance, at a
cost of a few scalars per step whatever ``N``. ``Qbar_T`` has exactly the law of :func:`finite_n.simulate_game`'s;
the mean cost, the twin gap and the terminal empirical variance (``spread_T``) are their conditional means given the
means' paths (checked against the agent-by-agent simulation in the tests). That is what resolves the
finite-population gap at ``N = 10,000``: its per-pair noise is of the order of the gap itself or larger (the term
quadratic in ``Qbar - Q``, a chi-square-like variable, and the kink of ``|m|``), so thousands of pairs are needed,
which the agent-by-agent simulation (``N`` agents a game) cannot afford at large ``N``.

Antithetic pairs as in ``finite_n``: the second game of a pair takes ``-xibar`` and ``-Zbar`` (the mirrored
idiosyncratic draws' mean) and the same ``Z0``; the limit and the twins' feedback depend on ``Z0`` alone and are
computed once a pair.
"""

from __future__ import annotations

import math

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.finite_n import GameSample, pair_means


def mean_step(state: dict, k, l_, kt, lt, eta_t, h: float, zbar, common, params, spread_factor: float) -> None:
    """One linearly implicit step of the agents' and twins' empirical means and expected empirical variances, in
    place (module docstring). ``state`` holds ``Qbar, S, Tbar, St, cost, twin_cost`` (arrays over games); ``k, l_``
    the feedback at ``Qbar``; ``kt, lt`` at the limit's ``Q`` and ``eta_t`` the limit's realised cost; ``zbar`` the
    mean of the step's idiosyncratic normals, ``common = sigma0 sqrt(h) Z0``; ``spread_factor = (N - 1)/N``. The
    running cost is charged at the step's end (the solver's convention)."""
    sh = params["sigma"] * math.sqrt(h)
    dk, dkt = 1.0 / (1.0 + k * h), 1.0 / (1.0 + kt * h)
    noise = sh * zbar + common
    Qbar = (state["Qbar"] - l_ * h + noise) * dk
    Tbar = (state["Tbar"] - lt * h + noise) * dkt
    var = sh * sh * spread_factor
    S = (state["S"] + var) * dk * dk
    St = (state["St"] + var) * dkt * dkt
    flow = k * Qbar + l_
    eta = params["eta0"] + params["eta1"] * np.abs(flow)
    twin_flow = kt * Tbar + lt
    phi = params["phi"]
    state["cost"] += h * (eta * (flow * flow + k * k * S) + phi * (Qbar * Qbar + S))
    state["twin_cost"] += h * (eta_t * (twin_flow * twin_flow + kt * kt * St) + phi * (Tbar * Tbar + St))
    state.update(Qbar=Qbar, Tbar=Tbar, S=S, St=St)


def simulate_game_statistics(sol: CommonNoiseSolution, *, N: int, M: int, seed: int | np.random.SeedSequence,
                             substeps: int = 1) -> GameSample:
    """``M`` antithetic pairs of the ``N``-player game through its sufficient statistics (module docstring), as a
    :class:`GameSample`: ``Qbar_T`` and ``limit_Q_T`` with the laws of :func:`finite_n.simulate_game`'s, the costs,
    the twin gap and ``spread_T`` their conditional expectations given the means' paths; a cost independent of
    ``N`` (``N >= 2``)."""
    if int(N) < 2 or int(M) < 1:
        raise ValueError(f"simulate_game_statistics needs N >= 2 players and M >= 1 pairs; got N={N}, M={M}")
    N, M = int(N), int(M)
    p = sol.params
    eta0, eta1, phi, sigma, sigma0 = (float(p[name]) for name in ("eta0", "eta1", "phi", "sigma", "sigma0"))
    rng = np.random.default_rng(seed)
    root_N = math.sqrt(N)
    xibar = rng.standard_normal(M) / root_N
    Qbar = p["m0_mean"] + p["m0_std"] * np.concatenate([xibar, -xibar])
    factor = (N - 1) / N
    spread = np.full(2 * M, float(p["m0_std"]) ** 2 * factor)
    state = {"Qbar": Qbar, "Tbar": Qbar.copy(), "S": spread, "St": spread.copy(),
             "cost": np.zeros(2 * M), "twin_cost": np.zeros(2 * M)}
    Q = np.full(M, float(p["m0_mean"]))           # the limit, one per pair
    V = np.full(M, float(p["m0_std"]) ** 2)
    limit = np.zeros(M)
    for n, dt in enumerate(sol.dts):
        h = float(dt) / substeps
        for _ in range(substeps):
            z0 = rng.standard_normal(M)
            zbar = rng.standard_normal(M) / root_N
            k, l_, _ = policy_at(sol, n, state["Qbar"])
            kt, lt, _ = policy_at(sol, n, Q)
            # the limit's step (finite_n._limit_step with the twins' feedback)
            step = 1.0 + kt * h
            Q = (Q - lt * h + sigma0 * math.sqrt(h) * z0) / step
            V = (V + sigma * sigma * h) / (step * step)
            m = kt * Q + lt
            eta_t = eta0 + eta1 * np.abs(m)
            limit += h * (eta_t * (m * m + kt * kt * V) + phi * (Q * Q + V))
            mean_step(state, k, l_, np.tile(kt, 2), np.tile(lt, 2), np.tile(eta_t, 2), h,
                      np.concatenate([zbar, -zbar]), np.tile(sigma0 * math.sqrt(h) * z0, 2), p, factor)
    g_T = p["gamma_T"]
    cost = state["cost"] + g_T * (state["Qbar"] ** 2 + state["S"])
    twin_cost = state["twin_cost"] + g_T * (state["Tbar"] ** 2 + state["St"])
    limit += g_T * (Q * Q + V)
    return GameSample(N=N, mean_cost=pair_means(cost), Qbar_T=state["Qbar"], limit_cost=limit,
                      limit_Q_T=np.tile(Q, 2), twin_gap=pair_means(cost - twin_cost), spread_T=state["S"])
