r"""Exact solution of the linear-quadratic MFG with a Gaussian initial law (the verification reference).

With ``u(t, q) = h2(t) q^2 + h0(t)`` the HJB reduces to (time in trading days)::

    h2' = h2^2 / eta - phi,   h2(T) = gamma_T,          h0' = -sigma^2 h2,   h0(T) = 0,
    alpha*(t, q) = -h2 q / eta .

A Gaussian initial law stays Gaussian with mean ``Q`` and variance ``V``::

    Q' = -h2 Q / eta,   Q(0) = m0_mean,          V' = -2 h2 V / eta + sigma^2,   V(0) = m0_std^2,

and the mean flow is ``m = -h2 Q / eta``, so the coupling ``eta = eta0 + eta1 |m|`` reads
``eta^2 - eta0 eta - eta1 h2 |Q| = 0``::

    eta = (eta0 + sqrt(eta0^2 + 4 eta1 h2 |Q|)) / 2 .

``eta1 = 0`` (or ``m0_mean = 0``, which gives ``Q = 0``) is solved in closed form, see
:func:`closed_form`. Otherwise ``(h2, Q)`` is a two-point boundary-value problem (``h2`` fixed at
``T``, ``Q`` at 0), solved here by *backward shooting* on ``c = |Q(T)|``: integrating ``(h2, Q,
h0)`` from ``T`` to 0 is stable (``h2`` relaxes, ``Q`` grows backwards), and ``ln |Q(0)|`` is
close to linear in ``ln c``, so a bracketing root finder on ``ln c`` converges fast and to
round-off. The ODEs are integrated with DOP853 at ``rtol = 1e-12``; ``V`` then follows from the propagator
``(Q_t / Q_0)^2`` and the noise's part integrated in ``T - t`` on the dense output of ``h2`` and ``eta``
(:func:`_coupled_variance`: distances to ``T`` keep their precision in a layer of 5e-16 day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mfg_finance.errors import MfgConvergenceError
from mfg_finance.mfg.grid import grid_from_config

RTOL = 1e-12
ATOL = 1e-20    # h2 > 0 and h0 only matter relative to their size; |Q| is integrated as ln|Q|


@dataclass(frozen=True)
class LQReference:
    """Exact LQ equilibrium sampled at the times ``t`` (trading days).

    ``h2, h0`` value coefficients (cost units / inventory units^2, cost units), ``eta``
    equilibrium cost path, ``mean`` / ``variance`` of the inventory law (inventory units,
    inventory units^2).
    """

    t: np.ndarray
    h2: np.ndarray
    h0: np.ndarray
    eta: np.ndarray
    mean: np.ndarray
    variance: np.ndarray

    @property
    def mean_flow(self) -> np.ndarray:
        """``m = -h2 Q / eta`` (inventory units per trading day)."""
        return -self.h2 * self.mean / self.eta

    def value(self, q: np.ndarray) -> np.ndarray:
        """``u(t, q) = h2(t) q^2 + h0(t)``, shape (len(t), len(q))."""
        return self.h2[:, None] * q[None, :] ** 2 + self.h0[:, None]

    def feedback(self, q: np.ndarray) -> np.ndarray:
        """``alpha*(t, q) = -h2(t) q / eta(t)``, shape (len(t), len(q))."""
        return -(self.h2 / self.eta)[:, None] * q[None, :]


def closed_form(t: np.ndarray, *, T: float, sigma: float, eta: float, phi: float, gamma_T: float,
                m0_mean: float, m0_std: float) -> LQReference:
    r"""Exact solution for a constant cost ``eta`` (the case ``eta1 = 0``).

    With ``omega = sqrt(phi/eta)``, ``k = sqrt(phi eta)``, ``tau = T - t`` and
    ``d(tau) = (k + gamma_T) + (k - gamma_T) exp(-2 omega tau)``::

        h2 = k [(k + gamma_T) - (k - gamma_T) e^{-2 omega tau}] / d(tau),
        Q  = m0_mean e^{-omega t} d(tau) / d(T),
        V  = m0_std^2 e^{-2 omega t} d(tau)^2 / d(T)^2 + sigma^2 d(tau) (1 - e^{-2 omega t}) / (2 omega d(T)),
        h0 = sigma^2 eta [omega tau + ln(d(tau) / (2 k))],

    written with decaying exponentials only (no overflow for large ``omega T``) and evaluated as
    ``d = k (1 + e) - gamma_T expm1(-2 omega tau)``, ``e = exp(-2 omega tau)`` (no cancellation for
    ``gamma_T >> k``: the form above loses ``log10(gamma_T / k)`` digits at ``tau = 0``). For ``phi = 0``,
    with ``s(t) = eta + gamma_T (T - t)``: ``h2 = gamma_T eta / s``, ``Q = m0_mean s / s(0)``,
    ``V = m0_std^2 (s/s(0))^2 + sigma^2 s t / s(0)``, ``h0 = sigma^2 eta ln(s / eta)``.
    """
    t = np.asarray(t, dtype=float)
    tau = T - t
    if phi > 0.0:
        omega, k = math.sqrt(phi / eta), math.sqrt(phi * eta)

        # d = k (1 + e) + gamma_T (1 - e) with e = exp(-2 omega x), 1 - e = -expm1(-2 omega x): the form
        # (k + gamma_T) + (k - gamma_T) e cancels to 2k at x = 0 and lost its digits for gamma_T >> k
        # (gamma_T = 1e12, k = 4e-3: Q_T 0.8 % off)
        def d(x):
            e = np.exp(-2.0 * omega * x)
            return k * (1.0 + e) - gamma_T * np.expm1(-2.0 * omega * x)

        dtau, dT = d(tau), d(T)
        e_tau = np.exp(-2.0 * omega * tau)
        h2 = k * (k * -np.expm1(-2.0 * omega * tau) + gamma_T * (1.0 + e_tau)) / dtau
        decay = np.exp(-omega * t) * dtau / dT
        mean = m0_mean * decay
        variance = (m0_std ** 2 * decay ** 2
                    - sigma ** 2 * dtau * np.expm1(-2.0 * omega * t) / (2.0 * omega * dT))
        h0 = sigma ** 2 * eta * (omega * tau + np.log(dtau / (2.0 * k)))
    else:
        s, s0 = eta + gamma_T * tau, eta + gamma_T * T
        h2 = gamma_T * eta / s
        mean = m0_mean * s / s0
        variance = m0_std ** 2 * (s / s0) ** 2 + sigma ** 2 * s * t / s0
        h0 = sigma ** 2 * eta * np.log(s / eta)
    return LQReference(t=t, h2=h2, h0=h0, eta=np.full_like(t, eta), mean=mean, variance=variance)


def _coupled_eta(h2, absq, eta0, eta1):
    return 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 4.0 * eta1 * h2 * absq))


def _backward(log_c: float, *, T, sigma, eta0, eta1, phi, gamma_T, dense: bool):
    """Integrate ``(h2, ln|Q|, h0)`` in ``tau = T - t`` from ``tau = 0`` with ``ln|Q(T)| = log_c``.

    ``d ln|Q| / d tau = h2 / eta`` is well scaled although ``|Q|`` spans orders of magnitude.
    """
    from scipy.integrate import solve_ivp  # scipy where used: the closed form and most importers need none


    def rhs(_tau, y):
        h2, log_q, _ = y
        eta = _coupled_eta(h2, math.exp(log_q), eta0, eta1)
        return [phi - h2 * h2 / eta, h2 / eta, sigma * sigma * h2]

    sol = solve_ivp(rhs, (0.0, T), [gamma_T, log_c, 0.0], method="DOP853", rtol=RTOL, atol=ATOL,
                    dense_output=dense)
    if not sol.success:
        raise MfgConvergenceError(f"exact LQ reference: backward integration failed ({sol.message})")
    return sol


def coupled(t: np.ndarray, *, T: float, sigma: float, eta0: float, eta1: float, phi: float,
            gamma_T: float, m0_mean: float, m0_std: float) -> LQReference:
    """Exact solution with the flow-dependent cost ``eta = eta0 + eta1 |m|`` (backward shooting).

    Solves ``|Q(0; c)| = |m0_mean|`` for ``c = |Q(T)|`` with Brent's method on ``ln c`` (bracket
    grown geometrically from the ``eta = eta0`` closed-form value), then the variance
    (:func:`_coupled_variance`). The sign of ``Q`` is that of ``m0_mean`` (the problem is symmetric in ``q``).
    """
    t = np.asarray(t, dtype=float)
    if eta1 == 0.0 or m0_mean == 0.0:
        return closed_form(t, T=T, sigma=sigma, eta=eta0, phi=phi, gamma_T=gamma_T, m0_mean=m0_mean,
                           m0_std=m0_std)
    from scipy.integrate import solve_ivp
    from scipy.optimize import brentq

    kw = dict(T=T, sigma=sigma, eta0=eta0, eta1=eta1, phi=phi, gamma_T=gamma_T)
    target = math.log(abs(m0_mean))

    def miss(log_c: float) -> float:
        return _backward(log_c, dense=False, **kw).y[1, -1] - target

    guess = closed_form(np.array([T]), T=T, sigma=0.0, eta=eta0, phi=phi, gamma_T=gamma_T,
                        m0_mean=abs(m0_mean), m0_std=1.0).mean[0]
    lo = hi = math.log(guess)
    step = 1.0
    f_lo = f_hi = miss(lo)
    for _ in range(60):   # grow a bracket: Q(0; c) increases with c
        if f_lo <= 0.0 <= f_hi:
            break
        if f_hi < 0.0:
            lo, f_lo = hi, f_hi
            hi += step
            f_hi = miss(hi)
        else:
            hi, f_hi = lo, f_lo
            lo -= step
            f_lo = miss(lo)
        step *= 2.0
    else:
        raise MfgConvergenceError("exact LQ reference: could not bracket Q(T) by shooting")
    log_c = brentq(miss, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200) if f_lo != 0.0 else lo
    back = _backward(log_c, dense=True, **kw)
    tau = T - t
    h2, log_q, h0 = back.sol(tau)
    absq = np.exp(log_q)
    eta = _coupled_eta(h2, absq, eta0, eta1)
    variance = _coupled_variance(back, tau, T=T, sigma=sigma, eta0=eta0, eta1=eta1, m0_std=m0_std,
                                 log_q0=float(back.sol(T)[1]), log_q=log_q, layer=eta0 / gamma_T if gamma_T > 0 else T)
    return LQReference(t=t, h2=h2, h0=h0, eta=eta, mean=math.copysign(1.0, m0_mean) * absq, variance=variance)


def _coupled_variance(back, tau, *, T, sigma, eta0, eta1, m0_std, log_q0, log_q, layer) -> np.ndarray:
    r"""The law's variance at the distances ``tau = T - t`` (trading days) on the shooting's dense output.

    ``V' = -2 k V + sigma^2`` with ``k = h2 / eta = -Q' / Q``, so ``V = (Q_t / Q_0)^2 m0_std^2 + W`` with ``W`` the
    noise's part, integrated in ``tau`` from ``tau = T`` (``W = 0``) down to 0, ``dW / dtau = 2 k W - sigma^2``
    (stable in that direction: the law contracts as ``t`` grows). Why in ``tau`` and not forward in ``t``: the layer
    ``eta0 / gamma_T`` is 5e-16 day at ``gamma_T = 1e12``, a few ulps of ``t`` near ``T = 0.5``, which no integrator
    in ``t`` can step (``gamma_T = 1e10``: "required step size is less than spacing between numbers"), and the
    sample times of a graded mesh round onto ``T`` there (``1e12``: unsorted ``t_eval``); distances to ``T`` keep
    their relative precision. The absolute tolerance is a ``1e-12`` of the smallest the noise's part gets
    (``~ sigma^2 eta0 / gamma_T`` at ``T``).
    """
    variance = np.exp(2.0 * (log_q - log_q0)) * m0_std * m0_std
    if sigma == 0.0:
        return variance
    from scipy.integrate import solve_ivp  # (scipy where used)

    # the integrator's sample points: distinct distances, decreasing (the direction of the integration)
    points, where = np.unique(np.clip(tau, 0.0, T), return_inverse=True)

    def rhs(x, w):
        hh, lq, _ = back.sol(x)
        return 2.0 * hh / _coupled_eta(hh, math.exp(lq), eta0, eta1) * w - sigma * sigma

    noise = solve_ivp(rhs, (T, 0.0), [0.0], method="DOP853", rtol=RTOL,
                      atol=1e-12 * sigma * sigma * min(layer, T), t_eval=points[::-1])
    if not noise.success:
        raise MfgConvergenceError(f"exact LQ reference: variance integration failed ({noise.message})")
    return variance + noise.y[0][::-1][where]


def lq_reference(config: dict, t: np.ndarray | None = None) -> LQReference:
    """Exact reference for a validated ``mfg`` config, at its time nodes (uniform or graded mesh)
    unless ``t`` is given."""
    g, p = config["grid"], config["params"]
    if t is None:
        t = grid_from_config(config).t
    return coupled(t, T=g["T"], sigma=p["sigma"], eta0=p["eta0"], eta1=p["eta1"], phi=p["phi"],
                   gamma_T=p["gamma_T"], m0_mean=p["m0_mean"], m0_std=p["m0_std"])


#: Time nodes of the dense sampling behind :func:`exact_outcomes` (graded towards ``T``).
EXACT_SAMPLES = 20_000


def exact_outcomes(config: dict) -> dict[str, float | None]:
    """The outcomes of :mod:`mfg_finance.mfg.outcomes` for the exact LQ equilibrium of a validated config.

    Paths are sampled on a graded mesh of ``EXACT_SAMPLES`` steps (the layer ``eta0/gamma_T``
    resolved), so time averages and the half-life interpolation are exact to ~1e-8 relative.
    ``total_cost = E[u(0, q)] = h2(0) (Q_0^2 + V_0) + h0(0)``. The price uses the config's
    supply (a path is interpolated linearly in time).
    """
    from mfg_finance.mfg.grid import layer_scale, time_mesh
    from mfg_finance.mfg.outcomes import path_outcomes
    from mfg_finance.mfg.price import clearing_price

    g, p, pc = config["grid"], config["params"], config.get("price", {"enabled": False})
    t, _ = time_mesh(g["T"], EXACT_SAMPLES, "graded", layer=layer_scale(p["eta0"], p["gamma_T"]),
                     max_step_ratio=2.0)
    ref = lq_reference(config, t)
    cost = float(ref.h2[0] * (ref.mean[0] ** 2 + ref.variance[0]) + ref.h0[0])
    price = None
    if pc.get("enabled"):
        supply = pc["supply"]
        if isinstance(supply, (list, tuple)):
            grid_t = grid_from_config(config).t       # the solver's time nodes
            supply = np.interp(t, grid_t, np.asarray(supply, dtype=float))
        price = clearing_price(ref.mean_flow, supply, kappa=pc["kappa"], p_ref=pc["p_ref"])
    return path_outcomes(t, ref.mean, math.sqrt(max(float(ref.variance[-1]), 0.0)), ref.mean_flow, ref.eta,
                         cost, price, std_initial=math.sqrt(max(float(ref.variance[0]), 0.0)))
