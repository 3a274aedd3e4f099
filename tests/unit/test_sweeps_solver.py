"""Sweeps against the solver: the aggregate equals direct solves, and the LQ comparative statics hold."""

import numpy as np
import pytest

from mfg_finance.config import solver_config, sweep_run_overrides
from mfg_finance.mfg import solve
from mfg_finance.sweeps import aggregate_points, run_point, sweep_points

MFG = {
    "grid": {"x_min": -5.0, "x_max": 5.0, "nx": 81, "T": 0.5, "nt": 50},
    "params": {"sigma": None, "eta0": None, "eta1": None, "phi": None, "gamma_T": None,
               "m0_mean": 0.5, "m0_std": 0.5},
    "solver": {"method": "newton", "tol": 1e-10, "max_iter": 50, "damping": 0.5},
    "price": {"enabled": False, "kappa": None, "p_ref": None, "supply": 0.0},
    "scenarios": {"baseline": {}},
}
CALIBRATED = {"sigma": 0.5, "eta0": 5e-4, "eta1": 1e-3, "phi": 0.035, "gamma_T": 0.57}


def _run(spec, calibrated=CALIBRATED):
    points = sweep_points(spec)
    records = [run_point(solver_config(calibrated, sweep_run_overrides(MFG, p["params"])), p["params"])
               for p in points]
    return points, aggregate_points(records)


def test_aggregate_of_a_3x3_grid_matches_direct_solves():
    points, table = _run({"phi": [0.01, 0.05, 0.2], "gamma_T": [0.1, 0.5, 2.0]})
    assert len(table) == 9 and table["converged"].all()
    for point in points:
        direct = solve(solver_config(CALIBRATED, sweep_run_overrides(MFG, point["params"])))
        row = table[(table["param_phi"] == point["params"]["phi"])
                    & (table["param_gamma_T"] == point["params"]["gamma_T"])].iloc[0]
        reported = direct.outcomes()       # time-extrapolated (mfg.accuracy)
        assert row["liquidation_speed"] == reported["liquidation_speed"]
        assert row["total_cost"] == reported["total_cost"]
        assert row["terminal_dispersion"] == reported["terminal_dispersion"]
        assert row["iterations"] == direct.iterations
        # every outcome column has its estimated error beside it (the solve's companion estimate)
        assert row["total_cost_error"] == direct.accuracy["outcome_errors"]["total_cost"] > 0
        assert row["liquidation_half_life_error"] == direct.accuracy["outcome_errors"]["liquidation_half_life"]
        assert row["unresolved"] == ",".join(direct.accuracy["unresolved"])


@pytest.mark.parametrize("axis", ["phi", "gamma_T"])
def test_liquidation_speed_increases_with_inventory_penalties_in_the_lq_case(axis):
    # With eta1 = 0 the exact solution's Riccati coefficient h2 grows with phi and gamma_T, and the
    # mean inventory decays at rate h2/eta: the crowd liquidates faster.
    values = [0.01, 0.05, 0.2, 1.0] if axis == "phi" else [0.05, 0.2, 1.0, 4.0]
    _, table = _run({axis: values}, calibrated=dict(CALIBRATED, eta1=0.0))
    speeds = table.sort_values(f"param_{axis}")["liquidation_speed"].to_numpy()
    assert table["converged"].all()
    assert np.all(np.diff(speeds) > 0), speeds


def test_non_converged_point_is_recorded_not_raised():
    config = solver_config(CALIBRATED, sweep_run_overrides(MFG, {"phi": 0.05}))
    config["solver"] = dict(config["solver"], max_iter=1, tol=1e-14)
    record = run_point(config, {"phi": 0.05})
    assert record["converged"] is False and record["outcomes"] is None
    assert "converge" in record["error"].lower()
    table = aggregate_points([record])
    assert not table.loc[0, "converged"] and np.isnan(table.loc[0, "liquidation_speed"])
    assert np.isnan(table.loc[0, "liquidation_speed_error"])


def test_point_whose_law_reaches_the_boundary_is_recorded_not_reported():
    config = solver_config(dict(CALIBRATED, sigma=4.0), sweep_run_overrides(MFG, {"phi": 0.05}))
    config["grid"].update(x_min=-2.0, x_max=2.0)
    config["params"]["m0_std"] = 0.2
    record = run_point(config, {"phi": 0.05})
    assert record["converged"] is False and record["outcomes"] is None
    assert "reaches the ends" in record["error"] and "'auto'" in record["error"]
