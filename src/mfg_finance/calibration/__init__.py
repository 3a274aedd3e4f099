"""Calibration of the MFG and market-making parameters, one module per source of information.

* :mod:`.daily` -- heuristics from daily bars (COTAHIST statistics): :func:`calibrate_mfg`.
* :mod:`.market_making` -- market-making parameters per ticker: :func:`calibrate_mm`.
* :mod:`.intraday` -- estimates from trade-by-trade files (:mod:`mfg_finance.microstructure`) that
  replace the heuristics where they exist: :func:`apply_intraday_mfg`, :func:`apply_intraday_mm`.
* :mod:`.common` -- units, constants and the entry format shared by all.

Formulas, units and reasons are in ``docs/stats_calibration.md`` and ``docs/microstructure.md``.
"""

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "AC_PARTICIPATION_PER_SPREAD": "mfg_finance.calibration.common",
    "INVENTORY_UNIT_ADV": "mfg_finance.calibration.common",
    "MFG_PARAMETERS": "mfg_finance.calibration.common",
    "MFG_UNITS": "mfg_finance.calibration.common",
    "MM_PARAMETERS": "mfg_finance.calibration.common",
    "MM_UNITS": "mfg_finance.calibration.common",
    "NOISE_WARNING_UNITS": "mfg_finance.calibration.common",
    "RISK_AVERSION": "mfg_finance.calibration.common",
    "SESSION_SECONDS": "mfg_finance.calibration.common",
    "SPREAD_CHOICES": "mfg_finance.calibration.common",
    "TERMINAL_SWEEP_SECONDS": "mfg_finance.calibration.common",
    "TICK_SIZE_BRL": "mfg_finance.calibration.common",
    "calibration_spread": "mfg_finance.calibration.common",
    "calibrate_mfg": "mfg_finance.calibration.daily",
    "parameter_values": "mfg_finance.calibration.documents",
    "apply_intraday_mfg": "mfg_finance.calibration.intraday",
    "apply_intraday_mm": "mfg_finance.calibration.intraday",
    "parameter_sources": "mfg_finance.calibration.intraday",
    "calibrate_mm": "mfg_finance.calibration.market_making",
    "ticker_values": "mfg_finance.calibration.documents",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["AC_PARTICIPATION_PER_SPREAD", "INVENTORY_UNIT_ADV", "MFG_PARAMETERS", "MFG_UNITS",
           "MM_PARAMETERS", "MM_UNITS", "NOISE_WARNING_UNITS", "RISK_AVERSION", "SESSION_SECONDS",
           "SPREAD_CHOICES", "TERMINAL_SWEEP_SECONDS", "TICK_SIZE_BRL", "apply_intraday_mfg",
           "apply_intraday_mm", "calibrate_mfg", "calibrate_mm", "calibration_spread",
           "parameter_sources", "parameter_values", "ticker_values"]
