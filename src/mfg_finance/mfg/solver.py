r"""The MFG equilibrium: one HJB/FP sweep per fixed-point evaluation, Picard or Newton coupling.

Model (time in trading days, inventory ``q`` in inventory units)::

    dq = alpha dt + sigma dW,
    cost  E[ int_0^T (eta(m_t) alpha^2 + phi q^2) dt + gamma_T q_T^2 ],   eta(m) = eta0 + eta1 |m|,
    m_t = int alpha*(t, q) mu_t(dq)        (each agent takes m_t as given),
    HJB   -u_t = (sigma^2/2) u_qq + phi q^2 - (u_q)^2 / (4 eta(m_t)),   u(T, q) = gamma_T q^2,
          alpha*(t, q) = -u_q / (2 eta(m_t)),
    FP    mu_t = (sigma^2/2) mu_qq - (alpha* mu)_q,   mu(0) = N(m0_mean, m0_std^2).

Fixed point on the cost path: ``eta^n = eta0 + eta1 |m^n|`` with ``m^n = sum_i alpha^n_i mu^{n+1}_i w_i`` (``w``: cell widths) (``mu^N`` at ``T``).
Residual of an iterate ``x`` (dimensionless)::

    r(x) = max_n |eta0 + eta1 |m^n[x]| - x^n| / max_n |x^n| .

The ``newton`` method accelerates the equivalent map ``G~(x) = (eta0 + sqrt(eta0^2 + 4 eta1 |m[x]| x)) / 2``:
it solves ``eta = eta0 + eta1 |m| x / eta`` exactly for the dominant, local effect ``m ~ 1/eta``
of the cost on the flow, which removes the oscillating mode that slows plain iteration.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from mfg_finance.errors import ConfigError, MfgConvergenceError
from mfg_finance.mfg.accuracy import accuracy_of
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.coupling import Evaluation, anderson, lq_moment_guess, picard
from mfg_finance.mfg.domain import check_domain, domain_diagnostics
from mfg_finance.mfg.grid import (AUTO, Grid, exact_stretch_scale, grid_from_config, grid_nodes, initial_density,
                                  mesh_layer)
from mfg_finance.mfg.price import clearing_price, supply_path
from mfg_finance.mfg.solution import MfgSolution
from mfg_finance.mfg.terminal_interval import exact_steps, sweep_exact_end


#: ``offset(t_nodes) -> (nt+1,) values``: an exogenous addition to the cost path (see :func:`solve`).
EtaOffset = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Problem:
    """Everything a sweep needs: grid, model parameters and the initial density."""

    grid: Grid
    sigma: float
    eta0: float
    eta1: float
    phi: float
    gamma_T: float
    mu0: np.ndarray
    weights: np.ndarray
    #: (nt+1,) cost floor ``eta0 + offset^n`` when an exogenous offset is added (``solve(eta_offset=...)``),
    #: else ``None`` (the floor is the constant ``eta0``)
    eta_floor: np.ndarray | None = None
    #: how many of the last steps are solved exactly (:func:`mfg_finance.mfg.terminal_interval.exact_steps`)
    exact_steps: int = 0

    @property
    def exact_end(self) -> bool:
        """Whether the last interval is solved exactly (:func:`mfg_finance.mfg.terminal_interval.needs_exact_end`)."""
        return self.exact_steps > 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], eta_offset: "EtaOffset | None" = None,
                    nodes: np.ndarray | None = None, time_layer: float | None = None) -> "Problem":
        """The problem of a validated config; ``nodes`` replaces its inventory nodes (the companion solve's),
        ``time_layer`` the graded time mesh's layer scale (:func:`mfg_finance.mfg.grid.mesh_layer`)."""
        p, g = config["params"], config["grid"]
        if time_layer is None:
            time_layer = mesh_layer(p, g["T"], grid_nodes(g, p))
        grid = grid_from_config(config, layer=time_layer)
        if nodes is not None:
            grid = Grid(q=np.asarray(nodes, dtype=float), t=grid.t, dts=grid.dts)
        floor = None
        if eta_offset is not None:
            offset = np.asarray(eta_offset(grid.t), dtype=float)
            if offset.shape != grid.t.shape or not np.all(np.isfinite(offset)) or np.any(offset < 0.0):
                raise ConfigError(f"eta_offset: expected {grid.t.size} finite values >= 0 on the time nodes, "
                                  f"got shape {offset.shape} with min {np.nanmin(offset) if offset.size else None}")
            floor = p["eta0"] + offset
        return cls(grid=grid, sigma=p["sigma"], eta0=p["eta0"], eta1=p["eta1"], phi=p["phi"],
                   gamma_T=p["gamma_T"], mu0=initial_density(grid.q, p["m0_mean"], p["m0_std"]),
                   weights=grid.weights, eta_floor=floor,
                   exact_steps=exact_steps(grid.dts, p["eta0"], p["gamma_T"],
                                           uniform=g.get("time_mesh", "uniform") == "uniform",
                                           smooth_scale=exact_stretch_scale(p, g["T"], time_layer,
                                                                            g.get("max_step_ratio", 1.5))))

    @property
    def floor(self):
        """The cost without crowding: ``eta0``, or the path ``eta0 + offset^n`` (cost units x day / units^2)."""
        return self.eta0 if self.eta_floor is None else self.eta_floor


@dataclass(frozen=True)
class Sweep:
    """Arrays of one HJB/FP sweep at a given cost path."""

    u: np.ndarray
    alpha: np.ndarray
    density: np.ndarray
    mean_flow: np.ndarray
    #: the next sweep's start (this sweep's feedback and factors, :class:`mfg_finance.mfg.hjb.WarmStart`)
    warm: Any = None
    #: whether ``u`` and ``density`` are finite everywhere (``None``: not known, :func:`evaluate` checks)
    finite: bool | None = None


def sweep(problem: Problem, eta: np.ndarray, start=None) -> Sweep:
    """Solve the HJB backward with the cost path ``eta``, then the FP forward (its adjoint).

    When the last step is longer than the terminal layer (``problem.exact_end``), the last interval
    ``[t_{N-1}, T]`` is solved in closed form with ``eta^{N-1}`` held over it
    (:mod:`mfg_finance.mfg.terminal_interval`; on a uniform mesh the last ``problem.exact_steps`` steps, each with
    its own ``eta^n``): the implicit steps run from the exact cost-to-go ``H q^2 + C`` there (the constant added
    afterwards: a constant does not change any policy), and the law crosses each exact step by its Markov kernel. ``start``: (nt+1, nx) policies to start each HJB step's policy
    iteration from (a previous sweep's ``alpha``; :func:`mfg_finance.mfg.hjb.solve_sweep`), which changes the
    result by round-off only, or a previous sweep's ``warm`` (its feedback with its matrices' factors: the same
    result as its ``alpha``, with one factorisation a step fewer).
    """
    grid = problem.grid
    return Sweep(*sweep_exact_end(eta, grid.q, problem.weights, grid.dts, problem.mu0, sigma=problem.sigma,
                                  phi=problem.phi, gamma_T=problem.gamma_T, start=start, steps=problem.exact_steps,
                                  with_warm_start=True))


def evaluate(problem: Problem, eta: np.ndarray, *, newton: bool, start=None) -> Evaluation:
    """One fixed-point evaluation: a sweep (from the policies ``start``, see :func:`sweep`), the map value and
    the residual ``r(eta)``."""
    s = sweep(problem, eta, start)
    finite = s.finite if s.finite is not None else bool(np.all(np.isfinite(s.u)) and np.all(np.isfinite(s.density)))
    if not finite:
        return Evaluation(eta, np.full_like(eta, np.nan), float("nan"), s)
    abs_m = np.abs(s.mean_flow)
    floor = problem.floor
    target = floor + problem.eta1 * abs_m
    residual = float(np.max(np.abs(target - eta)) / np.max(np.abs(eta)))
    if newton:
        g = 0.5 * (floor + np.sqrt(floor ** 2 + 4.0 * problem.eta1 * abs_m * eta))
    else:
        g = target
    return Evaluation(eta, g, residual, s)


class _Evaluator:
    """``x -> evaluate(problem, x)`` for the coupling solvers, each sweep's policy iteration started from the
    previous sweep's feedback and its matrices' factors: once the cost path moves little between iterations,
    every HJB step then needs the minimum of two linear solves (three or four from the policy of the later
    value), the first with factors already computed."""

    def __init__(self, problem: Problem, *, newton: bool):
        self.problem, self.newton, self.start = problem, newton, None

    def __call__(self, x: np.ndarray) -> Evaluation:
        ev = evaluate(self.problem, x, newton=self.newton, start=self.start)
        if math.isfinite(ev.residual):
            s = ev.state
            self.start = s.warm if s.warm is not None else s.alpha
        return ev


def initial_eta(problem: Problem) -> np.ndarray:
    """Starting cost path, the first that works of:

    1. the fixed point of the same time scheme on the Gaussian (LQ moment) model, from ``eta0``
       (a few ms; close to the PDE fixed point);
    2. the same, started from the exact continuous LQ equilibrium (backward shooting, robust
       but ~0.1 s: only needed in extreme regimes, e.g. ``eta0 -> 0`` with strong coupling);
    3. that exact equilibrium itself, and finally the constant ``eta0``.
    """
    grid = problem.grid
    mass0 = problem.mu0 * problem.weights
    mean0 = float(mass0 @ grid.q)
    kw = dict(dt=grid.dts, phi=problem.phi, gamma_T=problem.gamma_T, eta0=problem.floor,
              eta1=problem.eta1, mean0=mean0)
    guess = lq_moment_guess(grid.nt, **kw)
    if guess is not None:
        return guess
    from mfg_finance.mfg.exact import coupled   # scipy's ODE solver: only in this rare fallback

    try:
        var0 = float(mass0 @ (grid.q - mean0) ** 2)
        exact = coupled(grid.t, T=float(grid.t[-1]), sigma=problem.sigma, eta0=problem.eta0,
                        eta1=problem.eta1, phi=problem.phi, gamma_T=problem.gamma_T, m0_mean=mean0,
                        m0_std=math.sqrt(var0)).eta
        if problem.eta_floor is not None:
            exact = exact + (problem.eta_floor - problem.eta0)
    except (MfgConvergenceError, ValueError, FloatingPointError):
        return np.full(grid.nt + 1, problem.floor)
    guess = lq_moment_guess(grid.nt, start=exact, **kw)
    return guess if guess is not None else np.maximum(exact, problem.floor)


def solve(config: Mapping[str, Any], *, estimate_errors: bool = True,
          eta_offset: "EtaOffset | None" = None, nodes: np.ndarray | None = None,
          eta_start=None, time_layer: float | None = None) -> MfgSolution:
    """Solve the MFG equilibrium described by an ``mfg`` config block.

    Parameters
    ----------
    config : ``{grid, params, solver, price}`` (see :mod:`mfg_finance.mfg.config`).
    estimate_errors : also solve the four companions of :mod:`mfg_finance.mfg.accuracy`, report the
        outcomes extrapolated in time and attach every outcome's estimated discretisation error
        (``solution.accuracy``).
    eta_offset : optional exogenous addition to the cost, ``eta^n = eta0 + offset^n + eta1 |m^n|``:
        a callable mapping the (nt+1,) time nodes of a mesh (trading days) to the (nt+1,) offsets
        (``>= 0``, cost units x day / units^2), value ``n`` in force on ``[t_n, t_{n+1})``. A callable,
        not an array, so that the half-resolution companion gets the offset on its own mesh
        (used by :mod:`mfg_finance.equilibrium`, where the offset is ``theta`` x the market maker's spread).
    nodes : inventory nodes to use instead of the config's (the companion solves pass the fine grid's,
        or every other one of them); ``grid.nx`` must equal their number.
    eta_start : callable ``t -> eta`` giving the first iterate of the cost path on this grid's times
        (the companions start from the fine solve's path); default :func:`initial_eta`.
    time_layer : layer scale of the graded time mesh (trading days) instead of the config's
        (:func:`mfg_finance.mfg.grid.mesh_layer`); the companions pass the fine grid's.

    Returns
    -------
    MfgSolution, converged (``residuals[-1] <= solver.tol``).

    Raises
    ------
    ConfigError : invalid config (the message names the key).
    MfgConvergenceError : no convergence within ``max_iter`` sweeps, stagnation, NaN or blow-up;
        carries the residual history. A non-converged solution is never returned.
    MfgDomainError : the law reached the ends of the inventory range (:mod:`mfg_finance.mfg.domain`);
        an equilibrium made by the boundary is never returned.
    """
    start = time.perf_counter()
    cfg = validate_config(config)
    if cfg["params"]["sigma0"] > 0.0:
        raise ConfigError(f"mfg.params.sigma0: {cfg['params']['sigma0']!r} > 0 needs the common-noise solver "
                          "(mfg_finance.mfg.common_noise); this solver has idiosyncratic noise only")
    problem = Problem.from_config(cfg, eta_offset, nodes, time_layer)
    solver = cfg["solver"]
    method = solver["method"]
    x0 = initial_eta(problem) if eta_start is None else np.maximum(
        np.asarray(eta_start(problem.grid.t), dtype=float), problem.floor)
    opts = dict(tol=solver["tol"], max_iter=solver["max_iter"], damping=solver["damping"])
    if method == "picard":
        result = picard(_Evaluator(problem, newton=False), x0, **opts)
    else:
        result = anderson(_Evaluator(problem, newton=True), x0, lower=problem.floor, **opts)
    ev = result.evaluation
    s: Sweep = ev.state
    if not ev.residual <= solver["tol"]:   # defensive: the solvers raise before this
        raise MfgConvergenceError(f"{method}: returned a residual above tol", result.residuals)
    grid = problem.grid
    if problem.exact_end:     # the reflection over the implicit steps, then the exact steps' defect
        K = problem.exact_steps
        domain = domain_diagnostics(grid.q, grid.dts[:-K], s.density, problem.sigma,
                                    last_interval=(grid.dts[-K:], s.mean_flow[-K - 1:-1]))
    else:
        domain = domain_diagnostics(grid.q, grid.dts, s.density, problem.sigma)
    check_domain(domain, cfg)
    domain.update(x_min=cfg["grid"]["x_min"], x_max=cfg["grid"]["x_max"], sized=domain_sizing(config))
    price = None
    if cfg["price"]["enabled"]:
        pc = cfg["price"]
        price = clearing_price(s.mean_flow, supply_path(pc["supply"], problem.grid.nt + 1),
                               kappa=pc["kappa"], p_ref=pc["p_ref"])
    solution = MfgSolution(
        t=problem.grid.t, dts=problem.grid.dts, q=problem.grid.q, u=s.u, density=s.density, alpha=s.alpha,
        eta=np.array(ev.x, dtype=float), mean_flow=s.mean_flow, price=price,
        residuals=[float(r) for r in result.residuals], iterations=result.iterations, converged=True,
        config=cfg, wall_time_s=time.perf_counter() - start, domain=domain,
        exact_steps=problem.exact_steps)
    if not estimate_errors:
        return solution
    accuracy = accuracy_of(solution, solve if eta_offset is None else functools.partial(solve, eta_offset=eta_offset))
    return dataclasses.replace(solution, accuracy=accuracy, wall_time_s=time.perf_counter() - start)


def domain_sizing(config: Mapping[str, Any]) -> str:
    """``auto`` when both ends of the raw config's range are sized from the problem, ``config`` when
    both are fixed, ``mixed`` otherwise."""
    grid = config.get("grid") or {}
    auto = [grid.get(k, AUTO) == AUTO for k in ("x_min", "x_max")]
    return "auto" if all(auto) else ("config" if not any(auto) else "mixed")
