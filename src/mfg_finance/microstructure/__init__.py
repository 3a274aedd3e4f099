"""Market microstructure estimators on B3 trades, each with its formula, unit and standard error.

Modules: :mod:`.signs` (aggressor flag / tick rule), :mod:`.volatility` (two-scale realized
variance, signature plot), :mod:`.spread` (Roll, signed-trade regression), :mod:`.arrivals`
(rates per side, intraday profile, trade sizes), :mod:`.impact` (Kyle's lambda, square-root law,
impact exponent), :mod:`.parameters` (MFG eta0/eta1/kappa/sigma and market-making A/k from the
estimates), :mod:`.intraday` (everything for one instrument). See ``docs/microstructure.md``.
"""

from mfg_finance.microstructure.estimate import Estimate
from mfg_finance.microstructure.intraday import estimate_from_dict, estimate_instrument
from mfg_finance.microstructure.parameters import mfg_parameters, mm_intensities
from mfg_finance.microstructure.series import SessionSeries, instrument_sessions

__all__ = ["Estimate", "SessionSeries", "estimate_from_dict", "estimate_instrument", "instrument_sessions",
           "mfg_parameters", "mm_intensities"]
