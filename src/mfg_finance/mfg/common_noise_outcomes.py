r"""Outcomes of the common-noise paths with their discretisation error and Monte Carlo standard error.

The outcomes (units of :mod:`mfg_finance.mfg.outcomes`) are functionals of the mean paths over the simulated
common-noise paths (:mod:`mfg_finance.mfg.common_noise_paths`): ``E[Q_t]`` (liquidation speed
``-ln(E[Q_T] / Q_0) / T``, half-life, ``E[Q_T]``), ``E[m_t]`` (initial, terminal, largest ``|.|``),
``E[eta_t]`` (min, max, time average), ``E[p_t]`` (initial, terminal, ``E[p_T - p_0]``), plus
``eta_max_per_path = E[max_t eta_t]`` (the peak cost a market-wide shock brings, on average).

**Discretisation error.** Every outcome is computed on the five grids of
:func:`mfg_finance.mfg.common_noise.solve_with_estimate` -- time companions (every other and every fourth time
node, same ``Q`` nodes) and space companions (every other and every fourth ``Q`` node, same time nodes) -- from
paths driven by the *same* Brownian path: the fine grid's normals on the space companions, two fine steps'
normals summed into one coarse increment on the time companions
(:func:`mfg_finance.mfg.common_noise_dispersion.coarse_normals`). The grids' differences are then
discretisation, not sampling (the Monte Carlo noise cancels to the companions' difference times the noise).
Both the ``(t, Q)`` solve and the paths' linearly implicit step are first order in time, and the time
companions carry both. Each outcome is then treated as the expected cost
(:func:`mfg_finance.mfg.common_noise.extrapolated_cost`): extrapolated in time (Richardson, ``R = 2 O_h - O_2h``,
``R2 = 2 O_2h - O_4h``) when its time sequence is asymptotic (``|R - R2| <= |O_h - O_2h|``), with the time part
``|R - R2| / 3``, else the fine grid's value with the first-order time part; the space part is first order; the
bound is ``1.25 (time + space)``. No estimate (``None``) when a grid's value is undefined (a mean inventory that
crosses zero on a coarse companion has no speed): then, as when the estimate is at least half the value, the
outcome is ``unresolved``. A first-order part is ``max(d_h, d_2h / 2) / (2^p - 1)`` (``d`` the
companions' differences, ``p`` the observed order clipped to ``[0.5, 1]``): a fine difference far below half
the coarse one is a crossing, not convergence. ``unresolved``: the estimate is at least half the value.

**Two types** (the crowd's and each type's outcomes; :func:`estimate_outcome` with ``check_orders``): the observed
orders of each sequence are checked instead of clipped. Inside the asymptotic range (``>= 0.5``; terminal means and
flows on ``ln |O|``, :data:`LOG_KEYS`; sequences monotone) the first-order parts take the formal order 1; outside
it the outcome is ``unresolved`` (unless its estimate is below 2% of it) with the clipped estimate widened to the
five grids' spread and the sequences' total variation.
On the mild two-type grid that puts every estimate within 1.2-2.5 times its true error (0.7-0.8 observed orders
put them at up to 3.8); the stiff one's terminal means and flows, 34-112% off, are flagged (the urgent ``m_T``
was not, docs/mfg.md section 8).

Why extrapolate. At ``sigma0 = 0`` the fine grid's path is first-order accurate only: on the stiff baseline
(``(320, 201)``) ``a(t, Q)`` along the path is up to 5% above the exact ``h2`` mid-horizon (the Riccati step's
first-order time error, which the coupling amplifies: a larger ``a`` gives a faster flow, a smaller ``|Q|``, a
cheaper ``eta`` and a larger ``k = a / eta``), so ``Q_T`` came out 13% low and the speed 2% high, where the
deterministic solver reports extrapolated outcomes within 0.3% (docs/mfg.md, section 8).

**Monte Carlo SE** of each outcome, on the fine grid's paths (the extrapolated value's differs from it by the
companions' difference, which is discretisation): the sample SE of a mean (``E[Q_T]``, ``E[m_T]``,
``E[p_T]``, ``E[p_T - p_0]``, the time average of ``eta``, ``E[max eta]``) and, by the delta method, of a
functional of the mean path: the speed ``SE(E[Q_T]) / (T |E[Q_T]|)``; the half-life ``t*``
``SE(E[Q_t*]) / |d E[Q_t] / dt|`` at ``t*``; the extremes of ``E[m_t]``, ``E[eta_t]`` the SE at their node.
Deterministic outcomes (``Q_0``, ``m_0``, ``p_0``: the paths start together) have SE 0.

**Speed read from a mean within the noise** (:func:`mean_within_noise`): the speed ``-ln(E[Q_T] / Q_0) / T`` of
a mean whose sign is not resolved (``|E[Q_T]| <= 2 SE``) has no meaningful value or SE (the delta method assumes
a small relative SE): it is ``unresolved`` (the crowd's and each type's), the rule the report's tables and summary
and the sweep figures use too (real data, ``sigma0 = 1.19``: ``E[Q_T] = 0.0021``, SE ``0.0011``, speed 10.9
against 13.6 without common noise, while the half-life of the same paths is unchanged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from mfg_finance.mfg.accuracy import UNRESOLVED_RELATIVE
from mfg_finance.mfg.common_noise import FORMAL_ORDER, MIN_ORDER, ROUNDOFF, SAFETY, _order
from mfg_finance.mfg.common_noise_paths import CommonNoisePaths, simulate_paths
from mfg_finance.mfg.outcomes import half_life, liquidation_speed, time_average

#: The estimated outcomes, in order (keys of :data:`mfg_finance.sweeps.OUTCOME_COLUMNS` where they share one).
KEYS = ("liquidation_speed", "liquidation_half_life", "mean_inventory_initial", "mean_inventory_terminal",
        "mean_flow_initial", "mean_flow_terminal", "mean_flow_abs_max", "eta_min", "eta_max", "eta_mean",
        "eta_max_per_path", "price_initial", "price_terminal", "price_impact")
GRIDS = ("fine", "coarse", "coarser", "space", "spacer")
#: Outcomes whose observed orders are taken on a log scale with two types (:func:`estimate_outcome`): terminal
#: means and flows, ``exp(-int k dt)`` times a start (the urgent type's ``Q_T`` is 4e-6 of its start on the stiff
#: grid).
LOG_KEYS = ("mean_inventory_terminal", "mean_flow_terminal")
#: An outcome whose observed orders are out of the asymptotic range (two types, :func:`estimate_outcome`) is still
#: resolved when its widened estimate is below this fraction of it (the grids agree to 2%, the accuracy a
#: resolved outcome is held to): the real-data-like crowd half-life, five grids within 0.4%, whose time sequence
#: turns (``0.14427``, ``0.14368``, ``0.14389`` days on 320, 160, 80 steps).
OUT_OF_RANGE_RELATIVE = 0.02
#: Each type's estimated outcomes (two types under common noise): functionals of its own mean path ``E[Q_k,t]``
#: and flow ``E[m_k,t]``, computed by the crowd's rules from the same five grids' paths.
TYPE_KEYS = ("liquidation_speed", "liquidation_half_life", "mean_inventory_terminal", "mean_flow_initial",
             "mean_flow_terminal", "mean_flow_abs_max")


@dataclass(frozen=True)
class _TypePaths:
    """One type's view of two-type paths, shaped as :class:`CommonNoisePaths` (its ``Q``, ``m``; the crowd's
    ``eta``; no price) so that :func:`outcome_values` and :func:`outcome_ses` apply unchanged."""

    t: np.ndarray
    Q: np.ndarray
    m: np.ndarray
    eta: np.ndarray
    price: None = None


def type_paths(paths, k: int) -> _TypePaths:
    """Type ``k``'s view of :class:`~mfg_finance.mfg.types_common_noise_paths.TypesCommonNoisePaths`."""
    return _TypePaths(t=paths.t, Q=paths.Q_by_type[k], m=paths.m_by_type[k], eta=paths.eta)


#: A Monte Carlo mean within this many of its SEs of zero has no resolved sign (:func:`mean_within_noise`).
SIGN_RESOLVED_SES = 2.0


def mean_within_noise(mean, se) -> bool:
    """True when a Monte Carlo mean is within :data:`SIGN_RESOLVED_SES` of its SEs of zero (``se > 0``, both
    finite): its sign is not resolved, so the log of it (the speed of the mean path) has no meaningful value or
    SE (the delta method's ``SE / (T E[Q_T])`` assumes a small relative SE)."""
    if mean is None or se is None:
        return False
    mean, se = float(mean), float(se)
    return math.isfinite(mean) and math.isfinite(se) and se > 0.0 and abs(mean) <= SIGN_RESOLVED_SES * se


def _se_of_mean(x: np.ndarray) -> float:
    """Sample SE of the mean; 0 for identical values (``sigma0 = 0``: the std's round-off is no sampling error)."""
    if x.size < 2 or float(np.ptp(x)) == 0.0:
        return 0.0
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


def outcome_values(paths: CommonNoisePaths) -> dict[str, float | None]:
    """The outcomes of :data:`KEYS` from one grid's paths (``None``: no price; NaN: undefined, e.g. a mean
    inventory that never halves)."""
    t = paths.t
    Q, m, eta = paths.Q.mean(axis=0), paths.m.mean(axis=0), paths.eta.mean(axis=0)
    out: dict[str, float | None] = {
        "liquidation_speed": liquidation_speed(t, Q) if Q[0] != 0.0 else math.nan,
        "liquidation_half_life": half_life(t, Q),
        "mean_inventory_initial": float(Q[0]), "mean_inventory_terminal": float(Q[-1]),
        "mean_flow_initial": float(m[0]), "mean_flow_terminal": float(m[-1]),
        "mean_flow_abs_max": float(np.max(np.abs(m))),
        "eta_min": float(np.min(eta)), "eta_max": float(np.max(eta)), "eta_mean": time_average(t, eta),
        "eta_max_per_path": float(np.mean(paths.eta.max(axis=1))),
        "price_initial": None, "price_terminal": None, "price_impact": None}
    if paths.price is not None:
        p = paths.price.mean(axis=0)
        out.update(price_initial=float(p[0]), price_terminal=float(p[-1]),
                   price_impact=float(np.mean(paths.price[:, -1] - paths.price[:, 0])))
    return out


def _half_life_se(paths: CommonNoisePaths, t_half: float) -> float | None:
    if not math.isfinite(t_half):
        return None
    t = paths.t
    i = int(np.clip(np.searchsorted(t, t_half), 1, t.size - 1))
    w = (t_half - t[i - 1]) / (t[i] - t[i - 1])
    at = (1.0 - w) * paths.Q[:, i - 1] + w * paths.Q[:, i]
    slope = abs(float(np.mean(paths.Q[:, i] - paths.Q[:, i - 1])) / (t[i] - t[i - 1]))
    return _se_of_mean(at) / slope if slope > 0.0 else None


def outcome_ses(paths: CommonNoisePaths, values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Monte Carlo SE of each outcome of :func:`outcome_values` (module docstring); ``None`` where undefined."""
    t = paths.t
    QT, T = paths.Q[:, -1], float(t[-1] - t[0])
    m, eta = paths.m.mean(axis=0), paths.eta.mean(axis=0)
    speed = values["liquidation_speed"]
    out: dict[str, float | None] = {
        "liquidation_speed": _se_of_mean(QT) / (T * abs(float(QT.mean())))
        if speed is not None and math.isfinite(speed) else None,
        "liquidation_half_life": _half_life_se(paths, float(values["liquidation_half_life"])),
        "mean_inventory_initial": 0.0, "mean_inventory_terminal": _se_of_mean(QT),
        "mean_flow_initial": _se_of_mean(paths.m[:, 0]), "mean_flow_terminal": _se_of_mean(paths.m[:, -1]),
        "mean_flow_abs_max": _se_of_mean(paths.m[:, int(np.argmax(np.abs(m)))]),
        "eta_min": _se_of_mean(paths.eta[:, int(np.argmin(eta))]),
        "eta_max": _se_of_mean(paths.eta[:, int(np.argmax(eta))]),
        "eta_mean": _se_of_mean(np.trapezoid(paths.eta, t, axis=1) / T),
        "eta_max_per_path": _se_of_mean(paths.eta.max(axis=1)),
        "price_initial": None, "price_terminal": None, "price_impact": None}
    if paths.price is not None:
        out.update(price_initial=_se_of_mean(paths.price[:, 0]), price_terminal=_se_of_mean(paths.price[:, -1]),
                   price_impact=_se_of_mean(paths.price[:, -1] - paths.price[:, 0]))
    return out


@dataclass(frozen=True)
class PathOutcomes:
    """Outcomes of the common-noise paths: ``values`` (time-extrapolated where asymptotic), their
    discretisation ``errors`` and Monte Carlo ``se`` (``None`` where undefined), per outcome the ``detail``
    of the estimate (``extrapolated``, ``error_time``, ``error_space``, the five grids' values),
    ``unresolved`` outcomes, and the fine grid's ``paths`` (fan charts). Two types: ``types`` holds each type's
    :data:`TYPE_KEYS` the same way (``{index: PathOutcomes}`` with the type's own view of the paths), else empty."""

    values: dict[str, float | None]
    errors: dict[str, float | None]
    se: dict[str, float | None]
    detail: dict[str, dict[str, Any]]
    unresolved: list[str]
    paths: Any
    types: dict[int, "PathOutcomes"] = field(default_factory=dict)
    keys: tuple[str, ...] = KEYS
    #: per grid of :data:`GRIDS`, the paths' terminal ``(Q_T, V_T)`` (one type: each (n_paths,); two types: each
    #: (2, n_paths)), for the terminal dispersion (:mod:`mfg_finance.mfg.common_noise_dispersion`) without
    #: simulating the same paths again
    terminal: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: ``{key: {"value", "error", "se", "extrapolated", "error_time", "error_space",
        "grid_values"}}``."""
        return {key: {"value": self.values[key], "error": self.errors[key], "se": self.se[key],
                      **self.detail.get(key, {})} for key in self.keys}


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _first_order_part(d_fine: float, d_coarse: float, order: float | None = None) -> float:
    """First-order estimate ``max(d_h, d_2h / 2) / (2^p - 1)`` from a direction's two differences
    ``d_h = |O_h - O_2h|``, ``d_2h = |O_2h - O_4h|`` (``p`` the given order, else the observed one clipped to
    ``[0.5, 1]``). ``d_2h / 2`` is what ``d_h`` would be at first order: a sequence that seems to converge faster
    has its companions on either side of a crossing (the stiff baseline's half-life: ``d_h`` 3e-6 against ``d_2h``
    4e-4, true error 2e-4)."""
    p = _order(d_fine, d_coarse) if order is None else order
    return max(d_fine, d_coarse / 2.0 ** FORMAL_ORDER) / (2.0 ** p - 1.0)


def observed_order(d_fine: float, d_coarse: float, scale: float) -> float | None:
    """``log2(d_2h / d_h)``, unclipped; ``None`` (undefined) when either difference is round-off of ``scale``."""
    floor = ROUNDOFF * abs(scale)
    if not (d_fine > floor and d_coarse > floor):
        return None
    return math.log2(d_coarse / d_fine)


def estimate_outcome(grid_values: Mapping[str, float | None], *, check_orders: bool = False,
                     log_orders: bool = False) -> dict[str, Any]:
    """One outcome from its five grids' values (:data:`GRIDS`): ``value`` (time-extrapolated when asymptotic),
    ``error`` (``None`` when a grid's value is undefined), ``extrapolated``, the bound's ``error_time`` and
    ``error_space`` and the ``grid_values``. The rules of :func:`mfg_finance.mfg.common_noise.extrapolated_cost`
    for one quantity, the first-order parts guarded against crossings (:func:`_first_order_part`).

    ``check_orders`` (two types, docs/mfg.md section 8): the observed orders ``log2(d_2h / d_h)`` in time and in
    space (``observed_orders``) are checked against the asymptotic range ``>= 0.5``
    (:data:`mfg_finance.mfg.common_noise.MIN_ORDER`). In it the first-order parts take the scheme's formal order 1:
    an observed order between 0.5 and 1 is the coarse companions' pre-asymptotic excess (mild two-type grid: the
    fine grid's space error 0.7 of ``d_h`` where ``d_2h / d_h`` says order 0.7, and 1.8 measured from 2 and 4 times
    finer grids). Outside it (``out_of_range``: an order below 0.5, or a sequence that is not monotone, the fine
    grid's companions on either side of it) the outcome is not resolved: its estimate is the one of the order
    clipped to ``[0.5, 1]``, widened to the largest distance between the value and the five grids' values and to
    1.25 times the sum of the four differences (a non-monotone sequence brackets nothing: with ``eta1 = 0``,
    ``sigma0 = 0`` the mild urgent speed is -0.18%, -0.59%, -0.44% off on 20, 40, 80 steps)
    (:func:`_estimated` flags it unresolved where that is at least :data:`OUT_OF_RANGE_RELATIVE` of the value).
    ``log_orders``: the orders observed on ``ln |O|`` (terminal means and flows, ``exp(-int k dt)`` times a start,
    whose relative error is the exponent's: on the linear scale the exponential's curvature makes a sequence of
    factors look asymptotic, the stiff grid's urgent ``m_T`` 84% off at order 0.505); a sign change among the
    grids' values is out of range. Without ``check_orders`` the order is clipped to ``[0.5, 1]`` (one type)."""
    values = [grid_values[g] for g in GRIDS]
    if not all(_finite(v) for v in values):
        return {"value": values[0], "error": None, "extrapolated": False, "error_time": None, "error_space": None,
                "grid_values": dict(grid_values)}
    values = [float(v) for v in values]
    f, c, cc, x, xx = values
    rich, rich2 = 2.0 * f - c, 2.0 * c - cc
    asymptotic = abs(rich - rich2) <= abs(f - c) or abs(rich - rich2) <= ROUNDOFF * abs(f)
    orders, out_of_range = _orders(values, log_orders) if check_orders else ({}, False)
    formal = FORMAL_ORDER if check_orders and not out_of_range else None
    if asymptotic:
        value, time_part = rich, abs(rich - rich2) / 3.0
    else:
        value, time_part = f, _first_order_part(abs(f - c), abs(c - cc), formal)
    space_part = _first_order_part(abs(f - x), abs(x - xx), formal)
    error = SAFETY * (time_part + space_part)
    if out_of_range:       # the grids bracket nothing: their spread, and the sequences' total variation
        variation = abs(f - c) + abs(c - cc) + abs(f - x) + abs(x - xx)
        error = max(error, max(abs(value - v) for v in values), SAFETY * variation)
    out = {"value": value, "error": error, "extrapolated": asymptotic, "error_time": SAFETY * time_part,
           "error_space": SAFETY * space_part, "grid_values": dict(grid_values)}
    if check_orders:
        out.update(observed_orders=orders, out_of_range=out_of_range)
    return out


def _orders(values: list[float], log: bool) -> tuple[dict[str, float | None], bool]:
    """Observed orders ``{"time", "space"}`` of the five grids' values (on ``ln |O|`` when ``log``) and whether
    a sequence is out of the asymptotic range (:func:`estimate_outcome`): an order below it, or not monotone."""
    if log:
        if any(v == 0.0 for v in values) or len({math.copysign(1.0, v) for v in values}) > 1:
            return {"time": None, "space": None}, True
        values = [math.log(abs(v)) for v in values]
    f, c, cc, x, xx = values
    orders = {"time": observed_order(abs(f - c), abs(c - cc), f), "space": observed_order(abs(f - x), abs(x - xx), f)}
    turning = any(p is not None and (a - b) * (b - d) < 0.0 for p, (a, b, d) in
                  zip(orders.values(), ((f, c, cc), (f, x, xx))))
    return orders, turning or any(p is not None and p < MIN_ORDER for p in orders.values())


def path_outcomes_with_estimate(estimate, *, n_paths: int, seed: int, price: dict | None = None,
                                simulate=simulate_paths) -> PathOutcomes:
    """The outcomes of ``n_paths`` seeded common-noise paths with their discretisation and Monte Carlo errors,
    from a :class:`~mfg_finance.mfg.common_noise.SolutionWithEstimate` (its five grids driven by the same
    Brownian path; the fine grid's paths are those of ``simulate(estimate.fine, n_paths, seed)``). Two types
    (:class:`~mfg_finance.mfg.types_common_noise.TypesCommonNoiseEstimate`): ``simulate`` the two-type paths'
    (:func:`mfg_finance.mfg.types_common_noise_paths.simulate_paths`), the outcomes the crowd's and, in
    ``types``, each type's :data:`TYPE_KEYS` by the same rules from its own mean path and flow.

    Raises MfgConvergenceError if the companions' time nodes are not nested
    (:func:`mfg_finance.mfg.common_noise_dispersion.grids_and_normals`)."""
    from mfg_finance.mfg.common_noise_dispersion import grids_and_normals

    _, (z, z_coarse, z_coarser) = grids_and_normals(estimate, n_paths=n_paths, seed=seed)
    normals = {"fine": z, "coarse": z_coarse, "coarser": z_coarser, "space": z, "spacer": z}
    per_grid, per_type, terminal, fine_paths = {}, {}, {}, None
    for name in GRIDS:
        paths = simulate(getattr(estimate, name), n_paths=n_paths, seed=seed, price=price, normals=normals[name])
        per_grid[name] = outcome_values(paths)
        terminal[name] = terminal_state(paths)
        for k in range(getattr(paths, "Q_by_type", np.empty(0)).shape[0]):
            per_type.setdefault(k, {})[name] = outcome_values(type_paths(paths, k))
        if name == "fine":
            fine_paths = paths
        del paths                                   # one grid's paths at a time (2000 x nt+1 per field)
    two_types = bool(per_type)
    types = {k: _estimated(grids, type_paths(fine_paths, k), TYPE_KEYS, two_types=True)
             for k, grids in per_type.items()}
    out = _estimated(per_grid, fine_paths, KEYS, types, two_types=two_types)
    out.terminal.update(terminal)
    return out


def terminal_state(paths) -> tuple[np.ndarray, np.ndarray]:
    """``(Q_T, V_T)`` of one grid's paths: each (n_paths,) for one type, (2, n_paths) for two."""
    if hasattr(paths, "Q_by_type"):
        return paths.Q_by_type[:, :, -1].copy(), paths.V_T_by_type
    return paths.Q[:, -1].copy(), paths.V_T


def _estimated(per_grid: Mapping[str, Mapping[str, float | None]], fine_paths, keys: tuple[str, ...],
               types: dict[int, PathOutcomes] | None = None, *, two_types: bool = False) -> PathOutcomes:
    """:class:`PathOutcomes` of ``keys`` from each grid's outcome values and the fine grid's paths (SEs).

    ``two_types``: the two-type rules of :func:`estimate_outcome` (the observed orders checked, those of the
    terminal means and flows, :data:`LOG_KEYS`, on a log scale; an outcome outside their asymptotic range is
    unresolved unless its widened estimate is below :data:`OUT_OF_RANGE_RELATIVE` of it)."""
    values, errors, detail, unresolved = {}, {}, {}, []
    for key in keys:
        if per_grid["fine"][key] is None:
            values[key] = errors[key] = None
            continue
        est = estimate_outcome({g: per_grid[g][key] for g in GRIDS}, check_orders=two_types,
                               log_orders=key in LOG_KEYS)
        values[key], errors[key] = est["value"], est["error"]
        detail[key] = {k: v for k, v in est.items() if k not in ("value", "error")}
        if _finite(est["value"]) and (not _finite(est["error"])      # a companion's value undefined (e.g. Q_T <= 0)
                                      or (est.get("out_of_range", False)
                                          and est["error"] >= OUT_OF_RANGE_RELATIVE * abs(est["value"]))
                                      or est["error"] >= UNRESOLVED_RELATIVE * abs(est["value"]) > 0.0):
            unresolved.append(key)
    se = {key: v for key, v in outcome_ses(fine_paths, per_grid["fine"]).items() if key in keys}
    speed, terminal = "liquidation_speed", "mean_inventory_terminal"
    if (speed in keys and speed not in unresolved and _finite(values.get(speed))
            and mean_within_noise(per_grid["fine"][terminal], se.get(terminal))):
        unresolved.append(speed)                   # its E[Q_T]'s sign is not resolved (module docstring)
    return PathOutcomes(values=values, errors=errors, se=se, detail=detail, unresolved=unresolved, paths=fine_paths,
                        types=types or {}, keys=keys)
