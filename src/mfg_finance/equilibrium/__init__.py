"""The market maker and the crowd in one equilibrium (docs/equilibrium.md).

Public API::

    solve_equilibrium(mfg_config, mm_params, coupling) -> EquilibriumSolution     # .fixed_point
    solve_market_maker(params, t_nodes, lambda_b, lambda_a, substep_s=...)       # .market_maker
    simulate_agents(solution, n_agents=..., n_runs=..., seed=...)                  # .simulation
    Units, intensities, spread_cost_coefficient                                    # .units (the one unit bridge)
"""

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): the workflow imports .config when it plans
# the jobs, which must not load the solvers (numba)
_EXPORTS = {
    "Coupling": "mfg_finance.equilibrium.fixed_point",
    "EquilibriumSolution": "mfg_finance.equilibrium.fixed_point",
    "reference_spread": "mfg_finance.equilibrium.fixed_point",
    "solve_equilibrium": "mfg_finance.equilibrium.fixed_point",
    "EquilibriumError": "mfg_finance.equilibrium.market_maker",
    "MarketMakerParams": "mfg_finance.equilibrium.market_maker",
    "MarketMakerSolution": "mfg_finance.equilibrium.market_maker",
    "solve_market_maker": "mfg_finance.equilibrium.market_maker",
    "Units": "mfg_finance.equilibrium.units",
    "intensities": "mfg_finance.equilibrium.units",
    "spread_cost_coefficient": "mfg_finance.equilibrium.units",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["Coupling", "EquilibriumError", "EquilibriumSolution", "MarketMakerParams", "MarketMakerSolution",
           "Units", "intensities", "reference_spread", "solve_equilibrium", "solve_market_maker",
           "spread_cost_coefficient"]
