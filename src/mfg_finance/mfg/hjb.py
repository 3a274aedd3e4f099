r"""Backward Hamilton-Jacobi-Bellman equation: monotone central/upwind (hybrid) scheme, implicit in time.

Continuous problem (time in trading days, inventory ``q`` in inventory units)::

    -u_t = (sigma^2/2) u_qq + phi q^2 + min_a [ a u_q + eta(t) a^2 ]
         = (sigma^2/2) u_qq + phi q^2 - (u_q)^2 / (4 eta(t)),        u(T, q) = gamma_T q^2,

with optimal feedback ``alpha*(t, q) = -u_q / (2 eta(t))``.

Discretisation
--------------
*Space*: the controlled generator is the generator of a continuous-time Markov chain on the
nodes ``q_0 < ... < q_{nx-1}`` (uniform or graded, :mod:`mfg_finance.mfg.grid`). At an inner node with
spacings ``h- = q_i - q_{i-1}``, ``h+ = q_{i+1} - q_i``, ``W = h- + h+`` and ``D = sigma^2 / 2``, the
jump rates for the control ``a`` are (:func:`hybrid_offdiagonals`)::

    up(a)   = (2 D_a + a h-) / (h+ W),     down(a) = (2 D_a - a h+) / (h- W),
    D_a     = max(D, a h+ / 2, -a h- / 2) .

Where the cell Peclet number is small (``-2D/h- <= a <= 2D/h+``, i.e. ``D_a = D``) this is the central
three-point scheme: the chain's mean jump is exactly ``a`` and its mean squared jump exactly
``2 D = sigma^2`` (on any spacing), so a quadratic value ``h2 q^2 + h0`` is reproduced exactly and the
Fokker-Planck step moves the mean and variance of the law exactly as the continuous dynamics do
(second order, no numerical diffusion). Where the drift dominates (``D_a > D``) the smallest extra
diffusion that keeps both rates ``>= 0`` is added, which is exactly the upwind scheme (``up = a / h+``,
``down = 0`` for ``a > 0``): the rates are always ``>= 0`` and rows sum to zero, so ``I - dt A_a`` is an
M-matrix whatever ``|a| dt / h`` is: the scheme is monotone and unconditionally stable, and the mean
jump is ``a`` everywhere. At the end nodes only the inward jump exists (upwind drift plus the
diffusion jump ``D / h^2``): a reflecting chain, the finite-volume Neumann condition.

*Hamiltonian*: the discrete minimiser ``a_i = argmin_a [up(a) (u_{i+1} - u_i) + down(a) (u_{i-1} - u_i)
+ eta a^2]`` (:func:`hybrid_policy`). The bracket is quadratic on each of the three pieces of
``D_a`` (central: linear term ``a g`` with ``g`` the three-point centred gradient; upwind: ``a D^+u`` or
``a D^-u``), so the minimiser is the best of three clipped closed-form candidates; for a convex ``u``
it is ``-g / (2 eta)`` wherever that lies in the central range. The earlier pure upwind choice
(:func:`upwind_policy`, :func:`generator_offdiagonals`) adds ``|a| dx / 2`` of diffusion everywhere and
was the first-order error that dominated the outcomes (docs/mfg.md, section 11); it is kept for the
modules that build on it (common noise, epsilon-Nash).

*Time*: fully implicit, the discrete dynamic-programming equation of the controlled chain. On the
step ``[t_n, t_{n+1}]`` of length ``dt_n`` (uniform or graded mesh, :mod:`mfg_finance.mfg.grid`)::

    u^n = min_a (I - dt_n A_a)^{-1} (u^{n+1} + dt_n (phi q^2 + eta^n a^2)),

solved by policy iteration (:func:`solve_hjb`); the policy in force, ``alpha^n``, is the
minimiser at ``u^n`` itself and ``u^n`` is exactly its value::

    (I - dt_n A_{alpha^n}) u^n = u^{n+1} + dt_n (phi q^2 + eta^n (alpha^n)^2),

a tridiagonal M-matrix system solved by an LU factorisation with GTH pivots
(:mod:`mfg_finance.mfg.tridiag`: O(nx) work, no dense matrix, accurate at every node). The
Fokker-Planck step (:mod:`mfg_finance.mfg.fp`) solves with the transpose of the very same factors.

*Compiled*: the whole backward sweep (every step's policy iteration, rates, factorisation and solves), the
Fokker-Planck sweep with the HJB's own factors and the mean flow are one compiled call per coupling
iteration (:func:`run_sweep`): a C extension built at install, or the same kernel compiled by numba where
no C compiler was found (:mod:`mfg_finance.mfg.kernels`, :mod:`mfg_finance.mfg.sweep_kernel`, where the
per-node constants of the generator, the jump rates and the exact minimiser are defined once). A sweep
started from the previous one's feedback also reuses the factors of that feedback's matrices
(:class:`WarmStart`): the matrix of a step depends on the policy, not on the cost path.
:func:`implicit_banded` gives the same matrix in LAPACK band storage (used by the tests to check
the factorisation against :func:`scipy.linalg.solve_banded`).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

import numpy as np


def upwind_policy(u: np.ndarray, eta: float, dx: float) -> np.ndarray:
    r"""Monotone upwind minimiser of the discrete Hamiltonian at each node.

    ``alpha_i = argmin_a [ a^+ D^+u_i + a^- D^-u_i + eta a^2 ]`` with one-sided differences
    ``D^+u_i = (u_{i+1} - u_i)/dx`` and ``D^-u_i = (u_i - u_{i-1})/dx``. The candidate buying rate
    is ``max(-D^+u / (2 eta), 0)`` and the selling rate ``min(-D^-u / (2 eta), 0)``; where both are
    non-zero (a local maximum of ``u``) the larger one in magnitude has the lower Hamiltonian
    ``-eta a^2``. At the end nodes only the inward direction exists (reflecting boundary).

    Parameters
    ----------
    u : (nx,) value function (cost units).
    eta : execution-cost coefficient (cost units x trading day / inventory units^2).
    dx : node spacing (inventory units).

    Returns
    -------
    (nx,) order flow in inventory units per trading day.
    """
    minus_du = (u[:-1] - u[1:]) / dx          # -D^+u_i (i < nx-1) == -D^-u_{i+1}
    buy = np.zeros_like(u)
    sell = np.zeros_like(u)
    buy[:-1] = np.maximum(minus_du, 0.0) / (2.0 * eta)
    sell[1:] = np.minimum(minus_du, 0.0) / (2.0 * eta)
    return np.where(buy >= -sell, buy, sell)


def generator_offdiagonals(alpha: np.ndarray, sigma: float, dx: float) -> tuple[np.ndarray, np.ndarray]:
    """Jump rates of the upwind generator ``A_alpha`` (per trading day).

    Returns
    -------
    up : (nx-1,) ``A[i, i+1] = sigma^2/(2 dx^2) + alpha_i^+ / dx``, ``i = 0..nx-2``.
    down : (nx-1,) ``A[i+1, i] = sigma^2/(2 dx^2) + (-alpha_{i+1})^+ / dx``, ``i = 0..nx-2``.

    The diagonal is minus the row sum, so ``A 1 = 0`` (and ``1^T A^T mu = 0``: mass conservation).
    """
    diffusion = 0.5 * sigma * sigma / (dx * dx)
    up = diffusion + np.maximum(alpha[:-1], 0.0) / dx
    down = diffusion + np.maximum(-alpha[1:], 0.0) / dx
    return up, down


def implicit_banded(up: np.ndarray, down: np.ndarray, dt: float, *, transpose: bool = False) -> np.ndarray:
    """Banded storage (``solve_banded((1, 1), ...)`` layout) of ``I - dt A`` or its transpose.

    ``ab[0, 1:]`` is the super-diagonal, ``ab[1]`` the diagonal, ``ab[2, :-1]`` the sub-diagonal.
    Works on stacks: ``up``/``down`` of shape (..., nx-1) give ``ab`` of shape (..., 3, nx).
    """
    shape = up.shape[:-1] + (3, up.shape[-1] + 1)
    ab = np.zeros(shape)
    super_, sub = (down, up) if transpose else (up, down)
    ab[..., 0, 1:] = -dt * super_
    ab[..., 2, :-1] = -dt * sub
    ab[..., 1, :] = 1.0
    ab[..., 1, :-1] += dt * up     # row i loses mass to i+1 ...
    ab[..., 1, 1:] += dt * down    # ... and to i-1
    return ab


def step_sizes(dt, nt: int) -> np.ndarray:
    """The (nt,) time steps from a scalar (uniform mesh) or an (nt,) array (trading days)."""
    dts = np.asarray(dt, dtype=float)
    if dts.ndim == 0:
        return np.full(nt, float(dts))
    if dts.shape != (nt,):
        raise ValueError(f"time steps: expected a scalar or {nt} values, got shape {dts.shape}")
    return dts


def upwind_excess(alpha_inner: np.ndarray, q: np.ndarray, sigma: float) -> np.ndarray:
    """``D_a - D`` at the inner nodes: the diffusion the hybrid scheme adds where it is upwind (inventory units^2 /
    day), ``D_a = max(D, a h+ / 2, -a h- / 2)``, ``D = sigma^2 / 2`` (:func:`hybrid_offdiagonals`).

    ``alpha_inner`` (..., nx-2) the feedback at the inner nodes (inventory units / day), ``q`` (nx,) the nodes.
    """
    D = 0.5 * sigma * sigma
    h = np.diff(q)
    return np.maximum(np.maximum(0.5 * alpha_inner * h[None, 1:], -0.5 * alpha_inner * h[None, :-1]) - D, 0.0)


def excess_diffusion(alpha: np.ndarray, masses: np.ndarray, q: np.ndarray, dts: np.ndarray, sigma: float,
                     step_weights: np.ndarray | None = None) -> float:
    r"""The numerical diffusion the scheme added where it is upwind, integrated over the law (inventory units^2).

    ``E = sum_n w_n dt_n sum_i p^{n+1}_i 2 (D_{a,i} - D)`` with ``D_a = max(D, a h+ / 2, -a h- / 2)`` at the inner
    nodes (:func:`hybrid_offdiagonals`), ``p`` the node masses and ``w_n`` the ``step_weights`` (default 1): the
    variance the scheme's chain adds beyond the model's ``sigma^2`` per unit time. Zero where the scheme is
    central everywhere the law is; the first-order spatial error of every outcome is proportional to it
    (:mod:`mfg_finance.mfg.accuracy`, which weights the steps by how much of their variance reaches ``T`` for
    the terminal std).
    """
    excess = upwind_excess(alpha[:-1, 1:-1], q, sigma)
    steps = dts if step_weights is None else dts * step_weights
    return float(2.0 * steps @ np.sum(masses[1:, 1:-1] * excess, axis=1))


def hybrid_policy(u: np.ndarray, eta: float, q: np.ndarray, sigma: float) -> np.ndarray:
    """Minimiser of the discrete Hamiltonian of the hybrid scheme at each node (order flow, inventory units / day).

    ``u`` (nx,) value (cost units), ``eta`` execution cost, ``q`` (nx,) nodes, ``sigma`` inventory volatility.
    """
    from mfg_finance.mfg.sweep_kernel import _geometry, _policy   # numba: only for these helpers

    out = np.empty(len(u))
    D = 0.5 * float(sigma) ** 2
    _policy(np.ascontiguousarray(u, dtype=float), float(eta), _geometry(np.ascontiguousarray(q, dtype=float), D),
            D, out)
    return out


def hybrid_offdiagonals(alpha: np.ndarray, q: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Jump rates of the hybrid generator ``A_alpha`` (per trading day): ``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]``."""
    from mfg_finance.mfg.sweep_kernel import _fill_rates, _geometry   # numba: only for these helpers

    q = np.ascontiguousarray(q, dtype=float)
    up = np.empty(q.size - 1)
    down = np.empty(q.size - 1)
    D = 0.5 * float(sigma) ** 2
    _fill_rates(np.ascontiguousarray(alpha, dtype=float), _geometry(q, D), D, up, down)
    return up, down


#: Howard iterations of one implicit step stop when no node's value changes by more than this
#: (relative, componentwise); Newton converges quadratically, so this costs 2-5 linear solves a step.
HOWARD_TOL = 1.0e-12
HOWARD_MAX_ITER = 60


@dataclass(frozen=True)
class WarmStart:
    """Where the next sweep's policy iterations start: a sweep's feedback ``alpha`` (at least ``nt`` rows, nx) and the
    twisted GTH factors ``piv``, ``outer`` (nt, nx) and ``mult`` (nt, nx-1) of its implicit steps' matrices
    ``I - dt_n A_{alpha^n}`` (:mod:`mfg_finance.mfg.tridiag`). The matrix of a step depends on the policy, the nodes
    and the step, not on the cost path, so the next sweep's first iteration of each step solves with these factors
    instead of computing the same numbers again (the result is the same bits)."""

    alpha: np.ndarray
    piv: np.ndarray
    mult: np.ndarray
    outer: np.ndarray


@dataclass(frozen=True)
class SweepArrays:
    """The arrays of :func:`run_sweep`: ``u``, ``alpha``, ``density`` (rows, nx), ``flow`` (rows,), the node masses
    ``last_mass`` (nx,) at the last implicit time, the rates ``up``, ``down`` (nt, nx-1) of each step (no rows unless
    asked for), ``warm``
    (:class:`WarmStart` for the next sweep) and whether ``u`` and ``density`` are finite on the implicit rows."""

    u: np.ndarray
    alpha: np.ndarray
    density: np.ndarray
    flow: np.ndarray
    last_mass: np.ndarray
    up: np.ndarray
    down: np.ndarray
    warm: WarmStart
    finite: bool


class Workspace:
    """Large arrays recycled between sweeps, handed out only when nothing else holds them.

    A coupling iteration allocates about 1.5 MB of arrays a sweep (201 x 150) and drops the previous sweep's; the
    C library then returns the freed heap to the system and the next sweep faults every page in again (about 1,300
    page faults a solve of the baseline, 15% of its time). :meth:`empty` gives back an array of the same shape
    that it made earlier and that no one else references any more (CPython's reference count: the evaluations
    the coupling still keeps, and the solutions returned, hold theirs), else a new one. Like :func:`numpy.empty`,
    the contents are undefined; the sweep overwrites every entry. At most ``max_bytes`` are kept: past that, the
    oldest free arrays are let go. Not shared between threads (:func:`thread_workspace`).
    """

    def __init__(self, max_bytes: int = 64 * 2 ** 20):
        self.max_bytes = max_bytes
        self._arrays: list[np.ndarray] = []

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        for array in self._arrays:
            # three references: the list, the loop variable and getrefcount's argument
            if array.shape == shape and sys.getrefcount(array) <= 3:
                return array
        array = np.empty(shape)
        self._arrays.append(array)
        kept, i = sum(a.nbytes for a in self._arrays), 0
        while kept > self.max_bytes and i < len(self._arrays) - 1:
            if sys.getrefcount(self._arrays[i]) <= 2:      # the list and getrefcount's argument: free
                kept -= self._arrays.pop(i).nbytes
            else:
                i += 1
        return array


_THREAD = threading.local()


def thread_workspace() -> Workspace:
    """This thread's :class:`Workspace`, kept between solves (a sweep job runs many on the same grid)."""
    workspace = getattr(_THREAD, "workspace", None)
    if workspace is None:
        workspace = _THREAD.workspace = Workspace()
    return workspace


def run_sweep(eta: np.ndarray, q: np.ndarray, dts: np.ndarray, mass0: np.ndarray, weights, *, sigma: float,
              phi: float, gamma_T: float, start: "np.ndarray | WarmStart | None" = None, shift: float = 0.0,
              extra_rows: int = 0, keep_rates: bool = False, workspace: "Workspace | None" = None) -> SweepArrays:
    """One HJB/FP sweep (:func:`solve_sweep`) in one compiled call (:mod:`mfg_finance.mfg.kernels`: the C build if
    installed, else numba's), the arrays allocated here.

    ``eta`` (nt+1,) cost path, ``q`` (nx,) nodes, ``dts`` (nt,) steps, ``mass0`` (nx,) initial node masses,
    ``weights`` (nx,) cell widths or one scalar (``density = masses / weights``), ``start`` policies (at least ``nt``
    rows) or a :class:`WarmStart` to start each step's policy iteration from, ``shift`` a constant added to every
    ``u`` row (:mod:`mfg_finance.mfg.terminal_interval`), ``extra_rows`` rows left after the last (uninitialised) in
    ``u``, ``alpha``, ``density`` and ``flow`` for the caller to fill (the exact last interval), ``keep_rates``
    whether to return each step's rates (else ``up``, ``down`` have no rows: less memory to touch), ``workspace``
    a :class:`Workspace` to take the large arrays from (default: this thread's, :func:`thread_workspace`).
    """
    from mfg_finance.mfg.kernels import backend

    nt = eta.size - 1
    q = np.ascontiguousarray(q, dtype=float)
    nx = q.size
    if start is None:
        start = WarmStart(np.empty((0, nx)), np.empty((0, nx)), np.empty((0, nx - 1)), np.empty((0, nx)))
    elif not isinstance(start, WarmStart):
        start = np.ascontiguousarray(start, dtype=float)
        if start.ndim != 2 or start.shape[0] < nt or start.shape[1] != nx:
            raise ValueError(f"start: expected policies of shape {(nt + 1, nx)}, got {start.shape}")
        start = WarmStart(start, np.empty((0, nx)), np.empty((0, nx - 1)), np.empty((0, nx)))
    rows = nt + 1 + extra_rows
    empty = (thread_workspace() if workspace is None else workspace).empty
    u, alpha, density = empty((rows, nx)), empty((rows, nx)), empty((rows, nx))
    flow = np.empty(rows)
    iters = np.zeros(nt, dtype=np.int64)
    rate_rows = nt if keep_rates else 0
    up, down = np.empty((rate_rows, nx - 1)), np.empty((rate_rows, nx - 1))
    mult = empty((nt, nx - 1))
    piv, outer, last_mass = empty((nt, nx)), empty((nt, nx)), np.empty(nx)
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=float), (nx,)))
    finite = backend().sweep_into(np.ascontiguousarray(eta, dtype=float), q, np.ascontiguousarray(dts, dtype=float),
                                  float(sigma), float(phi), float(gamma_T), HOWARD_TOL, HOWARD_MAX_ITER,
                                  np.ascontiguousarray(mass0, dtype=float), w, float(shift), start.alpha, start.piv,
                                  start.mult, start.outer, u[:nt + 1], alpha[:nt + 1], density[:nt + 1],
                                  flow[:nt + 1], iters, up, down, piv, mult, outer, last_mass)
    _check_howard(iters)
    return SweepArrays(u, alpha, density, flow, last_mass, up, down, WarmStart(alpha, piv, mult, outer), bool(finite))


def solve_hjb(eta: np.ndarray, q: np.ndarray, dt, *, sigma: float, phi: float,
              gamma_T: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Solve the HJB backward for a given ``eta`` path (the coupling held fixed), fully implicitly.

    Each step solves the discrete dynamic-programming equation of the controlled chain,
    ``u^n = min_a (I - dt_n A_a)^{-1} (u^{n+1} + dt_n (phi q^2 + eta^n a^2))``, by policy
    iteration (Howard's algorithm, i.e. Newton's method on the step): from the policy of
    ``u^{n+1}``, solve for the value of the policy, take the upwind minimiser at that value,
    repeat until the value stops changing (``HOWARD_TOL``). Values decrease monotonically along
    the iterations (comparison principle of the M-matrix), so the loop converges from any start.

    Parameters
    ----------
    eta : (nt+1,) execution-cost path; ``eta[n]`` acts on the step ``[t_n, t_{n+1}]`` and
        ``eta[nt]`` only in the terminal feedback.
    q : (nx,) inventory nodes.
    dt : (nt,) time steps ``dt_n = t_{n+1} - t_n``, or one scalar for a uniform mesh (trading days).
    sigma : inventory volatility (inventory units / sqrt(trading day)).
    phi : running inventory penalty (cost units / (inventory units^2 trading day)).
    gamma_T : terminal inventory penalty (cost units / inventory units^2).

    Returns
    -------
    u : (nt+1, nx) value function; alpha : (nt+1, nx) feedback in force on each step, the
        policy whose discrete value ``u[n]`` is (``alpha[nt]`` is the terminal feedback); up,
        down : (nt, nx-1) jump rates of the generator of each step, which
        :func:`mfg_finance.mfg.fp.solve_fp` transposes.
    """
    nt = eta.size - 1
    q = np.ascontiguousarray(q, dtype=float)
    s = run_sweep(eta, q, step_sizes(dt, nt), np.zeros(q.size), 1.0, sigma=sigma, phi=phi, gamma_T=gamma_T,
                  keep_rates=True)
    return s.u, s.alpha, s.up, s.down


def solve_sweep(eta: np.ndarray, q: np.ndarray, dt, mass0: np.ndarray, *, sigma: float, phi: float,
                gamma_T: float, start: "np.ndarray | WarmStart | None" = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`solve_hjb` with the cost path ``eta``, then the Fokker-Planck sweep from the node masses
    ``mass0`` (``mu0 w``), in one compiled call that reuses the HJB's factors for the FP steps.

    ``start``: optional (nt+1, nx) policies to start each step's policy iteration from (the coupling passes
    the previous sweep's feedback: when the cost path moved little, that is within round-off of the answer
    and the step takes the minimum of two linear solves instead of three or four), or a :class:`WarmStart`
    (the previous sweep's feedback with its factors). The iteration stops on the same test whatever the start,
    so the result is the same up to round-off.

    Returns ``u``, ``alpha`` (as :func:`solve_hjb`), the (nt+1, nx) node masses ``p^n`` (the density is
    ``p / w``: :func:`mfg_finance.mfg.fp.solve_fp`) and the (nt+1,) mean flow
    (:func:`mfg_finance.mfg.fp.mean_flow`), identical to those functions up to round-off.
    """
    nt = eta.size - 1
    if start is not None and not isinstance(start, WarmStart) and np.shape(start) != (nt + 1, np.size(q)):
        raise ValueError(f"start: expected policies of shape {(nt + 1, np.size(q))}, got {np.shape(start)}")
    s = run_sweep(eta, q, step_sizes(dt, nt), mass0, 1.0, sigma=sigma, phi=phi, gamma_T=gamma_T, start=start)
    return s.u, s.alpha, s.density, s.flow


def _check_howard(iters: np.ndarray) -> None:
    if np.any(iters >= HOWARD_MAX_ITER):
        from mfg_finance.errors import MfgConvergenceError

        raise MfgConvergenceError(f"hjb: policy iteration did not converge within {HOWARD_MAX_ITER} "
                                  f"iterations at step {int(np.argmax(iters))}")
