"""The mean-path outcomes (terminal mean, speed, half-life) from the cost path: relative accuracy at any size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfg_cases import STIFF, make, must_hold_config
from mfg_finance.mfg import solve
from mfg_finance.mfg.exact import closed_form, exact_outcomes
from mfg_finance.mfg.grid import time_mesh
from mfg_finance.mfg.mean_path import curvature_and_log_decay, end_flows, terminal_mean_from_speed
from mfg_finance.mfg.price import clearing_price

MEAN_PATH_KEYS = ("mean_inventory_terminal", "liquidation_speed", "liquidation_half_life")
#: Relative true errors below this are not compared with their estimate (as in test_mfg_accuracy).
FLOOR = 2e-3


@pytest.mark.parametrize("phi, gamma_T", [(0.035, 0.0), (0.035, 1e2), (0.035, 1e12), (0.0, 50.0), (5.0, 1e100)])
@pytest.mark.parametrize("mesh", ["uniform", "graded"])
def test_a_constant_cost_path_gives_the_exact_mean(phi, gamma_T, mesh):
    # eta constant (eta1 = 0): every step's closed form is exact, on any mesh, down to Q_T / Q_0 = e^-37 and e^-280
    # (compared where the node t_n is known to 1e-12 of T - t_n: the steps near T are exact, the nodes rounded)
    T, eta = 0.5, 5e-4
    t, dts = time_mesh(T, 150, mesh, layer=eta / gamma_T if gamma_T > 0 else math.inf)
    ref = closed_form(t, T=T, sigma=0.5, eta=eta, phi=phi, gamma_T=gamma_T, m0_mean=0.5, m0_std=0.5)
    _, logs = curvature_and_log_decay(dts, np.full(t.size, eta), phi=phi, gamma_T=gamma_T)
    q, log_ratio = 0.5 * np.exp(logs), logs[-1]
    far = T - t >= 1e-4
    np.testing.assert_allclose(q[far], ref.mean[far], rtol=1e-11)
    assert q[-1] == pytest.approx(ref.mean[-1], rel=1e-11)
    assert log_ratio == pytest.approx(math.log(ref.mean[-1] / ref.mean[0]), rel=1e-12)


@pytest.mark.parametrize("phi, gamma_T", [(0.035, 0.57), (0.035, 1e12), (0.0, 50.0), (5.0, 0.0)])
@pytest.mark.parametrize("mesh", ["uniform", "graded"])
def test_the_end_flows_of_a_constant_cost_path_are_exact(phi, gamma_T, mesh):
    # eta1 = 0: m = -h2 Q / eta at t = 0 and T, exactly, on any mesh (the grid's own flows were 5-12 % off on the
    # stiff baseline at 201 x 150: the step's average flow through a feedback upwinded where the law starts)
    T, eta = 0.5, 5e-4
    t, dts = time_mesh(T, 40, mesh, layer=eta / gamma_T if gamma_T > 0 else math.inf)
    ref = closed_form(t, T=T, sigma=0.5, eta=eta, phi=phi, gamma_T=gamma_T, m0_mean=0.5, m0_std=0.5)
    curvature, logs = curvature_and_log_decay(dts, np.full(t.size, eta), phi=phi, gamma_T=gamma_T)
    m0, m_T = end_flows(0.5, curvature[0], logs[-1], gamma_T=gamma_T, eta1=0.0, floor=(eta, eta))
    assert m0 == pytest.approx(-ref.h2[0] * ref.mean[0] / eta, rel=1e-11)
    assert m_T == pytest.approx(-gamma_T * ref.mean[-1] / eta, rel=1e-11, abs=1e-300)


def test_the_end_flows_set_their_own_cost():
    # eta1 > 0: at each end the cost is the model's f + eta1 |m| for the returned flow m = -H Q / eta itself
    dts, eta = np.full(20, 0.025), np.linspace(2e-3, 1e-3, 21)
    eta1, floor, phi, gamma_T = 1e-3, (5e-4, 7e-4), 0.035, 0.57
    curvature, logs = curvature_and_log_decay(dts, eta, phi=phi, gamma_T=gamma_T)
    m0, m_T = end_flows(-0.8, curvature[0], logs[-1], gamma_T=gamma_T, eta1=eta1, floor=floor)
    q_T = -0.8 * math.exp(logs[-1])
    assert m0 > 0.0 and m_T > 0.0                         # a short position is bought back
    assert m0 == pytest.approx(-curvature[0] * -0.8 / (floor[0] + eta1 * abs(m0)), rel=1e-13)
    assert m_T == pytest.approx(-gamma_T * q_T / (floor[1] + eta1 * abs(m_T)), rel=1e-13)
    assert end_flows(0.0, curvature[0], logs[-1], gamma_T=gamma_T, eta1=eta1, floor=floor) == (0.0, 0.0)


def test_the_outcomes_flows_and_prices_are_the_mean_paths():
    # the price clears the mean path's end flows; without coupling (eta1 = 0) they are exact where the grid's own
    # price path is 16 % off in the impact (61 x 40: the small config's grid; -4.2 % after extrapolation before)
    s = solve(make(STIFF, params={"eta1": 0.0}, grid={"nx": 61, "nt": 40},
                   price={"enabled": True, "kappa": -250.0, "p_ref": 12.0, "supply": 0.3}))
    out, exact = s.grid_outcomes(), exact_outcomes(s.config)
    flows, prices = s.end_flows()
    assert (out["mean_flow_initial"], out["mean_flow_terminal"]) == tuple(flows)
    np.testing.assert_array_equal(prices, clearing_price(flows, 0.3, kappa=-250.0, p_ref=12.0))
    assert out["price_impact"] == prices[1] - prices[0]
    for key in ("mean_flow_initial", "mean_flow_terminal", "price_initial", "price_terminal"):
        assert out[key] == pytest.approx(exact[key], rel=1e-12), key
    assert out["price_impact"] == pytest.approx(exact["price_impact"], rel=1e-9)
    assert abs(s.price[-1] - s.price[0] - exact["price_impact"]) > 0.1 * exact["price_impact"]
    assert s.outcomes()["price_impact"] == pytest.approx(exact["price_impact"], rel=1e-9)


def test_the_exact_reference_keeps_its_digits_for_a_large_terminal_penalty():
    # d(0) = 2k was (k + gamma_T) + (k - gamma_T): gamma_T = 1e12, k = 4.2e-3 lost 14 digits (Q_T 0.8 % off)
    eta, phi, T = 5e-4, 0.035, 0.5
    omega, k = math.sqrt(phi / eta), math.sqrt(phi * eta)
    for gamma_T in (1e2, 1e12):
        ref = closed_form(np.array([0.0, T]), T=T, sigma=0.5, eta=eta, phi=phi, gamma_T=gamma_T, m0_mean=0.5,
                          m0_std=0.5)
        d_T = k * (1.0 + math.exp(-2.0 * omega * T)) - gamma_T * math.expm1(-2.0 * omega * T)
        assert ref.mean[-1] == pytest.approx(0.5 * math.exp(-omega * T) * 2.0 * k / d_T, rel=1e-13)
        assert ref.h2[-1] == pytest.approx(gamma_T, rel=1e-14)


def test_the_cost_path_must_be_positive():
    with pytest.raises(ValueError, match="eta must be positive"):
        curvature_and_log_decay(np.array([0.1, 0.1]), np.array([1.0, 0.0, 1.0]), phi=1.0, gamma_T=1.0)


def test_the_terminal_mean_follows_the_extrapolated_speed():
    values = {"liquidation_speed": 2.0, "mean_inventory_initial": -1.5, "mean_inventory_terminal": 0.1}
    errors = {"liquidation_speed": 0.01, "mean_inventory_terminal": 1.0}
    terminal_mean_from_speed(values, errors, horizon=5.0)
    assert values["mean_inventory_terminal"] == pytest.approx(-1.5 * math.exp(-10.0))
    assert errors["mean_inventory_terminal"] == pytest.approx(1.5 * math.exp(-10.0) * math.expm1(0.05))
    untouched = {"liquidation_speed": math.nan, "mean_inventory_initial": 0.0, "mean_inventory_terminal": 1e-13}
    terminal_mean_from_speed(untouched, errors, horizon=5.0)
    assert untouched["mean_inventory_terminal"] == 1e-13


#: The cases whose terminal mean the density's mean got wrong (e^-12 ... e^-39 of Q_0; before: +80 % ... +1.4e6 %,
#: all marked unresolved): sets 2, 8, 14 of the check set, the phi = 0.5 sweep corners, the gamma_T ladder's ends.
TINY = {
    "set 2": must_hold_config(1, 1, 5, 50, 1.5, 5),
    "set 8": must_hold_config(0, 1, 5, 50, 0.02, 5),
    "set 14": must_hold_config(1, -1.5, 5, 50, 1.5, 5),
    "corner phi=0.5 gamma_T=0.05": make(STIFF, params={"phi": 0.5, "gamma_T": 0.05}),
    "ladder graded gamma_T=1e2": make(STIFF, params={"eta1": 0.0, "gamma_T": 1e2}),
    "ladder graded gamma_T=1e12": make(STIFF, params={"eta1": 0.0, "gamma_T": 1e12}),
    "ladder uniform gamma_T=1e12": make(STIFF, params={"eta1": 0.0, "gamma_T": 1e12}, grid={"time_mesh": "uniform"}),
}


@pytest.mark.parametrize("name", list(TINY))
def test_tiny_terminal_means_are_resolved_within_the_target(name):
    s = solve(TINY[name])
    exact = exact_outcomes(s.config)
    reported, errors = s.outcomes(), s.accuracy["outcome_errors"]
    assert not set(MEAN_PATH_KEYS) & set(s.accuracy["unresolved"])
    for key in MEAN_PATH_KEYS:
        c, e, est = reported[key], exact[key], errors[key]
        if e is None or not math.isfinite(e):      # no half-life before T (set 14 halves its position at once)
            continue
        assert abs(c - e) <= 0.02 * abs(e), (key, c, e)
        if abs(c - e) > FLOOR * abs(e):
            assert abs(c - e) / 3.0 <= est <= 3.0 * abs(c - e), (key, c, e, est)


def test_the_phi_corner_with_a_high_terminal_penalty():
    # Q_T = e^-16 Q_0 (the density's mean +112 %): +1.8 % on the automatic range (bench), its speed -0.11 %
    cfg = make(STIFF, params={"phi": 0.5, "gamma_T": 5.0})
    del cfg["grid"]["x_min"], cfg["grid"]["x_max"]
    s = solve(cfg)
    exact = exact_outcomes(s.config)
    for key in MEAN_PATH_KEYS:
        c, e, est = s.outcomes()[key], exact[key], s.accuracy["outcome_errors"][key]
        assert abs(c - e) <= 0.02 * abs(e) and abs(c - e) / 3.0 <= est <= 3.0 * abs(c - e), (key, c, e, est)


@pytest.mark.parametrize("case", [must_hold_config(0, -1.5, 0, 50, 1.5, 0.1), must_hold_config(1, 1, 5, 50, 0.02, 0.1)],
                         ids=["set 10", "set 13"])
def test_where_the_terminal_mean_is_not_tiny_the_density_agrees(case):
    # the density's mean, extrapolated in time from nt and nt/2 (estimate: the difference), and the mean path's
    # reported Q_T agree within their estimates (measured: 0.02 and 2.4 of their sum; set 13's density estimate
    # has no spatial part). Not on set 3 (sigma = 0.02, upwind wherever the law is: the density's mean -10 %).
    s = solve(case)
    half = solve(make(case, grid={"nt": case["grid"]["nt"] // 2}), estimate_errors=False)
    fine_mean, half_mean = s.mean_inventory[-1], half.mean_inventory[-1]
    density, density_error = 2.0 * fine_mean - half_mean, abs(fine_mean - half_mean)
    path, path_error = s.outcomes()["mean_inventory_terminal"], s.accuracy["outcome_errors"]["mean_inventory_terminal"]
    assert abs(path - density) <= 3.0 * (path_error + density_error)


def test_no_position_has_no_speed_and_the_density_mean():
    s = solve(must_hold_config(1, 0, 5, 0, 0.02, 5), estimate_errors=False)
    out = s.grid_outcomes()
    assert math.isnan(out["liquidation_speed"]) and math.isnan(out["liquidation_half_life"])
    assert math.isnan(s.liquidation_speed)
    assert out["mean_inventory_terminal"] == float(s.mean_inventory[-1])
    assert abs(out["mean_inventory_terminal"]) < 1e-12


def test_the_endogenous_price_does_not_move_the_mean_path():
    # the price clears the crowd's flow and does not feed back into the agents' problem: the same cost path, the
    # same mean path (docs/mfg.md section 1), with the price's own outcomes added
    cfg = make(STIFF, grid={"nx": 101, "nt": 60})
    plain = solve(cfg, estimate_errors=False)
    priced = solve(make(cfg, price={"enabled": True, "kappa": -40.0, "p_ref": 25.0, "supply": 0.3}),
                   estimate_errors=False)
    assert priced.price is not None
    for key in MEAN_PATH_KEYS:
        assert priced.grid_outcomes()[key] == pytest.approx(plain.grid_outcomes()[key], rel=1e-12), key
