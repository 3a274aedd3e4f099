r"""Multi-type MFG on the grid: one HJB/FP pair per type, one cost path ``eta`` for the crowd.

Type ``k`` (weight ``w_k``, parameters of :mod:`mfg_finance.mfg.agent_types`) solves, with the
common path ``eta(t)``, the HJB and FP of :mod:`mfg_finance.mfg.solver` with its own ``sigma_k``,
``phi_k``, ``gamma_T,k`` and initial law. The crowd's flow and the fixed point are::

    m^n = sum_k w_k sum_i alpha_k^n_i mu_k^n_i dx,        eta^n = eta0 + eta1 |m^n| .

One *sweep* runs the deterministic solver's sweep (:func:`mfg_finance.mfg.terminal_interval.sweep_exact_end`:
the implicit monotone steps, the last interval exact) once per type on the same grid (the graded time mesh
grades from the narrowest of the types' :func:`mfg_finance.mfg.grid.mesh_layer`); the fixed point is found by the Anderson
iteration of :mod:`mfg_finance.mfg.coupling` on ``G~(x) = (eta0 + sqrt(eta0^2 + 4 eta1 |m[x]| x))/2``,
started from the fixed point of the same time scheme on the Gaussian moment model of each type
(the exact multi-type LQ equilibrium if that fails). Residual, tolerance and failure
modes are those of the one-type solver.

Domain: an ``auto`` end of ``mfg.grid`` is sized for every type (the union over the types of
:func:`mfg_finance.mfg.grid.auto_domain` with the type's ``sigma``, ``phi``, ``gamma_T`` and initial law;
``q = 0`` on a node), and after the solve each type's law is checked for leaks at the ends
(:mod:`mfg_finance.mfg.domain`): :class:`~mfg_finance.errors.MfgDomainError` names the type and a
range that fits. The inventory nodes follow ``mfg.grid.inventory_mesh``: ``graded`` (the default) places
them where the laws of all the types go (:func:`mfg_finance.mfg.grid.inventory_nodes_for_laws`: the
spacing each type's law envelope wants, the smallest wins), ``uniform`` spaces them evenly.

Accuracy: with ``estimate_errors`` (the default) three companion solves give every outcome, per type and
for the crowd, the time-extrapolated value and an estimated discretisation error
(:mod:`mfg_finance.mfg.types_accuracy`, the method of :mod:`mfg_finance.mfg.accuracy`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfg_finance.errors import MfgConvergenceError, MfgDomainError
from mfg_finance.mfg.agent_types import AgentType, validate_types
from mfg_finance.mfg.agent_types_exact import exact_types
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.coupling import Evaluation, anderson
from mfg_finance.mfg.domain import check_domain, domain_diagnostics
from mfg_finance.mfg.grid import (AUTO, Grid, auto_domain, initial_density, inventory_nodes_for_laws, law_envelope,
                                  make_grid, mesh_layer, zero_on_a_node)
from mfg_finance.mfg.terminal_interval import needs_exact_end, sweep_exact_end
from mfg_finance.mfg.outcomes import path_outcomes

#: Outcomes of one type (the crowd's ``eta`` and price are reported once, for the crowd).
TYPE_OUTCOME_KEYS = ("liquidation_half_life", "liquidation_speed", "total_cost", "mean_inventory_initial",
                     "mean_inventory_terminal", "terminal_dispersion", "mean_flow_initial", "mean_flow_terminal")


@dataclass(frozen=True, eq=False)
class TypesSolution:
    """Multi-type equilibrium: ``u, alpha, density`` (K, nt+1, nx), ``mean_flow_by_type`` (K, nt+1),
    ``eta, mean_flow`` (nt+1,), the grid, the types, the fixed-point history and ``accuracy`` (the
    record of :func:`mfg_finance.mfg.types_accuracy.accuracy_of_types`, or ``None`` when not estimated)."""

    grid: Grid
    types: list[AgentType]
    u: np.ndarray
    alpha: np.ndarray
    density: np.ndarray
    mean_flow_by_type: np.ndarray
    eta: np.ndarray
    residuals: list[float]
    iterations: int
    config: dict[str, Any]
    accuracy: dict[str, Any] | None = field(default=None)

    @property
    def weights(self) -> np.ndarray:
        return np.array([t.weight for t in self.types])

    @property
    def mean_flow(self) -> np.ndarray:
        """Crowd's ``m = sum_k w_k m_k`` (inventory units / day)."""
        return self.weights @ self.mean_flow_by_type

    @property
    def masses(self) -> np.ndarray:
        """(K, nt+1, nx) probability of each node, ``mu_k,i w_i`` (``w`` the cell widths)."""
        return self.density * self.grid.weights

    @property
    def mean_inventory(self) -> np.ndarray:
        """(K, nt+1) ``Q_k(t) = sum_i q_i mu_k,i w_i`` (inventory units)."""
        return self.masses @ self.grid.q

    @property
    def variance(self) -> np.ndarray:
        """(K, nt+1) cross-sectional inventory variance of each type (inventory units^2), centred before squaring."""
        centred = self.grid.q[None, None, :] - self.mean_inventory[:, :, None]
        return np.einsum("kni,kni->kn", self.masses, centred * centred)

    @property
    def price(self) -> np.ndarray | None:
        """(nt+1,) clearing price of the crowd's flow (BRL) when ``price.kappa`` and ``price.p_ref`` are set, else None."""
        from mfg_finance.mfg.price import clearing_price, supply_path

        pc = self.config.get("price") or {}
        if pc.get("kappa") is None or pc.get("p_ref") is None:
            return None
        return clearing_price(self.mean_flow, supply_path(pc.get("supply", 0.0), self.grid.nt + 1),
                              kappa=pc["kappa"], p_ref=pc["p_ref"])

    def total_cost(self, k: int) -> float:
        """Expected cost of type ``k``: ``<mu_k^0, u_k^0>`` (cost units; = the forward cost by duality)."""
        return float(self.masses[k, 0] @ self.u[k, 0])

    def mean_paths(self) -> tuple[np.ndarray, list[float | None]]:
        """``(Q, [ln(Q_T,k / Q_0,k)])``: (K, nt+1) each type's mean inventory path of the outcomes (inventory units).

        As the one-type solution's (:meth:`mfg_finance.mfg.solution.Solution.mean_path`): for a type with a
        position, the path of its linear feedback ``-h2_k q / eta`` on the common cost path
        (:mod:`mfg_finance.mfg.mean_path` with the type's ``phi_k``, ``gamma_T,k``): relative accuracy however small
        ``Q_k,T``, none of the density's first-order time error in the exponent. Without one, the density's mean
        and ``None``."""
        return self._mean_paths()[:2]

    def _mean_paths(self) -> tuple[np.ndarray, list[float | None], list[float | None]]:
        """:meth:`mean_paths` and each type's value curvature ``H_k^0`` at ``t = 0`` (``None`` without a position):
        one backward recursion per type (:func:`mfg_finance.mfg.mean_path.curvature_and_log_decay`) for both."""
        from mfg_finance.mfg.mean_path import curvature_and_log_decay
        from mfg_finance.mfg.outcomes import NO_POSITION

        density_mean, std0 = self.mean_inventory, np.sqrt(np.maximum(self.variance[:, 0], 0.0))
        paths, logs, curvatures = density_mean.copy(), [], []
        for k, ty in enumerate(self.types):
            if not abs(float(density_mean[k, 0])) > NO_POSITION * float(std0[k]):
                logs.append(None)
                curvatures.append(None)
                continue
            curvature, log_decay = curvature_and_log_decay(self.grid.dts, self.eta, phi=ty.phi, gamma_T=ty.gamma_T)
            paths[k] = float(density_mean[k, 0]) * np.exp(log_decay)
            logs.append(float(log_decay[-1]))
            curvatures.append(float(curvature[0]))
        return paths, logs, curvatures

    def end_flows(self, paths=None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(m, p)``: (K, 2) each type's mean flow at ``t = 0`` and ``T`` on its mean path (inventory units / day)
        and (2,) the clearing price of the crowd's ``sum_k w_k m_k`` there (BRL; ``None`` without a price);
        ``paths``: the mean paths of :meth:`_mean_paths`, to reuse.

        As one type's (:func:`mfg_finance.mfg.mean_path.end_flows`): type ``k``'s feedback ``-H_k q / eta`` on its
        law of mean ``Q_k`` gives ``m_k = -H_k Q_k / eta``, at the ends with ``H_k^0`` and ``Q_k,T`` from its mean
        path and ``H_k^N = gamma_T,k``, and the common cost the model's for that crowd flow,
        ``eta = (f + sqrt(f^2 + 4 eta1 |sum_k w_k H_k Q_k|)) / 2`` (:func:`mfg_finance.mfg.mean_path.end_cost`;
        ``f = eta^n - eta1 |m^n|``, the cost's exogenous part on the grid). A type without a position has no drive
        (``m_k = 0``). With one type this is the one-type solve's."""
        from mfg_finance.mfg.mean_path import end_cost
        from mfg_finance.mfg.price import clearing_price, supply_path

        _, logs, curvatures = paths if paths is not None else self._mean_paths()
        eta1, density_mean = float(self.config["params"]["eta1"]), self.mean_inventory
        drive = np.zeros((len(self.types), 2))
        for k, ty in enumerate(self.types):
            if logs[k] is not None:
                q0 = float(density_mean[k, 0])
                drive[k] = curvatures[k] * q0, float(ty.gamma_T) * q0 * math.exp(logs[k])
        flows = np.zeros_like(drive)
        for j, n in enumerate((0, -1)):
            f = float(self.eta[n] - eta1 * abs(self.mean_flow[n]))
            total = float(self.weights @ drive[:, j])
            if total != 0.0 or np.any(drive[:, j]):
                flows[:, j] = -drive[:, j] / end_cost(f, eta1, total)
        pc = self.config.get("price") or {}
        if pc.get("kappa") is None or pc.get("p_ref") is None:
            return flows, None
        supply = supply_path(pc.get("supply", 0.0), self.grid.nt + 1)[[0, -1]]
        return flows, clearing_price(self.weights @ flows, supply, kappa=pc["kappa"], p_ref=pc["p_ref"])

    def grid_outcomes(self) -> dict[str, Any]:
        """This grid solution's own outcomes: ``{"crowd": {...}, "types": {name: {...}}}``.

        The crowd's are :func:`mfg_finance.mfg.outcomes.path_outcomes` of its paths (mean inventory
        ``sum_k w_k Q_k``, flow ``m``, ``eta``, price; terminal std of the mixture
        ``sqrt(sum_k w_k (V_k + Q_k^2) - Q^2)``; cost ``sum_k w_k J_k``); a type's are those of its own paths
        (keys :data:`TYPE_OUTCOME_KEYS`), its mean inventory that of :meth:`mean_paths`."""
        t, V, density_Q = self.grid.t, self.variance, self.mean_inventory
        paths = self._mean_paths()
        Q, log_ratios = paths[:2]
        w = self.weights
        costs = [self.total_cost(k) for k in range(len(self.types))]
        per_type = {}
        ends, end_prices = self.end_flows(paths)  # (path_outcomes reads the flows and the price at the two ends only)
        for k, ty in enumerate(self.types):
            flow = self.mean_flow_by_type[k].copy()
            flow[[0, -1]] = ends[k]
            o = path_outcomes(t, Q[k], math.sqrt(max(V[k, -1], 0.0)), flow, self.eta,
                              costs[k], None, std_initial=math.sqrt(max(V[k, 0], 0.0)),
                              log_ratio_terminal=log_ratios[k])
            per_type[ty.name] = {key: o[key] for key in TYPE_OUTCOME_KEYS}
        # the crowd's mean stays the density's: with opposite positions it is a difference of the types' paths, whose
        # relative errors it amplifies (opposite-positions set: half-life -2.6% from the mean paths, +1.0% from the
        # density; docs/mfg.md, section 9)
        crowd_Q = w @ density_Q
        second = w @ (V + density_Q * density_Q)
        crowd_flow, price = self.mean_flow.copy(), self.price
        crowd_flow[[0, -1]] = w @ ends
        if price is not None:
            price = price.copy()
            price[[0, -1]] = end_prices
        crowd = path_outcomes(t, crowd_Q, math.sqrt(max(second[-1] - crowd_Q[-1] ** 2, 0.0)), crowd_flow,
                              self.eta, float(w @ costs), price,
                              std_initial=math.sqrt(max(second[0] - crowd_Q[0] ** 2, 0.0)))
        crowd["mean_flow_abs_max"] = float(np.max(np.abs(self.mean_flow)))
        return {"crowd": crowd, "types": per_type}

    def outcomes(self) -> dict[str, Any]:
        """Reported outcomes: the crowd's keys at the top level and ``types: {name: {weight, ...}}``; the
        time-extrapolated values of the accuracy record when the errors were estimated, else :meth:`grid_outcomes`."""
        reported = (self.accuracy or {}).get("outcomes") or self.grid_outcomes()
        return {**reported["crowd"],
                "types": {ty.name: {"weight": ty.weight, **reported["types"][ty.name]} for ty in self.types}}

    def outcome_errors(self) -> dict[str, Any] | None:
        """Estimated errors in the shape of :meth:`outcomes` (without weights), or None when not estimated."""
        errors = (self.accuracy or {}).get("outcome_errors")
        if errors is None:
            return None
        return {**errors["crowd"], "types": dict(errors["types"])}


def moment_map(x: np.ndarray, grid: Grid, types: Sequence[AgentType]) -> np.ndarray:
    r"""Crowd flow ``m`` of the semi-implicit time scheme on the Gaussian (LQ moment) model of each
    type (:func:`mfg_finance.mfg.coupling.lq_moment_map` per type, ``Q_k^0 = m0_mean,k``) for the cost path ``x``."""
    from mfg_finance.mfg.coupling import lq_moment_map

    m = np.zeros_like(x)
    for ty in types:
        _, m_k = lq_moment_map(x, dt=grid.dts, phi=ty.phi, gamma_T=ty.gamma_T, eta0=1.0, eta1=0.0,
                               mean0=ty.m0_mean)
        m += ty.weight * m_k
    return m


def moment_guess(grid: Grid, types: Sequence[AgentType], *, eta0: float, eta1: float) -> np.ndarray | None:
    """Fixed point of ``eta = eta0 + eta1 |m[eta]|`` on the moment model (a few ms); None if not found."""
    if eta1 == 0.0:
        return np.full(grid.nt + 1, eta0)

    def evaluate(x: np.ndarray) -> Evaluation:
        abs_m = np.abs(moment_map(x, grid, types))
        g = 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 4.0 * eta1 * abs_m * x))
        return Evaluation(x, g, float(np.max(np.abs(eta0 + eta1 * abs_m - x)) / np.max(np.abs(x))))

    try:
        return anderson(evaluate, np.full(grid.nt + 1, eta0), tol=1e-12, max_iter=100, damping=0.5,
                        lower=eta0, name="multi-type initial guess").evaluation.x
    except MfgConvergenceError:
        return None


def types_layer(params: Mapping[str, Any], types: Sequence[AgentType], T: float, q: np.ndarray) -> float:
    """Layer scale of the common graded time mesh: the narrowest of the types' :func:`mfg_finance.mfg.grid.mesh_layer`
    (the stiffest type's layer is resolved)."""
    return min(mesh_layer(_type_params(params, ty), T, q) for ty in types)


def types_grid(config: Mapping[str, Any], types: Sequence[AgentType], nodes: np.ndarray | None = None, *,
               layer: float | None = None) -> Grid:
    """The common grid: ``mfg.grid`` graded in time from the narrowest of the types' layers and
    inventory nodes graded for every type's law (or uniform, or the given ``nodes``: a companion solve's)."""
    g, p = config["grid"], config["params"]
    if nodes is None and g.get("inventory_mesh", "uniform") == "graded":
        # each type's envelope alone (its own coupling): for placing nodes a few % is ample, and the
        # crowd's cost path instead spreads the budget thinner (measured: more of the urgent law upwind)
        laws = [(law_envelope(_type_params(p, ty), g["T"]), ty.sigma) for ty in types]
        nodes = inventory_nodes_for_laws(g["x_min"], g["x_max"], g["nx"], laws)
    # graded from the narrowest of the types' layers (mfg.grid.mesh_layer with each type's parameters)
    if layer is None:
        q = np.linspace(g["x_min"], g["x_max"], g["nx"]) if nodes is None else np.asarray(nodes, dtype=float)
        layer = types_layer(p, types, g["T"], q)
    return make_grid(g["x_min"], g["x_max"], g["nx"], g["T"], g["nt"], g.get("time_mesh", "uniform"),
                     layer=layer, max_step_ratio=g.get("max_step_ratio", 1.5), q=nodes)


def solve_types(config: Mapping[str, Any], types: Sequence[Mapping[str, Any]] | None = None, *,
                estimate_errors: bool = True, nodes: np.ndarray | None = None, time_layer: float | None = None,
                eta_start: Callable[[np.ndarray], np.ndarray] | None = None) -> TypesSolution:
    """Solve the multi-type equilibrium of an ``mfg`` config block and a ``types`` list.

    ``estimate_errors``: also solve the three companions of :mod:`mfg_finance.mfg.types_accuracy` and
    attach every outcome's estimated discretisation error (``solution.accuracy``). ``nodes``: inventory
    nodes to use instead of the config's (``grid.nx`` must equal their number); ``eta_start``: callable
    ``t -> eta`` giving the first cost path (the companions start from the fine solve's).

    Raises ConfigError (bad config, naming the key) or MfgConvergenceError (no convergence).
    """
    cfg = validate_config(config)
    p, solver = cfg["params"], cfg["solver"]
    specs = validate_types(types, p)
    for i, ty in enumerate(specs):
        if not cfg["grid"]["x_min"] < ty.m0_mean < cfg["grid"]["x_max"]:
            raise_outside(i, ty, cfg["grid"])
    fit_domain(config, cfg, specs)
    grid = types_grid(cfg, specs, None if nodes is None else np.asarray(nodes, dtype=float), layer=time_layer)
    eta0, eta1 = p["eta0"], p["eta1"]
    w = np.array([t.weight for t in specs])
    widths = grid.weights
    mu0 = [_initial_law(grid.q, k, ty) for k, ty in enumerate(specs)]

    def evaluate(x: np.ndarray) -> Evaluation:
        us, alphas, dens, flows = [], [], [], []
        for ty, m0 in zip(specs, mu0):
            # the deterministic solver's sweep, last interval exact (mfg.terminal_interval)
            u, alpha, mu, flow = sweep_exact_end(x, grid.q, widths, grid.dts, m0, sigma=ty.sigma, phi=ty.phi,
                                                 gamma_T=ty.gamma_T, exact=needs_exact_end(grid.dts, eta0, ty.gamma_T))
            us.append(u), alphas.append(alpha), dens.append(mu)
            flows.append(flow)
        flows = np.array(flows)
        abs_m = np.abs(w @ flows)
        target = eta0 + eta1 * abs_m
        residual = float(np.max(np.abs(target - x)) / np.max(np.abs(x)))
        g = 0.5 * (eta0 + np.sqrt(eta0 * eta0 + 4.0 * eta1 * abs_m * x))
        return Evaluation(x, g, residual, (np.array(us), np.array(alphas), np.array(dens), flows))

    x0 = (moment_guess(grid, specs, eta0=eta0, eta1=eta1) if eta_start is None
          else np.maximum(np.asarray(eta_start(grid.t), dtype=float), eta0))
    if x0 is None:
        try:
            x0 = np.maximum(exact_types(grid.t, specs, T=float(grid.t[-1]), eta0=eta0, eta1=eta1).eta, eta0)
        except MfgConvergenceError:
            x0 = np.full(grid.nt + 1, eta0)
    result = anderson(evaluate, x0, tol=solver["tol"], max_iter=solver["max_iter"],
                      damping=solver["damping"], lower=eta0, name="multi-type newton")
    ev = result.evaluation
    u, alpha, density, flows = ev.state
    for k, ty in enumerate(specs):
        check_type_domain(grid, density[k], cfg, ty, k)
    solution = TypesSolution(grid=grid, types=list(specs), u=u, alpha=alpha, density=density,
                             mean_flow_by_type=flows, eta=np.array(ev.x, dtype=float),
                             residuals=[float(r) for r in result.residuals], iterations=result.iterations,
                             config=cfg)
    if not estimate_errors:
        return solution
    from mfg_finance.mfg.types_accuracy import accuracy_of_types

    return dataclasses.replace(solution, accuracy=accuracy_of_types(solution, solve_types))


def _initial_law(q: np.ndarray, k: int, ty: AgentType) -> np.ndarray:
    """Type ``k``'s initial density on the nodes (:func:`mfg_finance.mfg.grid.initial_density`, exact mass,
    mean and variance); a law the nodes cannot hold is refused naming the type."""
    from mfg_finance.errors import ConfigError

    try:
        return initial_density(q, ty.m0_mean, ty.m0_std)
    except ConfigError as exc:
        raise ConfigError(f"mfg.types[{k}] ({ty.name}): {exc}") from None


def _type_params(params: Mapping[str, Any], ty: AgentType) -> dict:
    return {**params, "sigma": ty.sigma, "phi": ty.phi, "gamma_T": ty.gamma_T, "m0_mean": ty.m0_mean,
            "m0_std": ty.m0_std}


def fit_domain(raw: Mapping[str, Any], cfg: dict, specs: Sequence[AgentType]) -> None:
    """Replace the ``auto`` ends of ``cfg["grid"]`` (validated from the base parameters) by the union of the types' ranges."""
    raw_grid = raw.get("grid") or {}
    auto = {k: raw_grid.get(k, AUTO) == AUTO for k in ("x_min", "x_max")}
    if not any(auto.values()):
        return
    g, p = cfg["grid"], cfg["params"]
    ranges = [auto_domain(m0_mean=ty.m0_mean, m0_std=ty.m0_std, sigma=ty.sigma, T=g["T"], eta0=p["eta0"],
                          eta1=p["eta1"], phi=ty.phi, gamma_T=ty.gamma_T) for ty in specs]
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if all(auto.values()):
        low, high = zero_on_a_node(low, high, g["nx"])
    if auto["x_min"]:
        g["x_min"] = low
    if auto["x_max"]:
        g["x_max"] = high


def check_type_domain(grid: Grid, density: np.ndarray, cfg: Mapping[str, Any], ty: AgentType, k: int) -> None:
    """Raise :class:`MfgDomainError` (naming the type) when type ``k``'s law leaked to the ends of the range."""
    diagnostics = domain_diagnostics(grid.q, grid.dts, density, ty.sigma)
    try:
        check_domain(diagnostics, {"grid": cfg["grid"], "params": _type_params(cfg["params"], ty)})
    except MfgDomainError as exc:
        raise MfgDomainError(f"mfg.types[{k}] ({ty.name}): {exc}", diagnostics) from None


def raise_outside(i: int, ty: AgentType, grid: Mapping[str, float]) -> None:
    from mfg_finance.errors import ConfigError

    raise ConfigError(f"mfg.types[{i}].m0_mean: {ty.m0_mean!r} lies outside the grid "
                      f"({grid['x_min']!r}, {grid['x_max']!r})")
