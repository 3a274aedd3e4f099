"""The systemic part of the plain-language summary and the section's tables: every number with its
discretisation error and Monte Carlo SE, and a change called an effect only beyond its combined uncertainty.
No pipeline run: synthetic sweep tables and metrics."""

from __future__ import annotations

import pandas as pd

from mfg_finance.report.systemic import (_scenario_rows, _sweep_rows, _sweep_table, combined_uncertainty,
                                         describe_change, systemic_summary, value_error_se)


def _sweep(impact_end: float, speed_end: float) -> pd.DataFrame:
    """A market_share sweep table as the pipeline aggregates it (value, _error, _se columns)."""
    return pd.DataFrame({
        "param_market_share": [0.0, 0.7], "used_sigma0": [0.0, 0.9], "used_sigma": [1.1, 0.6],
        "total_cost": [0.4650, 0.4830], "total_cost_error": [0.0010, 0.0012],
        "liquidation_speed": [13.63, speed_end], "liquidation_speed_error": [0.02, 0.05],
        "liquidation_speed_se": [0.0, 0.40],
        "liquidation_half_life": [0.18356, 0.1852], "liquidation_half_life_error": [0.00002, 0.0001],
        "liquidation_half_life_se": [0.0, 0.0076],
        "price_impact": [0.0300, impact_end], "price_impact_error": [0.0004, 0.0005],
        "price_impact_se": [0.0, 0.0030], "unresolved": ["", ""]})


def _summary(table: pd.DataFrame) -> str:
    key, rows = _sweep_rows(table)
    return systemic_summary({"sweeps": {"raw": {key: rows}}})


def test_a_change_within_the_combined_uncertainty_is_no_effect():
    # impact 0.0300 -> 0.0290: |change| 1.0e-3 against 0.0004 + 0.0005 + 2 x 0.0030 = 6.9e-3
    text = _summary(_sweep(impact_end=0.0290, speed_end=13.90))
    assert "the mean price impact shows no change distinguishable from noise" in text
    assert "within its combined uncertainty 0.0069" in text
    # the speeds carry their errors: the first point's SE is 0 (sigma0 = 0), the last one's is shown
    assert "13.630 ± 0.020 per day to 13.90 ± 0.05 per day (SE 0.4)" in text
    assert "its average speed over the horizon, -ln(E[Q_T]/Q_0)/T" in text
    assert "over the horizon, -ln(E[Q_T]/Q_0)/T (set by the small inventory left at the end, where the shocks' " \
           "spread matters most) shows no change distinguishable from noise" in text
    # the half-life is stated beside the speed, so a reader sees both readings of "how fast"
    assert "the half-life of the crowd's mean inventory shows no change distinguishable from noise" in text
    # the cost rises by 0.018, far beyond 0.0022
    assert "the expected liquidation cost rises from 0.4650 ± 0.0010 to 0.4830 ± 0.0012" in text
    assert "more than its combined uncertainty 0.0022" in text


def test_a_change_beyond_the_combined_uncertainty_is_an_effect():
    text = _summary(_sweep(impact_end=0.0500, speed_end=12.00))
    assert "the mean price impact rises from 0.03000 ± 0.00040 BRL to 0.0500 ± 0.0005 BRL (SE 0.003)" in text
    assert "more than its combined uncertainty 0.0069" in text
    assert ("spread matters most) falls from 13.630 ± 0.020 per day to 12.00 ± 0.05 per day "
            "(SE 0.4) (by 1.6 per day, more than its combined uncertainty 0.87)") in text
    assert "no change distinguishable" in text     # the half-life's (0.00164 within 0.0153)


def test_combined_uncertainty_and_formats():
    assert combined_uncertainty((1.0, 0.1, 0.3), (2.0, 0.2, 0.4)) == 0.1 + 0.2 + 2.0 * 0.5
    assert value_error_se(12.2882, 0.0639, 1.07, " per day") == "12.3 ± 0.064 per day (SE 1.1)"
    assert value_error_se(12.2882, 0.0639, None) == "12.288 ± 0.064"
    assert value_error_se(0.03, None, 0.004, " BRL") == "0.0300 ± 0.0040 BRL (SE)"
    assert value_error_se(float("nan"), 0.1, 0.1) == "—"
    assert value_error_se(15.443, 0.023, 1.3e-17, " per day") == "15.443 ± 0.023 per day"    # round-off SE
    # a change with no uncertainty at all is stated as such, never as within noise
    rows = [{"x": {"mean": 1.0}}, {"x": {"mean": 2.0}}]
    assert describe_change(rows, "x", "x") == "x rises from 1 to 2 (by 1, no uncertainty estimated)"


def test_sweep_table_and_scenario_rows_show_error_and_se():
    html = _sweep_table(_sweep(impact_end=0.0290, speed_end=13.90))
    assert "13.90 ± 0.05 (SE 0.4)" in html and "0.0290 ± 0.0005 (SE 0.003)" in html
    metrics = {"kind": "common_noise", "scenario": "common_noise", "params": {"sigma0": 0.9},
               "sigma0_source": "calibrated", "expected_cost": {"value": 0.483, "error_bound": 0.0012},
               "outcomes": {"liquidation_speed": {"mean": 13.9, "error": 0.05, "se": 0.4},
                            "Q_T": {"mean": 5.4e-4, "error": 1e-5, "se": 3e-4},
                            "price_impact": None, "Q_T_band_5_95": [-1e-3, 2e-3]},
               "unresolved": ["mean_inventory_terminal"]}
    row = _scenario_rows([metrics])[0]
    assert row["liquidation speed (1/day)"] == "13.90 ± 0.05 (SE 0.4)"
    assert row["mean Q_T (inventory units)"] == "0.00054 ± 1e-05 (SE 0.0003) (not resolved by the grid)"
    assert row["price impact (BRL)"] == "—"
