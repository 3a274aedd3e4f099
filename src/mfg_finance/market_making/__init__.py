"""Market making: GLFT and Avellaneda-Stoikov quotes, vectorized Monte Carlo backtests, RL environment.

Seed-compatible API::

    from mfg_finance.market_making import (HJBParameters, InventoryHJB, SimulatorParameters,
                                           MarketMakingSimulator, create_default_model,
                                           create_default_simulator)

Modules: ``glft`` (exact / numerical / asymptotic GLFT quotes), ``avellaneda_stoikov`` (A&S formulas),
``simulator`` (vectorized engine), ``strategies`` (built-in quote tables), ``backtest`` (backtests and
statistics), ``reproduction`` (A&S 2008 experiment), ``rl_env`` / ``rl_train`` (Gymnasium, PPO),
``cli`` (``mfg-finance backtest``). See docs/market_making.md.
"""

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "HJBParameters": "mfg_finance.market_making.glft",
    "InventoryHJB": "mfg_finance.market_making.glft",
    "QuoteSolverError": "mfg_finance.market_making.glft",
    "create_default_model": "mfg_finance.market_making.glft",
    "MarketParameters": "mfg_finance.market_making.market",
    "default_market_parameters": "mfg_finance.market_making.market",
    "MarketMakingSimulator": "mfg_finance.market_making.market_simulator",
    "SimulatorParameters": "mfg_finance.market_making.market_simulator",
    "create_default_simulator": "mfg_finance.market_making.market_simulator",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["HJBParameters", "InventoryHJB", "MarketMakingSimulator", "MarketParameters",
           "QuoteSolverError", "SimulatorParameters", "create_default_model", "create_default_simulator",
           "default_market_parameters"]
