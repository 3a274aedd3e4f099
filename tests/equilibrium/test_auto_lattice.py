"""The market maker's lattice follows the problem (``equilibrium.Q_max: auto``): the real-data case that left the
calibrated lattice (``config/real_b3.yaml`` with ``calibration.representative: PETR4``, January 2021) with its
calibrated parameters, on the regimes' crowd grid (101 x 60: P(|q| = 10) reaches 0.111 there, 0.121 on the
scenario's 201 x 150)."""

from __future__ import annotations

import pytest

from mfg_finance.equilibrium import EquilibriumError, MarketMakerParams, Units, solve_equilibrium
from mfg_finance.equilibrium.fixed_point import AUTO_LIMIT_MASS, Coupling, reference_spread
from mfg_finance.equilibrium.units import spread_cost_coefficient

#: PETR4 as the representative (M012021): inventory unit 1% of its median daily volume, stiff baseline constants.
CROWD = {
    "grid": {"x_min": "auto", "x_max": "auto", "nx": 101, "T": 0.5, "nt": 60, "time_mesh": "graded",
             "inventory_mesh": "graded"},                       # the regimes' grid
    "params": {"sigma": 0.3958, "eta0": 3.747e-4, "eta1": 1.810e-4, "phi": 0.06135, "gamma_T": 0.4721,
               "m0_mean": 0.5, "m0_std": 0.5},
    "solver": {"method": "newton", "tol": 1.0e-11, "max_iter": 50, "damping": 0.5},
}
#: PETR4's market maker from the daily heuristics (flow_share 0.1): A = 0.35 fills/s, k = 1/one tick.
MM = MarketMakerParams(sigma=0.004164, A=0.3472, k=200.0, gamma=0.1, Q_max=10)
#: 100 agents of 671,363 shares: the crowd sells half of PETR4's daily volume in half a day.
UNITS = Units(seconds_per_day=25200.0, inventory_unit_shares=671363.0, lot_shares=100.0, crowd_size=100.0)


def coupling(auto: bool, max_limit_mass: float = 0.1) -> Coupling:
    theta = spread_cost_coefficient(0.5, eta0=CROWD["params"]["eta0"], spread_ref=reference_spread(MM))
    return Coupling(theta=theta, beta=0.1, units=UNITS, substep_s=10.0, max_limit_mass=max_limit_mass,
                    auto_lattice=auto)


def test_calibrated_lattice_is_left_and_the_automatic_one_follows_the_crowd():
    with pytest.raises(EquilibriumError, match=r"leaves the inventory lattice: P\(\|q\| = Q_max = 10\)"):
        solve_equilibrium(CROWD, MM, coupling(False, max_limit_mass=0.05), estimate_errors=False)   # 2x margin
    sol = solve_equilibrium(CROWD, MM, coupling(True), estimate_errors=False)
    lattice = sol.lattice
    assert lattice["rule"] == "auto" and lattice["Q_max_given"] == 10
    tried = lattice["tried"]
    assert [q for q, _ in tried] == [10 * 2 ** j for j in range(len(tried))] and len(tried) >= 2
    assert tried[0][1] > 0.05                                  # what stopped the run (0.111 on this grid)
    assert all(mass > AUTO_LIMIT_MASS for _, mass in tried[:-1]) and tried[-1][1] <= AUTO_LIMIT_MASS
    assert sol.mm.params.Q_max == lattice["Q_max"] == tried[-1][0]
    assert sol.mm.max_limit_mass <= AUTO_LIMIT_MASS and sol.residuals[-1] <= 1e-8
    # the inventory goes well past the calibrated limit of 10 lots: the lattice, not the model, was the problem
    mean_abs_q = sol.mm.totals()["mean_abs_inventory_T"]
    assert 10.0 < mean_abs_q < lattice["Q_max"] / 2


def test_a_market_maker_that_stays_inside_keeps_its_lattice():
    small = Units(seconds_per_day=25200.0, inventory_unit_shares=2889.0, lot_shares=100.0, crowd_size=100.0)
    calm = MarketMakerParams(sigma=0.004164, A=0.3472, k=200.0, gamma=10.0, Q_max=10)
    theta = spread_cost_coefficient(0.5, eta0=CROWD["params"]["eta0"], spread_ref=reference_spread(calm))
    fixed, auto = (solve_equilibrium(CROWD, calm, Coupling(theta=theta, beta=0.1, units=small, substep_s=10.0,
                                                           auto_lattice=a), estimate_errors=False)
                   for a in (False, True))
    assert auto.lattice["tried"] == [[10, pytest.approx(fixed.mm.max_limit_mass)]]
    assert auto.mm.params.Q_max == 10 and (auto.spread == fixed.spread).all()
