"""Market microstructure estimators on B3 trades, each with its formula, unit and standard error.

Modules: :mod:`.signs` (aggressor flag / tick rule), :mod:`.volatility` (two-scale realized
variance, signature plot), :mod:`.spread` (Roll, signed-trade regression), :mod:`.arrivals`
(rates per side, intraday profile, trade sizes), :mod:`.impact` (Kyle's lambda, square-root law,
impact exponent), :mod:`.parameters` (MFG eta0/eta1/kappa/sigma and market-making A/k from the
estimates), :mod:`.intraday` (everything for one instrument). See ``docs/microstructure.md``.
"""

from mfg_finance._lazy import lazy_exports

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "Estimate": "mfg_finance.microstructure.estimate",
    "estimate_from_dict": "mfg_finance.microstructure.intraday",
    "estimate_instrument": "mfg_finance.microstructure.intraday",
    "mfg_parameters": "mfg_finance.microstructure.parameters",
    "mm_intensities": "mfg_finance.microstructure.parameters",
    "SessionSeries": "mfg_finance.microstructure.series",
    "instrument_sessions": "mfg_finance.microstructure.series",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["Estimate", "SessionSeries", "estimate_from_dict", "estimate_instrument",
           "instrument_sessions", "mfg_parameters", "mm_intensities"]
