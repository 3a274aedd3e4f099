import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.sweeps import aggregate_points, axis_values, point_id, sweep_points


def test_axis_values_ranges_and_lists():
    assert axis_values([0.1, 0.2], key="phi") == [0.1, 0.2]
    assert axis_values({"start": 0.0, "stop": 1.0, "num": 3}, key="phi") == [0.0, 0.5, 1.0]
    logs = axis_values({"start": 0.01, "stop": 1.0, "num": 3, "scale": "log"}, key="phi")
    np.testing.assert_allclose(logs, [0.01, 0.1, 1.0])


@pytest.mark.parametrize("spec, message", [
    ({"start": 0.0, "stop": 1.0, "num": 3, "scale": "log"}, "log-scale"),
    ([-0.1], "out of range"),
])
def test_axis_values_rejects_bad_ranges(spec, message):
    with pytest.raises(ConfigError, match=message):
        axis_values(spec, key="sweeps.s.phi")


def test_eta0_must_be_positive():
    with pytest.raises(ConfigError, match="eta0"):
        axis_values([0.0], key="sweeps.s.eta0")


def test_point_ids_are_stable_when_points_are_added():
    small = sweep_points({"phi": [0.1, 0.2], "gamma_T": [1.0]})
    large = sweep_points({"phi": [0.1, 0.2, 0.3], "gamma_T": [1.0]})
    assert {p["point_id"] for p in small} < {p["point_id"] for p in large}
    # Insensitive to key order and to float noise below 12 significant digits.
    assert point_id({"phi": 0.1, "gamma_T": 1.0}) == point_id({"gamma_T": 1.0, "phi": 0.1})
    assert axis_values([0.1 + 1e-17], key="phi") == [0.1]


def test_sweep_points_grid_and_unknown_parameter():
    points = sweep_points({"phi": {"start": 0.01, "stop": 0.1, "num": 4, "scale": "log"},
                           "gamma_T": [0.5, 1.0]})
    assert len(points) == 8
    with pytest.raises(ConfigError, match="cannot sweep"):
        sweep_points({"kappa": [1.0]}, name="bad")


def test_aggregate_keeps_non_converged_points_as_nan():
    records = [
        {"params": {"phi": 0.1}, "converged": True, "iterations": 4, "residual": 1e-11,
         "outcomes": {"liquidation_speed": 1.5, "terminal_dispersion": 0.2, "total_cost": 0.3,
                      "mean_flow_initial": -1.0, "mean_flow_terminal": -0.1, "mean_flow_abs_max": 1.0,
                      "eta_max": 0.01, "price_impact": None}},
        {"params": {"phi": 0.05}, "converged": False, "iterations": 50, "residual": 1e-2, "outcomes": None},
    ]
    table = aggregate_points(records)
    assert list(table["param_phi"]) == [0.05, 0.1]
    assert not table.loc[0, "converged"] and np.isnan(table.loc[0, "liquidation_speed"])
    assert table.loc[1, "liquidation_speed"] == 1.5
