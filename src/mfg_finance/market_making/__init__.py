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

from mfg_finance.market_making.glft import HJBParameters, InventoryHJB, QuoteSolverError, create_default_model
from mfg_finance.market_making.market import MarketParameters, default_market_parameters
from mfg_finance.market_making.market_simulator import (MarketMakingSimulator, SimulatorParameters,
                                                        create_default_simulator)

__all__ = [
    "HJBParameters",
    "InventoryHJB",
    "MarketMakingSimulator",
    "MarketParameters",
    "QuoteSolverError",
    "SimulatorParameters",
    "create_default_model",
    "create_default_simulator",
    "default_market_parameters",
]
