r"""Exact LQ equilibrium of a crowd of ``K`` types (the reference of the multi-type PDE solver).

With ``u_k(t, q) = h2_k(t) q^2 + h0_k(t)`` each type's HJB is a Riccati equation with the
common cost path ``eta(t)`` (time in trading days)::

    h2_k' = h2_k^2 / eta - phi_k,   h2_k(T) = gamma_T,k,     h0_k' = -sigma_k^2 h2_k,   h0_k(T) = 0,
    alpha_k*(t, q) = -h2_k q / eta .

Gaussian initial laws stay Gaussian: ``Q_k' = -h2_k Q_k / eta``, ``V_k' = -2 h2_k V_k / eta + sigma_k^2``.
The crowd's flow is ``m = -sum_k w_k h2_k Q_k / eta`` and the coupling ``eta = eta0 + eta1 |m|``
is, with ``S = sum_k w_k h2_k Q_k``, ``eta^2 - eta0 eta - eta1 |S| = 0``::

    eta = (eta0 + sqrt(eta0^2 + 4 eta1 |S|)) / 2        (one fixed point for eta, solved pointwise).

``(h2_k, Q_k)`` is a two-point problem (``h2_k`` fixed at ``T``, ``Q_k`` at 0), solved by backward
shooting on the ``K`` unknowns ``ln |Q_k(T)|`` (``Q_k`` keeps the sign of ``m0_mean,k``; a type
with ``m0_mean,k = 0`` has ``Q_k = 0``) with a Newton-type root finder (MINPACK ``hybr``), the
ODEs with DOP853 at ``rtol = 1e-12`` (about 1.5 s for two stiff types). ``eta1 = 0`` uses the
closed form of each type. One type reduces to :func:`mfg_finance.mfg.exact.coupled`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg.agent_types import AgentType
from mfg_finance.mfg.exact import closed_form

RTOL = 1e-12
ATOL = 1e-20


@dataclass(frozen=True)
class TypesReference:
    """Exact multi-type equilibrium at the times ``t``: ``h2, h0, mean, variance`` (K, len(t)),
    ``eta`` (len(t),) (units of :mod:`mfg_finance.mfg.exact`)."""

    t: np.ndarray
    h2: np.ndarray
    h0: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    eta: np.ndarray
    weights: np.ndarray

    @property
    def mean_flow(self) -> np.ndarray:
        """Crowd's ``m = sum_k w_k m_k`` with ``m_k = -h2_k Q_k / eta`` (inventory units / day)."""
        return -(self.weights @ (self.h2 * self.mean)) / self.eta

    def value(self, k: int, q: np.ndarray) -> np.ndarray:
        return self.h2[k][:, None] * q[None, :] ** 2 + self.h0[k][:, None]

    def feedback(self, k: int, q: np.ndarray) -> np.ndarray:
        return -(self.h2[k] / self.eta)[:, None] * q[None, :]


def _eta(S, eta0, eta1):
    return 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 4.0 * eta1 * np.abs(S)))


def exact_types(t: np.ndarray, types: Sequence[AgentType], *, T: float, eta0: float,
                eta1: float) -> TypesReference:
    """Exact equilibrium of the ``types`` at the times ``t`` (see the module docstring)."""
    t = np.asarray(t, dtype=float)
    K = len(types)
    w = np.array([ty.weight for ty in types])
    if eta1 == 0.0:   # no coupling: every type is its own closed form with eta = eta0
        cfs = [closed_form(t, T=T, sigma=ty.sigma, eta=eta0, phi=ty.phi, gamma_T=ty.gamma_T,
                           m0_mean=ty.m0_mean, m0_std=ty.m0_std) for ty in types]
        return TypesReference(t=t, h2=np.array([c.h2 for c in cfs]), h0=np.array([c.h0 for c in cfs]),
                              mean=np.array([c.mean for c in cfs]),
                              variance=np.array([c.variance for c in cfs]), eta=np.full_like(t, eta0),
                              weights=w)
    from scipy.integrate import solve_ivp  # scipy only with coupling (importers of the solver need none)
    from scipy.optimize import root

    sign = np.array([math.copysign(1.0, ty.m0_mean) if ty.m0_mean != 0.0 else 0.0 for ty in types])
    phi = np.array([ty.phi for ty in types])
    gam = np.array([ty.gamma_T for ty in types])
    sig2 = np.array([ty.sigma ** 2 for ty in types])
    active = sign != 0.0
    target = np.log(np.abs([ty.m0_mean if ty.m0_mean != 0.0 else 1.0 for ty in types]))

    def rhs(_tau, y):   # y = (h2_k, ln|Q_k|, h0_k) in tau = T - t
        h2, lq = y[:K], y[K:2 * K]
        S = float(np.sum(w * h2 * sign * np.exp(lq)))
        eta = _eta(S, eta0, eta1)
        return np.concatenate([phi - h2 * h2 / eta, np.where(active, h2 / eta, 0.0), sig2 * h2])

    def backward(log_c, dense):
        sol = solve_ivp(rhs, (0.0, T), np.concatenate([gam, log_c, np.zeros(K)]), method="DOP853",
                        rtol=RTOL, atol=ATOL, dense_output=dense)
        if not sol.success:
            raise MfgConvergenceError(f"exact multi-type reference: backward integration failed ({sol.message})")
        return sol

    def miss(log_c):
        return np.where(active, backward(log_c, False).y[K:2 * K, -1] - target, log_c)

    # start: each type alone with eta = eta0 (closed form)
    guess = np.array([math.log(closed_form(np.array([T]), T=T, sigma=0.0, eta=eta0, phi=ty.phi,
                                           gamma_T=ty.gamma_T, m0_mean=abs(ty.m0_mean) or 1.0,
                                           m0_std=1.0).mean[0]) if active[i] else 0.0
                      for i, ty in enumerate(types)])
    found = root(miss, guess, method="hybr", options={"xtol": 1e-13})
    # hybr may stop with "no further improvement" at round-off: the miss itself decides
    if not np.max(np.abs(miss(found.x))) <= 1e-9:
        raise MfgConvergenceError(f"exact multi-type reference: shooting did not converge ({found.message})")
    back = backward(found.x, True)
    y = back.sol(T - t)
    h2, lq, h0 = y[:K], y[K:2 * K], y[2 * K:]
    mean = sign[:, None] * np.exp(lq) * active[:, None]
    eta = _eta(np.sum(w[:, None] * h2 * mean, axis=0), eta0, eta1)

    def var_rhs(time, v):
        yy = back.sol(T - time)
        hh = yy[:K]
        e = _eta(float(np.sum(w * hh * sign * np.exp(yy[K:2 * K]) * active)), eta0, eta1)
        return -2.0 * hh / e * v + sig2

    fwd = solve_ivp(var_rhs, (0.0, T), np.array([ty.m0_std ** 2 for ty in types]), method="DOP853",
                    rtol=RTOL, atol=ATOL, dense_output=True)
    if not fwd.success:
        raise MfgConvergenceError(f"exact multi-type reference: variance integration failed ({fwd.message})")
    return TypesReference(t=t, h2=h2, h0=h0, mean=mean, variance=fwd.sol(t), eta=eta, weights=w)
