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

*Compiled*: the whole backward sweep (every step's policy iteration, rates, factorisation and solves) is
one numba kernel, and :func:`solve_sweep` also runs the Fokker-Planck sweep with the HJB's own factors
and the mean flow in the same call (one call per coupling iteration). The per-node constants of the
generator are built once a sweep (:func:`_geometry`); :func:`_rates` is the one definition of the
jump rates, used by the minimiser, the generator and the Python helpers alike.
:func:`implicit_banded` gives the same matrix in LAPACK band storage (used by the tests to check
the factorisation against :func:`scipy.linalg.solve_banded`).
"""

from __future__ import annotations

import numba
import numpy as np

from mfg_finance.mfg import tridiag


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


# ---- the compiled scheme -----------------------------------------------------------------------
# One definition, used by the HJB sweep, the fused HJB/FP sweep (:mod:`mfg_finance.mfg.sweep_kernel`) and
# the Python helpers below: :func:`_geometry` builds the per-node constants of the generator (change the
# spatial scheme there and in :func:`_rates`), :func:`_rates` gives a node's jump rates under a control,
# :func:`_policy` the exact minimiser of the discrete Hamiltonian, :func:`_fill_rates` the generator of a
# policy. The constants are reciprocals computed once a sweep, so the node loops never divide, and
# ``_max``/``_min``/conditional expressions instead of branches let the compiler vectorise them (SIMD).

#: Rows of the per-node geometry table of :func:`_geometry`.
G_HM, G_HP, G_CU, G_CD, G_GP, G_GM, G_LO, G_HI, G_IHM, G_IHP = range(10)
GEOMETRY_ROWS = 10


@numba.njit(cache=True)
def _geometry(q: np.ndarray, D: float) -> np.ndarray:
    """(GEOMETRY_ROWS, nx) constants of the hybrid generator on the nodes ``q`` (``D = sigma^2 / 2``).

    Inner node ``i`` (``h- = q_i - q_{i-1}``, ``h+ = q_{i+1} - q_i``, ``W = h- + h+``): ``h-``, ``h+``,
    ``1 / (h+ W)``, ``1 / (h- W)`` (the rates' denominators), ``h- / (h+ W)``, ``h+ / (h- W)`` (the
    centred gradient ``g = dp h- / (h+ W) - dm h+ / (h- W)``), the central range ``[-2D / h-, 2D / h+]``
    and ``1 / h-``, ``1 / h+``. Node 0 holds ``1 / h+`` and node ``nx-1`` ``1 / h-`` (the end nodes'
    one-sided spacings); their other entries are unused.
    """
    n = q.size
    geo = np.zeros((GEOMETRY_ROWS, n))
    geo[G_IHP, 0] = 1.0 / (q[1] - q[0])
    geo[G_IHM, n - 1] = 1.0 / (q[n - 1] - q[n - 2])
    for i in range(1, n - 1):
        hm = q[i] - q[i - 1]
        hp = q[i + 1] - q[i]
        W = hm + hp
        geo[G_HM, i] = hm
        geo[G_HP, i] = hp
        geo[G_CU, i] = 1.0 / (hp * W)
        geo[G_CD, i] = 1.0 / (hm * W)
        geo[G_GP, i] = hm / (hp * W)
        geo[G_GM, i] = hp / (hm * W)
        geo[G_LO, i] = -2.0 * D / hm
        geo[G_HI, i] = 2.0 * D / hp
        geo[G_IHM, i] = 1.0 / hm
        geo[G_IHP, i] = 1.0 / hp
    return geo


@numba.njit(cache=True, inline="always")
def _max(x: float, y: float) -> float:
    return x if x > y else y


@numba.njit(cache=True, inline="always")
def _min(x: float, y: float) -> float:
    return x if x < y else y


@numba.njit(cache=True, inline="always")
def _rates(a: float, geo: np.ndarray, i: int, D: float) -> tuple[float, float]:
    """Jump rates ``(up, down)`` of the inner node ``i`` under the control ``a``:
    ``up = (2 D_a + a h-) / (h+ W)``, ``down = (2 D_a - a h+) / (h- W)``, ``D_a = max(D, a h+ / 2, -a h- / 2)``."""
    hm = geo[G_HM, i]
    hp = geo[G_HP, i]
    De = _max(_max(D, 0.5 * a * hp), -0.5 * a * hm)
    return _max((2.0 * De + a * hm) * geo[G_CU, i], 0.0), _max((2.0 * De - a * hp) * geo[G_CD, i], 0.0)


@numba.njit(cache=True)
def _policy(u: np.ndarray, eta: float, geo: np.ndarray, D: float, out: np.ndarray) -> None:
    """Minimiser of the discrete Hamiltonian at every node, written into ``out`` (:func:`hybrid_policy`).

    At an inner node, the best of three clipped closed-form candidates, one a piece of ``D_a``: central
    ``-g / (2 eta)`` in ``[lo, hi]``; upwind buying ``-D^+u / (2 eta) >= hi``; upwind selling
    ``-D^-u / (2 eta) <= lo`` (first one wins a tie). The end nodes move inwards only.
    """
    n = u.size
    half = 0.5 / eta
    for i in range(1, n - 1):
        dp = u[i + 1] - u[i]
        dm = u[i - 1] - u[i]
        lo = geo[G_LO, i]
        hi = geo[G_HI, i]
        a = _min(_max(-(dp * geo[G_GP, i] - dm * geo[G_GM, i]) * half, lo), hi)     # central piece
        r_up, r_down = _rates(a, geo, i, D)
        best = a
        lowest = r_up * dp + r_down * dm + eta * a * a
        a = _max(-dp * geo[G_IHP, i] * half, hi)                                    # upwind, buying
        r_up, r_down = _rates(a, geo, i, D)
        value = r_up * dp + r_down * dm + eta * a * a
        better = value < lowest
        best = a if better else best
        lowest = value if better else lowest
        a = _min(dm * geo[G_IHM, i] * half, lo)                                     # upwind, selling
        r_up, r_down = _rates(a, geo, i, D)
        value = r_up * dp + r_down * dm + eta * a * a
        out[i] = a if value < lowest else best
    out[0] = _max((u[0] - u[1]) * geo[G_IHP, 0], 0.0) * half
    out[n - 1] = _min((u[n - 2] - u[n - 1]) * geo[G_IHM, n - 1], 0.0) * half


@numba.njit(cache=True)
def _fill_rates(a: np.ndarray, geo: np.ndarray, D: float, up: np.ndarray, down: np.ndarray) -> None:
    """Rates of the generator ``A_a`` into ``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]`` (:func:`hybrid_offdiagonals`).

    The end nodes jump inwards only: upwind drift plus ``D / h^2`` (reflecting chain)."""
    n = a.size
    for i in range(1, n - 1):
        r_up, r_down = _rates(a[i], geo, i, D)
        up[i] = r_up
        down[i - 1] = r_down
    ih = geo[G_IHP, 0]
    up[0] = D * ih * ih + _max(a[0], 0.0) * ih
    ih = geo[G_IHM, n - 1]
    down[n - 2] = D * ih * ih + _max(-a[n - 1], 0.0) * ih


@numba.njit(cache=True)
def _backward_into(eta, q, geo, dts, D, phi, gamma_T, tol, max_iter, start, u, alpha, up, down, piv, mult, outer,
                   iters):
    """The HJB sweep (:func:`solve_hjb`) into preallocated arrays; also keeps each step's twisted GTH factors
    ``piv``, ``outer`` (nt, nx) and ``mult`` (nt, nx-1) (:mod:`mfg_finance.mfg.tridiag`), those of the policy
    in force, for the FP sweep. Policy iteration on step ``n`` starts from ``start[n]`` when ``start`` has
    ``nt + 1`` rows (:func:`solve_sweep`), else from the policy of ``u^{n+1}``."""
    nt = eta.size - 1
    nx = q.size
    rhs = np.empty(nx)
    new = np.empty(nx)
    a = np.empty(nx)
    cost = np.empty(nx)
    for i in range(nx):
        u[nt, i] = gamma_T * q[i] * q[i]
        cost[i] = phi * q[i] * q[i]
    _policy(u[nt], eta[nt], geo, D, alpha[nt])
    for n in range(nt - 1, -1, -1):
        h = dts[n]
        e = eta[n]
        if start.shape[0] == nt + 1:
            a[:] = start[n]                          # first guess: the given policy (a previous sweep's) ...
        else:
            _policy(u[n + 1], e, geo, D, a)          # ... or the policy of the later value
        for k in range(max_iter):
            _fill_rates(a, geo, D, up[n], down[n])
            for i in range(nx):
                rhs[i] = u[n + 1, i] + h * (cost[i] + e * a[i] * a[i])
            tridiag.twisted_factor_into(up[n], down[n], h, piv[n], mult[n], outer[n])
            tridiag.twisted_solve_into(piv[n], mult[n], outer[n], rhs, new)
            change = 0.0
            if k > 0:
                for i in range(nx):
                    d = abs(new[i] - u[n, i]) / (abs(new[i]) + 1e-300)
                    if d > change:
                        change = d
            u[n] = new
            alpha[n] = a                             # the policy whose value u[n] is
            iters[n] = k + 1
            if k > 0 and change <= tol:
                break
            _policy(new, e, geo, D, a)               # improvement step (Howard = Newton on the step)


@numba.njit(cache=True)
def _backward(eta, q, dts, sigma, phi, gamma_T, tol, max_iter):
    """The cold HJB sweep of :func:`solve_hjb` (rates of every step kept for :func:`mfg_finance.mfg.fp.solve_fp`)."""
    nt = eta.size - 1
    nx = q.size
    D = 0.5 * sigma * sigma
    u = np.empty((nt + 1, nx))
    alpha = np.empty((nt + 1, nx))
    up = np.empty((nt, nx - 1))
    down = np.empty((nt, nx - 1))
    piv = np.empty((nt, nx))
    mult = np.empty((nt, nx - 1))
    outer = np.empty((nt, nx))
    iters = np.zeros(nt, dtype=np.int64)
    _backward_into(eta, q, _geometry(q, D), dts, D, phi, gamma_T, tol, max_iter, np.empty((0, nx)), u, alpha, up,
                   down, piv, mult, outer, iters)
    return u, alpha, up, down, iters


@numba.njit(cache=True)
def _sweep(eta, q, dts, sigma, phi, gamma_T, tol, max_iter, mass0, start):
    """One HJB/FP sweep in one compiled call: :func:`_backward_into`, then the Fokker-Planck steps
    ``M_n^T p^{n+1} = p^n`` (:mod:`mfg_finance.mfg.fp`) with the HJB's own GTH factors of each ``M_n``
    (the same numbers :func:`mfg_finance.mfg.tridiag.forward_sweep` would recompute), and the mean flow
    ``m^n = <alpha^n, p^{n+1}>``, ``m^N = <alpha^N, p^N>`` (:func:`mfg_finance.mfg.fp.mean_flow`)."""
    nt = eta.size - 1
    nx = q.size
    D = 0.5 * sigma * sigma
    u = np.empty((nt + 1, nx))
    alpha = np.empty((nt + 1, nx))
    up = np.empty((nt, nx - 1))
    down = np.empty((nt, nx - 1))
    piv = np.empty((nt, nx))
    mult = np.empty((nt, nx - 1))
    outer = np.empty((nt, nx))
    iters = np.zeros(nt, dtype=np.int64)
    _backward_into(eta, q, _geometry(q, D), dts, D, phi, gamma_T, tol, max_iter, start, u, alpha, up, down, piv,
                   mult, outer, iters)
    masses = np.empty((nt + 1, nx))
    masses[0] = mass0
    flow = np.empty(nt + 1)
    for n in range(nt):
        tridiag.twisted_solve_transpose_into(piv[n], mult[n], outer[n], masses[n], masses[n + 1])
        m = 0.0
        for i in range(nx):
            m += alpha[n, i] * masses[n + 1, i]
        flow[n] = m
    m = 0.0
    for i in range(nx):
        m += alpha[nt, i] * masses[nt, i]
    flow[nt] = m
    return u, alpha, masses, flow, iters


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
    D = 0.5 * sigma * sigma
    h = np.diff(q)
    a = alpha[:-1, 1:-1]
    excess = np.maximum(np.maximum(0.5 * a * h[None, 1:], -0.5 * a * h[None, :-1]) - D, 0.0)
    steps = dts if step_weights is None else dts * step_weights
    return float(2.0 * steps @ np.sum(masses[1:, 1:-1] * excess, axis=1))


def hybrid_policy(u: np.ndarray, eta: float, q: np.ndarray, sigma: float) -> np.ndarray:
    """Minimiser of the discrete Hamiltonian of the hybrid scheme at each node (order flow, inventory units / day).

    ``u`` (nx,) value (cost units), ``eta`` execution cost, ``q`` (nx,) nodes, ``sigma`` inventory volatility.
    """
    out = np.empty(len(u))
    D = 0.5 * float(sigma) ** 2
    _policy(np.ascontiguousarray(u, dtype=float), float(eta), _geometry(np.ascontiguousarray(q, dtype=float), D),
            D, out)
    return out


def hybrid_offdiagonals(alpha: np.ndarray, q: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Jump rates of the hybrid generator ``A_alpha`` (per trading day): ``up[i] = A[i, i+1]``, ``down[i] = A[i+1, i]``."""
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
    dts = step_sizes(dt, nt)
    u, alpha, up, down, iters = _backward(np.ascontiguousarray(eta, dtype=float),
                                          np.ascontiguousarray(q, dtype=float), dts, float(sigma),
                                          float(phi), float(gamma_T), HOWARD_TOL, HOWARD_MAX_ITER)
    _check_howard(iters)
    return u, alpha, up, down


def solve_sweep(eta: np.ndarray, q: np.ndarray, dt, mass0: np.ndarray, *, sigma: float, phi: float,
                gamma_T: float, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`solve_hjb` with the cost path ``eta``, then the Fokker-Planck sweep from the node masses
    ``mass0`` (``mu0 w``), in one compiled call that reuses the HJB's factors for the FP steps.

    ``start``: optional (nt+1, nx) policies to start each step's policy iteration from (the coupling passes
    the previous sweep's feedback: when the cost path moved little, that is within round-off of the answer
    and the step takes the minimum of two linear solves instead of three or four). The iteration stops on
    the same test whatever the start, so the result is the same up to round-off.

    Returns ``u``, ``alpha`` (as :func:`solve_hjb`), the (nt+1, nx) node masses ``p^n`` (the density is
    ``p / w``: :func:`mfg_finance.mfg.fp.solve_fp`) and the (nt+1,) mean flow
    (:func:`mfg_finance.mfg.fp.mean_flow`), identical to those functions up to round-off.
    """
    nt = eta.size - 1
    q = np.ascontiguousarray(q, dtype=float)
    if start is None:
        start = np.empty((0, q.size))
    elif start.shape != (nt + 1, q.size):
        raise ValueError(f"start: expected policies of shape {(nt + 1, q.size)}, got {start.shape}")
    u, alpha, masses, flow, iters = _sweep(np.ascontiguousarray(eta, dtype=float), q, step_sizes(dt, nt), float(sigma),
                                           float(phi), float(gamma_T), HOWARD_TOL, HOWARD_MAX_ITER,
                                           np.ascontiguousarray(mass0, dtype=float),
                                           np.ascontiguousarray(start, dtype=float))
    _check_howard(iters)
    return u, alpha, masses, flow


def _check_howard(iters: np.ndarray) -> None:
    if np.any(iters >= HOWARD_MAX_ITER):
        from mfg_finance.errors import MfgConvergenceError

        raise MfgConvergenceError(f"hjb: policy iteration did not converge within {HOWARD_MAX_ITER} "
                                  f"iterations at step {int(np.argmax(iters))}")
