r"""Fixed-point solvers of the MFG coupling on the ``eta`` time path.

The equilibrium is a fixed point of ``eta -> eta0 + eta1 |m[eta]|``, where ``m[eta]`` is the mean
flow obtained by solving the HJB backward with the cost path ``eta`` and the Fokker-Planck
forward with the resulting feedback (one *sweep*). Both solvers below work on an abstract map
``evaluate(x) -> Evaluation`` so they are testable on their own.

``picard``
    Damped fixed-point iteration ``x <- x + theta (G(x) - x)`` with adaptive damping: a sweep
    that increases the residual is rejected and ``theta`` halved; three accepted sweeps in a row
    grow it by 1.25, never above the configured damping.
``newton`` (default)
    Anderson acceleration (type II, memory 8), i.e. a multisecant quasi-Newton method, applied to
    the map ``x -> G~(x)`` with the same fixed points, see :mod:`mfg_finance.mfg.solver`.
    Globalised by damped fallback steps, see :func:`anderson`.

Both stop when the residual is ``<= tol`` and raise :class:`~mfg_finance.errors.MfgConvergenceError`
(with the residual history) on ``max_iter`` sweeps without convergence, on stagnation (the best
residual improved by less than 10% over the last 12 sweeps), on NaN/inf, on blow-up (a residual
above 1 and 1e6 times the first one) or when the damping falls below 1e-3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from mfg_finance.errors import MfgConvergenceError

#: A residual above 1 and this many times the first one is a blow-up.
BLOW_UP_FACTOR = 1.0e6
STAGNATION_WINDOW = 12
STAGNATION_FACTOR = 0.9
ANDERSON_MEMORY = 8
MIN_DAMPING = 1.0e-3


@dataclass
class Evaluation:
    """One application of the fixed-point map at ``x``.

    ``g`` is the map's value (the iteration works on ``g - x``), ``residual`` the convergence
    measure that is compared with ``tol``, ``state`` whatever the caller needs back (arrays).
    """

    x: np.ndarray
    g: np.ndarray
    residual: float
    state: Any = None


@dataclass
class FixedPointResult:
    evaluation: Evaluation
    residuals: list[float]
    iterations: int


def _check(ev: Evaluation, residuals: list[float], name: str) -> None:
    """Raise on NaN/inf or on blow-up (``residuals`` already includes ``ev.residual``)."""
    r = ev.residual
    if not math.isfinite(r) or not np.all(np.isfinite(ev.g)):
        raise MfgConvergenceError(f"{name}: NaN or inf at sweep {len(residuals)}", residuals)
    if r > 1.0 and r > BLOW_UP_FACTOR * residuals[0]:
        raise MfgConvergenceError(f"{name}: blow-up (residual {r:.3e}, {r / residuals[0]:.1e} times the "
                                  f"first) at sweep {len(residuals)}", residuals)


def _stagnated(residuals: list[float]) -> bool:
    if len(residuals) <= STAGNATION_WINDOW:
        return False
    before = min(residuals[:-STAGNATION_WINDOW])
    return min(residuals[-STAGNATION_WINDOW:]) > STAGNATION_FACTOR * before


def _give_up(name: str, residuals: list[float], max_iter: int, tol: float) -> None:
    if _stagnated(residuals):
        raise MfgConvergenceError(f"{name}: stagnated (best residual {min(residuals):.3e} did not improve "
                                  f"by 10% over the last {STAGNATION_WINDOW} sweeps; tol {tol:.1e})",
                                  residuals)
    if len(residuals) >= max_iter:
        raise MfgConvergenceError(f"{name}: no convergence to tol {tol:.1e} within max_iter = {max_iter} "
                                  f"sweeps", residuals)


def picard(evaluate: Callable[[np.ndarray], Evaluation], x0: np.ndarray, *, tol: float, max_iter: int,
           damping: float, name: str = "picard") -> FixedPointResult:
    """Damped Picard iteration with adaptive damping and stagnation detection.

    Parameters
    ----------
    evaluate : the map; ``evaluate(x).g`` is ``G(x)``.
    x0 : initial iterate. tol : stop when ``residual <= tol``. max_iter : most sweeps allowed.
    damping : initial and largest ``theta``, in (0, 1].
    """
    theta = damping
    ev = evaluate(x0)
    residuals = [ev.residual]
    _check(ev, residuals, name)
    accepted = 0
    while ev.residual > tol:
        _give_up(name, residuals, max_iter, tol)
        trial = evaluate(ev.x + theta * (ev.g - ev.x))
        residuals.append(trial.residual)
        _check(trial, residuals, name)
        if trial.residual <= ev.residual:
            ev = trial
            accepted += 1
            if accepted >= 3:
                theta, accepted = min(damping, 1.25 * theta), 0
        else:  # reject: retry from the same iterate with a shorter step
            theta, accepted = theta / 2.0, 0
            if theta < MIN_DAMPING:
                raise MfgConvergenceError(f"{name}: damping fell below {MIN_DAMPING:g} without "
                                          f"decreasing the residual", residuals)
    return FixedPointResult(ev, residuals, len(residuals))


def _anderson_step(x: np.ndarray, f: np.ndarray, dX: list[np.ndarray], dF: list[np.ndarray]) -> np.ndarray:
    """Type-II Anderson update ``x + f - (dX + dF) gamma`` with ``gamma = argmin |f - dF gamma|``."""
    if not dF:
        return x + f
    DF = np.column_stack(dF)
    DX = np.column_stack(dX)
    scale = np.linalg.norm(DF, axis=0)
    scale[scale == 0.0] = 1.0
    gamma = np.linalg.lstsq(DF / scale, f, rcond=1e-12)[0] / scale   # column scaling: conditioning
    return x + f - (DX + DF) @ gamma


def anderson(evaluate: Callable[[np.ndarray], Evaluation], x0: np.ndarray, *, tol: float, max_iter: int,
             damping: float, lower: float | None = None, memory: int = ANDERSON_MEMORY,
             name: str = "newton") -> FixedPointResult:
    """Anderson-accelerated fixed-point iteration (multisecant quasi-Newton) with safeguards.

    Globalisation: an accelerated candidate is accepted if its residual is at most twice the
    current one and at most 10x the best so far; otherwise the secant history is cleared and the
    iteration falls back to damped steps ``x + theta (G(x) - x)`` that must decrease the residual
    (``theta`` halves on each failure, down to ``MIN_DAMPING``). Two accepted damped steps in a
    row switch acceleration back on. Candidates are projected on ``x >= lower``.

    Parameters
    ----------
    evaluate : the map; ``evaluate(x).g`` is ``G(x)``.
    x0 : initial iterate. tol, max_iter : as for :func:`picard`.
    damping : initial ``theta`` of the damped fallback steps, in (0, 1].
    lower : componentwise lower bound of admissible iterates (``eta0`` for the MFG).
    memory : number of secant pairs kept.
    """
    ev = evaluate(x0)
    residuals = [ev.residual]
    _check(ev, residuals, name)
    best_residual = ev.residual
    dX: list[np.ndarray] = []
    dF: list[np.ndarray] = []
    theta = damping
    damped_ok = 2          # accepted damped steps in a row; acceleration needs 2
    while ev.residual > tol:
        _give_up(name, residuals, max_iter, tol)
        f = ev.g - ev.x
        accelerate = damped_ok >= 2
        cand = _anderson_step(ev.x, f, dX, dF) if accelerate else ev.x + theta * f
        if not np.all(np.isfinite(cand)):
            cand, accelerate = ev.x + theta * f, False
        if lower is not None:
            # projection, not rejection: where the fixed point sits on the bound (m = 0, eta =
            # eta0) extrapolation dips below it by round-off at every step
            cand = np.maximum(cand, lower)
        trial = evaluate(cand)
        residuals.append(trial.residual)
        _check(trial, residuals, name)
        if accelerate:
            ok = trial.residual <= min(2.0 * ev.residual, 10.0 * best_residual)
        else:
            ok = trial.residual < ev.residual
            damped_ok = damped_ok + 1 if ok else 0
            if not ok:
                theta *= 0.5
                if theta < MIN_DAMPING:
                    raise MfgConvergenceError(f"{name}: damping fell below {MIN_DAMPING:g} without "
                                              f"decreasing the residual", residuals)
        if not ok:
            if accelerate:
                damped_ok = 0
            dX.clear(), dF.clear()
            continue
        dX.append(trial.x - ev.x)
        dF.append((trial.g - trial.x) - f)
        if len(dX) > memory:
            dX.pop(0), dF.pop(0)
        ev = trial
        best_residual = min(best_residual, ev.residual)
    return FixedPointResult(ev, residuals, len(residuals))


# ---- initial guess: the same scheme on the Gaussian (LQ moment) reduction --------------------

def lq_moment_map(eta: np.ndarray, *, dt, phi: float, gamma_T: float, eta0: float, eta1: float,
                  mean0: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The implicit time scheme applied to ``u = h q^2 + k``, mean ``Q`` (space continuous).

    With the policy ``alpha^n = -h^n q / eta^n`` of the step ``[t_n, t_{n+1}]`` of length ``dt_n``
    (implicit: the policy of the value it produces)::

        h^n = h^{n+1} + dt_n phi - dt_n (h^n)^2 / eta^n,   h^N = gamma_T,
        Q^{n+1} (1 + dt_n h^n / eta^n) = Q^n,   m^n = -h^n Q^{n+1} / eta^n,   m^N = -gamma_T Q^N / eta^N.

    ``dt``: the (nt,) steps of the mesh (trading days), or one scalar for a uniform mesh.
    Returns ``(G(eta), m)`` with ``G = eta0 + eta1 |m|`` (a cheap model of the PDE map, O(dx) away).
    """
    from mfg_finance.mfg.moments import moment_recursions   # compiled (C or numba): loaded with the solver only

    nt = eta.size - 1
    dts = np.asarray(dt, dtype=float)
    dts = np.full(nt, float(dts)) if dts.ndim == 0 else np.ascontiguousarray(dts)
    _, rate, Q, _ = moment_recursions(np.ascontiguousarray(eta, dtype=float), dts, float(phi), float(gamma_T),
                                      float(mean0), 0.0, 0.0)
    m = np.empty(nt + 1)
    m[:-1] = -rate[:-1] * Q[1:]
    m[-1] = -rate[-1] * Q[-1]
    return eta0 + eta1 * np.abs(m), m


def lq_moment_guess(nt: int, *, dt, phi: float, gamma_T: float, eta0: float, eta1: float,
                    mean0: float, start: np.ndarray | None = None) -> np.ndarray | None:
    """Fixed point of :func:`lq_moment_map` from ``start`` (default ``eta0``); None if not found.

    ``dt``: the (nt,) time steps of the mesh, or one scalar for a uniform mesh (trading days).

    It costs a few scalar recursions and removes most of the distance to the PDE fixed point,
    so the expensive sweeps only correct the O(dx) effect of the spatial discretisation.
    """
    x0 = np.full(nt + 1, eta0) if start is None else np.maximum(np.asarray(start, dtype=float), eta0)
    if eta1 == 0.0 or mean0 == 0.0:
        return np.full(nt + 1, eta0)

    def evaluate(x: np.ndarray) -> Evaluation:
        g, m = lq_moment_map(x, dt=dt, phi=phi, gamma_T=gamma_T, eta0=eta0, eta1=eta1, mean0=mean0)
        g_newton = 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 4.0 * eta1 * np.abs(m) * x))
        return Evaluation(x, g_newton, float(np.max(np.abs(g - x)) / np.max(np.abs(x))))

    try:
        return anderson(evaluate, x0, tol=1e-12, max_iter=100, damping=0.5, lower=eta0,
                        name="initial guess").evaluation.x
    except MfgConvergenceError:
        return None
