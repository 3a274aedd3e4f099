"""Sentences of the report whose words follow the sign or the size of a number: a negative loss is a gain, a
change within its error is no change. Library level: no pipeline run needed."""

from __future__ import annotations

from mfg_finance.report.multi_asset_section import tail_wording

CHOICE = {"cvar_level": 0.05, "max_loss": -3.7459, "loss": -3.9991, "loss_se": 0.1233,
          "out_of_sample_loss": -3.9027, "out_of_sample_loss_se": 0.1775}


def test_a_negative_cvar_loss_is_stated_as_a_gain():
    words = tail_wording(CHOICE)
    assert words["limit"] == ("CVaR5% ≥ 3.75 BRL (the worst 5% of paths must gain at least 3.75 BRL on "
                              "average)")
    assert words["chosen"] == "4.00 ± 0.12 BRL, a gain"
    assert words["out_of_sample"] == "3.90 ± 0.18 BRL, a gain"
    assert not any("-3" in text or "loss" in text for text in words.values())


def test_a_positive_cvar_loss_is_stated_as_a_loss():
    words = tail_wording({**CHOICE, "max_loss": 2.0, "loss": 1.5, "out_of_sample_loss": -0.25,
                          "out_of_sample_loss_se": None})
    assert words["limit"] == "CVaR5% ≥ -2 BRL (the worst 5% of paths may lose at most 2 BRL on average)"
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
    assert ("leaves the average quoted spread unchanged at the digits shown (0.02106 BRL; a change of +5.9e-07 BRL, "
            "+0.0028%)") in unseen
    assert "slows the crowd's liquidation by 1.01%" in unseen
    (seen,) = comparison(_regimes([0.021060, 0.020290], [13.920001, 13.920002]))
    assert "narrows the average quoted spread by 0.00077 BRL (0.02106 → 0.02029, -3.7%)" in seen
    assert ("leaves the crowd's liquidation speed unchanged at the digits shown (13.92 per trading day; "
            "+7.2e-06%)") in seen
    assert "slows" not in seen and "speeds up" not in seen
