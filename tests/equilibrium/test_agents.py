"""Agent-based check: N = 1,000 crowd agents against the market maker with Poisson fills reproduce the
equilibrium's flow, spread, crowd cost and market-maker PnL within Monte Carlo error plus the solvers'
error estimates."""

from __future__ import annotations

import numpy as np
import pytest

from eq_cases import MM, UNITS, mild
from mfg_finance.equilibrium import Coupling, solve_equilibrium
from mfg_finance.equilibrium.simulation import SAFETY, compare_with_model, simulate_agents
from mfg_finance.mfg import solve

#: theta_share 2: the market maker quoting its reference spread adds 2 eta0 to the crowd's cost
COUPLING = Coupling(theta=2.0 * 0.1 / 0.06725948296413066, beta=1.0, units=UNITS, substep_s=10.0)


def check(cfg, n_runs, seed):
    sol = solve_equilibrium(cfg, MM, COUPLING)
    runs = simulate_agents(sol, n_agents=1000, n_runs=n_runs, seed=seed)
    table = compare_with_model(sol, runs)
    bad = {k: v for k, v in table.items() if not v["ok"]}
    assert not bad, bad
    # the check discriminates: the crowd's cost without the market maker's spread is far outside the band
    c = table["crowd_cost"]
    alone = solve(cfg, estimate_errors=False).total_cost
    assert abs(c["simulated"] - alone) > 4.0 * c["se"] + SAFETY * c["error_estimate"]
    assert sol.outcomes()["mm_fills_bid"] > sol.outcomes()["mm_fills_ask"]      # the selling crowd hits the bid
    return sol, runs


def test_agents_reproduce_the_equilibrium_small():
    sol, runs = check(mild(), n_runs=12, seed=3)
    again = simulate_agents(sol, n_agents=1000, n_runs=12, seed=3)
    assert np.array_equal(again.crowd_cost, runs.crowd_cost) and np.array_equal(again.mm_pnl, runs.mm_pnl)


@pytest.mark.slow
def test_agents_reproduce_the_equilibrium_fine_grid():
    check(mild(201, 160), n_runs=200, seed=11)
