"""Calibration of the MFG and market-making parameters, one module per source of information.

* :mod:`.daily` -- heuristics from daily bars (COTAHIST statistics): :func:`calibrate_mfg`.
* :mod:`.market_making` -- market-making parameters per ticker: :func:`calibrate_mm`.
* :mod:`.intraday` -- estimates from trade-by-trade files (:mod:`mfg_finance.microstructure`) that
  replace the heuristics where they exist: :func:`apply_intraday_mfg`, :func:`apply_intraday_mm`.
* :mod:`.common` -- units, constants and the entry format shared by all.

Formulas, units and reasons are in ``docs/stats_calibration.md`` and ``docs/microstructure.md``.
"""

from mfg_finance.calibration.common import (AC_PARTICIPATION_PER_SPREAD, INVENTORY_UNIT_ADV, MFG_PARAMETERS,
                                           MFG_UNITS, MM_PARAMETERS, MM_UNITS, NOISE_WARNING_UNITS, RISK_AVERSION,
                                           SESSION_SECONDS, SPREAD_CHOICES, TERMINAL_SWEEP_SECONDS, TICK_SIZE_BRL,
                                           calibration_spread)
from mfg_finance.calibration.daily import calibrate_mfg, parameter_values
from mfg_finance.calibration.intraday import apply_intraday_mfg, apply_intraday_mm, parameter_sources
from mfg_finance.calibration.market_making import calibrate_mm, ticker_values

__all__ = ["AC_PARTICIPATION_PER_SPREAD", "INVENTORY_UNIT_ADV", "MFG_PARAMETERS", "MFG_UNITS", "MM_PARAMETERS",
           "MM_UNITS", "NOISE_WARNING_UNITS", "RISK_AVERSION", "SESSION_SECONDS", "SPREAD_CHOICES",
           "TERMINAL_SWEEP_SECONDS", "TICK_SIZE_BRL", "apply_intraday_mfg", "apply_intraday_mm", "calibrate_mfg", "calibrate_mm", "calibration_spread",
           "parameter_sources", "parameter_values", "ticker_values"]
