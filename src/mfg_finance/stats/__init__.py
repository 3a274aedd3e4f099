"""Returns, volatility and liquidity statistics of the selected equities.

Modules, one job each:

* :mod:`~mfg_finance.stats.returns` -- session calendar, per-session log returns with honest gaps,
  rolling volatility;
* :mod:`~mfg_finance.stats.volatility` -- close-to-close, Parkinson and Garman-Klass estimators;
* :mod:`~mfg_finance.stats.liquidity` -- Amihud illiquidity, average trade size;
* :mod:`~mfg_finance.stats.spread` -- Corwin-Schultz (primary) and Roll spread proxies;
* :mod:`~mfg_finance.stats.adjust` -- backward adjustment of prices and quantities for corporate events;
* :mod:`~mfg_finance.stats.compute` -- :func:`compute_stats`, which puts them together.
"""

from mfg_finance._lazy import lazy_exports
from mfg_finance.stats.returns import OPTIONAL_COLUMNS as _OPTIONAL, REQUIRED_COLUMNS as _REQUIRED

EQUITY_COLUMNS = (*_REQUIRED, *_OPTIONAL, "instrument_class")
"""The columns of the equities table :func:`compute_stats` reads (the rule reads only these)."""

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "StatsResult": "mfg_finance.stats.compute",
    "compute_stats": "mfg_finance.stats.compute",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["EQUITY_COLUMNS", "StatsResult", "compute_stats"]
