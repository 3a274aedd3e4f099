"""Every outcome carries an estimated discretisation error, checked against the exact LQ error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_cases import STIFF, make
from mfg_finance.mfg import solve
from mfg_finance.mfg.accuracy import (SpaceRules, combine, companion_config, companion_nodes, companion_plan,
                                      first_order_bracket, fitted_order, flag_unresolved, impact_error,
                                      initial_outcomes, order_fit_error, refined_error, space_extrapolation)
from mfg_finance.mfg.exact import exact_outcomes
from mfg_finance.mfg.outcomes import HEADLINE
from mfg_finance.mfg.outputs import solution_metrics

#: Relative true errors below this (a tenth of the 2% target) are not checked against their estimate.
FLOOR = 2e-3
#: The issue's accuracy target for every resolved headline outcome at the default grid.
TARGET = 0.02


def true_errors(solution):
    """``{key: (reported, exact, estimate)}`` for the headline outcomes defined in both."""
    exact = exact_outcomes(solution.config)
    reported = solution.outcomes()
    estimates = solution.accuracy["outcome_errors"]
    out = {}
    for key in HEADLINE:
        c, e = reported.get(key), exact.get(key)
        if c is None or e is None or not (math.isfinite(c) and math.isfinite(e)) or e == 0.0:
            continue
        out[key] = (c, e, estimates.get(key))
    return out


def assert_estimates_within_factor_3(solution, skip=()):
    """Each resolved headline outcome's estimate is within a factor 3 of its true error (above ``FLOOR``); the keys
    checked."""
    checked = set()
    for key, (c, e, est) in true_errors(solution).items():
        if key in solution.accuracy["unresolved"] or abs(c - e) <= FLOOR * abs(e) or key in skip:
            continue
        assert est is not None and abs(c - e) / 3.0 <= est <= 3.0 * abs(c - e), (key, c, e, est)
        checked.add(key)
    return checked


def assert_within_target(solution, skip=()):
    """Each resolved headline outcome within 2% of exact; an unresolved one's estimate covers its error."""
    for key, (c, e, est) in true_errors(solution).items():
        if key in skip:
            continue
        if key in solution.accuracy["unresolved"]:
            assert est is not None and abs(c - e) <= 3.0 * est, (key, c, e, est)
        else:
            assert abs(c - e) <= TARGET * abs(e), (key, c, e)


def test_metrics_carry_an_error_for_every_outcome(stiff_solution):
    metrics = solution_metrics(stiff_solution, wall_time=False)
    assert metrics["outcome_errors"].keys() == metrics["outcomes"].keys()
    acc = metrics["accuracy"]
    assert acc["method"] == "richardson-time+space-companion"
    # graded nodes: the space companions' meshes are built by the same rule with 3/4, 1/2 and twice the cells
    assert acc["companions"] == {"time_half": {"nx": 201, "nt": 75}, "time_quarter": {"nx": 201, "nt": 38},
                                 "space": {"nx": 151, "nt": 75}, "space_coarse": {"nx": 101, "nt": 75},
                                 "space_refined": {"nx": 401, "nt": 75}}
    assert acc["space_companions"] == "graded" and acc["spacing"] == pytest.approx([4.0 / 3.0, 2.0])
    assert acc["ratio"] == pytest.approx(2.0)
    assert metrics["outcome_errors"]["price_impact"] is None      # price disabled: no outcome, no error
    assert all(v >= 0 for v in metrics["outcome_errors"].values() if v is not None)
    # the reported outcomes are the extrapolated ones; the grid's own are kept beside them
    assert metrics["outcomes"] == stiff_solution.accuracy["outcomes"]
    assert acc["grid_outcomes"] == stiff_solution.grid_outcomes()


def test_stiff_baseline_meets_the_target_and_its_estimates_track_the_error(stiff_solution):
    # measured (201 x 150, graded meshes): every headline outcome within 0.3% of exact
    assert_within_target(stiff_solution)
    assert not stiff_solution.accuracy["unresolved"]
    assert_estimates_within_factor_3(stiff_solution)      # (every true error here is below 0.2%)
    # the inventory mesh puts the terminal law on several cells: resolved
    assert stiff_solution.accuracy["terminal_std_cells"] >= 2.0


def test_an_unresolved_terminal_law_is_flagged_and_its_error_bar_covers_it():
    s = solve(make(STIFF, grid={"inventory_mesh": "uniform"}))
    assert s.terminal_dispersion / s.dx < 2.0                    # std 0.02 on cells of 0.05
    assert "terminal_dispersion" in s.accuracy["unresolved"]
    assert s.accuracy["outcome_errors"]["terminal_dispersion"] >= s.outcomes()["terminal_dispersion"]
    exact = exact_outcomes(s.config)["terminal_dispersion"]
    assert abs(s.outcomes()["terminal_dispersion"] - exact) <= s.accuracy["outcome_errors"]["terminal_dispersion"]


def test_a_layer_thinner_than_the_last_step_is_held_by_the_exact_last_interval():
    # uniform steps of 0.0125 day against a layer of 5e-8 day: before the exact last interval every outcome was
    # flagged unresolved (the cost 10x too high); now the interval holds the layer
    s = solve(make(STIFF, params={"eta1": 0.0, "gamma_T": 1e4}, grid={"time_mesh": "uniform", "nx": 101, "nt": 40}))
    assert s.exact_last_interval and s.accuracy["terminal_layer_resolved"] is True
    assert "total_cost" not in s.accuracy["unresolved"]
    exact = exact_outcomes(s.config)["total_cost"]
    assert abs(s.outcomes()["total_cost"] - exact) <= 0.05 * exact


def test_companions_and_failures_are_recorded():
    cfg = {"grid": {"nx": 201, "nt": 150}}
    assert companion_config(cfg)["grid"] == {"nx": 101, "nt": 75}
    assert companion_config(cfg, nt_divisor=4, halve_nx=False)["grid"] == {"nx": 201, "nt": 38}
    path = {"grid": {"nx": 11, "nt": 4}, "price": {"enabled": True, "supply": [0.0, 1.0, 2.0, 3.0, 4.0]}}
    assert companion_config(path)["price"]["supply"] == [0.0, 2.0, 4.0]
    assert companion_config(path, nt_divisor=4)["price"]["supply"] == [0.0, 4.0]
    odd = {"grid": {"nx": 11, "nt": 3}, "price": {"enabled": True, "supply": [0.0, 1.0, 2.0, 3.0]}}
    assert companion_config(odd)["price"]["enabled"] is False
    q = np.linspace(0.0, 1.0, 6)
    assert list(companion_nodes(q)) == [0.0, 0.4, 0.8, 1.0]
    # graded meshes: 3/4 and 1/2 of the cells by the mesh rule (no nodes given); too small for two coarser: nested
    graded = {"grid": {"nx": 201, "nt": 150, "inventory_mesh": "graded"}}
    configs, nodes, coarse, coarse_nodes = companion_plan(graded, np.linspace(-1.0, 1.0, 201))
    assert (configs["space"]["grid"], coarse["grid"]) == ({**graded["grid"], "nt": 75, "nx": 151},
                                                          {**graded["grid"], "nt": 75, "nx": 101})
    assert nodes["space"] is None and coarse_nodes is None
    assert companion_plan(graded, np.linspace(-1.0, 1.0, 201), nested=True)[1]["space"].size == 101
    tiny = {"grid": {"nx": 4, "nt": 8, "inventory_mesh": "graded"}}
    assert companion_plan(tiny, np.linspace(-1.0, 1.0, 4))[1]["space"].size == 3
    # the initial law fits the fine grid's cells but not the space companion's: no estimate, and why
    s = solve(make(STIFF, params={"m0_mean": 0.51, "m0_std": 0.021, "eta1": 0.0}, grid={"inventory_mesh": "uniform"}))
    assert all(v is None for v in s.accuracy["outcome_errors"].values())
    assert "no companion solve (space): mfg.params.m0_std" in s.accuracy["error"]
    # ... so no outcome passes for resolved (the cost, the speed, ...: every one the grid computes)
    assert set(s.accuracy["unresolved"]) == {k for k, v in s.grid_outcomes().items()
                                             if v is not None and math.isfinite(v)}
    assert s.outcomes() == s.grid_outcomes()


def test_combine_extrapolates_a_first_order_sequence_and_refuses_a_wild_one():
    h = 0.01
    fine, half, quarter = {"a": 1.0 + h + h * h}, {"a": 1.0 + 2 * h + 4 * h * h}, {"a": 1.0 + 4 * h + 16 * h * h}
    out = combine(fine, half, quarter, half, ratio=2.0, ratio2=2.0)["a"]
    assert out["extrapolated"] and out["value"] == pytest.approx(1.0 - 2 * h * h, abs=1e-15)
    assert out["error"] == pytest.approx(2 * h * h, rel=1e-9)   # |R - R2| / 3 = R's true error; no space error
    # space: one companion on twice the spacing differs; without the second its error is taken first order
    space = {"a": half["a"] + 0.003}
    assert combine(fine, half, quarter, space, ratio=2.0, ratio2=2.0,
                   rules=SpaceRules(spacing=(2.0, 4.0)))["a"]["error"] == \
        pytest.approx(2 * h * h + 0.003, rel=1e-9)
    # a sequence that is not asymptotic (the second difference exceeds the first) is not extrapolated
    wild = combine({"a": 1.0}, {"a": 1.1}, {"a": 0.5}, {"a": 1.1}, ratio=2.0, ratio2=2.0)["a"]
    assert not wild["extrapolated"] and wild["value"] == 1.0 and wild["error"] == pytest.approx(0.1)
    assert combine({"a": None}, {"a": 1.0}, {"a": 1.0}, {"a": 1.0}, ratio=2.0, ratio2=2.0)["a"]["error"] is None


def test_space_extrapolation_removes_an_error_linear_in_the_numerical_diffusion():
    # O = 1 + c E + d E^2 on the fine nodes (E_h), every other (2 E_h) and every fourth (4 E_h) node
    c, d, e = 0.5, 0.3, 0.01
    value = {k: 1.0 + c * m * e + d * (m * e) ** 2 for k, m in (("t", 1), ("x", 2), ("xx", 4))}
    excess = {"fine": e, "time_half": e, "space": 2 * e, "space_coarse": 4 * e}
    correction, error, done = space_extrapolation(value["t"], value["x"], value["xx"], excess=excess)
    assert done and value["t"] - correction == pytest.approx(1.0 - 2 * d * e * e, abs=1e-15)
    assert error == pytest.approx(3 * d * e * e, rel=1e-9)        # 1.5 x the quadratic term's remainder, 2 d e^2
    # in the combination: time and space together
    out = combine({"a": value["t"]}, {"a": value["t"]}, {"a": value["t"]}, {"a": value["x"]}, ratio=2.0,
                  ratio2=2.0, rules=SpaceRules(space_coarse={"a": value["xx"]}, excess=excess))["a"]
    assert out["space_extrapolated"] and out["value"] == pytest.approx(1.0 - 2 * d * e * e, abs=1e-15)
    # not asymptotic (the coarse level's slope is far off): no correction, the order fit's error (p = 3, the top)
    correction, error, done = space_extrapolation(1.0, 1.01, 1.5, excess=excess)
    assert not done and correction == 0.0 and error == pytest.approx(0.5 * (0.01 / 7.0 + 0.5 / 63.0))
    # nothing upwind: no correction; differences growing slower than first order: p = 1, the mean of both
    flat = {"fine": 0.0, "time_half": 0.0, "space": 0.0, "space_coarse": 0.0}
    assert space_extrapolation(1.0, 1.001, 1.002, excess=flat) == (0.0, pytest.approx(0.5 * (0.001 + 0.002 / 3.0)),
                                                                    False)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 2.7])
def test_the_order_fit_recovers_the_error_of_a_power_law(p):
    # O(s h) = 1 + C (s h)^p on the fine spacing and on 4/3 and 2 times it (the graded companions' 3/4, 1/2 cells)
    c, h = 0.7, 0.01
    o_t, o_x, o_xx = (1.0 + c * (s * h) ** p for s in (1.0, 4.0 / 3.0, 2.0))
    assert fitted_order(o_x - o_t, o_xx - o_t, 4.0 / 3.0, 2.0) == pytest.approx(p, abs=1e-9)
    assert order_fit_error(o_t, o_x, o_xx, 4.0 / 3.0, 2.0) == pytest.approx(c * h ** p, rel=1e-9)
    # outside the range: clamped (a ratio below first order, e.g. opposite signs, is taken first order)
    assert fitted_order(0.001, -0.001, 4.0 / 3.0, 2.0) == 1.0


def test_flag_unresolved_widens_the_estimates():
    values = {"terminal_dispersion": 0.01, "mean_inventory_terminal": 1e-12, "liquidation_speed": 50.0,
              "total_cost": 1.0, "_horizon": 0.5}
    errors = {"terminal_dispersion": 0.001, "mean_inventory_terminal": 0.6e-12, "liquidation_speed": 0.1,
              "total_cost": 0.01}
    flagged = flag_unresolved(values, errors, terminal_std_cells=1.5, layer_resolved=True)
    assert set(flagged) == {"terminal_dispersion", "mean_inventory_terminal", "liquidation_speed"}
    assert errors["terminal_dispersion"] == 0.01
    assert errors["liquidation_speed"] == pytest.approx(math.log(1.6) / 0.5)
    # an estimate above Q_T itself: the speed may be off by as much as itself
    errors = {"terminal_dispersion": 0.001, "mean_inventory_terminal": 3e-12, "liquidation_speed": 0.1,
              "total_cost": 0.01}
    flag_unresolved(values, errors, terminal_std_cells=5.0, layer_resolved=True)
    assert errors["liquidation_speed"] == 50.0
    assert errors["total_cost"] == 0.01
    assert flag_unresolved(values, dict(errors), terminal_std_cells=5.0, layer_resolved=False) == list(errors)
    # a value a companion cannot compute (no estimate): unresolved, its estimate its own size (as for types)
    errors = {"liquidation_speed": None, "total_cost": 0.01, "price_impact": None}
    flagged = flag_unresolved({**values, "price_impact": None}, errors, terminal_std_cells=5.0, layer_resolved=True)
    assert flagged == ["liquidation_speed"] and errors["liquidation_speed"] == 50.0
    assert errors["price_impact"] is None         # no outcome (price disabled): no error, not flagged


@pytest.mark.parametrize("phi, gamma_T", [(0.005, 0.05), (0.5, 5.0)])
def test_sweep_corners_meet_the_target(phi, gamma_T):
    s = solve(make(STIFF, params={"phi": phi, "gamma_T": gamma_T}))
    assert_within_target(s)
    # phi = 0.5, gamma_T = 5: half-life -0.56 %, peak eta -1.0 %, cost +0.76 % (estimates 0.60, 0.52, 1.3 of them)
    checked = assert_estimates_within_factor_3(s)
    assert checked >= ({"liquidation_half_life", "eta_max", "total_cost"} if phi > 0.1 else set())
    if phi > 0.1:
        # on the fixed [-5, 5]: Q_T = e^-16 Q_0 from the mean path +0.84 % (speed -0.05 %, bracketed in space; it
        # was +2.002 %, speed -0.12 %: the cost path's spatial error), its estimate covering it (1.5 times)
        c = s.outcomes()["mean_inventory_terminal"]
        e = exact_outcomes(s.config)["mean_inventory_terminal"]
        assert abs(c - e) <= s.accuracy["outcome_errors"]["mean_inventory_terminal"]
        assert "liquidation_speed" in s.accuracy["space_extrapolated"]


def test_the_first_order_bracket():
    # O(s h) = 1 + C s h on the companions and a fine level whose coefficient fell by 5 % (C_h = 0.95 C)
    c, h = 0.6, 0.01
    o_t, o_x, o_xx = 1.0 + 0.95 * c * h, 1.0 + c * 4.0 / 3.0 * h, 1.0 + c * 2.0 * h
    correction, error = first_order_bracket(o_t, o_x, o_xx, 4.0 / 3.0, 2.0)
    e1 = 0.5 * ((o_x - o_t) * 3.0 + (o_xx - o_t))
    assert (correction, error) == (pytest.approx(0.5 * e1), pytest.approx(0.5 * e1))
    assert 0.0 < 0.95 * c * h <= e1                       # the fine error inside [0, e1]
    # not first order: a coefficient growing toward the fine level, opposite signs, or predictions far apart
    assert first_order_bracket(1.0 + 1.05 * c * h, o_x, o_xx, 4.0 / 3.0, 2.0) is None
    assert first_order_bracket(1.0, 1.001, 0.999, 4.0 / 3.0, 2.0) is None
    assert first_order_bracket(1.0, 1.001, 1.01, 4.0 / 3.0, 2.0) is None
    assert first_order_bracket(1.0, 1.001, None, 4.0 / 3.0, 2.0) is None
    # in the combination: only the outcomes asked for, on the graded companions
    fine, half, quarter = {"a": o_t, "b": o_t}, {"a": o_t, "b": o_t}, {"a": o_t, "b": o_t}
    out = combine(fine, half, quarter, {"a": o_x, "b": o_x}, ratio=2.0, ratio2=2.0,
                  rules=SpaceRules(spacing=(4.0 / 3.0, 2.0), space_coarse={"a": o_xx, "b": o_xx}, bracketed=("a",)))
    assert out["a"]["space_extrapolated"] and out["a"]["value"] == pytest.approx(o_t - 0.5 * e1)
    assert not out["b"]["space_extrapolated"] and out["b"]["value"] == o_t


@pytest.mark.parametrize("params, grid, checked, skip", [
    # half-life and speed: exact to round-off from the mean path (eta1 = 0; +1.5 % from the density's mean, estimate
    # 0.23 of it with the nested companions)
    ({"eta1": 0.0}, {}, {"total_cost"}, ()),
    # the small config's grid: peak eta -1.5 %, half-life -0.68 % (estimates 1.0 and 0.76 of them with the finer
    # companion; 0.49 and 0.46 without it, 0.25 and 0.28 with the nested companions)
    ({}, {"nx": 61, "nt": 40}, {"eta_max", "total_cost", "liquidation_half_life"}, ()),
])
def test_half_life_and_peak_eta_estimates_track_their_errors(params, grid, checked, skip):
    s = solve(make(STIFF, params=params, grid=grid))
    assert assert_estimates_within_factor_3(s, skip=skip) >= checked


def test_the_small_corner_needs_the_finer_companion():
    # 61 x 40, corner phi = 0.5, gamma_T = 5 (automatic range): the 46- and 31-node meshes are no worse than 61 where
    # the law starts (half-life at nt_T -1.03, -1.03, -1.08 % against 481 nodes on 31, 46, 61; -0.69 % on 121), so
    # only the 121-node companion shows the error: half-life -1.39 %, estimate 0.68 of it (0.19 without)
    cfg = make(STIFF, params={"phi": 0.5, "gamma_T": 5.0}, grid={"nx": 61, "nt": 40})
    del cfg["grid"]["x_min"], cfg["grid"]["x_max"]
    s = solve(cfg)
    assert s.accuracy["companions"]["space_refined"] == {"nx": 121, "nt": 20}
    assert {"liquidation_half_life", "liquidation_speed", "eta_max"} <= assert_estimates_within_factor_3(s)
    o_t = s.accuracy["companion_outcomes"]["time_half"]["liquidation_half_life"]
    o_r = s.accuracy["companion_outcomes"]["space_refined"]["liquidation_half_life"]
    assert s.accuracy["outcome_errors"]["liquidation_half_life"] >= refined_error(o_t, o_r) == 2.0 * abs(o_r - o_t)


#: The estimate misses left on the sweep corners (docs/mfg.md, section 11): none since the finer companion (the 61 x 40
#: corners phi = 0.5: half-lives, speed, peak eta at 0.16-0.32 of their errors before it) and the cost's residual
#: (the costs at (0.5, 0.05, 201) and (0.005, 0.05, 61): 4.2 and 4.4 times their errors before it).
CORNER_MISSES: dict[tuple[float, float, int], str] = {}


@pytest.mark.slow
@pytest.mark.parametrize("phi, gamma_T, nx", [
    pytest.param(phi, g, nx, marks=pytest.mark.xfail(strict=True, reason=CORNER_MISSES[(phi, g, nx)]))
    if (phi, g, nx) in CORNER_MISSES else (phi, g, nx)
    for nx in (201, 61) for phi in (0.005, 0.5) for g in (0.05, 5.0)])
def test_sweep_corners_estimates_on_the_automatic_range(phi, gamma_T, nx):
    """The default sweep's corners as the pipeline solves them (automatic range) on the default and the small
    config's grid: every resolved outcome's estimate within a factor 3 (the terminal mean's may exceed it)."""
    cfg = make(STIFF, params={"phi": phi, "gamma_T": gamma_T}, grid={"nx": nx, "nt": 150 if nx == 201 else 40})
    del cfg["grid"]["x_min"], cfg["grid"]["x_max"]
    s = solve(cfg)
    assert_estimates_within_factor_3(s, skip=("mean_inventory_terminal",))


#: The endogenous price of the ``endogenous_price`` scenario (a constant supply: the impact's relative error is that
#: of the flow's change, whatever kappa and p_ref).
PRICE = {"enabled": True, "kappa": -250.0, "p_ref": 12.0, "supply": 0.0}


@pytest.mark.parametrize("domain", ["fixed", "auto"])
@pytest.mark.parametrize("params", [{}, {"eta1": 0.0}, {"phi": 0.005, "gamma_T": 0.05}, {"phi": 0.005, "gamma_T": 5.0},
                                    {"phi": 0.5, "gamma_T": 0.05}, {"phi": 0.5, "gamma_T": 5.0}],
                         ids=["baseline", "eta1=0", "phi=0.005,gT=0.05", "phi=0.005,gT=5", "phi=0.5,gT=0.05",
                              "phi=0.5,gT=5"])
def test_price_impact_meets_the_target_and_its_estimate_tracks_its_error(params, domain):
    # the impact's flows are the mean path's (MfgSolution.end_flows). Measured at 201 x 150 (fixed [-5, 5] and
    # automatic range): -0.02 / -0.01, 0 (round-off), +0.003, -0.02, -0.10 / -0.09, -0.13 / -0.12 % of exact,
    # estimates 0.9-1.9 times the errors (6.5 and 15 on the baseline's 0.02 / 0.01 %); from the grid's flows they
    # were -0.13 ... -1.81 % and +0.77 / +1.84 % (phi = 0.005, gamma_T = 5) with estimates 0.17-12 times them
    cfg = make(STIFF, params=params, price=PRICE)
    if domain == "auto":
        del cfg["grid"]["x_min"], cfg["grid"]["x_max"]
    s = solve(cfg)
    c, e = s.outcomes()["price_impact"], exact_outcomes(s.config)["price_impact"]
    est = s.accuracy["outcome_errors"]["price_impact"]
    assert abs(c - e) <= TARGET * abs(e)
    assert "price_impact" not in s.accuracy["unresolved"]
    if abs(c - e) > FLOOR * abs(e):
        assert abs(c - e) / 3.0 <= est <= 3.0 * abs(c - e), (c, e, est)
    else:          # below the floor (all of them, measured): it covers the error and is no larger than 3 floors
        assert abs(c - e) / 3.0 <= est <= 3.0 * FLOOR * abs(e), (c, e, est)
    if params.get("eta1") == 0.0:      # a constant cost path: the mean path, and with it the impact, is exact
        assert c == pytest.approx(e, rel=1e-9) and est <= 1e-9 * abs(e)


def test_initial_outcomes_and_the_impacts_floor():
    # the peak eta read off the first step (the grid's feedback); the flows and prices are the mean path's
    assert initial_outcomes(np.array([3.0, 2.0, 1.0])) == {"eta_max"}
    assert initial_outcomes(np.array([1.0, 2.0, 1.0])) == frozenset()
    # the impact's error is at least the difference of the two ends' estimates, and keeps its own when larger
    assert impact_error({"price_impact": 1e-5, "price_initial": 4e-5, "price_terminal": 1e-5}) == pytest.approx(3e-5)
    assert impact_error({"price_impact": 5e-5, "price_initial": 4e-5, "price_terminal": 1e-5}) == 5e-5
    assert impact_error({"price_impact": None, "price_initial": None, "price_terminal": None}) is None
    # the order fit at p = 1: the mean of |d_k| / (s_k - 1) whatever the differences' ratio
    fine, half, quarter = {"a": 1.0}, {"a": 1.0}, {"a": 1.0}
    space, coarse = {"a": 1.135}, {"a": 1.507}
    fitted = combine(fine, half, quarter, space, ratio=2.0, ratio2=2.0,
                     rules=SpaceRules(spacing=(4.0 / 3.0, 2.0), space_coarse=coarse))["a"]["error"]
    first = combine(fine, half, quarter, space, ratio=2.0, ratio2=2.0,
                    rules=SpaceRules(spacing=(4.0 / 3.0, 2.0), space_coarse=coarse, first_order=("a",)))["a"]["error"]
    assert first == pytest.approx(0.5 * (0.135 * 3.0 + 0.507)) and fitted < 0.5 * first
