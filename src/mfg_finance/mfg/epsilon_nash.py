r"""Epsilon of the epsilon-Nash equilibrium: the gain of one agent deviating from the MFG feedback.

In the ``N``-player game of :mod:`mfg_finance.mfg.finite_n` every other agent uses the MFG feedback
at the empirical mean ``Qbar``. Their mean flow is then exactly ``mbar = m(t, Qbar)`` and the realised
cost ``eta(t, Qbar)``, the MFG's functions, but ``Qbar`` carries the average of the idiosyncratic
noises too::

    dQbar = m(t, Qbar) dt + sigma0 dW0 + (sigma / sqrt(N)) dWbar,    d<q_i, Qbar> = (sigma0^2 + sigma^2/N) dt .

A deviator who takes this environment as given (its own ``O(1/N)`` influence on ``mbar`` and
``Qbar`` left out) faces the quadratic problem of :mod:`mfg_finance.mfg.common_noise` with the
environment *frozen* (``m``, ``eta`` the equilibrium's) and the variances
``s_Q = s_x = sigma0^2 + sigma^2 / N``::

    -a_t = phi - a^2/eta + m a_Q + (s_Q/2) a_QQ,
    -b_t = -a b/eta + 2 s_x a_Q + m b_Q + (s_Q/2) b_QQ,
    -c_t = -b^2/(4 eta) + (sigma^2 + sigma0^2) a + s_x b_Q + m c_Q + (s_Q/2) c_QQ,

solved by the same monotone steps on the same graded nodes (its own policy from ``a^{n+1}, b^{n+1}``). The MFG feedback's
value in the same environment is the same system with the policy ``(k, l)`` held at the
equilibrium's. ``epsilon_N = E[V_MFG - V_BR]`` at ``t = 0``, ``q ~ N(m0_mean, m0_std^2)``,
``Qbar = m0_mean``. Both are solved on the same grid, so most of the discretisation error cancels
in the difference. The deviator's own influence (``alpha/N`` in ``mbar``, ``q/N`` in ``Qbar``) changes
its first-order condition by ``O(1/N)`` and hence its gain by ``O(1/N^2)``, the order of what is
computed here: this is an estimate of the environment part of ``epsilon_N``, not a bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution, graded_gradient
from mfg_finance.mfg.hjb import hybrid_offdiagonals
from mfg_finance.mfg.killed_tridiag import solve_killed


#: Policy-iteration sweeps per time step of the best response (fully implicit policy).
BR_ITERATIONS = 8


def _march(sol: CommonNoiseSolution, *, var_Q: float, var_x: float, best_response: bool, history: bool = False,
           substeps: int = 1):
    """Value coefficients ``(a, b, c)`` at ``t = 0`` (nQ,) in the frozen environment of ``sol``
    (``history``: at every time node of the solver, each (nt+1, nQ)).

    ``best_response``: the deviator's policy ``k = a^n/eta``, ``l = b^n/(2 eta)`` is found by policy
    iteration on each step (fully implicit), so it minimises the discrete step exactly and the
    MFG feedback (``best_response=False``) can only do worse on the same grid.
    ``substeps``: each solver step is split into that many equal implicit steps, the environment (and, with
    ``best_response=False``, the policy) of the solver step held over all of them: the same equations with a
    smaller time error (:func:`mfg_finance.mfg.deviation.policy_value` extrapolates over it).
    """
    p = sol.params
    Q, dts = sol.Q, sol.dts
    nt = dts.size
    a, b, c = np.full(Q.size, p["gamma_T"]), np.zeros(Q.size), np.zeros(Q.size)
    noise = p["sigma"] ** 2 + p["sigma0"] ** 2
    zeros = np.zeros(Q.size)
    steps = [(a, b, c)]
    for n in range(nt - 1, -1, -1):
        eta = sol.eta[n]
        m = -(sol.k[n] * Q + sol.l[n])
        up, down = hybrid_offdiagonals(m, Q, np.sqrt(var_Q))
        h = float(dts[n]) / int(substeps)
        for _ in range(int(substeps)):
            k, l_ = (a / eta, b / (2.0 * eta)) if best_response else (sol.k[n], sol.l[n])
            for _ in range(BR_ITERATIONS if best_response else 1):
                a_new = solve_killed(up, down, 2.0 * k, h, a + h * (p["phi"] + eta * k * k))
                b_new = solve_killed(up, down, k, h, b + h * (2.0 * eta * k * l_ - 2.0 * l_ * a_new
                                                               + 2.0 * var_x * graded_gradient(a_new, Q)))
                if best_response:
                    k, l_ = a_new / eta, b_new / (2.0 * eta)
            c = solve_killed(up, down, zeros, h, c + h * (eta * l_ * l_ - l_ * b_new + noise * a_new
                                                          + var_x * graded_gradient(b_new, Q)))
            a, b = a_new, b_new
        if history:
            steps.append((a, b, c))
    if history:
        return tuple(np.array(f[::-1]) for f in zip(*steps))
    return a, b, c


@dataclass(frozen=True)
class EpsilonEstimate:
    """``N``, the MFG feedback's and the best response's expected costs (cost units) and their gap."""

    N: int
    cost_mfg_policy: float
    cost_best_response: float

    @property
    def epsilon(self) -> float:
        return self.cost_mfg_policy - self.cost_best_response

    def as_dict(self) -> dict:
        return {"N": self.N, "cost_mfg_policy": self.cost_mfg_policy,
                "cost_best_response": self.cost_best_response, "epsilon": self.epsilon}


def epsilon_estimate(sol: CommonNoiseSolution, N: int) -> EpsilonEstimate:
    """Gain of the best response against ``N - 1`` agents using the MFG feedback (module docstring)."""
    p = sol.params
    var = p["sigma0"] ** 2 + p["sigma"] ** 2 / N
    m0, s0 = p["m0_mean"], p["m0_std"]

    def expected(coeffs):
        a, b, c = (float(np.interp(m0, sol.Q, f)) for f in coeffs)
        return a * (m0 * m0 + s0 * s0) + b * m0 + c

    mfg = expected(_march(sol, var_Q=var, var_x=var, best_response=False))
    br = expected(_march(sol, var_Q=var, var_x=var, best_response=True))
    return EpsilonEstimate(N=int(N), cost_mfg_policy=mfg, cost_best_response=br)


@dataclass(frozen=True)
class EpsilonRow:
    """``epsilon_N`` (cost units) extrapolated from two grids, its error bound and the raw values."""

    N: int
    epsilon: float
    bound: float
    fine: float
    coarse: float

    def as_dict(self) -> dict:
        return {"N": self.N, "epsilon": self.epsilon, "error_bound": self.bound,
                "epsilon_fine": self.fine, "epsilon_coarse": self.coarse}


def epsilon_study(fine: CommonNoiseSolution, coarse: CommonNoiseSolution, Ns) -> list[EpsilonRow]:
    """``epsilon_N`` for each ``N`` from a solution and its time companion (every other time node,
    :attr:`~mfg_finance.mfg.common_noise.SolutionWithEstimate.coarse`).

    On a grid the MFG feedback (lagged one step) is itself ``O(dt^2)``-suboptimal against the
    discrete best response even for ``N = inf``; that offset ``delta_h`` (computed with ``N = 1e15``)
    is subtracted. The rest converges at first order: ``epsilon = 2 e_h - e_2h`` (Richardson) with
    the bound ``1.25 |e_h - e_2h|`` (the safety factor of :mod:`mfg_finance.mfg.common_noise`).
    """
    from mfg_finance.mfg.common_noise import SAFETY

    def corrected(sol):
        offset = epsilon_estimate(sol, 10 ** 15).epsilon
        return [epsilon_estimate(sol, N).epsilon - offset for N in Ns]

    rows = []
    for N, e_h, e_2h in zip(Ns, corrected(fine), corrected(coarse)):
        rows.append(EpsilonRow(N=int(N), epsilon=2.0 * e_h - e_2h, bound=SAFETY * abs(e_h - e_2h),
                               fine=e_h, coarse=e_2h))
    return rows
