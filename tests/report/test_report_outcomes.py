"""The MFG section shows the reported outcomes of metrics.json (extrapolated, with their estimated errors), never
the grid's own values from the solution arrays (issue 14). No pipeline run: synthetic artefacts."""

from __future__ import annotations

import html as htmlmod
import re

import numpy as np

from mfg_finance.report.formatting import num
from mfg_finance.report.uncertain import plus_minus
from mfg_finance.report.render import _scenario, _scenario_table

#: reported outcomes, deliberately unlike what the arrays below give (mean 0.5 -> 0.0005715, eta 0.1 ... 0.13)
OUTCOMES = {"liquidation_half_life": 0.0712, "liquidation_speed": 13.9, "total_cost": 0.004412,
            "mean_inventory_initial": 0.5, "mean_inventory_terminal": 0.00054392, "terminal_dispersion": 0.0113,
            "mean_flow_initial": -10.5, "mean_flow_terminal": -0.01, "eta_min": 0.1, "eta_max": 0.12871,
            "eta_mean": 0.1052, "price_initial": None, "price_terminal": None, "price_impact": None}
ERRORS = {"liquidation_half_life": 3.1e-4, "liquidation_speed": 0.02, "total_cost": 2.2e-5,
          "mean_inventory_initial": 1e-16, "mean_inventory_terminal": 4.1e-6, "terminal_dispersion": 8e-5,
          "mean_flow_initial": 0.01, "mean_flow_terminal": 1e-4, "eta_min": 1e-6, "eta_max": 2.4e-4,
          "eta_mean": 1e-4, "price_initial": None, "price_terminal": None, "price_impact": None}


def _arrays():
    t = np.linspace(0.0, 0.5, 51)
    q = np.linspace(-2.0, 2.0, 81)
    rate = 2.0 * np.log(0.5 / 0.0005715)
    mean = 0.5 * np.exp(-rate * t)          # the grid's path: Q_T = 0.0005715, not the reported 0.00054392
    density = np.exp(-0.5 * ((q[None, :] - mean[:, None]) / 0.2) ** 2)
    density /= np.trapezoid(density, q, axis=1)[:, None]
    eta = 0.1 + 0.03 * np.exp(-10.0 * t)
    return {"t": t, "q": q, "density": density, "eta": eta, "mean_flow": -rate * mean}


def _cells(table_html: str) -> list[str]:
    body = table_html.split("<tbody>", 1)[1]
    return [htmlmod.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]


def test_glance_table_and_scenario_text_show_the_reported_outcomes_with_their_errors():
    metrics = {"converged": True, "iterations": 4, "residual": 1e-11, "outcomes": OUTCOMES, "outcome_errors": ERRORS,
               "accuracy": {"unresolved": []}, "config": {"params": {"eta0": 0.1}}}
    arrays = _arrays()
    assert abs(float(np.trapezoid(arrays["density"][-1] * arrays["q"], arrays["q"])) - 0.0005715) < 2e-6
    sc = _scenario("baseline", metrics, arrays, [], 25200.0)
    assert sc["mean_qT"] == OUTCOMES["mean_inventory_terminal"] and sc["eta_max"] == OUTCOMES["eta_max"]
    cells = _cells(_scenario_table([sc], 25200.0))
    for key in ("mean_inventory_terminal", "liquidation_half_life", "total_cost"):
        assert plus_minus(OUTCOMES[key], ERRORS[key]) in cells, key
    assert num(0.5, 4) in cells          # the initial mean's error (1e-16) is round-off: the value alone
    assert plus_minus(OUTCOMES["eta_max"] / 0.1, ERRORS["eta_max"] / 0.1) in cells
    assert plus_minus(OUTCOMES["liquidation_half_life"] * 420, ERRORS["liquidation_half_life"] * 420) in cells
    assert not any(c.startswith("0.0005715") for c in cells)          # the grid's own terminal mean
    assert sc["shown"]["mean_inventory_terminal"] == plus_minus(0.00054392, 4.1e-6)
    assert sc["shown"]["eta_max"] == plus_minus(0.12871, 2.4e-4)


def test_an_unresolved_outcome_is_marked_and_a_missing_error_shows_the_value_alone():
    errors = dict(ERRORS, total_cost=None)
    metrics = {"converged": True, "iterations": 4, "residual": 1e-11, "outcomes": OUTCOMES, "outcome_errors": errors,
               "accuracy": {"unresolved": ["mean_inventory_terminal"]}, "config": {"params": {"eta0": 0.1}}}
    sc = _scenario("baseline", metrics, _arrays(), [], None)
    cells = _cells(_scenario_table([sc], None))
    assert plus_minus(0.00054392, 4.1e-6) + " (unresolved)" in cells
    assert "0.004412" in cells


def test_the_summary_states_each_mfg_number_with_its_error():
    """The plain-language summary takes its MFG numbers from metrics.json's outcomes with their errors, as the glance
    table does (issue 14): the share held at the end, the initial flow, the average eta, the prices."""
    from mfg_finance.report.summary import _mfg_paragraphs

    outcomes = dict(OUTCOMES, price_initial=11.958, price_terminal=11.99996, price_impact=0.04196)
    errors = dict(ERRORS, price_initial=4e-5, price_terminal=4e-7, price_impact=3e-5)
    metrics = {"converged": True, "iterations": 4, "residual": 1e-11, "outcomes": outcomes, "outcome_errors": errors,
               "accuracy": {"unresolved": []}, "config": {"params": {"eta0": 0.1}, "price": {"p_ref": 12.0}}}
    arrays = _arrays()
    arrays["price"] = 12.0 + arrays["mean_flow"] / 250.0       # the grid's own path: 11.958 ... 11.99999
    sc = _scenario("endogenous_price", metrics, arrays, [], 25200.0)
    assert sc["price_start"] == 11.958 and sc["price_change"] == 0.04196      # the reported, not the arrays'
    text = " ".join(_mfg_paragraphs({"mfg": {"scenarios": [sc]}}, []))
    held = 100 * OUTCOMES["mean_inventory_terminal"] / 0.5
    assert f"hold {plus_minus(held, 100 * ERRORS['mean_inventory_terminal'] / 0.5)}% of it" in text
    assert f"at the start, {plus_minus(10.5, 0.01)} units per day" in text
    assert f"{plus_minus(5.2, 100 * ERRORS['eta_mean'] / 0.1)}% above on average" in text
    assert f"from {plus_minus(11.958, 4e-5)} to {plus_minus(11.99996, 4e-7)} BRL" in text
    assert f"+{plus_minus(1e4 * 0.04196 / 12.0, 1e4 * 3e-5 / 12.0)} bp" in text
    # the largest gap is at t = 0: the reported initial price's, with its error
    assert f"up to {plus_minus(0.042, 4e-5)} BRL" in text
    assert "configured one, exact on the grid" in text
    # without estimates (older metrics): the values alone, no ±
    bare = dict(metrics, outcome_errors={k: None for k in errors})
    plain = " ".join(_mfg_paragraphs({"mfg": {"scenarios": [_scenario("endogenous_price", bare, arrays, [], 25200.0)]}},
                                     []))
    assert "at the start, 10.5 units per day" in plain and "±" not in plain.split("Price impact")[1]


def test_summary_shows_no_error_at_round_off():
    """The eta1 sweep's eta1 = 0 point has a speed exact to round-off (error 7e-15): the summary said
    "13.8160856426 ± 0.0000000000"; it now states the value alone, and a real error as before."""
    from mfg_finance.report.summary import _stated
    assert _stated(13.8160856426, 7.105e-15) == "13.8"
    assert _stated(11.2730, 1.0e-3) == plus_minus(11.2730, 1.0e-3) == "11.2730 ± 0.0010"
    assert _stated(0.5, None) == "0.5" and _stated(0.5, 0.0) == "0.5"
    # a tiny genuine error (the real-data end price's 7.5e-9 BRL) is shown, as the start price's 3e-8 is, the price
    # to six significant digits (was "17.1658403947 ± 0.0000000075")
    assert _stated(17.16584039465264, 7.48e-9, fmt=".4f") == "17.1658 ± 7.5e-9"
