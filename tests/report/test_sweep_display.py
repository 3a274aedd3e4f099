"""The report's sweep tables: every outcome beside its uncertainty in one cell, and no iteration count for a
solve that has no fixed point. No pipeline run: a synthetic aggregated table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mfg_finance.report.render import _sweep_display


def test_outcomes_are_shown_with_their_error_se_and_unresolved_mark():
    table = pd.DataFrame({
        "param_sigma0": [0.0, 0.5], "converged": [True, True], "iterations": [0, 0], "residual": [np.nan, np.nan],
        "total_cost": [0.4650, 0.4830], "total_cost_error": [0.0010, 0.0012], "total_cost_se": [0.0, 0.004],
        "mean_inventory_initial": [0.5, 0.5], "mean_inventory_initial_error": [1e-17, 1e-17],
        "liquidation_speed": [13.63, np.nan], "liquidation_speed_error": [0.02, np.nan],
        "type_urgent_total_cost": [0.9, 0.95], "type_urgent_total_cost_error": [0.01, 0.01],
        "unresolved": ["", "total_cost"], "type_urgent_unresolved": ["total_cost", ""]})
    shown = _sweep_display(table)
    assert not [c for c in shown.columns if c.endswith(("_error", "_se"))]
    assert list(shown["total_cost"]) == ["0.4650 ± 0.0010", "0.4830 ± 0.0012 (SE 0.004) (unresolved)"]
    assert list(shown["type_urgent_total_cost"]) == ["0.900 ± 0.010 (unresolved)", "0.950 ± 0.010"]
    assert list(shown["mean_inventory_initial"]) == ["0.5", "0.5"]        # a round-off error is not shown
    assert list(shown["liquidation_speed"]) == ["13.630 ± 0.020", "—"]
    assert list(shown["iterations"]) == ["—", "—"]                        # converged without a fixed point


def test_a_table_with_nothing_unresolved_has_no_empty_column_and_keeps_its_iterations():
    table = pd.DataFrame({"param_phi": [0.1], "converged": [True], "iterations": [7], "residual": [1e-9],
                          "total_cost": [0.1], "total_cost_error": [0.001], "unresolved": [""]})
    shown = _sweep_display(table)
    assert "unresolved" not in shown.columns and list(shown["iterations"]) == [7]


def test_a_zero_by_construction_reads_0_exact():
    """Audit s30: the common part of the terminal std at market share 0 (no common noise) showed "5e-20 ± 2.3e-19
    (SE 1.9e-23)"; the sweep point now writes it as exactly 0, and the table says so."""
    table = pd.DataFrame({
        "param_market_share": [0.0, 0.3], "converged": [True, True], "iterations": [0, 0],
        "terminal_dispersion_common": [0.0, 0.0412], "terminal_dispersion_common_error": [0.0, 0.0011],
        "terminal_dispersion_common_se": [0.0, 0.0007],
        "total_cost": [0.0, 0.2], "total_cost_error": [1e-3, 1e-3], "unresolved": ["", ""]})
    shown = _sweep_display(table)
    assert list(shown["terminal_dispersion_common"]) == ["0 (exact)", "0.0412 ± 0.0011 (SE 0.0007)"]
    assert shown["total_cost"][0] == "0.0000 ± 0.0010"          # a zero with an error is an estimate, not exact
