r"""Exact best response of one deviating agent when the MFG is linear-quadratic (``eta1 = 0``): the reference for
the grid best response (:mod:`mfg_finance.mfg.best_response`) and for a deviation played in the simulated game
(:mod:`mfg_finance.mfg.deviation_game`).

Units: time in trading days, inventory in inventory units, costs in cost units. The game is that of
:mod:`mfg_finance.mfg.deviation`: ``N`` agents, ``q_j(0) ~ N(m0_mean, m0_std^2)`` i.i.d., the ``N - 1`` players on
the MFG feedback, one agent (``i``) on ``beta``. With ``eta1 = 0`` the execution cost is ``eta0`` whatever the
crowd does, the MFG's ``b`` vanishes and ``a`` does not depend on ``Qbar``: the players' feedback is
``alpha_j = -k(t) q_j``, the crowd's flow ``m = -k(t) Qbar``. In continuous time ``k = A(t)/eta0`` with the
Riccati solution ``A``; the simulated game's players hold the solver step's ``k_n = a_grid(t_{n+1})/eta0``
over ``[t_n, t_{n+1})`` (:func:`mfg_finance.mfg.common_noise_paths.policy_at`). The deviator's state
``z = (q, Qbar)`` moves exactly as::

    dq    = beta dt + sigma dW_i + sigma0 dW0,
    dQbar = [-k Qbar + (beta + k q)/N] dt + sigma0 dW0 + (sigma/sqrt N) dWbar,
    cost  int (eta0 beta^2 + phi q^2) dt + gamma_T q(T)^2,

i.e. ``dz = (F z + B beta) dt + noise`` with ``F = [[0, 0], [k/N, -k]]``, ``B = (1, 1/N)`` and the noise
covariance rate ``Sigma = [[sigma^2 + sigma0^2, sigma0^2 + sigma^2/N], [., sigma0^2 + sigma^2/N]]``.

Best response. Its value ``W = z' P z + c`` solves the matrix Riccati equation of this LQ problem::

    -P' = diag(phi, 0) + P F + F' P - P B B' P / eta0,   P(T) = diag(gamma_T, 0),
    -c' = tr(Sigma P),                                    c(T) = 0,      beta_BR = -B' P z / eta0 .

``P = diag(A_BR, 0)`` solves it: ``F``'s first row is zero, so ``P F = 0`` and ``F' P = 0`` for that ``P``, and
``P B B' P = A_BR^2 e1 e1'``. Hence (uniqueness) ``-A_BR' = phi - A_BR^2/eta0`` with ``A_BR(T) = gamma_T``,
``-c_BR' = (sigma^2 + sigma0^2) A_BR``: the deviator's cost and its own dynamics do not involve ``Qbar``, so its
influence on ``Qbar`` (the ``1/N`` terms) is worth nothing and **its best response is the single agent's LQ optimum
``beta_BR = -A_BR(t) q / eta0``, whatever ``N``** (:func:`exact.closed_form` with the total noise
``sqrt(sigma^2 + sigma0^2)``; tests/mfg/test_mfg_best_response_exact.py integrates the full 2x2 system independently).

Value of the players' feedback to the deviator (``beta = alpha = -k q``): the Lyapunov equation of the same
system, again ``diag(A, 0)``::

    -A' = phi + eta0 k^2 - 2 k A,   A(T) = gamma_T,        -c' = (sigma^2 + sigma0^2) A,   c(T) = 0,

solved exactly step by step for a held ``k`` (``A_inf = (phi + eta0 k^2)/(2k)``,
``A(t_n) = A_inf + (A(t_{n+1}) - A_inf) e^{-2 k h}``, ``c`` its exact integral). The gain
``epsilon = E[(A - A_BR)(0) q_0^2 + (c - c_BR)(0)]``, ``E q_0^2 = m0_mean^2 + m0_std^2`` (the initial law of
``Qbar`` does not enter). ``D = A - A_BR`` solves ``-D' = eta0 (k - A_BR/eta0)^2 - 2 k D``, ``D(T) = 0``: the
performance-difference identity, ``D >= 0``.

Consequences. With the continuous-time MFG feedback (``k = A_BR/eta0``) the gain is exactly 0 for every ``N``:
at ``eta1 = 0`` there is no ``1/N`` (nor ``1/N^2``) epsilon. Against the game's held ``k_n`` the gain is the
price of holding a first-order feedback over the solver's steps, the same for every ``N`` and second order in
the steps (the feedback's ``O(dt)`` error, squared). That is what a best-response solver or a played deviation
must reproduce at ``eta1 = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Mapping

import numpy as np

from mfg_finance.mfg.common_noise import CommonNoiseSolution
from mfg_finance.mfg.exact import closed_form

#: The model parameters the reference reads (units of :mod:`mfg_finance.mfg.config`).
PARAMETERS = ("sigma", "sigma0", "eta0", "eta1", "phi", "gamma_T", "m0_mean", "m0_std")


def _check_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, Integral) or N < 2:
        raise ValueError(f"best_response_exact: N must be an integer >= 2 (the deviator and at least one player), "
                         f"got {N!r}")
    return int(N)


def _check_params(params: Mapping[str, float]) -> dict[str, float]:
    missing = [name for name in PARAMETERS if name not in params]
    if missing:
        raise ValueError(f"best_response_exact: params lack {missing}")
    p = {name: float(params[name]) for name in PARAMETERS}
    if p["eta1"] != 0.0:
        raise ValueError(f"best_response_exact: the exact reference needs eta1 = 0 (the LQ game), got {p['eta1']!r}")
    if not p["eta0"] > 0.0 or p["phi"] < 0.0 or p["gamma_T"] < 0.0:
        raise ValueError(f"best_response_exact: need eta0 > 0, phi >= 0, gamma_T >= 0, got eta0={p['eta0']!r}, "
                         f"phi={p['phi']!r}, gamma_T={p['gamma_T']!r}")
    return p


def _noise(p: Mapping[str, float]) -> float:
    """``sigma^2 + sigma0^2``: the variance rate of the deviator's own inventory."""
    return p["sigma"] ** 2 + p["sigma0"] ** 2


def riccati(params: Mapping[str, float], t, *, T: float) -> tuple[np.ndarray, np.ndarray]:
    """``(A_BR, c_BR)`` at the times ``t`` (cost/inv.^2, cost): the best response's value ``A_BR q^2 + c_BR``
    (closed form of :func:`mfg_finance.mfg.exact.closed_form` with the noise ``sqrt(sigma^2 + sigma0^2)``)."""
    p = _check_params(params)
    ref = closed_form(np.asarray(t, dtype=float), T=float(T), sigma=math.sqrt(_noise(p)), eta=p["eta0"],
                      phi=p["phi"], gamma_T=p["gamma_T"], m0_mean=p["m0_mean"], m0_std=p["m0_std"])
    return ref.h2, ref.h0


def held_feedback_value(params: Mapping[str, float], t: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A, c)`` on the nodes ``t`` (nt+1,): the exact value ``A q^2 + c`` of the feedback ``-k_n q`` held over
    ``[t_n, t_{n+1})`` (``k`` (nt,), 1/day, ``>= 0``), step by step in closed form (module docstring)."""
    p = _check_params(params)
    t, k = np.asarray(t, dtype=float), np.asarray(k, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.all(np.diff(t) > 0.0):
        raise ValueError("best_response_exact: t must be increasing time nodes, at least two")
    if k.shape != (t.size - 1,) or not np.all(k >= 0.0):
        raise ValueError(f"best_response_exact: k must hold one gain >= 0 per step, shape {(t.size - 1,)}, "
                         f"got shape {k.shape}")
    eta0, phi, noise = p["eta0"], p["phi"], _noise(p)
    A, c = np.empty(t.size), np.empty(t.size)
    A[-1], c[-1] = p["gamma_T"], 0.0
    for n in range(t.size - 2, -1, -1):
        h, kn = t[n + 1] - t[n], k[n]
        if kn > 0.0:
            A_inf = (phi + eta0 * kn * kn) / (2.0 * kn)
            excess = A[n + 1] - A_inf
            A[n] = A_inf + excess * math.exp(-2.0 * kn * h)
            c[n] = c[n + 1] + noise * (A_inf * h - excess * math.expm1(-2.0 * kn * h) / (2.0 * kn))
        else:
            A[n] = A[n + 1] + phi * h
            c[n] = c[n + 1] + noise * h * (A[n + 1] + 0.5 * phi * h)
    return A, c


@dataclass(frozen=True)
class ExactBestResponse:
    """The deviator's best response and the players' feedback's value against it, on the players' nodes ``t``
    (nt+1,) with their held gains ``k`` (nt,): ``A_br, c_br`` and ``A_mfg, c_mfg`` (value ``A q^2 + c``; no
    ``Qbar`` term, module docstring), ``epsilon = E[V_MFG(0) - W_BR(0)]`` over ``q_0 ~ N(m0_mean, m0_std^2)``
    (cost units; the same for every ``N``)."""

    N: int
    params: dict
    t: np.ndarray
    k: np.ndarray
    A_br: np.ndarray
    c_br: np.ndarray
    A_mfg: np.ndarray
    c_mfg: np.ndarray
    epsilon: float

    def br_gain(self, t) -> np.ndarray:
        """``A_BR(t) / eta0`` (1/day): the best response is ``beta = -A_BR(t) q / eta0`` at any time ``t``."""
        A, _ = riccati(self.params, t, T=float(self.t[-1]))
        return A / self.params["eta0"]

    def __call__(self, n: int, t: float, q: np.ndarray, Qbar: np.ndarray, *point) -> np.ndarray:
        """The best response as a deviation rule of :func:`mfg_finance.mfg.deviation_game.play_deviation`:
        ``beta(t, q) = -A_BR(t) q / eta0`` (the solver step ``n``, ``Qbar`` and the rest of the decision ``point``
        do not enter)."""
        return -float(self.br_gain(float(t))) * np.asarray(q)


def exact_best_response(params: Mapping[str, float], N: int, *, t, k) -> ExactBestResponse:
    """:class:`ExactBestResponse` of a deviator facing ``N - 1`` players who hold ``-k_n q`` over the steps of
    ``t`` (``eta1 = 0`` required; ``N`` an integer >= 2)."""
    N = _check_N(N)
    p = _check_params(params)
    t = np.asarray(t, dtype=float)
    A_mfg, c_mfg = held_feedback_value(p, t, k)
    A_br, c_br = riccati(p, t, T=float(t[-1]))
    second_moment = p["m0_mean"] ** 2 + p["m0_std"] ** 2
    epsilon = (A_mfg[0] - A_br[0]) * second_moment + (c_mfg[0] - c_br[0])
    return ExactBestResponse(N=N, params=p, t=t, k=np.asarray(k, dtype=float), A_br=A_br, c_br=c_br, A_mfg=A_mfg,
                             c_mfg=c_mfg, epsilon=float(epsilon))


def exact_best_response_of(sol: CommonNoiseSolution, N: int) -> ExactBestResponse:
    """:func:`exact_best_response` against the players of the simulated game on ``sol`` (``eta1 = 0``): they hold
    ``k_n`` of the solver's step ``n``, which does not depend on ``Qbar`` there (checked)."""
    _check_params(sol.params)
    k = sol.k[:-1]
    spread = float(np.max(np.ptp(k, axis=1)))
    if spread > 1e-9 * float(np.max(np.abs(k))):
        raise ValueError(f"best_response_exact: the solution's feedback depends on Qbar (spread {spread:.3g}); "
                         f"expected an eta1 = 0 solution")
    return exact_best_response(sol.params, N, t=sol.t, k=k[:, 0])
