"""Sentences of the report whose words follow the sign or the size of a number: a negative loss is a gain, a
change below the digits shown is not called a widening, the peak cost is the one at the flow the sentence names.
Library level: no pipeline run needed."""

from __future__ import annotations

import math

from mfg_finance.report.multi_asset_section import tail_wording

CHOICE = {"cvar_level": 0.05, "max_loss": -3.7459, "loss": -3.9991, "loss_se": 0.1233,
          "out_of_sample_loss": -3.9027, "out_of_sample_loss_se": 0.1775}


def test_a_negative_cvar_loss_is_stated_as_a_gain():
    words = tail_wording(CHOICE)
    assert words["limit"] == "CVaR5% ≥ 3.75 BRL"
    assert words["meaning"] == "they must gain at least 3.75 BRL on average"
    assert words["chosen"] == "4.00 ± 0.12 BRL, a gain"
    assert words["out_of_sample"] == "3.90 ± 0.18 BRL, a gain"
    assert not any("-3" in text or "loss" in text for text in words.values())


def test_a_positive_cvar_loss_is_stated_as_a_loss():
    words = tail_wording({**CHOICE, "max_loss": 2.0, "loss": 1.5, "out_of_sample_loss": -0.25,
                          "out_of_sample_loss_se": None})
    assert words["limit"] == "CVaR5% ≥ -2 BRL"
    assert words["meaning"] == "they may lose at most 2 BRL on average"
    assert words["chosen"] == "-1.50 ± 0.12 BRL, a loss"
    assert words["out_of_sample"] == "0.25 BRL, a gain"
    assert tail_wording({**CHOICE, "loss": None})["chosen"] is None


def _regimes(spreads, speeds):
    """A two-point liquidity-regimes table along the crowd's size (the other axes at one value)."""
    import pandas as pd

    return pd.DataFrame({"gamma": [0.1, 0.1], "Q_max": [5, 5], "crowd_size": [50.0, 200.0], "m0_mean": [0.5, 0.5],
                         "converged": [True, True], "mm_mean_spread_brl": spreads,
                         "crowd_paid_spread_brl": [0.0222, 0.025],
                         "crowd_liquidation_speed": speeds, "crowd_cost": [0.01565, 0.01596],
                         "mm_pnl_brl": [1271.0, 1468.0], "mm_inventory_risk_brl": [20.08, 20.09]})


def test_a_spread_change_below_the_digits_shown_is_not_a_widening():
    from mfg_finance.equilibrium.regimes import comparison

    (unseen,) = comparison(_regimes([0.021060, 0.021060 + 5.938e-7], [13.92, 13.78]))
    assert "widens" not in unseen and "narrows" not in unseen
    assert "leaves the average quoted spread unchanged at the digits shown (0.02106 BRL; +0.0028%)" in unseen
    assert "slows the crowd's liquidation by 1.01%" in unseen
    (seen,) = comparison(_regimes([0.021060, 0.020290], [13.920001, 13.920002]))
    assert "narrows the average quoted spread by 0.00077 BRL (0.02106 → 0.02029, -3.7%)" in seen
    assert ("leaves the crowd's liquidation speed unchanged at the digits shown (13.92 per trading day; "
            "+7.2e-06%)") in seen
    assert "slows" not in seen and "speeds up" not in seen


def test_the_peak_cost_is_stated_at_the_start_flow_it_names():
    """The summary's "eta is up to X% above eta0 when the crowd trades fastest (at the start, m_0)": X is
    eta1 |m_0| / eta0 with the flow's error, whatever the grids' extrapolated eta_max (here 5e-4 eta0 below it,
    beyond its estimate 1e-4 eta0); eta_max only without an initial flow."""
    from mfg_finance.report.render import _peak_uplift

    params = {"eta0": 9.332711e-4, "eta1": 2.1255237e-4}
    outcomes = {"mean_flow_initial": -2.768205, "eta_max": 1.5212e-3}
    errors = {"mean_flow_initial": 2.15e-5, "eta_max": 1e-7}
    uplift, error = _peak_uplift(params, outcomes, errors, outcomes["eta_max"])
    assert uplift == 100 * params["eta1"] * 2.768205 / params["eta0"]
    assert abs(uplift - 63.0458) < 1e-3 and error == 100 * params["eta1"] * 2.15e-5 / params["eta0"]
    uplift, error = _peak_uplift(params, {"eta_max": 1.5212e-3}, errors, 1.5212e-3)
    assert uplift == 100 * (1.5212e-3 / params["eta0"] - 1) and error == 100 * 1e-7 / params["eta0"]
    uplift, error = _peak_uplift({"eta1": 1e-4}, outcomes, errors, 1.5e-3)         # no eta0: nothing to state
    assert math.isnan(uplift) and error is None


def test_a_zero_limit_or_a_cvar_zero_at_the_digits_shown_has_no_sign():
    """max_loss = 0 (the worst paths must not lose) read "CVaR5% ≥ -0 BRL"; a CVaR that rounds to 0.00 at its se
    was "-0.00 ± 0.12 BRL, a loss": the words follow the number shown."""
    words = tail_wording({**CHOICE, "max_loss": 0.0, "loss": 0.001, "out_of_sample_loss": -0.0})
    assert words["limit"] == "CVaR5% ≥ 0 BRL"
    assert words["meaning"] == "they must not lose on average"
    assert words["chosen"] == "0.00 ± 0.12 BRL, neither gain nor loss at the digits shown"
    assert words["out_of_sample"] == "0.00 ± 0.18 BRL, neither gain nor loss at the digits shown"
    assert tail_wording({**CHOICE, "loss": 0.004, "loss_se": 0.001})["chosen"] == "-0.0040 ± 0.0010 BRL, a loss"
    assert tail_wording({**CHOICE, "loss": float("nan")})["chosen"] == "—"
