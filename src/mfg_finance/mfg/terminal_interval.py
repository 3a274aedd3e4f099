r"""The last time interval, solved exactly: the terminal layer integrated in closed form.

Why. With a stiff terminal penalty the value falls from ``gamma_T q^2`` to ``~ eta q^2 / (T - t)`` over
``T - t ~ tau = eta / gamma_T`` (5e-16 trading days at ``gamma_T = 1e12``). Backward Euler needs steps
proportional to ``T - t + tau`` there, one e-fold of ``T - t`` after another (``ln(l / tau) ~ 32`` e-folds
from ``tau`` to the smooth part at ``gamma_T = 1e12``), and each e-fold it steps over costs a relative error
of about half its step ratio in the noise cost ``sigma^2 int h2 dt`` the layer accumulates (a third or more
of the expected cost on the ``gamma_T`` ladder). A uniform mesh cannot resolve any of it. On the last interval
``[t_{N-1}, T]`` (length ``d``) the cost path is one number, ``eta = eta^{N-1}``, and the problem is
linear-quadratic with constant coefficients, so its solution is known in closed form for every ``d``:
with ``s = T - t``, ``omega = sqrt(phi / eta)`` and ``y(s) = cosh(omega s) + gamma_T sinh(omega s) / (eta omega)``
(``y = 1 + gamma_T s / eta`` when ``phi = 0``; ``h2 = eta y' / y`` solves the Riccati equation)::

    value at t_{N-1}:      u(q) = H q^2 + C,   H = eta y'(d) / y(d),   C = sigma^2 eta ln y(d),
    optimal feedback:      alpha(s, q) = -(y'(s) / y(s)) q,
    transition to T:       q_T = r q + sqrt(v) Z,   r = 1 / y(d),   v = sigma^2 sinh(omega d) / (omega y(d)),

(``v = sigma^2 int_0^d y^-2 ds``, by the Wronskian of ``y`` and ``sinh(omega s) / omega``). Every quantity is
evaluated with ``tanh`` and ``log1p``, without overflow, for ``gamma_T`` up to ``1e300``.

How it enters the discrete program (:func:`mfg_finance.mfg.solver.sweep`). The grid's dynamic program runs on
``[0, t_{N-1}]`` from the terminal value ``u^{N-1} = H q^2 + C`` at the nodes (the exact cost-to-go of the
last interval; the implicit steps before it are unchanged), so the value, the policy before ``t_{N-1}`` and
the expected cost ``<mu^0, u^0> = sum_{n < N-1} dt_n <mu^{n+1}, c^n> + <mu^{N-1}, u^{N-1}>`` are those of one
discrete program, and that cost is never above doing nothing (the exact last interval's cost-to-go is at
most the cost of not trading over it, and the implicit steps keep their comparison principle). The law is
carried over the interval by the Markov kernel :func:`transition_kernel`: from node ``i`` to the nodes around
``r q_i`` with the mass and mean exactly, and the variance ``v`` exactly wherever the nodes can hold it (a
two-node split has the variance ``f (1 - f) h^2``: a narrower target keeps that one, the counterpart of the
scheme's upwind diffusion). The mean flow of the interval is its average, ``m^{N-1} = (Q_T - Q_{N-1}) / d``,
and ``alpha^{N-1} = -(1 - r) q / d`` (equal to the exact feedback at ``t_{N-1}`` when ``phi = 0``).

This is exact for the model (the cost path is held at ``eta^{N-1}`` over the interval, as every implicit step
holds it over its own): no step need be shorter than the layer, and the layer's ``ln(l / tau)`` e-folds cost no
steps. The graded time mesh therefore grades only from :func:`mfg_finance.mfg.grid.mesh_layer` (at least
``1e-4 T``). It is used where the last step is longer than the layer (:func:`needs_exact_end`: uniform time
meshes, thin layers); a last step inside the layer keeps the implicit step. The terminal feedback is
``alpha^N = -gamma_T q / eta^N`` exactly (linear, so the crowd's terminal flow is smooth in the cost path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TerminalInterval:
    """Closed-form solution of the last interval (module docstring). Units: ``H`` and ``gamma_T`` cost units /
    inventory units^2, ``C`` cost units, ``r`` dimensionless, ``v`` inventory units^2, ``d`` trading days."""

    d: float
    H: float
    C: float
    r: float
    v: float
    gamma_T: float

    def value(self, q: np.ndarray) -> np.ndarray:
        """Exact cost-to-go ``H q^2 + C`` at ``t_{N-1}`` (cost units)."""
        return self.H * q * q + self.C

    def average_feedback(self, q: np.ndarray) -> np.ndarray:
        """``(E[q_T | q] - q) / d = -(1 - r) q / d`` (inventory units / trading day)."""
        return -((1.0 - self.r) / self.d) * q


def terminal_interval(d: float, *, eta: float, phi: float, sigma: float, gamma_T: float) -> TerminalInterval:
    """The last interval's closed form (module docstring) for the step ``d`` and the cost ``eta`` held over it."""
    d, eta = float(d), float(eta)
    omega = math.sqrt(phi / eta) if phi > 0.0 else 0.0
    x = omega * d
    th = math.tanh(x)
    th_over_omega = th / omega if omega > 0.0 else d            # tanh(omega d) / omega -> d as omega -> 0
    b = gamma_T * th_over_omega / eta                            # y = cosh(x) (1 + b)
    H = (phi * th_over_omega + gamma_T) / (1.0 + b)
    log_cosh = x + math.log1p(math.exp(-2.0 * x)) - math.log(2.0)
    log_y = log_cosh + math.log1p(b)
    return TerminalInterval(d=d, H=H, C=sigma * sigma * eta * log_y, r=math.exp(-log_y),
                            v=sigma * sigma * th_over_omega / (1.0 + b), gamma_T=float(gamma_T))


#: Newton iterations of the exponential tilt of a wide row (quadratic convergence: 3-6 suffice) ...
_TILT_ITERATIONS = 30
#: ... on the nodes within this many target stds of its mean.
_TILT_REACH = 9.0


def transition_kernel(q: np.ndarray, weights: np.ndarray, r: float, v: float) -> tuple[np.ndarray, np.ndarray]:
    """Markov kernel of the last interval on the nodes: ``(cols, probs)``, each (nx, K).

    Row ``i`` moves node ``i``'s mass to the nodes ``cols[i]`` with probabilities ``probs[i]`` (``>= 0``, sum 1),
    with mean exactly ``r q_i`` and variance ``v`` wherever possible:

    * a target narrower than its cell (``v < h^2``): the two-node split ``(1 - f, f)`` of ``q_j <= r q_i < q_{j+1}``
      (variance ``f (1 - f) h^2``); if that is below ``v``, mixed with the two-node law on ``(q_{j-1}, q_{j+2})``
      of the same mean (the four-node stencil of :func:`mfg_finance.mfg.grid.initial_density`);
    * a wider target: the Gaussian's maximum-entropy projection on the nodes within ``9 sqrt(v)`` (exponential
      tilt ``w_j exp(a z + b z^2)``, Newton's method from the sampled Gaussian).

    A target that leaves the range is clipped to the end nodes (the law never gets there: the domain check).
    """
    q = np.asarray(q, dtype=float)
    nx = q.size
    target = np.clip(r * q, q[0], q[-1])
    j = np.clip(np.searchsorted(q, target, side="right") - 1, 0, nx - 2)
    h = q[j + 1] - q[j]
    f = np.clip((target - q[j]) / h, 0.0, 1.0)
    s = math.sqrt(max(v, 0.0))
    wide = s >= h
    # stencils: columns j-1, j, j+1, j+2 (clipped; zero weight where unused)
    cols = np.stack([j - 1, j, j + 1, j + 2], axis=1)
    probs = np.zeros((nx, 4))
    probs[:, 1], probs[:, 2] = 1.0 - f, f
    v2 = f * (1.0 - f) * h * h
    inner = (j >= 1) & (j + 2 <= nx - 1)
    jm, jp = np.clip(j - 1, 0, nx - 1), np.clip(j + 2, 0, nx - 1)
    span = q[jp] - q[jm]
    g = np.where(span > 0, (target - q[jm]) / np.where(span > 0, span, 1.0), 0.0)
    vw = g * (1.0 - g) * span * span
    mix = inner & ~wide & (v > v2) & (vw > v)
    lam = np.where(mix, (v - v2) / np.where(mix, vw - v2, 1.0), 0.0)
    probs[:, 1:3] *= (1.0 - lam)[:, None]
    probs[:, 0] = lam * (1.0 - g)
    probs[:, 3] = lam * g
    cols = np.clip(cols, 0, nx - 1)
    if not np.any(wide):
        return cols, probs
    return _with_wide_rows(q, np.asarray(weights, dtype=float), target, s, wide, cols, probs)


def _with_wide_rows(q, w, target, s, wide, cols, probs):
    """Replace the rows ``wide`` by the tilted Gaussian on the nodes within ``_TILT_REACH`` std (exact mean, variance;
    :mod:`mfg_finance.mfg.tilt_kernel`, compiled: each row on its own nodes)."""
    from mfg_finance.mfg.tilt_kernel import tilted_rows

    nx = q.size
    rows = np.nonzero(wide)[0]
    lo = np.searchsorted(q, target[rows] - _TILT_REACH * s, side="left")
    hi = np.searchsorted(q, target[rows] + _TILT_REACH * s, side="right")
    p = tilted_rows(q, w, target[rows], s, lo, hi, _TILT_ITERATIONS)
    K = p.shape[1]
    idx = np.clip(lo[:, None] + np.arange(K)[None, :], 0, nx - 1)
    width = max(K, cols.shape[1])
    all_cols = np.zeros((nx, width), dtype=cols.dtype)
    all_probs = np.zeros((nx, width))
    all_cols[:, :cols.shape[1]], all_probs[:, :cols.shape[1]] = cols, probs
    all_cols[rows] = idx if K >= width else np.pad(idx, ((0, 0), (0, width - K)), mode="edge")
    all_probs[rows] = 0.0
    all_probs[rows, :K] = p
    return all_cols, all_probs


def carry(masses: np.ndarray, cols: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Node masses at ``T`` from those at ``t_{N-1}`` through the kernel (mass conserved, ``>= 0``)."""
    # bincount: the same sums as np.add.at, an order of magnitude faster on the wide kernels
    return np.bincount(cols.ravel(), weights=(probs * masses[:, None]).ravel(), minlength=masses.size)


def needs_exact_end(dts: np.ndarray, eta0: float, gamma_T: float) -> bool:
    """Whether the last step is longer than the terminal layer ``eta0 / gamma_T`` (trading days), so that an
    implicit step would not resolve it and the last interval is solved exactly. A last step inside the layer
    (the graded mesh where the nodes hold the terminal law) keeps the implicit step: both are accurate there
    and the implicit one keeps the chain's central variance where the nodes resolve the law."""
    return gamma_T > 0.0 and float(dts[-1]) * gamma_T > eta0


def exact_steps(dts: np.ndarray, eta0: float, gamma_T: float, *, uniform: bool, smooth_scale: float) -> int:
    """How many of the last steps are solved in closed form (:func:`sweep_exact_end`): 0 where the last step lies inside
    the layer ``eta0 / gamma_T`` (:func:`needs_exact_end`), 1 on a graded mesh (its last step spans everything below the
    grading scale, :func:`mfg_finance.mfg.grid.time_mesh`), and on a uniform mesh every step whose end is within
    ``smooth_scale`` of ``T`` (trading days; at least one, and at least one implicit step left before them).

    Why the stretch on a uniform mesh. Next to the exact interval ``h2 ~ eta / (s + tau)`` varies on the scale
    ``s = T - t`` itself; the ``k``-th uniform step from the end then has a relative error ``~ 1 / k`` in ``h2`` whatever
    ``dt`` (backward Euler from ``h2 d / eta = 1``: 0.62 against 1/2, ...), so the noise cost ``sigma^2 int h2 dt`` keeps
    an error ``~ sigma^2 eta sum_k 1 / (2 k^2)`` that refinement does not remove: +1.05, +1.16, +1.22 % of the
    ``gamma_T = 1e2`` rung's cost at ``nt`` = 150, 300, 600, growing towards +1.3 %, which the time extrapolation
    (assuming a first-order error) pushed further. ``smooth_scale`` (:func:`mfg_finance.mfg.grid.exact_stretch_scale`)
    is at least where the graded mesh turns uniform: beyond it every implicit step of the uniform mesh has
    ``dt / (s + tau) <= kappa / beta``, below the graded mesh's ratio ``kappa``; and it is a fixed time, so the
    remaining error ``~ sigma^2 eta dt / (2 smooth_scale)`` is first order (0.03 % at ``nt = 150``).
    """
    if not needs_exact_end(dts, eta0, gamma_T):
        return 0
    if not uniform or dts.size < 2:
        return 1
    within = int(math.floor(smooth_scale / float(dts[-1]) * (1.0 + 1e-12))) if math.isfinite(smooth_scale) else 1
    return max(1, min(within, dts.size - 1))


def sweep_exact_end(eta: np.ndarray, q: np.ndarray, weights: np.ndarray, dts: np.ndarray, mu0: np.ndarray, *,
                    sigma: float, phi: float, gamma_T: float, start=None, exact: bool = True, steps: int = 1,
                    with_warm_start: bool = False):
    """One HJB/FP sweep at the cost path ``eta`` (nt+1,) with the last ``steps`` intervals exact:
    ``(u, alpha, density, flow)``.

    The implicit steps (:func:`mfg_finance.mfg.hjb.solve_hjb`, :func:`mfg_finance.mfg.fp.solve_fp`) run on
    ``[0, t_{N-K}]`` (``K = steps``) from the exact cost-to-go ``H q^2 + C`` there (the constant added afterwards: it
    changes no policy). Each exact step ``n`` holds its own ``eta^n``, as an implicit step does, and is the closed form
    of the module docstring with ``gamma_T`` replaced by the curvature ``H^{n+1}`` at its end (the value stays
    ``H q^2 + C`` across the stretch; :func:`exact_steps` says why a uniform mesh needs several); the law crosses
    each by :func:`transition_kernel`. ``u[N] = gamma_T q^2``, ``alpha[N] = -gamma_T q / eta^N`` the terminal
    feedback, ``alpha[n]`` (``n >= N - K``) the step's average feedback and ``flow[n] = (Q_{n+1} - Q_n) / d_n``.
    The flows of the stretch and the terminal flow are taken from the kernels' exact mean map
    (``Q_{n+1} = r_n Q_n``, the targets never leave the range), not from the carried masses: at
    ``Q_T / Q_0 ~ 1e-11`` (``gamma_T = 1e8``) the masses' mean ``sum_i q_i p_i`` has a relative round-off of 1e-6,
    which put a floor of 5e-8 under the coupling residual (a time companion stalled there).
    ``weights``: the cell widths (or one ``dx``); ``mu0``: the initial density; ``start``: (nt+1, nx) policies to
    start the implicit steps' policy iterations from (:func:`mfg_finance.mfg.hjb.solve_sweep`), a previous sweep's
    :class:`mfg_finance.mfg.hjb.WarmStart`, or ``None``. ``exact = False`` (or ``steps = 0``): every step implicit
    (:func:`needs_exact_end` decides). ``with_warm_start``: also return this sweep's ``WarmStart`` (fifth item) and
    whether the arrays are finite (sixth), for the next sweep.
    """
    from mfg_finance.mfg.hjb import run_sweep

    q = np.asarray(q, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), q.shape)
    kw = dict(sigma=sigma, phi=phi, start=start)
    K = int(steps) if exact else 0
    if K <= 0:
        s = run_sweep(eta, q, dts, mu0 * w, w, gamma_T=gamma_T, **kw)
        out = (s.u, s.alpha, s.density, s.flow)
        return out + (s.warm, s.finite) if with_warm_start else out
    N = dts.size
    # backward over the stretch: each step's closed form from the curvature at its end; C accumulates
    intervals, constants = [None] * K, np.empty(K)
    H, C = float(gamma_T), 0.0
    for j in range(K - 1, -1, -1):
        interval = terminal_interval(float(dts[N - K + j]), eta=float(eta[N - K + j]), phi=phi, sigma=sigma,
                                     gamma_T=H)
        H, C = interval.H, C + interval.C
        intervals[j], constants[j] = interval, C
    # the implicit steps fill rows 0..N-K (u shifted by C: a constant changes no policy); the stretch the rest
    s = run_sweep(eta[:N - K + 1], q, dts[:N - K], mu0 * w, w, gamma_T=H, shift=C, extra_rows=K, **kw)
    u, alpha, density, flow = s.u, s.alpha, s.density, s.flow
    mass, mean = s.last_mass, float(q @ s.last_mass)
    held = q[0] <= 0.0 <= q[-1]      # the targets r q_i stay in the range: the kernels' means are exact
    for j, interval in enumerate(intervals):
        n = N - K + j
        if j > 0:
            u[n] = interval.value(q) + (constants[j] - interval.C)
        alpha[n] = interval.average_feedback(q)
        flow[n] = -((1.0 - interval.r) / interval.d) * mean
        cols, probs = transition_kernel(q, w, interval.r, interval.v)
        mass = carry(mass, cols, probs)
        mean = interval.r * mean if held else float(q @ mass)
        density[n + 1] = mass / w
    u[-1] = gamma_T * q * q
    # the terminal feedback -D(gamma_T q^2) / (2 eta^N), exactly: linear, so the crowd's terminal flow is
    # -(gamma_T / eta^N) Q_T, smooth in the cost path (a discrete minimiser would clip it at the upwind switch)
    alpha[-1] = -(gamma_T / float(eta[-1])) * q
    flow[-1] = -(gamma_T / float(eta[-1])) * mean
    if not with_warm_start:
        return u, alpha, density, flow
    finite = s.finite and bool(np.all(np.isfinite(u[N - K + 1:])) and np.all(np.isfinite(density[N - K + 1:])))
    return u, alpha, density, flow, s.warm, finite
