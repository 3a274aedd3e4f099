r"""A deviation played in the N-player game on equal footing (greedy by default), refined in time and extrapolated.

Game and deviation of :mod:`mfg_finance.mfg.deviation` (time in trading days, inventory units, cost units).
On a time step the players' MFG feedback is linearly implicit: agent ``j``'s flow over the step is
``-(k q_j' + l)`` at the step's *end* state (``k, l`` fixed at the step's start ``Qbar``), so the crowd's
realised flow contains the step's noise. A deviator who decides from the step's *start* state cannot
aim at the kink of ``eta`` (zero realised flow): it misses it by the step's noise, pays ``eta1 |miss|``
on every kink trade, an ``O(sqrt(h))`` handicap that made the deviation *lose* on the solver's steps.
Here the deviator decides on the same information as the players it plays against::

    q_j' = (q_j - l h + noise_j) / (1 + k h),   alpha_j = -(k q_j' + l)        (everyone's MFG step)
    beta = argmin_b H(b; alpha_0, mbar = mean_j alpha_j, V_q(q_0', Qbar'), V_Q(q_0', Qbar'))   (greedy, exact)
    q_0' <- q_0' + (beta - alpha_0) h,   realised flow mbar + (beta - alpha_0)/N,

with ``H`` and its exact minimiser from :func:`mfg_finance.mfg.deviation.hamiltonian_gap` and ``V`` the value
of the MFG feedback to one agent (:func:`mfg_finance.mfg.deviation.policy_value`, exact in time for the
solver step's feedback held over the step, as the players hold it) interpolated linearly in time to the
step's end. ``q_0' + (beta - alpha_0) h = q_0 + beta h + noise_0``: the deviator's own step is
explicit in its own flow. Any other deviation is played the same way (``deviation`` of :func:`play_deviation`): a
rule ``beta(n, t, q, Qbar, alpha, m, V_q, V_Q)`` (the grid best response of :mod:`mfg_finance.mfg.best_response`,
or the exact one of :mod:`mfg_finance.mfg.best_response_exact`) evaluated at the same point ``(t, q_0', Qbar')``,
``t`` the step's end and ``n`` the solver step in force, with what the greedy deviator knows there (the players'
flow ``alpha_0`` at ``q_0'``, their mean flow, ``V``'s derivatives: a rule that minimises ``H`` with corrected
derivatives hits the kink trade exactly, which an interpolated flow misses), in place of the greedy argmin; ``G``
is then ``H(alpha_0) - H(beta)``, whose integral is the same gain by the performance-difference identity (for any
feedback). Both games (every agent on ``alpha``; agent 0 on ``beta``) are driven by the same noises. Per game: the
gain ``J_0(alpha) - J_0(beta)`` (cost charged at each step's end, as the game's), ``sum h G`` along the
deviator's path (``G`` the gap at the point it decided on), and the control variates ``sum (V_q^alpha - V_q^beta)
noise_0`` and ``sum (V_Q^alpha - V_Q^beta) noise_Qbar`` (coefficients at the step's start, so exactly mean zero),
removed from the gain by least squares. On a finite step the two
differ by the game's own time error (the identity is a continuous-time one); carried to continuous time they
agree within their Monte Carlo and time errors (docs/mfg.md section 10): the simulation confirms the value
``V`` and the greedy gain.

Time refinement. The continuous-time game is the target. Each solver step is split into ``s`` equal
sub-steps for ``s`` in :data:`LEVELS` (the MFG feedback of the solver step re-evaluated at the current
``Qbar``, ``V`` interpolated in time), all driven by the same Brownian path (the finest level's normals
summed). The greedy feedback jumps where the kink trade starts to pay: a discontinuous drift, for which the
Euler scheme's weak order is ``1/2``; where the feedback is smooth it is ``1``. Observed orders lie between
(0.6-0.9 on the calibrations of docs/mfg.md section 10), so the limit of ``g(h) = g0 + C h^p`` is bracketed
by the extrapolations of the two finest levels with ``p = 1/2`` and ``p = 1``: the estimate is the bracket's
midpoint and its half-width the time-discretisation error, ``(g_coarse - g_fine)/sqrt(2)`` for a halving.
The observed order from three levels, ``log2((g_1 - g_2)/(g_2 - g_4))``, is reported to check that
assumption. The midpoint is linear in the per-game values, so its Monte Carlo SE is that of the per-game
midpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.deviation import PolicyValue, hamiltonian, hamiltonian_gap

#: Sub-steps per solver step of the refinement levels (each halves the previous step).
LEVELS = (1, 2, 4)

def _least_squares_adjusted(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``y - X c`` with ``c`` the least-squares coefficients of ``y`` on ``X`` (centred fit). The columns of
    ``X`` have mean exactly zero (control variates), so ``y - X c`` keeps ``E y``; subtracting the *centred*
    ``X`` instead would keep the sample mean of ``y`` and only shrink the apparent SE."""
    Xc = X - X.mean(axis=0)
    coef = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    return y - X @ coef


@dataclass(frozen=True)
class LevelGames:
    """``M`` pairs of games at ``substeps`` sub-steps per solver step (each (M,), cost units): agent 0's cost
    on ``alpha`` and on ``beta``, ``gap`` = ``sum h [H(alpha) - H(beta)]`` along its deviating path (``sum h G``
    for the greedy deviation), ``control`` (M, 2)."""

    substeps: int
    cost_mfg: np.ndarray
    cost_deviation: np.ndarray
    gap: np.ndarray
    control: np.ndarray

    @property
    def gain(self) -> np.ndarray:
        """Per game ``J_0(alpha) - J_0(beta)`` with the control variates removed (least squares)."""
        return _least_squares_adjusted(self.cost_mfg - self.cost_deviation, self.control)

    @property
    def raw_gain(self) -> np.ndarray:
        return self.cost_mfg - self.cost_deviation


@dataclass(frozen=True)
class Extrapolated:
    """A per-game quantity ``g(h)`` carried to ``h -> 0`` (cost units): ``value`` (bracket midpoint),
    ``se`` its Monte Carlo SE, ``time_error`` the bracket's half-width, ``by_substeps`` the level means,
    ``observed_order`` from the three finest levels (``None`` with fewer, or where not monotone)."""

    value: float
    se: float
    time_error: float
    by_substeps: dict[int, float]
    observed_order: float | None

    def as_dict(self) -> dict:
        return {"value": self.value, "se": self.se, "time_error": self.time_error,
                "by_substeps": {str(k): v for k, v in self.by_substeps.items()},
                "observed_order": self.observed_order}


def extrapolate(per_level: dict[int, np.ndarray]) -> Extrapolated:
    """Bracket midpoint of the ``p = 1/2`` and ``p = 1`` extrapolations of the two finest levels (module
    docstring): ``g_f - (g_c - g_f)(1 + 1/sqrt(2))`` per game, half-width ``|mean(g_c - g_f)| / sqrt(2)``."""
    subs = sorted(per_level)
    if len(subs) < 2 or any(b != 2 * a for a, b in zip(subs, subs[1:])):
        raise ValueError(f"extrapolate needs levels that halve the step, got sub-steps {subs}")
    coarse, fine = per_level[subs[-2]], per_level[subs[-1]]
    mid = fine - (coarse - fine) * (1.0 + 1.0 / math.sqrt(2.0))
    means = {s: float(per_level[s].mean()) for s in subs}
    order = None
    if len(subs) >= 3:
        d1, d2 = means[subs[-3]] - means[subs[-2]], means[subs[-2]] - means[subs[-1]]
        if d1 * d2 > 0.0:
            order = float(math.log2(d1 / d2))
    return Extrapolated(value=float(mid.mean()), se=float(mid.std(ddof=1) / math.sqrt(mid.size)),
                        time_error=float(abs(means[subs[-2]] - means[subs[-1]]) / math.sqrt(2.0)),
                        by_substeps=means, observed_order=order)


@dataclass(frozen=True)
class DeviationGames:
    """Pairs of games of ``N`` players at every level of sub-steps (:class:`LevelGames`)."""

    N: int
    levels: dict[int, LevelGames]

    @property
    def predicted(self) -> Extrapolated:
        """``E_beta int [H(alpha) - H(beta)] dt`` (the deviation's gain by the performance-difference identity;
        ``E_{beta*} int G dt`` for the greedy one)."""
        return extrapolate({s: g.gap for s, g in self.levels.items()})

    @property
    def simulated(self) -> Extrapolated:
        """The gain ``J_0(alpha) - J_0(beta)`` played in the game (control variates removed)."""
        return extrapolate({s: g.gain for s, g in self.levels.items()})

    @property
    def difference(self) -> Extrapolated:
        """Simulated gain minus ``sum h G``, per game: the confirmation (zero in continuous time). Its value is
        ``simulated.value - predicted.value`` (the extrapolation is linear) and its SE that of the per-game
        differences; its time error is the *sum* of the two gains' bracket half-widths: the difference of two
        power laws is not one (with the exact value it jumps between the solver's steps and two sub-steps of
        them, ``-1e-5`` to ``+1e-6`` on the stiff baseline, then stays: a faster order than the bracket's),
        so only each gain's own bracket is assumed."""
        per_level = extrapolate({s: g.gain - g.gap for s, g in self.levels.items()})
        return replace(per_level, time_error=self.simulated.time_error + self.predicted.time_error)

    def level_difference(self, substeps: int) -> tuple[float, float]:
        """Mean and SE of the per-game difference at one level (cost units)."""
        d = self.levels[substeps].gain - self.levels[substeps].gap
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


class _Coefficients:
    """``(a, b, a_Q, b_Q, c_Q)`` of a :class:`PolicyValue`, linear in time between two nodes and in ``Qbar``."""

    def __init__(self, value: PolicyValue):
        self.Q = value.Q
        self.stack = np.stack([value.a, value.b, value.a_Q, value.b_Q, value.c_Q])     # (5, nt+1, nQ)

    def blend(self, n: int, w: float) -> np.ndarray:
        """(5, nQ) at time ``(1 - w) t_n + w t_{n+1}``."""
        return (1.0 - w) * self.stack[:, n] + w * self.stack[:, n + 1]

    def interpolate(self, f: np.ndarray, Qbar: np.ndarray) -> np.ndarray:
        """(5, len(Qbar)) of :meth:`blend`'s ``f`` at ``Qbar`` (clamped outside the nodes, as ``np.interp``)."""
        Q = self.Q
        i = np.minimum(np.maximum(np.searchsorted(Q, Qbar) - 1, 0), Q.size - 2)
        x = np.minimum(np.maximum((Qbar - Q[i]) / (Q[i + 1] - Q[i]), 0.0), 1.0)
        return f[:, i] * (1.0 - x) + f[:, i + 1] * x


def _derivatives(c: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V_q = 2 a q + b`` and ``V_Q = (a_Q q + b_Q) q + c_Q`` from :meth:`_Coefficients.interpolate`
    (broadcast on ``q``)."""
    shape = (-1,) + (1,) * (q.ndim - 1)
    a, b, a_Q, b_Q, c_Q = (x.reshape(shape) for x in c)
    return 2.0 * a * q + b, (a_Q * q + b_Q) * q + c_Q


#: A deviation rule: ``beta(n, t, q, Qbar, alpha, m, V_q, V_Q)`` (inventory units per trading day) at the time ``t``
#: (trading days) in the solver step ``n``, on arrays (M,): the deviator's inventory and the mean, the players'
#: flow at that inventory, their mean flow and ``V``'s derivatives there (a feedback ignores the last four).
Deviation = Callable[..., np.ndarray]


def play_deviation(sol: CommonNoiseSolution, value: PolicyValue, *, M: int, seed: int | np.random.SeedSequence,
                   levels: Sequence[int] = LEVELS, deviation: Deviation | None = None) -> DeviationGames:
    """``M`` pairs of games of ``N = value.N`` players at each level of sub-steps (module docstring); same noises
    in both games of a pair and across levels. The deviator plays ``deviation`` (a callable, or an object whose
    ``__call__`` is one) at the step's end point, or, ``None``, greedy against ``value``; ``value`` also gives
    the predicted gain (``sum h [H(alpha) - H(beta)]``) and the control variates."""
    p = sol.params
    N = int(value.N)
    levels = tuple(sorted(int(s) for s in levels))
    finest = levels[-1]
    if any(finest % s for s in levels):
        raise ValueError(f"play_deviation: every level must divide the finest, got {levels}")
    if deviation is not None and not callable(deviation):
        raise ValueError(f"play_deviation: deviation must be callable as beta(n, t, q, Qbar, alpha, m, V_q, V_Q), "
                         f"got {deviation!r}")
    eta0, eta1, phi, sigma, sigma0 = (float(p[k]) for k in ("eta0", "eta1", "phi", "sigma", "sigma0"))
    coeffs = _Coefficients(value)

    def decide(n, t, q, Qbar, alpha, m, vq, vQ):
        """``(H(alpha) - H(beta), beta)`` of the deviator at the step's end point."""
        if deviation is None:
            return hamiltonian_gap(q, alpha, m, vq, vQ, eta0=eta0, eta1=eta1, inv_N=1.0 / N)
        beta = np.broadcast_to(np.asarray(deviation(n, t, q, Qbar, alpha, m, vq, vQ), dtype=float), q.shape)
        h_alpha, h_beta = (hamiltonian(b, alpha, m, vq, vQ, eta0=eta0, eta1=eta1, inv_N=1.0 / N)
                           for b in (alpha, beta))
        return h_alpha - h_beta, beta

    rng = np.random.default_rng(seed)
    q0 = p["m0_mean"] + p["m0_std"] * rng.standard_normal((M, N))
    state = {s: {"q": q0.copy(), "qd": q0.copy(), "cost": np.zeros(M), "cost_d": np.zeros(M),
                 "gap": np.zeros(M), "control": np.zeros((M, 2))} for s in levels}
    for n, dt in enumerate(sol.dts):
        z_fine = rng.standard_normal((finest, M, N))
        z0_fine = rng.standard_normal((finest, M))
        for s in levels:
            group = finest // s
            z = z_fine.reshape(s, group, M, N).sum(axis=1) / math.sqrt(group)
            z0 = z0_fine.reshape(s, group, M).sum(axis=1) / math.sqrt(group)
            S = state[s]
            h = float(dt) / s
            root = math.sqrt(h)
            for j in range(s):
                w = (j + 1.0) / s
                f = coeffs.blend(n, w)                      # V at the step's end
                noise = sigma * root * z[j] + (sigma0 * root * z0[j])[:, None]
                noise_Q = noise.mean(axis=1)
                q, qd = S["q"], S["qd"]
                Qa, Qd = q.mean(axis=1), qd.mean(axis=1)
                # control variates: V's martingale increments, coefficients at the step's start
                vq_a, vQ_a = _derivatives(coeffs.interpolate(f, Qa), q[:, 0])
                vq_d, vQ_d = _derivatives(coeffs.interpolate(f, Qd), qd[:, 0])
                S["control"][:, 0] += (vq_a - vq_d) * noise[:, 0]
                S["control"][:, 1] += (vQ_a - vQ_d) * noise_Q
                # every agent on alpha; the step's end mean and mean flow follow from the start mean exactly
                # (the step is affine in q with common k, l)
                k, l_, _ = policy_at(sol, n, Qa)
                q = (q - l_[:, None] * h + noise) / (1.0 + k[:, None] * h)
                Qa = (Qa - l_ * h + noise_Q) / (1.0 + k * h)
                m, own = -(k * Qa + l_), -(k * q[:, 0] + l_)
                S["cost"] += h * ((eta0 + eta1 * np.abs(m)) * own ** 2 + phi * q[:, 0] ** 2)
                S["q"] = q
                # agent 0 deviates, deciding on the step's end flows like the others
                kd, ld, _ = policy_at(sol, n, Qd)
                qd = (qd - ld[:, None] * h + noise) / (1.0 + kd[:, None] * h)
                Qd = (Qd - ld * h + noise_Q) / (1.0 + kd * h)
                alpha, m_d = -(kd * qd[:, 0] + ld), -(kd * Qd + ld)
                vq, vQ = _derivatives(coeffs.interpolate(f, Qd), qd[:, 0])
                G, beta = decide(n, (1.0 - w) * sol.t[n] + w * sol.t[n + 1], qd[:, 0], Qd, alpha, m_d, vq, vQ)
                qd[:, 0] += (beta - alpha) * h
                S["cost_d"] += h * ((eta0 + eta1 * np.abs(m_d + (beta - alpha) / N)) * beta ** 2
                                    + phi * qd[:, 0] ** 2)
                S["gap"] += h * G
                S["qd"] = qd
    gamma = float(p["gamma_T"])
    out = {s: LevelGames(substeps=s, cost_mfg=S["cost"] + gamma * S["q"][:, 0] ** 2,
                         cost_deviation=S["cost_d"] + gamma * S["qd"][:, 0] ** 2, gap=S["gap"],
                         control=S["control"]) for s, S in state.items()}
    return DeviationGames(N=N, levels=out)
