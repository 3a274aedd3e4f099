import numpy as np
import pytest

from mfg_finance.errors import ConfigError
from mfg_finance.sweeps import aggregate_points, axis_label, axis_values, point_id, sweep_points


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


def test_type_weights_axis_points_ids_and_table_labels():
    spec = {"scenario": "three", "type_weights": [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]], "eta1": [0.0, 0.001]}
    points = sweep_points(spec, name="w3")
    assert len(points) == 4
    assert [p["params"]["type_weights"] for p in points[::2]] == [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]]
    # a point's id is its own whole vector: adding a vector keeps the others; the order of the weights matters
    more = sweep_points({**spec, "type_weights": spec["type_weights"] + [[0.4, 0.4, 0.2]]}, name="w3")
    assert {p["point_id"] for p in points} < {p["point_id"] for p in more}
    assert point_id({"type_weights": [0.2, 0.3, 0.5]}) != point_id({"type_weights": [0.5, 0.3, 0.2]})
    # scalar points keep the ids they had before vector axes (values of main before this axis existed)
    assert point_id({"phi": 0.1, "gamma_T": 1.0}) == "b3f72d69ac86"
    assert point_id({"urgent_share": 0.3}) == "65c659e38313"
    # float noise below 12 significant digits does not change a vector's id
    noisy = sweep_points({"type_weights": [[0.1 + 1e-17, 0.2, 0.7]]})[0]
    assert noisy["point_id"] == point_id({"type_weights": [0.1, 0.2, 0.7]})
    records = [{"params": p["params"], "converged": True, "iterations": 1, "residual": 0.0, "outcomes": {}}
               for p in points]
    table = aggregate_points(records)
    assert list(table["param_type_weights"]) == ["0.2 / 0.3 / 0.5", "0.5 / 0.3 / 0.2"] * 2
    assert list(table["param_eta1"]) == [0.0, 0.0, 0.001, 0.001]
    # vectors that differ only in the 5th digit keep apart (a 4-digit label merged them in tables and figures)
    close = sweep_points({"type_weights": [[0.12345, 0.87655], [0.12346, 0.87654]]})
    assert [axis_label(p["params"]["type_weights"]) for p in close] == ["0.12345 / 0.87655", "0.12346 / 0.87654"]


def test_a_repeated_scalar_value_is_refused_naming_its_axis():
    with pytest.raises(ConfigError, match=r"^sweeps.s.phi: repeated value\(s\) \[0.1\]"):
        sweep_points({"phi": [0.1, 0.2, 0.1 + 1e-15], "eta1": [0.0]}, name="s")


@pytest.mark.parametrize("vectors, message", [
    ([0.2, 0.8], r"type_weights\[0\]: expected a list of at least two numbers"),
    ([[1.0]], r"type_weights\[0\]: expected a list of at least two numbers"),
    ([[0.5, "a"]], r"type_weights\[0\]: expected a list of at least two numbers"),
    ([], r"type_weights: expected a non-empty list of weight vectors"),
    ([[0.5, 0.5], [0.6, 0.6]], r"type_weights\[1\]: the weights must sum to 1 .*1.2"),
    ([[0.5, 0.5, 0.0]], r"type_weights\[0\]: every weight must be a finite number > 0"),
    ([[0.5, 0.5], [0.5, 0.5]], r"^sweeps.w.type_weights: repeated value\(s\) \['0.5 / 0.5'\]"),
])
def test_type_weights_axis_refuses_bad_vectors(vectors, message):
    with pytest.raises(ConfigError, match=message):
        sweep_points({"type_weights": vectors}, name="w")
