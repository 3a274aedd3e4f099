r"""Best response of one deviating agent against the ``N - 1`` others on the MFG feedback: the epsilon of the
epsilon-Nash equilibrium with the deviator's own influence, on a grid, next to the greedy deviation's gain.

Game of :mod:`mfg_finance.mfg.deviation` (time in trading days, inventory units, cost units). The others use the
MFG feedback at the empirical mean, ``alpha = -(k(t, Qbar) q + l(t, Qbar))``, the solver step's ``(k_n, l_n)``
held over the step (:func:`mfg_finance.mfg.common_noise_paths.policy_at`), their mean flow is
``m(t, Qbar) = -(k Qbar + l)``, and one agent on a feedback ``beta(t, q, Qbar)`` moves, exactly for any ``N``::

    dq    = beta dt + sigma dW_i + sigma0 dW0,
    dQbar = [m + (beta - alpha)/N] dt + sigma0 dW0 + (sigma/sqrt(N)) dWbar,      dWbar = N^-1/2 sum_j dW_j,
    cost rate (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + phi q^2,  terminal gamma_T q^2.

In ``x = q - Qbar`` and ``Q = Qbar`` the diffusion is diagonal: ``d<x> = sigma^2 (1 - 1/N) dt`` (``sigma^2 +
sigma^2/N - 2 sigma^2/N``: ``W_i`` is in ``Wbar`` with weight ``N^-1/2``), ``d<Q> = (sigma0^2 + sigma^2/N) dt``
and ``d<x, Q> = (sigma^2/N - sigma^2/N) dt = 0``; the drifts are ``beta - m - (beta - alpha)/N`` (``x``) and
``m + (beta - alpha)/N`` (``Q``). With ``V = a q^2 + b q + c`` the exact-in-time value of the MFG feedback
(:func:`mfg_finance.mfg.deviation.policy_value`) and ``W`` the best response's value, ``U = W - V`` solves
(``Vbar(x, Q) = V(x + Q, Q)``, so ``Vbar_x = V_q`` and ``Vbar_Q = V_q + V_Q``)::

    -U_t = min_beta { H(beta; p, r) - H(alpha; V_q, V_Q) + (U_Q - U_x) m }
           + (sigma^2 (1 - 1/N) / 2) U_xx + ((sigma0^2 + sigma^2/N) / 2) U_QQ,      U(T) = 0,
    p = V_q + U_x,   r = V_Q + U_Q - U_x,

with ``H(beta; p, r) = (eta0 + eta1 |m + (beta - alpha)/N|) beta^2 + p beta + r (beta - alpha)/N`` the
Hamiltonian of :func:`mfg_finance.mfg.deviation.hamiltonian_gap` (its exact minimiser, scalar in
:func:`mfg_finance.mfg.best_response_kernel.minimise`): for a fixed ``beta`` the bracket is
``H_V(beta) - H_V(alpha)`` plus the transport of ``U`` by the drifts above. The gain of the best response is
``epsilon_BR = -E U(0, x0, Q0)`` over the game's initial law: ``q_i(0) ~ N(m0_mean, m0_std^2)`` i.i.d., so
``x0 ~ N(0, m0_std^2 (1 - 1/N))`` and ``Q0 ~ N(m0_mean, m0_std^2/N)``, independent (jointly normal,
``cov = m0_std^2/N - m0_std^2/N = 0``). The same march with ``beta`` the greedy minimiser against ``V`` alone
(no ``U`` in ``p, r``) is the greedy deviation's value: its gain on the grid, ``greedy``, is what
:mod:`mfg_finance.mfg.deviation_game` plays, and ``epsilon_N`` lies between the played greedy gain and
``epsilon_BR``.

Scheme (:mod:`mfg_finance.mfg.best_response_kernel`): the solver's time steps (optionally split into
sub-steps, ``V`` linear in time between its nodes, the players' ``(k_n, l_n)`` held), on each an implicit step
split into an ``x`` move and a ``Q`` move (Lie), each with the hybrid monotone generator of
:mod:`mfg_finance.mfg.sweep_kernel`, with the policy fixed at every node first (greedy against ``V + U`` of the
later time level: every iterate is the grid value of an actual deviation, so the grid BR is at least the grid
greedy gain up to the policy's one-step lag). ``Q`` nodes: every ``q_stride``-th of the solver's. ``x`` nodes:
graded towards 0 (:func:`mfg_finance.mfg.common_noise.q_nodes`) with a core of a few
``sqrt(sigma^2 (1 - 1/N) eta0 / (2 gamma_T))``, the spread of ``q - Qbar`` in the terminal layer, where the
players' ``k ~ gamma_T/eta0`` squeezes it and most of the gain is made (kink trades): uniform ``x`` nodes
coarser than that core overstated the greedy gain by a factor 1.3-4 (docs/mfg.md section 10).

Error estimate: the spreads of the main grid's gain to three companions, added: ``x`` nodes halved (nested),
``Q`` nodes halved, and the time step divided by 4 (measured on the coarse ``(x, Q)`` grid, where it is
cheap, and carried to the first-order limit, ``4/3`` of the spread: the time error is pre-asymptotic over the
first halvings and first order from 4 sub-steps on). Observed orders: 2-2.5 in ``x`` and ``Q`` (the spread to
the halved grid is then three times the error or more), so the sum is a conservative estimate of the main
grid's error; the time error is 0.5% of the gains on the stiff baseline, the ``x`` spread 5-15%. The
difference ``epsilon - greedy`` is steadier than either (most of the grids' error is common to both), but where it
is a few per cent of the gains (N = 100) it converges pre-asymptotically on the default grid and its spreads
undershoot its error: on the stiff baseline at N = 100 the difference moves by 1.1e-8 from 51 to 101 ``x`` nodes,
by 2.6e-8, 1.2e-8, 0.2e-8 on to 201, 401, 801 (order 1.1 then 2.6: the 101-node error is 4.0e-8), and at order 0.8
in time, so the sum of its spreads, 4.4e-8, is 0.69 of its true error (6.4e-8 against 401 ``x`` nodes, every
``Q`` node and 16 sub-steps; 6.6e-8 extrapolated). Its estimate is therefore the sum times :data:`DIFFERENCE_SAFETY` (benchmarks/
RESULTS.md, "review of the best response's error estimate").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from mfg_finance.mfg.best_response_kernel import march
from mfg_finance.mfg.common_noise import CommonNoiseSolution, DOMAIN_SDS, graded_gradient, q_nodes
from mfg_finance.mfg.common_noise_paths import policy_at
from mfg_finance.mfg.deviation import PolicyValue, hamiltonian_gap, policy_value
from mfg_finance.mfg.types_common_noise import bilinear

#: Default grid of :func:`best_response`: ``x`` nodes, every ``q_stride``-th ``Q`` node of the solver, implicit
#: sub-steps per solver step, passes of policy iteration per step.
DEFAULTS = {"nx": 101, "q_stride": 2, "substeps": 1, "iterations": 1}

#: The ``x`` nodes' core in terminal-layer standard deviations (:func:`x_nodes`).
CORE_SDS = 3.0

#: Sub-steps of the time companion per sub-step of the main grid (:func:`best_response`).
TIME_REFINEMENT = 4

#: Factor on the sum of the difference's spreads (module docstring: that sum was 0.69 of the difference's true
#: error on the stiff baseline at N = 100; 3 covers it twice, and leaves every difference of the benchmark cases
#: resolved).
DIFFERENCE_SAFETY = 3.0

#: Gauss-Hermite nodes per direction of the expectation over the initial law.
QUADRATURE_NODES = 40


@dataclass(frozen=True)
class Grid:
    """Nodes of one march: ``t`` (nt+1,), ``Q`` (nQ,), ``x`` (nx,), and its sub-steps and passes."""

    t: np.ndarray
    Q: np.ndarray
    x: np.ndarray
    substeps: int
    iterations: int

    def options(self) -> dict:
        return {"nt": int(self.t.size - 1), "nQ": int(self.Q.size), "nx": int(self.x.size),
                "x_halfwidth": float(self.x[-1]), "substeps": int(self.substeps), "iterations": int(self.iterations)}


@dataclass(frozen=True)
class GridValue:
    """The residual ``U = W - V`` (nt+1, nQ, nx) of one deviation on a :class:`Grid`, its policy ``beta``
    (nt, nQ, nx; inventory units / day) and ``gain = -E U(0, x0, Q0)`` (cost units)."""

    grid: Grid
    U: np.ndarray
    beta: np.ndarray
    gain: float
    cpu_seconds: float


def _checked_options(sol: CommonNoiseSolution, N: int, nx: int, q_stride: int, substeps: int,
                     iterations: int) -> None:
    if isinstance(N, bool) or int(N) != N or N < 2:
        raise ValueError(f"best_response: N must be an integer >= 2, got {N!r}")
    if int(nx) != nx or nx < 9 or nx % 4 != 1:
        raise ValueError(f"best_response: nx must be an integer >= 9 with nx % 4 == 1 (odd, and its nested "
                         f"companion (nx + 1)/2 odd too), got {nx!r}")
    intervals = sol.Q.size - 1
    if int(q_stride) != q_stride or q_stride < 1 or intervals % (2 * q_stride) or intervals // (2 * q_stride) < 4:
        raise ValueError(f"best_response: q_stride must be a positive integer such that 2 q_stride divides the "
                         f"solver's {intervals} Q intervals (at least 4 left), got {q_stride!r}")
    for name, v in (("substeps", substeps), ("iterations", iterations)):
        if int(v) != v or v < 1:
            raise ValueError(f"best_response: {name} must be a positive integer, got {v!r}")


def x_nodes(params, T: float, N: int, nx: int) -> np.ndarray:
    """``x = q - Qbar`` nodes (module docstring): half-width :data:`DOMAIN_SDS` standard deviations of the
    undamped ``x`` at ``T``, ``sqrt((m0_std^2 + sigma^2 T)(1 - 1/N))``, graded towards 0 with a core of
    :data:`CORE_SDS` terminal-layer standard deviations ``sqrt(sigma^2 (1 - 1/N) eta0 / (2 gamma_T))`` (the
    stationary spread under ``k = gamma_T / eta0``). On the stiff baseline at 101 nodes a core of 3 of them leaves
    1% of the greedy gain (0.5-2 of them: 1.5-3%)."""
    shrink = 1.0 - 1.0 / N
    halfwidth = DOMAIN_SDS * math.sqrt((params["m0_std"] ** 2 + params["sigma"] ** 2 * T) * shrink)
    if not halfwidth > 0.0:
        raise ValueError("best_response: the x = q - Qbar grid needs sigma > 0 or m0_std > 0 (its half-width is "
                         f"{DOMAIN_SDS} standard deviations of x), got sigma = {params['sigma']}, "
                         f"m0_std = {params['m0_std']}")
    core = halfwidth
    terminal_sd = math.sqrt(params["sigma"] ** 2 * shrink * params["eta0"] / (2.0 * params["gamma_T"])) \
        if params["gamma_T"] > 0.0 else 0.0
    if terminal_sd > 0.0:
        core = min(core, CORE_SDS * terminal_sd)
    return q_nodes(halfwidth, int(nx), core)


class _Problem:
    """What every march for one ``(sol, N)`` shares: ``V``'s coefficients and the players' feedback on the
    solver's ``Q`` nodes."""

    def __init__(self, sol: CommonNoiseSolution, N: int, value: PolicyValue | None):
        self.sol, self.N = sol, int(N)
        self.value = value if value is not None else policy_value(sol, self.N)
        if self.value.N != self.N:
            raise ValueError(f"best_response: the policy value is for N = {self.value.N}, not {self.N}")
        v = self.value
        self.coef = np.stack([v.a, v.b, v.a_Q, v.b_Q, v.c_Q])
        nt = sol.dts.size
        self.k, self.l = np.empty((nt, sol.Q.size)), np.empty((nt, sol.Q.size))
        for n in range(nt):
            self.k[n], self.l[n], _ = policy_at(sol, n, sol.Q)

    def grid(self, nx: int, q_stride: int, substeps: int, iterations: int) -> Grid:
        p = self.sol.params
        return Grid(t=self.sol.t, Q=self.sol.Q[::q_stride].copy(), x=x_nodes(p, float(self.sol.t[-1]), self.N, nx),
                    substeps=int(substeps), iterations=int(iterations))

    def solve(self, grid: Grid, reference: np.ndarray | None) -> GridValue:
        """The march on ``grid``: greedy against ``V + reference`` (table on the grid; zeros: the greedy
        deviation), or the best response (``reference=None``)."""
        p, sol = self.sol.params, self.sol
        stride = (sol.Q.size - 1) // (grid.Q.size - 1)
        nt = sol.dts.size
        U = np.empty((nt + 1, grid.Q.size, grid.x.size))
        beta = np.empty((nt, grid.Q.size, grid.x.size))
        ref = np.empty((0, 1, 1)) if reference is None else np.ascontiguousarray(reference, dtype=float)
        start = time.process_time()
        march(grid.x, grid.Q, sol.dts, np.ascontiguousarray(self.coef[:, :, ::stride]),
              np.ascontiguousarray(self.k[:, ::stride]), np.ascontiguousarray(self.l[:, ::stride]),
              float(p["eta0"]), float(p["eta1"]), 1.0 / self.N, p["sigma"] ** 2 * (1.0 - 1.0 / self.N),
              p["sigma0"] ** 2 + p["sigma"] ** 2 / self.N, ref, grid.iterations, grid.substeps, U, beta)
        cpu = time.process_time() - start
        return GridValue(grid=grid, U=U, beta=beta, gain=-self.initial_mean(grid, U[0]), cpu_seconds=cpu)

    def initial_mean(self, grid: Grid, U0: np.ndarray) -> float:
        """``E U(0, x0, Q0)`` (module docstring) by Gauss-Hermite quadrature, ``U`` bilinear between nodes."""
        p = self.sol.params
        z, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
        w = w / w.sum()
        xs = z * p["m0_std"] * math.sqrt(1.0 - 1.0 / self.N)
        Qs = p["m0_mean"] + z * p["m0_std"] / math.sqrt(self.N)
        rows = np.array([np.interp(xs, grid.x, row) for row in U0])             # (nQ, quadrature in x)
        table = np.array([np.interp(Qs, grid.Q, col) for col in rows.T])      # (quadrature in x, in Q)
        return float(w @ table @ w)

    def greedy(self, grid: Grid) -> GridValue:
        return self.solve(grid, np.zeros((self.sol.dts.size + 1, grid.Q.size, grid.x.size)))


@dataclass(frozen=True)
class BestResponse:
    """Best response and greedy deviation of one agent against ``N - 1`` on the MFG feedback (cost units).

    ``epsilon``: the best response's gain ``-E U(0)`` on the main grid, ``epsilon_error`` the sum of the spreads
    to the companions (module docstring; ``errors["epsilon"]`` per direction); ``greedy`` and
    ``greedy_error`` the same for the greedy deviation (its grid value; :mod:`mfg_finance.mfg.deviation_game`
    plays it); ``difference = epsilon - greedy`` and its error (the same sum for the difference, times
    :data:`DIFFERENCE_SAFETY`: most of the grids' error is common to both, but the rest converges
    pre-asymptotically). ``t, Q, x`` the main grid's nodes, ``U`` (nt+1, nQ, nx) the best
    response's residual ``W - V`` and ``beta`` (nt, nQ, nx) its policy (inventory units / day); ``value`` the
    :class:`~mfg_finance.mfg.deviation.PolicyValue` ``V``, ``params`` the model's; ``options`` the main grid's,
    ``cpu_seconds`` of the whole estimate (all marches, measured with ``time.process_time``).
    """

    N: int
    t: np.ndarray
    Q: np.ndarray
    x: np.ndarray
    U: np.ndarray
    beta: np.ndarray
    value: PolicyValue
    params: dict
    epsilon: float
    epsilon_error: float
    greedy: float
    greedy_error: float
    difference: float
    difference_error: float
    errors: dict
    options: dict
    cpu_seconds: float

    def residual_gradient(self, node: int, q, Qbar) -> tuple[np.ndarray, np.ndarray]:
        """``(U_x, U_Q)`` at time node ``node`` and ``(q, Qbar)`` (three-point derivatives on the nodes,
        bilinear between them, clamped to the grid)."""
        U = self.U[node]
        Ux = graded_gradient(U, self.x)
        UQ = graded_gradient(U.T, self.Q).T
        x = np.asarray(q, dtype=float) - Qbar
        return bilinear(Ux, self.x, self.Q, x, Qbar), bilinear(UQ, self.x, self.Q, x, Qbar)

    def policy(self, n: int, q, Qbar, alpha, m, V_q, V_Q) -> np.ndarray:
        """The best response's flow on solver step ``n`` at ``(q, Qbar)`` (arrays), given the players' flow
        ``alpha`` at ``q`` and mean flow ``m`` and ``V``'s derivatives ``V_q, V_Q`` at the point: the exact
        minimiser of ``H`` with ``p = V_q + U_x``, ``r = V_Q + U_Q - U_x``, ``U``'s derivatives at the step's end
        (as the grid's policy; the kink trade ``alpha - N m`` hit exactly, which an interpolated ``beta`` would
        miss)."""
        return self._minimiser(q, alpha, m, V_q, V_Q, *self.residual_gradient(n + 1, q, Qbar))

    def __call__(self, n: int, t: float, q, Qbar, alpha, m, V_q, V_Q) -> np.ndarray:
        """The best response as a deviation rule of :func:`mfg_finance.mfg.deviation_game.play_deviation` at time
        ``t`` of solver step ``n``: :meth:`policy` with the game's own ``alpha``, ``m`` (so that the kink trade
        zeroes the realised flow exactly), ``V``'s derivatives there, and ``U``'s derivatives linear in time
        between the step's nodes."""
        w = (t - self.t[n]) / (self.t[n + 1] - self.t[n])
        (Ux0, UQ0), (Ux1, UQ1) = self.residual_gradient(n, q, Qbar), self.residual_gradient(n + 1, q, Qbar)
        return self._minimiser(q, alpha, m, V_q, V_Q, (1.0 - w) * Ux0 + w * Ux1, (1.0 - w) * UQ0 + w * UQ1)

    def _minimiser(self, q, alpha, m, V_q, V_Q, Ux, UQ) -> np.ndarray:
        _, beta = hamiltonian_gap(q, alpha, m, V_q + Ux, V_Q + UQ - Ux, eta0=float(self.params["eta0"]),
                                  eta1=float(self.params["eta1"]), inv_N=1.0 / self.N)
        return beta

    def tabulated_policy(self, n: int, q, Qbar) -> np.ndarray:
        """``beta[n]`` bilinear at ``(x = q - Qbar, Q = Qbar)``, clamped to the grid."""
        return bilinear(self.beta[n], self.x, self.Q, np.asarray(q, dtype=float) - Qbar, Qbar)

    def as_dict(self) -> dict:
        """The figures for ``metrics.json`` (no tables; ``errors`` the spreads per direction, whose sum is each
        estimate, times ``difference_safety`` for the difference). Not ``cpu_seconds``: a measurement of the run,
        not a result, and ``metrics.json`` must be the same bytes for the same config and seed."""
        return {"N": int(self.N), "epsilon": self.epsilon, "epsilon_error": self.epsilon_error,
                "greedy": self.greedy, "greedy_error": self.greedy_error, "difference": self.difference,
                "difference_error": self.difference_error, "difference_safety": DIFFERENCE_SAFETY,
                "errors": self.errors, "grid": self.options}


def best_response(sol: CommonNoiseSolution, N: int, *, nx: int = DEFAULTS["nx"],
                  q_stride: int = DEFAULTS["q_stride"], substeps: int = DEFAULTS["substeps"],
                  iterations: int = DEFAULTS["iterations"], value: PolicyValue | None = None) -> BestResponse:
    """:class:`BestResponse` of one agent of ``N`` on ``sol`` (module docstring): the best response and the greedy
    deviation on the main grid (``nx`` ``x`` nodes, every ``q_stride``-th ``Q`` node, ``substeps`` implicit steps
    per solver step, ``iterations`` passes of policy iteration per step), and on the companions of the error
    estimate (``(nx + 1)/2`` ``x`` nodes; ``2 q_stride``; :data:`TIME_REFINEMENT` times the sub-steps on the
    coarse ``x`` and ``Q`` grid against the coarse grid itself, the spread scaled by ``4/3`` to the first-order
    limit). ``value``: ``V`` if already computed (``policy_value(sol, N)``)."""
    _checked_options(sol, N, nx, q_stride, substeps, iterations)
    start = time.process_time()
    problem = _Problem(sol, int(N), value)
    coarse_x = (int(nx) + 1) // 2
    grids = {"main": problem.grid(nx, q_stride, substeps, iterations),
             "x": problem.grid(coarse_x, q_stride, substeps, iterations),
             "Q": problem.grid(nx, 2 * q_stride, substeps, iterations),
             "coarse": problem.grid(coarse_x, 2 * q_stride, substeps, iterations),
             "t": problem.grid(coarse_x, 2 * q_stride, TIME_REFINEMENT * substeps, iterations)}
    br = {name: problem.solve(g, None) for name, g in grids.items()}
    greedy = {name: problem.greedy(g) for name, g in grids.items()}

    def spreads(values):
        return {"x": abs(values["main"] - values["x"]), "Q": abs(values["main"] - values["Q"]),
                "t": abs(values["t"] - values["coarse"]) * TIME_REFINEMENT / (TIME_REFINEMENT - 1.0)}

    gains = {"epsilon": {k: v.gain for k, v in br.items()}, "greedy": {k: v.gain for k, v in greedy.items()}}
    gains["difference"] = {k: gains["epsilon"][k] - gains["greedy"][k] for k in grids}
    errors = {name: spreads(v) for name, v in gains.items()}
    main = br["main"]
    return BestResponse(
        N=int(N), t=sol.t, Q=main.grid.Q, x=main.grid.x, U=main.U, beta=main.beta, value=problem.value,
        params=dict(sol.params), epsilon=main.gain, epsilon_error=sum(errors["epsilon"].values()),
        greedy=greedy["main"].gain, greedy_error=sum(errors["greedy"].values()),
        difference=gains["difference"]["main"],
        difference_error=DIFFERENCE_SAFETY * sum(errors["difference"].values()),
        errors=errors, options=main.grid.options(), cpu_seconds=time.process_time() - start)


def grid_gains(sol: CommonNoiseSolution, N: int, *, nx: int = DEFAULTS["nx"], q_stride: int = DEFAULTS["q_stride"],
               substeps: int = DEFAULTS["substeps"], iterations: int = DEFAULTS["iterations"]) -> tuple[float, float]:
    """``(greedy, best response)`` gains on one grid of :func:`best_response` (no companions): for refinement
    studies."""
    _checked_options(sol, N, nx, q_stride, substeps, iterations)
    problem = _Problem(sol, int(N), None)
    grid = problem.grid(nx, q_stride, substeps, iterations)
    return problem.greedy(grid).gain, problem.solve(grid, None).gain


def policy_iteration_gains(sol: CommonNoiseSolution, N: int, *, sweeps: int = 3, nx: int = DEFAULTS["nx"],
                           q_stride: int = DEFAULTS["q_stride"], substeps: int = DEFAULTS["substeps"]
                           ) -> tuple[list[float], float]:
    """Policy iteration over the whole horizon on the main grid of :func:`best_response`: the gains of
    ``sweeps`` policies, the first greedy against ``V`` (the greedy deviation), each next greedy against
    ``V + U`` of the one before (every one the grid value of an actual deviation); and the best response's gain
    on the same grid (policy improved on every step as the march goes). In continuous time the gains rise
    (policy improvement) towards the best response's."""
    _checked_options(sol, N, nx, q_stride, substeps, 1)
    if int(sweeps) != sweeps or sweeps < 1:
        raise ValueError(f"policy_iteration_gains: sweeps must be a positive integer, got {sweeps!r}")
    problem = _Problem(sol, int(N), None)
    grid = problem.grid(nx, q_stride, substeps, 1)
    reference = np.zeros((sol.dts.size + 1, grid.Q.size, grid.x.size))
    gains = []
    for _ in range(int(sweeps)):
        step = problem.solve(grid, reference)
        gains.append(step.gain)
        reference = step.U
    return gains, problem.solve(grid, None).gain
