r"""Epsilon of the epsilon-Nash equilibrium with the deviator's own influence, checked by simulation.

Game of :mod:`mfg_finance.mfg.finite_n` (time in trading days, inventory units, cost units): every
agent uses the MFG feedback at the empirical mean, ``alpha = -(k(t, Qbar) q + l(t, Qbar))``, and the
crowd's flow is ``m(t, Qbar) = -(k Qbar + l)``. One agent deviating to a feedback ``beta(t, q, Qbar)``
changes the others' sum by nothing and its own flow by ``beta - alpha``, so (exactly, for any ``N``)::

    dq    = beta dt + sigma dW_i + sigma0 dW0,
    dQbar = [m(t, Qbar) + (beta - alpha)/N] dt + sigma0 dW0 + (sigma/sqrt(N)) dWbar,
    d<q, Qbar> = (sigma0^2 + sigma^2/N) dt,   cost rate (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + phi q^2,

and ``(q, Qbar)`` is Markov for the deviator: its own ``1/N`` influence on the realised ``eta`` and on
``Qbar`` is in the drift and in the cost.

Value of the MFG feedback to one agent. With ``beta = alpha`` the feedback is linear in ``q`` and
``Qbar`` autonomous, so ``V(t, q, Qbar) = a q^2 + b q + c`` exactly, the system of
:func:`mfg_finance.mfg.epsilon_nash._march` with ``s_Q = s_x = sigma0^2 + sigma^2/N`` (no best response).

Hamiltonian gap. ``H(beta) = (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + V_q beta + V_Q (beta - alpha)/N``
(``V_q = 2 a q + b``, ``V_Q = a_Q q^2 + b_Q q + c_Q``), ``G = H(alpha) - min_beta H >= 0`` (on either side
of the kink ``H`` is a cubic in ``beta``: the minimiser is a root of ``H'`` on its side, or the kink).
Ito's formula for ``V`` along any feedback ``beta`` gives ``J(alpha) - J(beta) = E_beta int [H(alpha) -
H(beta)] dt`` (performance difference). With ``beta*`` the minimiser of ``H`` (greedy against ``V``) and
``BR`` the best response::

    E_{beta*} int G dt  =  J(alpha) - J(beta*)  <=  epsilon_N  <=  E_BR int G dt ,

and, for a deviation small enough that it moves the law of ``(q, Qbar)`` by ``O(1/N)``, both ends are
``E_alpha int G dt`` up to a relative ``O(1/N)``. :func:`complete_epsilon_study` reports the lower bound
``E_{beta*} int G dt`` (along the greedy deviator's simulated paths), ``E_alpha int G dt`` (every agent of
the games on ``alpha`` in turn the would-be deviator) and the gain of ``beta*`` played in the game. At
N = 10 and 100 most of ``G`` comes from *kink* trades (the deviator trading against the crowd so that the
realised flow is zero), which are not small: ``E_alpha int G`` then overstates the greedy gain
(docs/mfg.md section 10).

Time grid. On the solver's steps the value of the (lagged) MFG feedback is not exactly its continuous
counterpart, and ``G`` is not zero even for ``N = inf`` (``V`` from ``s = sigma0^2``, no ``1/N`` terms):
that offset ``G_inf``, evaluated along the same paths, is subtracted per path (about 1e-19 in practice:
``V_inf`` is the solver's own value, against which ``alpha`` is greedy). The estimate moves by less than
its standard error between 160 and 2560 steps on the stiff test calibration (docs/mfg.md section 10).

Simulation check (:func:`simulate_deviation` with ``deviate=True``): each game is played twice with the
same noises, once with every agent on ``alpha`` and once with agent 0 on ``beta*`` (the MFG step with
``l`` replaced by ``l - delta``, ``delta = beta* - alpha`` at the step's start, so ``delta = 0`` gives the
same bytes); the gain ``J_0(alpha) - J_0(beta*)`` has the control variates ``sum V_q dW``-type increments
of ``V`` along both games (exactly mean zero: coefficients at the step's start), removed by least
squares. Steps as the game's (linearly implicit, cost at the step's end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution, graded_gradient
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.epsilon_nash import _march


@dataclass(frozen=True)
class PolicyValue:
    """Value ``a q^2 + b q + c`` of the MFG feedback to one agent of the ``N``-player game on the
    solver's nodes, and its ``Q``-derivatives; each (nt+1, nQ). ``N = None``: the ``N = inf`` limit."""

    N: int | None
    Q: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    a_Q: np.ndarray
    b_Q: np.ndarray
    c_Q: np.ndarray

    def at(self, n: int, Qbar: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(a, b, a_Q, b_Q, c_Q)`` at node ``n``, interpolated at ``Qbar`` (each like ``Qbar``)."""
        return tuple(np.interp(Qbar, self.Q, f[n]) for f in (self.a, self.b, self.a_Q, self.b_Q, self.c_Q))


def policy_value(sol: CommonNoiseSolution, N: int | None) -> PolicyValue:
    """:class:`PolicyValue` with ``s_Q = s_x = sigma0^2 + sigma^2/N`` (``sigma0^2`` for ``N = None``)."""
    p = sol.params
    var = p["sigma0"] ** 2 + (0.0 if N is None else p["sigma"] ** 2 / N)
    a, b, c = _march(sol, var_Q=var, var_x=var, best_response=False, history=True)
    return PolicyValue(N=N, Q=sol.Q, a=a, b=b, c=c, a_Q=graded_gradient(a, sol.Q), b_Q=graded_gradient(b, sol.Q),
                       c_Q=graded_gradient(c, sol.Q))


def hamiltonian_gap(q, alpha, m, p, r, *, eta0: float, eta1: float, inv_N: float):
    """``(G, beta*)``: ``G = H(alpha) - min H >= 0`` and the minimiser, elementwise (module docstring).

    ``q`` unused but for shape; ``p = V_q``, ``r = V_Q``, ``inv_N = 1/N`` (0: no own influence, the
    deviator's ``eta`` frozen at ``eta0 + eta1 |m|``).
    """
    shape = np.broadcast(q, alpha, m, p, r).shape
    alpha, m, p, r = (np.broadcast_to(x, shape) for x in (alpha, m, p, r))

    def H(beta):
        shift = (beta - alpha) * inv_N
        return (eta0 + eta1 * np.abs(m + shift)) * beta * beta + p * beta + r * shift

    h_alpha = H(alpha)
    best, arg = h_alpha.copy(), alpha.copy()
    P = p + r * inv_N
    candidates = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for s in (1.0, -1.0):
            # on the side s = sign(m + (beta - alpha)/N): H' = 3 s eta1 beta^2/N + 2 E beta + P
            E = eta0 + s * eta1 * (m - alpha * inv_N)
            c3 = 3.0 * s * eta1 * inv_N
            disc = E * E - c3 * P
            root = np.sqrt(np.maximum(disc, 0.0))
            w = -(E + np.where(E >= 0.0, root, -root))
            for beta in (P / w, w / c3 if c3 != 0.0 else np.full(shape, np.nan)):
                ok = (disc >= 0.0) & np.isfinite(beta) & (s * (m + (beta - alpha) * inv_N) >= 0.0)
                candidates.append((np.where(ok, beta, alpha), ok))
        if inv_N > 0.0:
            candidates.append((alpha - m / inv_N, np.ones(shape, dtype=bool)))     # the kink
    for beta, ok in candidates:
        h = H(beta)
        better = ok & (h < best)
        best = np.where(better, h, best)
        arg = np.where(better, beta, arg)
    return h_alpha - best, arg


@dataclass(frozen=True)
class DeviationSample:
    """``M`` simulated games of ``N`` players (each (M,), cost units).

    ``gap_sum``: ``(1/N) sum_i sum_n h G_N`` along the game (every agent the would-be deviator);
    ``offset_sum``: the same with the ``N = inf`` value and no own influence (the grid's offset);
    with ``deviate``: ``cost_mfg``, ``cost_greedy`` agent 0's cost on ``alpha`` and on ``beta*``
    (same noises), ``control`` (M, 2) the difference of the two games' martingale increments of ``V``,
    ``gap_greedy`` ``sum_n h G`` along agent 0's path on ``beta*`` (continuous time: ``E`` of it is the gain)."""

    N: int
    gap_sum: np.ndarray
    offset_sum: np.ndarray
    cost_mfg: np.ndarray | None = None
    cost_greedy: np.ndarray | None = None
    control: np.ndarray | None = None
    gap_greedy: np.ndarray | None = None

    @property
    def estimate(self) -> tuple[float, float]:
        """``E int (G_N - G_inf) dt`` and its standard error (cost units)."""
        d = self.gap_sum - self.offset_sum
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))

    @property
    def raw_estimate(self) -> tuple[float, float]:
        """``E int G_N dt`` on the grid (no offset removed; the simulated gain's counterpart)."""
        return float(self.gap_sum.mean()), float(self.gap_sum.std(ddof=1) / math.sqrt(self.gap_sum.size))

    @property
    def simulated_gain(self) -> tuple[float, float]:
        """``J_0(alpha) - J_0(beta*)`` with the control variates removed (least squares), and its SE."""
        gain = self.cost_mfg - self.cost_greedy
        X = self.control - self.control.mean(axis=0)
        coef = np.linalg.lstsq(X, gain - gain.mean(), rcond=None)[0]
        adjusted = gain - X @ coef
        dof = max(gain.size - 1 - X.shape[1], 1)
        return float(adjusted.mean()), float(math.sqrt(np.sum((adjusted - adjusted.mean()) ** 2) / dof / gain.size))

    @property
    def raw_gain(self) -> tuple[float, float]:
        """The gain without control variates, and its SE."""
        gain = self.cost_mfg - self.cost_greedy
        return float(gain.mean()), float(gain.std(ddof=1) / math.sqrt(gain.size))


def _gap_terms(value: PolicyValue, n: int, q, Qbar, k, l_):
    """``alpha``, ``m``, ``V_q``, ``V_Q`` for agents ``q`` (M, n_agents) at ``Qbar`` (M,), value at node ``n``."""
    a, b, a_Q, b_Q, c_Q = (x[:, None] for x in value.at(n, Qbar))
    alpha = -(k[:, None] * q + l_[:, None])
    m = -(k * Qbar + l_)[:, None]
    return alpha, m, 2.0 * a * q + b, (a_Q * q + b_Q) * q + c_Q


#: Agents per game whose ``G`` enters ``E_alpha int G dt`` (agents are exchangeable; more adds cost, little precision).
WATCHED_AGENTS = 10


def simulate_deviation(sol: CommonNoiseSolution, value: PolicyValue, limit: PolicyValue | None, *, M: int,
                       seed: int | np.random.SeedSequence, deviate: bool = False) -> DeviationSample:
    """``M`` games of ``N = value.N`` players on ``alpha``: ``sum h G`` per game over the first
    :data:`WATCHED_AGENTS` agents (module docstring; ``offset_sum`` with ``limit``, else zeros), and with
    ``deviate`` the same games with agent 0 on ``beta*`` (greedy against ``value``)."""
    p = sol.params
    N = int(value.N)
    watched = min(N, WATCHED_AGENTS)
    eta0, eta1, phi, sigma, sigma0 = (float(p[k]) for k in ("eta0", "eta1", "phi", "sigma", "sigma0"))
    rng = np.random.default_rng(seed)
    q = p["m0_mean"] + p["m0_std"] * rng.standard_normal((M, N))
    gap_sum, offset_sum = np.zeros(M), np.zeros(M)
    if deviate:
        qd = q.copy()
        cost_a, cost_d, control, gap_greedy = np.zeros(M), np.zeros(M), np.zeros((M, 2)), np.zeros(M)
    for n, dt in enumerate(sol.dts):
        h = float(dt)
        z0 = rng.standard_normal(M)
        z = rng.standard_normal((M, N))
        common = sigma0 * math.sqrt(h) * z0
        noise = sigma * math.sqrt(h) * z + common[:, None]
        noise_Q = common + sigma * math.sqrt(h) * z.mean(axis=1)
        Qbar = q.mean(axis=1)
        k, l_, _ = policy_at(sol, n, Qbar)
        seen = q[:, :watched]       # exchangeable agents: the first ones stand for all
        alpha, m, vq, vQ = _gap_terms(value, n + 1, seen, Qbar, k, l_)
        gap_sum += h * hamiltonian_gap(seen, alpha, m, vq, vQ, eta0=eta0, eta1=eta1, inv_N=1.0 / N)[0].mean(axis=1)
        if limit is not None:
            _, _, vq_inf, vQ_inf = _gap_terms(limit, n + 1, seen, Qbar, k, l_)
            offset_sum += h * hamiltonian_gap(seen, alpha, m, vq_inf, vQ_inf, eta0=eta0, eta1=eta1,
                                              inv_N=0.0)[0].mean(axis=1)
        if deviate:
            Qd = qd.mean(axis=1)
            kd, ld, _ = policy_at(sol, n, Qd)
            alpha_d, m_d, vq_d, vQ_d = _gap_terms(value, n + 1, qd[:, :1], Qd, kd, ld)
            G_d, beta = hamiltonian_gap(qd[:, :1], alpha_d, m_d, vq_d, vQ_d, eta0=eta0, eta1=eta1, inv_N=1.0 / N)
            gap_greedy += h * G_d[:, 0]
            delta = (beta - alpha_d)[:, 0]
            # same noises in both games: the increments differ by their coefficients only
            control[:, 0] += (vq[:, 0] - vq_d[:, 0]) * noise[:, 0]
            control[:, 1] += (vQ[:, 0] - vQ_d[:, 0]) * noise_Q
            shift = np.zeros_like(qd)
            shift[:, 0] = delta
            qd = (qd - (ld[:, None] - shift) * h + noise) / (1.0 + kd[:, None] * h)
            act_d = -(kd[:, None] * qd + ld[:, None]) + shift
            eta_d = eta0 + eta1 * np.abs(act_d.mean(axis=1))
            cost_d += h * (eta_d * act_d[:, 0] ** 2 + phi * qd[:, 0] ** 2)
        q = (q - l_[:, None] * h + noise) / (1.0 + k[:, None] * h)
        if deviate:
            act = -(k * q[:, 0] + l_)
            eta = eta0 + eta1 * np.abs(-(k * q.mean(axis=1) + l_))
            cost_a += h * (eta * act * act + phi * q[:, 0] ** 2)
    if not deviate:
        return DeviationSample(N=N, gap_sum=gap_sum, offset_sum=offset_sum)
    gamma = float(p["gamma_T"])
    return DeviationSample(N=N, gap_sum=gap_sum, offset_sum=offset_sum, cost_mfg=cost_a + gamma * q[:, 0] ** 2,
                           cost_greedy=cost_d + gamma * qd[:, 0] ** 2, control=control, gap_greedy=gap_greedy)


@dataclass(frozen=True)
class CompleteEpsilonRow:
    """Epsilon-Nash with the deviator's own influence for one ``N`` (cost units, each with its Monte Carlo SE).

    ``greedy_gain``: ``E_{beta*} int G dt`` along the greedy deviator's paths, the gain ``J(alpha) - J(beta*)``
    by the performance-difference identity, so a lower bound on ``epsilon_N`` (continuous time);
    ``first_order``: ``E_alpha int G dt`` over every agent of the games on ``alpha`` (equal to it when the
    deviation is small, larger when kink trades dominate); ``simulated_gain``: ``J(alpha) - J(beta*)``
    played in the discretised game with the same noises (control variates removed), which on the
    solver's steps also carries the MFG feedback's own ``O(k dt)`` suboptimality (docs/mfg.md section 10)."""

    N: int
    greedy_gain: float
    greedy_gain_se: float
    first_order: float
    first_order_se: float
    simulated_gain: float
    simulated_gain_se: float
    games: int

    def as_dict(self) -> dict:
        return {k: (int(v) if k in ("N", "games") else float(v)) for k, v in self.__dict__.items()}


def complete_epsilon_study(sol: CommonNoiseSolution, Ns: Sequence[int], *, agent_paths: int, min_games: int,
                           seed: int) -> list[CompleteEpsilonRow]:
    """:class:`CompleteEpsilonRow` for each ``N`` from ``max(agent_paths // (2 N), min_games)`` pairs of games
    (on ``alpha`` and with agent 0 on ``beta*``, same noises; seeds spawned from ``seed``)."""
    rows = []
    for N, ss in zip(Ns, np.random.SeedSequence(seed).spawn(len(Ns))):
        M = max(int(agent_paths) // (2 * int(N)), int(min_games), 3)
        s = simulate_deviation(sol, policy_value(sol, int(N)), None, M=M, seed=ss, deviate=True)
        first, first_se = s.raw_estimate
        sim, sim_se = s.simulated_gain
        rows.append(CompleteEpsilonRow(N=int(N), greedy_gain=float(s.gap_greedy.mean()),
                                       greedy_gain_se=float(s.gap_greedy.std(ddof=1) / math.sqrt(M)),
                                       first_order=first, first_order_se=first_se, simulated_gain=sim,
                                       simulated_gain_se=sim_se, games=M))
    return rows
