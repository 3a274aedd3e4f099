r"""Verification of the PDE solver against the exact LQ solution, with a mesh-refinement study.

For each ``(nx, nt)`` of the refinement list the equilibrium is solved on the config's domain,
horizon and time mesh (``grid.time_mesh``: a graded mesh is refined with the same grading law, so
every step halves when ``nt`` doubles) and compared with :mod:`mfg_finance.mfg.exact` at the same
time nodes:

* value ``u`` and feedback ``alpha`` on the central half of the domain
  ``W = [x_min + L/4, x_max - L/4]`` (``L = x_max - x_min``), away from the reflecting boundary;
* mean ``Q``, variance ``V`` of the density and the cost path ``eta``.

The domain is the config's, widened (:func:`verification_domain`) if the exact law comes closer
than ``TAIL_STDS`` = 6 standard deviations to its ends, so that the reflecting boundary does not
change the law being compared. ``m0_mean = 0`` is refused (it switches the coupling off).

Error norm (relative, discrete ``L1(0, T; L_inf(W))``)::

    err(f) = sum_n w_n max_{i in W} |f_num(t_n, q_i) - f_ex(t_n, q_i)|  /  sum_n w_n max_{i in W} |f_ex(t_n, q_i)|

(scalar paths: ``sum_n w_n |err_n| / sum_n w_n |f_ex(t_n)|``), with the weight ``w_n = dt_n`` of the
step starting at node ``n`` (the last node takes the last step; :func:`time_weights`): a Riemann
sum of ``int_0^T``. On a uniform mesh every weight is 1, the plain node sums. The time-integrated
norm is used because the calibrated problems have a terminal boundary layer of width
``eta / gamma_T`` (about 1e-3 trading days) that uniform steps do not resolve: there the pointwise
error is O(1) on a fixed number of steps, so the sup-in-time error converges only once
``dt << eta/gamma_T``, while the integrated error shows first order (pre-asymptotically: the layer
error decays like ``dt ln(tau/dt)/tau``). The graded mesh resolves the layer, and then the
sup-in-time errors (``sup_*``, reported too) converge as well.

Observed order between consecutive meshes: ``p = ln(e_{k-1}/e_k) / ln(dx_{k-1}/dx_k)``; the fitted
order is the least-squares slope of ``ln e`` against ``ln dx``. The scheme is first order in
``dx`` and ``dt`` (upwind, backward Euler), so ``p ~ 1`` is expected when ``dx`` and every
``dt_n`` are refined together. The table's ``dt`` is the largest step, ``dt_min`` the smallest.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.config import validate_config
from mfg_finance.mfg.exact import LQReference, lq_reference
from mfg_finance.mfg.grid import AUTO
from mfg_finance.mfg.solution import MfgSolution
from mfg_finance.mfg.solver import solve

DEFAULT_REFINEMENTS = ((51, 40), (101, 80), (201, 160), (401, 320))
QUANTITIES = ("value", "feedback", "mean", "variance", "eta")
#: The exact law must stay this many standard deviations inside the domain.
TAIL_STDS = 6.0


@dataclass
class VerificationResult:
    """Outcome of :func:`run_verification`.

    ``rows``: one dict per mesh (nx, nt, dx, dt (largest step), dt_min, iterations, ``err_*``,
    ``sup_*``, ``order_*``).
    ``finest`` / ``exact``: the finest solution and the exact reference at its time nodes (figures).
    """

    config: dict[str, Any]
    rows: list[dict[str, Any]]
    fitted_order: dict[str, float]
    finest: MfgSolution
    exact: LQReference
    window: tuple[float, float]
    requested_domain: tuple[float, float] = (math.nan, math.nan)
    wall_time_s: float = field(default=0.0)
    #: name -> rows of :func:`outcome_comparison` (the config's own grid; ``baseline`` and sweep corners)
    outcome_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def domain(self) -> tuple[float, float]:
        """Domain actually used (the requested one, widened if the exact law needed it)."""
        return (self.config["grid"]["x_min"], self.config["grid"]["x_max"])

    @property
    def observed_order(self) -> dict[str, float]:
        """Order between the two finest meshes."""
        return {k: self.rows[-1][f"order_{k}"] for k in QUANTITIES}


def comparison_window(q: np.ndarray) -> np.ndarray:
    """Boolean mask of the central half of the domain, where value and feedback are compared."""
    quarter = 0.25 * (q[-1] - q[0])
    return (q >= q[0] + quarter - 1e-12) & (q <= q[-1] - quarter + 1e-12)


def time_weights(dts: np.ndarray) -> np.ndarray:
    """Quadrature weights (nt+1,) of the time nodes for the ``L1(0, T)`` norms, scaled to ``max = 1``.

    Node ``n < nt`` is weighted by the step that starts at it, ``dt_n`` (the feedback ``alpha^n`` is
    the one in force on that step), the terminal node by the last step. On a uniform mesh every
    weight is exactly 1: the plain node sums of the uniform-only version of this module.
    """
    dts = np.asarray(dts, dtype=float)
    w = np.append(dts, dts[-1])
    return w / dts.max()


def _field_errors(num: np.ndarray, ex: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(L1-in-time of sup-in-space, sup) relative errors of a (nt+1, nw) field; ``w``: time weights."""
    err = np.abs(num - ex).max(axis=1)
    size = np.abs(ex).max(axis=1)
    return _ratio(np.sum(w * err), np.sum(w * size)), _ratio(err.max(), size.max())


def _path_errors(num: np.ndarray, ex: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    err = np.abs(num - ex)
    return _ratio(np.sum(w * err), np.sum(w * np.abs(ex))), _ratio(err.max(), np.abs(ex).max())


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0.0 else float(a)


def solution_errors(solution: MfgSolution, exact: LQReference) -> dict[str, float]:
    """Relative errors ``err_<quantity>`` (integrated norm) and ``sup_<quantity>`` of one solve."""
    q = solution.q
    w = comparison_window(q)
    tw = time_weights(solution.time_steps)
    pairs = {
        "value": _field_errors(solution.u[:, w], exact.value(q[w]), tw),
        "feedback": _field_errors(solution.alpha[:, w], exact.feedback(q[w]), tw),
        "mean": _path_errors(solution.mean_inventory, exact.mean, tw),
        "variance": _path_errors(solution.inventory_std ** 2, exact.variance, tw),
        "eta": _path_errors(solution.eta, exact.eta, tw),
    }
    out: dict[str, float] = {}
    for name, (integrated, sup) in pairs.items():
        out[f"err_{name}"] = integrated
        out[f"sup_{name}"] = sup
    return out


def observed_order(e_coarse: float, e_fine: float, h_coarse: float, h_fine: float) -> float:
    """``ln(e_coarse / e_fine) / ln(h_coarse / h_fine)``; NaN when an error is zero (exact) or ``h`` is unchanged."""
    if not (e_coarse > 0.0 and e_fine > 0.0) or h_coarse == h_fine:
        return math.nan
    return math.log(e_coarse / e_fine) / math.log(h_coarse / h_fine)


def fitted_order(errors: Sequence[float], h: Sequence[float]) -> float:
    """Least-squares slope of ``ln(error)`` against ``ln(h)`` (NaN if an error is zero or ``h`` never changes)."""
    e = np.asarray(errors, dtype=float)
    h = np.asarray(h, dtype=float)
    if e.size < 2 or not np.all(e > 0.0) or np.all(h == h[0]):
        return math.nan
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])


def check_verifiable(config: Mapping[str, Any]) -> None:
    """Refuse a set-up where the comparison would not test the coupling (ConfigError)."""
    if config["params"]["m0_mean"] == 0.0:
        raise ConfigError("mfg.params.m0_mean: verification needs m0_mean != 0 (a symmetric initial "
                          "law gives m_t = 0 and switches the coupling off)")


def verification_domain(config: Mapping[str, Any], exact: LQReference) -> tuple[float, float]:
    """The config's domain, widened if needed so the exact law stays ``TAIL_STDS`` std inside it.

    The reflecting boundary would otherwise change the law the PDE is compared with. A widened
    domain keeps its centre side fixed and adds a 10% margin beyond the band.
    """
    g = config["grid"]
    std = np.sqrt(np.maximum(exact.variance, 0.0))
    low = float(np.min(exact.mean - TAIL_STDS * std))
    high = float(np.max(exact.mean + TAIL_STDS * std))
    margin = 0.1 * (high - low)
    x_min = g["x_min"] if g["x_min"] <= low else low - margin
    x_max = g["x_max"] if g["x_max"] >= high else high + margin
    return float(x_min), float(x_max)


def with_price(price: Mapping[str, Any] | None) -> dict[str, Any]:
    """The price block of the outcome comparison: the given one enabled when it has ``kappa`` and ``p_ref`` (e.g. the
    calibrated ones of the ``endogenous_price`` scenario: the price does not enter the traders' problem, so the
    equilibrium is the same and the comparison gains the price impact), else disabled."""
    price = dict(price or {})
    if all(isinstance(price.get(k), (int, float)) and math.isfinite(price[k]) for k in ("kappa", "p_ref")):
        return {**price, "enabled": True}
    return {"enabled": False}


def outcome_comparison(config: Mapping[str, Any], price: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each headline outcome at the config's own grid: computed, estimated error, exact, true error.

    Rows ``{outcome, computed, error_estimate, exact, true_error, estimate_over_true, unresolved}``
    (``true_error = computed - exact``; NaN where an outcome is undefined). The price impact is compared when
    ``price`` has ``kappa`` and ``p_ref`` (:func:`with_price`); the price is disabled otherwise.
    """
    from mfg_finance.mfg.exact import exact_outcomes
    from mfg_finance.mfg.outcomes import HEADLINE

    cfg = copy.deepcopy(dict(config))
    cfg["price"] = with_price(price)
    solution = solve(cfg)
    computed = solution.outcomes()
    exact = exact_outcomes(solution.config)
    accuracy = solution.accuracy or {}
    estimates = accuracy.get("outcome_errors") or {}
    unresolved = set(accuracy.get("unresolved") or [])
    rows = []
    for key in HEADLINE:
        if computed.get(key) is None:
            continue
        value, ref, est = computed[key], exact[key], estimates.get(key)
        est = math.nan if est is None else float(est)
        true = value - ref if (ref is not None and math.isfinite(value) and math.isfinite(ref)) else math.nan
        rows.append({"outcome": key, "computed": value, "error_estimate": est,
                     "exact": math.nan if ref is None else ref, "true_error": true,
                     "estimate_over_true": abs(est) / abs(true) if true and math.isfinite(est) else math.nan,
                     "unresolved": key in unresolved})
    return rows


def run_verification(config: Mapping[str, Any],
                     refinements: Sequence[Sequence[int]] = DEFAULT_REFINEMENTS,
                     corners: Mapping[str, Mapping[str, float]] | None = None) -> VerificationResult:
    """Solve on each ``(nx, nt)`` of ``refinements`` and compare with the exact LQ solution.

    Parameters
    ----------
    config : ``mfg`` config block (grid sizes are replaced by each refinement; price disabled).
    refinements : ``(nx, nt)`` pairs, coarse to fine, at least two.
    corners : name -> parameter overrides (e.g. a sweep's corner) whose outcomes are compared with
        the exact ones at the config's own grid, beside the config itself (``baseline``).

    Returns
    -------
    VerificationResult with the refinement table and observed / fitted orders.
    """
    start = time.perf_counter()
    pairs = [tuple(int(v) for v in r) for r in refinements]
    if len(pairs) < 2:
        raise ConfigError(f"mfg.verification.refinements: need at least two (nx, nt) pairs, got {pairs}")
    raw = copy.deepcopy(dict(config))
    raw["price"] = {"enabled": False}
    raw_grid = dict(raw.get("grid") or {})
    # validate on the automatic range first: the requested one may be too narrow for the initial law,
    # which is what the widening below is for
    probe = copy.deepcopy(raw)
    probe["grid"] = {**raw_grid, "x_min": AUTO, "x_max": AUTO}
    base = validate_config(probe)
    check_verifiable(base)
    requested = tuple(base["grid"][k] if raw_grid.get(k, AUTO) == AUTO else float(raw_grid[k])
                      for k in ("x_min", "x_max"))
    base["grid"].update(x_min=requested[0], x_max=requested[1])
    x_min, x_max = verification_domain(base, lq_reference(base))
    base["grid"].update(x_min=x_min, x_max=x_max)
    rows: list[dict[str, Any]] = []
    solution = exact = None
    for k, (nx, nt) in enumerate(pairs):
        cfg = copy.deepcopy(base)
        cfg["grid"].update(nx=nx, nt=nt)
        cfg = validate_config(cfg)
        solution = solve(cfg)
        exact = lq_reference(solution.config, solution.t)
        # nominal spacing (x_max - x_min) / (nx - 1): the graded mesh's map is fixed, so it halves with it
        nominal = float(solution.q[-1] - solution.q[0]) / (nx - 1)
        row: dict[str, Any] = {"nx": nx, "nt": nt, "dx": nominal, "dx_max": solution.dx, "dt": solution.dt,
                               "dt_min": float(solution.time_steps.min()),
                               "iterations": solution.iterations}
        row.update(solution_errors(solution, exact))
        for name in QUANTITIES:
            row[f"order_{name}"] = (math.nan if k == 0 else
                                    observed_order(rows[-1][f"err_{name}"], row[f"err_{name}"],
                                                   rows[-1]["dx"], row["dx"]))
        rows.append(row)
    fitted = {name: fitted_order([r[f"err_{name}"] for r in rows], [r["dx"] for r in rows])
              for name in QUANTITIES}
    q = solution.q
    w = comparison_window(q)
    own = copy.deepcopy(raw)
    if (x_min, x_max) != requested:    # the requested range is too narrow for the law: use the widened one
        own["grid"] = {**raw_grid, "x_min": x_min, "x_max": x_max}
    # the config's price (calibrated kappa, p_ref): the tables include the price impact
    price = dict(config.get("price") or {})
    tables = {"baseline": outcome_comparison(own, price)}
    for name, overrides in (corners or {}).items():
        corner = copy.deepcopy(own)
        corner["params"] = {**dict(corner.get("params") or {}), **{k: float(v) for k, v in overrides.items()}}
        tables[name] = outcome_comparison(corner, price)
    return VerificationResult(config=base, rows=rows, fitted_order=fitted, finest=solution, exact=exact,
                              window=(float(q[w][0]), float(q[w][-1])),
                              requested_domain=(float(requested[0]), float(requested[1])),
                              wall_time_s=time.perf_counter() - start, outcome_tables=tables)


REFINEMENT_COLUMNS = (["nx", "nt", "dx", "dt", "dt_min", "iterations"] + [f"err_{k}" for k in QUANTITIES]
                      + [f"order_{k}" for k in QUANTITIES] + [f"sup_{k}" for k in QUANTITIES])


def refinement_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The refinement table as CSV text (fixed columns, ``repr``-exact floats, empty for NaN)."""
    lines = [",".join(REFINEMENT_COLUMNS)]
    for row in rows:
        cells = []
        for col in REFINEMENT_COLUMNS:
            v = row[col]
            if isinstance(v, float):
                cells.append("" if math.isnan(v) else repr(v))
            else:
                cells.append(str(v))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def verification_metrics(result: VerificationResult, *, wall_time: bool = True) -> dict[str, Any]:
    """Content of the verification ``metrics.json``; ``wall_time_s`` (seconds) unless ``wall_time`` is False."""
    metrics = {
        "norm": "relative L1(0,T; Linf(window)) for value/feedback, relative L1(0,T) for paths",
        "window": list(result.window),
        "domain": list(result.domain),
        "requested_domain": list(result.requested_domain),
        "domain_widened": tuple(result.domain) != tuple(result.requested_domain),
        "refinements": [dict(r) for r in result.rows],
        "observed_order": result.observed_order,
        "fitted_order": result.fitted_order,
        "expected_order": 1.0,
        "exact_reference": "closed form" if (result.config["params"]["eta1"] == 0.0) else
                           "backward shooting (DOP853, rtol 1e-12)",
        "config": result.config,
        # headline outcomes at the config's grid vs the exact ones (baseline and sweep corners)
        "outcome_tables": result.outcome_tables,
    }
    if wall_time:
        metrics["wall_time_s"] = float(result.wall_time_s)
    return metrics


def write_verification(result: VerificationResult, out_dir: str | Path, *, figures: bool = True,
                       wall_time: bool = True) -> None:
    """Write ``metrics.json``, ``refinement.csv``, ``exact_comparison.png``, ``convergence_order.png``.

    ``wall_time=False`` leaves the measured wall time out of ``metrics.json`` (byte-identical reruns).
    """
    from mfg_finance.io import write_json, write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "refinement.csv", refinement_csv(result.rows))
    if figures:
        from mfg_finance.report.figures import mfg as figs

        figs.plot_exact_comparison(result.finest, result.exact, out / "exact_comparison.png",
                                   window=result.window)
        figs.plot_convergence_order(result.rows, out / "convergence_order.png")
    write_json(out / "metrics.json", verification_metrics(result, wall_time=wall_time))
