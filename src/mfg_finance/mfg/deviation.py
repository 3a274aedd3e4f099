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
The players hold the solver step's feedback over the step, so ``V`` must be the value of that
piecewise-constant feedback *exactly in time*: the march is extrapolated over sub-steps of the solver's
steps (:func:`policy_value`); on the solver's steps alone its first-order time error biased the prediction
below by 9-15% of the gain.

Hamiltonian gap. ``H(beta) = (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + V_q beta + V_Q (beta - alpha)/N``
(``V_q = 2 a q + b``, ``V_Q = a_Q q^2 + b_Q q + c_Q``), ``G = H(alpha) - min_beta H >= 0`` (on either side
of the kink ``H`` is a cubic in ``beta``: the minimiser is a root of ``H'`` on its side, or the kink).
Ito's formula for ``V`` along any feedback ``beta`` gives ``J(alpha) - J(beta) = E_beta int [H(alpha) -
H(beta)] dt`` (performance difference). With ``beta*`` the minimiser of ``H`` (greedy against ``V``) and
``BR`` the best response::

    E_{beta*} int G dt  =  J(alpha) - J(beta*)  <=  epsilon_N  <=  E_BR int G dt ,

and, for a deviation small enough that it moves the law of ``(q, Qbar)`` by ``O(1/N)``, both ends are
``E_alpha int G dt`` up to a relative ``O(1/N)``. The best response itself is computed on a grid by
:mod:`mfg_finance.mfg.best_response`. :func:`complete_epsilon_study` reports the gain of ``beta*``
played in the simulated game (the lower bound ``J(alpha) - J(beta*)`` measured directly) and its prediction
``E_{beta*} int G dt`` along the same paths, both carried to continuous time. At N = 10 and 100 most of the
gain comes from *kink* trades (the deviator trading against the crowd so that the realised flow is zero),
which are not small: ``E_alpha int G`` then overstates the greedy gain (docs/mfg.md section 10).

Simulation (:mod:`mfg_finance.mfg.deviation_game`): the deviator decides on the same information as the
players (the step's end flows of the linearly implicit MFG step), on the solver's steps and on sub-steps of
them, and both figures are extrapolated to continuous time with a bracket of orders 1/2 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution, graded_gradient
from mfg_finance.mfg.epsilon_nash import _march


@dataclass(frozen=True)
class PolicyValue:
    """Value ``a q^2 + b q + c`` of the MFG feedback to one agent of the ``N``-player game on the
    solver's nodes, and its ``Q``-derivatives; each (nt+1, nQ). ``N = None``: the ``N = inf`` limit.
    ``time_extrapolated``: the march's time error removed (:func:`policy_value`)."""

    N: int | None
    Q: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    a_Q: np.ndarray
    b_Q: np.ndarray
    c_Q: np.ndarray
    time_extrapolated: bool = True


def policy_value(sol: CommonNoiseSolution, N: int | None, *, time_extrapolated: bool = True) -> PolicyValue:
    """:class:`PolicyValue` with ``s_Q = s_x = sigma0^2 + sigma^2/N`` (``sigma0^2`` for ``N = None``).

    The players of the game hold the solver step's feedback ``(k_n, l_n)(Qbar)`` over the whole step (and over
    every sub-step of it, :mod:`mfg_finance.mfg.deviation_game`), so the value the performance-difference
    identity needs is the *exact-in-time* value of that piecewise-constant feedback. One implicit step per
    solver step is first-order off it (stiff baseline: 1% of the cost at ``t = 0``, 10% in ``a_Q`` in sup
    norm), and that error, weighted differently along the deviator's paths than along the players', was the
    9-15% difference between the played gain and its prediction (docs/mfg.md section 10).
    ``time_extrapolated`` (default): the march on the solver's steps and on two sub-steps of each, the same
    policy held, combined by Richardson, ``2 V_(2) - V_(1)`` (second order: sup-norm errors of ``a, b, c``
    below 1e-3 relative, as 16-32 sub-steps; three marches' cost). ``False``: the single march (first order;
    kept for that comparison).
    """
    p = sol.params
    var = p["sigma0"] ** 2 + (0.0 if N is None else p["sigma"] ** 2 / N)
    a, b, c = _march(sol, var_Q=var, var_x=var, best_response=False, history=True)
    if time_extrapolated:
        a2, b2, c2 = _march(sol, var_Q=var, var_x=var, best_response=False, history=True, substeps=2)
        a, b, c = 2.0 * a2 - a, 2.0 * b2 - b, 2.0 * c2 - c
    return PolicyValue(N=N, Q=sol.Q, a=a, b=b, c=c, a_Q=graded_gradient(a, sol.Q), b_Q=graded_gradient(b, sol.Q),
                       c_Q=graded_gradient(c, sol.Q), time_extrapolated=bool(time_extrapolated))


def hamiltonian(beta, alpha, m, p, r, *, eta0: float, eta1: float, inv_N: float):
    """``H(beta) = (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + p beta + r (beta - alpha)/N`` elementwise
    (module docstring; ``p = V_q``, ``r = V_Q``, ``inv_N = 1/N``)."""
    shift = (beta - alpha) * inv_N
    return (eta0 + eta1 * np.abs(m + shift)) * beta * beta + p * beta + r * shift


def hamiltonian_gap(q, alpha, m, p, r, *, eta0: float, eta1: float, inv_N: float):
    """``(G, beta*)``: ``G = H(alpha) - min H >= 0`` and the minimiser, elementwise (module docstring).

    ``q`` unused but for shape; ``p = V_q``, ``r = V_Q``, ``inv_N = 1/N`` (0: no own influence, the
    deviator's ``eta`` frozen at ``eta0 + eta1 |m|``).
    """
    shape = np.broadcast(q, alpha, m, p, r).shape
    alpha, m, p, r = (np.broadcast_to(x, shape) for x in (alpha, m, p, r))

    def H(beta):
        return hamiltonian(beta, alpha, m, p, r, eta0=eta0, eta1=eta1, inv_N=inv_N)

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


#: Sub-step levels of the pipeline's epsilon study (two: the bracket of :mod:`mfg_finance.mfg.deviation_game`
#: from one halving; the benchmarks use more to check the order).
PIPELINE_LEVELS = (1, 2)


@dataclass(frozen=True)
class CompleteEpsilonRow:
    """Epsilon-Nash with the deviator's own influence for one ``N`` (cost units), carried to continuous time
    (:func:`mfg_finance.mfg.deviation_game.extrapolate`: value, Monte Carlo SE, time-discretisation error).

    ``epsilon`` (``_se``, ``_time_error``): the gain ``J(alpha) - J(beta*)`` of the deviation greedy against
    the value of the MFG feedback, *played* in the simulated game against the ``N - 1`` others (same
    information as theirs, control variates removed): a lower bound on ``epsilon_N`` that does not rest on the
    value function's accuracy; ``predicted`` (``_se``, ``_time_error``): ``E_{beta*} int G dt`` along the same
    deviator's paths, the same gain by the performance-difference identity (exact for the exact value);
    ``difference`` = ``epsilon - predicted`` per game (``_se``, ``_time_error``) and ``confirmed`` when
    ``|difference| <= 3 SE + time error``; ``*_by_substeps``: the level means (the first on the solver's
    steps); ``observed_order`` of ``predicted`` (three levels or more, else ``None``)."""

    N: int
    games: int
    epsilon: float
    epsilon_se: float
    epsilon_time_error: float
    predicted: float
    predicted_se: float
    predicted_time_error: float
    difference: float
    difference_se: float
    difference_time_error: float
    confirmed: bool
    epsilon_by_substeps: dict
    predicted_by_substeps: dict
    observed_order: float | None

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["N"], out["games"], out["confirmed"] = int(self.N), int(self.games), bool(self.confirmed)
        return out


def epsilon_row(games) -> CompleteEpsilonRow:
    """:class:`CompleteEpsilonRow` of :class:`mfg_finance.mfg.deviation_game.DeviationGames`."""
    played, predicted, diff = games.simulated, games.predicted, games.difference
    return CompleteEpsilonRow(
        N=int(games.N), games=int(games.levels[min(games.levels)].cost_mfg.size), epsilon=played.value,
        epsilon_se=played.se, epsilon_time_error=played.time_error, predicted=predicted.value,
        predicted_se=predicted.se,
        predicted_time_error=predicted.time_error, difference=diff.value, difference_se=diff.se,
        difference_time_error=diff.time_error,
        confirmed=bool(abs(diff.value) <= 3.0 * diff.se + diff.time_error),
        epsilon_by_substeps={str(k): v for k, v in played.by_substeps.items()},
        predicted_by_substeps={str(k): v for k, v in predicted.by_substeps.items()},
        observed_order=predicted.observed_order)


def complete_epsilon_study(sol: CommonNoiseSolution, Ns: Sequence[int], *, agent_paths: int, min_games: int,
                           seed: int, levels: Sequence[int] = PIPELINE_LEVELS) -> list[CompleteEpsilonRow]:
    """:class:`CompleteEpsilonRow` for each ``N`` from ``max(agent_paths // (2 N), min_games)`` pairs of games
    (on ``alpha`` and with agent 0 greedy on equal footing, same noises) at each level of sub-steps
    (:func:`mfg_finance.mfg.deviation_game.play_deviation`; seeds spawned from ``seed``)."""
    from mfg_finance.mfg.deviation_game import play_deviation

    rows = []
    for N, ss in zip(Ns, np.random.SeedSequence(seed).spawn(len(Ns))):
        M = max(int(agent_paths) // (2 * int(N)), int(min_games), 3)
        rows.append(epsilon_row(play_deviation(sol, policy_value(sol, int(N)), M=M, seed=ss, levels=levels)))
    return rows
