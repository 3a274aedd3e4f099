"""The expected cost's spatial error from the solve's own residual (mfg.cost_residual), against refined solves."""

from __future__ import annotations

import numpy as np
import pytest

from mfg_cases import STIFF, make
from mfg_finance.mfg import solve
from mfg_finance.mfg.accuracy import companion_config
from mfg_finance.mfg.cost_residual import cost_spatial_error, excess_generator_residual
from mfg_finance.mfg.exact import exact_outcomes
from mfg_finance.mfg.grid import mesh_layer


def test_the_residual_prices_the_upwind_cells_added_variance_at_the_value_curvature():
    # uniform nodes h = 0.5, sigma = 0.5 (D = 0.125), u = 3 q^2 (d2 u = 6), one step of 0.1 day
    q = np.linspace(-2.0, 2.0, 9)
    u = np.tile(3.0 * q * q, (2, 1))
    masses = np.zeros((2, 9))
    masses[1, [3, 4, 5]] = 0.25, 0.5, 0.25
    alpha = np.zeros((2, 9))
    alpha[0, 3], alpha[0, 5] = 0.2, -2.0                # central (|a| h / 2 = 0.05 <= D) and upwind (0.5 > D)
    r = excess_generator_residual(u, alpha, masses, q, np.array([0.1]), 0.5)
    assert r == pytest.approx(0.1 * 0.25 * (0.5 - 0.125) * 6.0, rel=1e-12)
    # nothing upwind where the law is: no residual
    alpha[0, 5] = -0.4
    assert excess_generator_residual(u, alpha, masses, q, np.array([0.1]), 0.5) == 0.0


@pytest.fixture(scope="module")
def corner():
    """The sweep corner phi = 0.5, gamma_T = 0.05 on the automatic range at the default grid (docs/mfg.md 11)."""
    cfg = make(STIFF, params={"phi": 0.5, "gamma_T": 0.05})
    del cfg["grid"]["x_min"], cfg["grid"]["x_max"]
    return solve(cfg)


def test_the_residual_tracks_the_cost_spatial_error_where_no_power_law_does(corner):
    # the 201-node cost's spatial error (at nt / 2, against 401 nodes, where every cell the law uses is central and
    # the cost is the 801-node one to 1e-5): measured +0.28 %, the residual 1.47 times it; the companions' order fit
    # gave 0.89 %, 3.2 times it (the error vanishes between 201 and 301 nodes)
    layer = mesh_layer(corner.config["params"], float(corner.t[-1]), corner.q)
    solves = {}
    for nx in (201, 401):
        cfg = companion_config(corner.config, nt_divisor=2, halve_nx=False, nx=nx)
        solves[nx] = solve(cfg, estimate_errors=False, time_layer=layer)
    true = solves[201].total_cost - solves[401].total_cost
    assert true > 1e-3 * solves[401].total_cost
    assert 0.5 * true <= cost_spatial_error(solves[201]) <= 2.0 * true
    assert abs(cost_spatial_error(solves[401])) <= 0.05 * true


def test_the_corner_cost_estimate_is_within_a_factor_3(corner):
    # +0.22 % off exact; its estimate 1.9 times that (4.2 with the companions' order fit)
    c, e = corner.outcomes()["total_cost"], exact_outcomes(corner.config)["total_cost"]
    est = corner.accuracy["outcome_errors"]["total_cost"]
    assert abs(c - e) > 2e-3 * e
    assert abs(c - e) / 3.0 <= est <= 3.0 * abs(c - e)
