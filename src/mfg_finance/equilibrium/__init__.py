"""The market maker and the crowd in one equilibrium (docs/equilibrium.md).

Public API::

    solve_equilibrium(mfg_config, mm_params, coupling) -> EquilibriumSolution     # .fixed_point
    solve_market_maker(params, t_nodes, lambda_b, lambda_a, substep_s=...)       # .market_maker
    simulate_agents(solution, n_agents=..., n_runs=..., seed=...)                  # .simulation
    Units, intensities, spread_cost_coefficient                                    # .units (the one unit bridge)
"""

from mfg_finance.equilibrium.fixed_point import (Coupling, EquilibriumSolution, reference_spread,
                                                 solve_equilibrium)
from mfg_finance.equilibrium.market_maker import (EquilibriumError, MarketMakerParams, MarketMakerSolution,
                                                  solve_market_maker)
from mfg_finance.equilibrium.units import Units, intensities, spread_cost_coefficient

__all__ = ["Coupling", "EquilibriumError", "EquilibriumSolution", "MarketMakerParams", "MarketMakerSolution",
           "Units", "intensities", "reference_spread", "solve_equilibrium", "solve_market_maker",
           "spread_cost_coefficient"]
