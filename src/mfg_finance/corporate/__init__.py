"""Corporate events of B3 instruments: ex-markers, inferred splits/bonuses/cash events, event files.

Modules, one job each:

* :mod:`~mfg_finance.corporate.markers` -- B3's ex-markers in ESPECI (``ON  ED  NM`` = ex-dividend);
* :mod:`~mfg_finance.corporate.ratios` -- the simple share ratios an inferred factor may take;
* :mod:`~mfg_finance.corporate.infer` -- events inferred from DISMES changes, ex-markers, the price
  ratio across the ex-date and the traded quantity;
* :mod:`~mfg_finance.corporate.issuer` -- an undetermined share factor taken from the issuer's other
  classes on the same ex-date (the issuer rule of the inference);
* :mod:`~mfg_finance.corporate.later` -- an undetermined share factor decided by the closes after the
  ex-date against the asset's own volatility (the later-sessions rule);
* :mod:`~mfg_finance.corporate.files` -- authoritative events from B3's listed-company JSON and CSV;
* :mod:`~mfg_finance.corporate.merge` -- file events override inferred ones; disagreements reported.

Every event table has the columns of :data:`EVENT_COLUMNS`. See ``docs/cotahist.md``.
"""

from mfg_finance._lazy import lazy_exports
from mfg_finance.corporate.infer import REQUIRED as _INFER_COLUMNS

EQUITY_COLUMNS = (*_INFER_COLUMNS, "market_type", "isin")
"""The columns of the equities table that inference and the event files read (the rule reads only these)."""

# name -> submodule, imported on first use (mfg_finance._lazy): importing one submodule does not
# load its siblings' dependencies
_EXPORTS = {
    "CASH_KINDS": "mfg_finance.corporate.events",
    "EVENT_COLUMNS": "mfg_finance.corporate.events",
    "KINDS": "mfg_finance.corporate.events",
    "SHARE_KINDS": "mfg_finance.corporate.events",
    "empty_events": "mfg_finance.corporate.events",
    "validate_events": "mfg_finance.corporate.events",
    "read_event_files": "mfg_finance.corporate.files",
    "infer_events": "mfg_finance.corporate.infer",
    "merge_events": "mfg_finance.corporate.merge",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = ["CASH_KINDS", "EQUITY_COLUMNS", "EVENT_COLUMNS", "KINDS", "SHARE_KINDS", "empty_events", "infer_events",
           "merge_events", "read_event_files", "validate_events"]
