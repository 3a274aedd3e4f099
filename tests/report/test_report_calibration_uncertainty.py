"""The report's sentence on rho and sigma0 carries their SEs and reads the sweep rows bracketing rho ± SE."""

from __future__ import annotations

from mfg_finance.report.calibration_uncertainty import calibration_sentence


def _doc(rho=0.179, rho_se=0.045, sigma=2.81):
    sigma0_se = None if rho_se is None else sigma * rho_se / (2 * rho ** 0.5)
    return {"rho": {"value": rho, "reason": "mean pairwise correlation", "se": rho_se,
                    "se_reason": "delete-one-session jackknife over 18 sessions" if rho_se else "rho not estimated"},
            "sigma0": {"value": rho ** 0.5 * sigma, "se": sigma0_se}, "sample": {"n_assets": 369}}


def _row(share, cost):
    return {"market_share": share, "sigma0": share, "expected_cost": {"mean": cost, "error": 0.0008, "se": None}}


def test_states_both_ses_and_what_the_figures_plus_minus_is():
    text = calibration_sentence(_doc(), [_row(0.0, 0.30), _row(0.35, 0.33), _row(0.7, 0.37)])
    assert "rho = 0.179 ± 0.045" in text and "369 assets" in text and "jackknife over 18 sessions" in text
    assert "sigma0 = 1.19 ± 0.15 inventory units" in text        # 2.81 sqrt(0.179) = 1.189, SE 2.81 0.045 / 0.846
    assert "not this calibration uncertainty" in text
    # rho ± SE = [0.134, 0.224]: the nearest rows outside are 0 and 0.35
    assert ("(rho = 0 and 0.35, same total noise) the expected cost goes from 0.30000 ± 0.00080 to "
            "0.33000 ± 0.00080") in text


def test_no_bracket_read_when_the_sweep_misses_a_side_and_no_plus_minus_without_se():
    text = calibration_sentence(_doc(), [_row(0.15, 0.31), _row(0.35, 0.33)])
    assert "sweep" not in text and "not this calibration uncertainty" in text
    plain = calibration_sentence(_doc(rho=0.0, rho_se=None), None)
    assert "rho = 0 (" in plain and "±" not in plain and "no SE: rho not estimated" in plain
    assert calibration_sentence(None) is None
