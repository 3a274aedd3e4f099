"""Convergence to the exact LQ solution at the expected (first) order."""

from __future__ import annotations

import csv
import json
import math

import pytest

from mfg_cases import MILD, STIFF, make
from mfg_finance.errors import ConfigError
from mfg_finance.mfg.verify import QUANTITIES, outcome_comparison, run_verification, with_price, write_verification

REFS = [(51, 40), (101, 80), (201, 160)]


def assert_first_order(result, names, low=0.8, high=2.6):
    """Orders between 1 (backward Euler in time) and about 2 (the central part of the space scheme)."""
    for name in names:
        order = result.rows[-1][f"order_{name}"]
        assert low <= order <= high, (name, order, [r[f"err_{name}"] for r in result.rows])
        errs = [r[f"err_{name}"] for r in result.rows]
        assert all(a > b for a, b in zip(errs, errs[1:])), name


@pytest.mark.parametrize("mesh, bound", [("uniform", 5e-3), ("graded", 7e-3)])
def test_order_one_with_coupling(mesh, bound):
    # Graded (the default) puts a third of the steps in the terminal layer, which this mild problem
    # (eta/gamma_T = 0.1 day) does not need: its steps away from T are 1.5 T/nt, and the mean error
    # is 1.6x the uniform mesh's (5.7e-3 vs 3.6e-3 on 201 x 160) while the feedback error drops 40%.
    # uniform inventory nodes: the graded ones are designed per nx for the outcomes (test_mfg_accuracy)
    result = run_verification(make(MILD, grid={"time_mesh": mesh, "inventory_mesh": "uniform"}), REFS)
    assert_first_order(result, QUANTITIES)
    assert result.rows[-1]["err_mean"] < bound and result.rows[-1]["err_eta"] < 6e-3
    # with a resolved boundary layer the sup-in-time errors converge too
    for name in QUANTITIES:
        assert result.rows[-1][f"sup_{name}"] < result.rows[0][f"sup_{name}"] / 2.5


def test_order_one_without_coupling():
    result = run_verification(make(MILD, params={"eta1": 0.0}, grid={"inventory_mesh": "uniform"}), REFS)
    assert_first_order(result, ("value", "feedback", "mean", "variance"))
    assert all(r["err_eta"] == 0.0 for r in result.rows)
    assert math.isnan(result.rows[-1]["order_eta"])


def test_order_on_the_stiff_baseline():
    graded = run_verification(STIFF, REFS)          # the default graded inventory mesh
    assert_first_order(graded, QUANTITIES, low=0.7)
    # uniform nodes converge too, less cleanly: wider than the terminal law (0.2 ... 0.05 against 0.02), they
    # make the graded time mesh grade only from 10 h0^2 / sigma^2 (mfg.grid.mesh_layer), a law that refines
    # with them (measured at 51 / 101 / 201: value 11.4, 8.8, 4.4 %; feedback 10.3, 10.9, 8.1 %)
    uniform = run_verification(make(STIFF, grid={"inventory_mesh": "uniform"}), REFS)
    for name in QUANTITIES:
        assert uniform.rows[-1][f"err_{name}"] < uniform.rows[0][f"err_{name}"], name
    # measured at 201 x 160: mean 0.18% vs 0.32%, eta 0.40% vs 0.81%
    for name in ("mean", "eta"):
        assert graded.rows[-1][f"err_{name}"] < uniform.rows[-1][f"err_{name}"], name


def test_verification_refuses_symmetric_law_and_widens_a_narrow_domain():
    with pytest.raises(ConfigError, match="m0_mean"):
        run_verification(make(MILD, params={"m0_mean": 0.0}), REFS[:2])
    with pytest.raises(ConfigError, match="refinements"):
        run_verification(MILD, REFS[:1])
    result = run_verification(make(MILD, grid={"x_min": -1.0, "x_max": 4.0}), REFS[:2])
    assert result.requested_domain == (-1.0, 4.0)
    x_min, x_max = result.domain
    assert x_min < -1.0 and x_max == 4.0          # only the side the law reaches is widened
    std = (result.exact.variance ** 0.5).max()
    assert x_min <= (result.exact.mean - 6 * result.exact.variance ** 0.5).min() and std > 0
    assert result.config["grid"]["x_min"] == x_min
    unchanged = run_verification(MILD, REFS[:2])
    assert unchanged.domain == unchanged.requested_domain == (-4.0, 4.0)


def test_write_verification(tmp_path):
    result = run_verification(MILD, REFS[:2])
    write_verification(result, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["convergence_order.png", "exact_comparison.png", "metrics.json", "refinement.csv"]
    with open(tmp_path / "refinement.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["nx"]) for r in rows] == [51, 101]
    for col in ("dx", "dt", "err_value", "err_feedback", "err_mean", "err_variance", "err_eta",
                "order_value", "order_eta"):
        assert col in rows[0]
    assert rows[0]["order_value"] == "" and float(rows[1]["order_value"]) > 0.5
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["domain_widened"] is False and metrics["domain"] == [-4.0, 4.0]
    assert set(metrics["observed_order"]) == set(QUANTITIES)


def test_the_outcome_table_has_the_price_impact_when_the_config_prices():
    """The verification's outcome table (computed, estimate, exact, true error) lists every headline outcome, the
    price impact too when the config carries a price (the calibrated kappa, p_ref of the endogenous_price scenario)."""
    assert with_price({"enabled": False, "kappa": None, "p_ref": None, "supply": 0.0}) == {"enabled": False}
    price = {"enabled": False, "kappa": -250.0, "p_ref": 12.0, "supply": 0.0}
    rows = {r["outcome"]: r for r in outcome_comparison(make(STIFF, params={"phi": 0.5, "gamma_T": 0.05}), price)}
    assert {"liquidation_half_life", "total_cost", "eta_max", "eta_mean", "price_impact"} <= set(rows)
    impact = rows["price_impact"]
    # -0.92 % of exact, estimate 0.61 of the error
    assert abs(impact["true_error"]) <= 0.02 * abs(impact["exact"])
    assert 1.0 / 3.0 <= impact["estimate_over_true"] <= 3.0


@pytest.mark.slow
def test_full_refinement_on_the_stiff_baseline():
    result = run_verification(STIFF)
    assert_first_order(result, QUANTITIES)
