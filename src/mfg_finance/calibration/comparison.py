"""What the intraday calibration changes in the MFG's outputs: the same solve with the daily heuristics.

:func:`heuristic_values` undoes the intraday replacements of an ``mfg_params`` document (each
``source: intraday`` entry back to its ``heuristic_value``); solving that and the calibrated document
with the same grid and solver isolates the effect of the trade files. :func:`outcome_changes`
pairs the two solves' outcomes (``metrics.json["outcomes"]``) with their estimated discretisation
errors (``outcome_errors``, :mod:`mfg_finance.mfg.accuracy`): a difference larger than the two errors
combined is a change the grid resolves, not a discretisation artefact. The parameters' own
estimation errors (their ``se``) are listed beside, not propagated through the solve.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from mfg_finance.calibration.documents import parameter_values
from mfg_finance.errors import CalibrationError

#: Outcomes compared (keys of ``metrics.json["outcomes"]``), in the report's order.
COMPARED = ("liquidation_half_life", "liquidation_speed", "total_cost", "eta_mean", "eta_max",
            "terminal_dispersion")


def intraday_parameters(doc: Mapping[str, Any]) -> list[str]:
    """Names of the parameters an ``mfg_params`` document took from the trade files."""
    return [name for name, entry in doc.get("parameters", {}).items() if entry.get("source") == "intraday"]


def heuristic_values(doc: Mapping[str, Any]) -> dict[str, float]:
    """``{name: value}`` with every intraday parameter back at its daily-heuristic value."""
    values = parameter_values(doc)
    for name in intraday_parameters(doc):
        heuristic = doc["parameters"][name].get("heuristic_value")
        if heuristic is None:
            raise CalibrationError(f"mfg_params: intraday parameter {name} has no heuristic_value to compare with")
        values[name] = float(heuristic)
    return values


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def outcome_changes(heuristic: Mapping[str, Any], intraday: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per :data:`COMPARED` outcome: both values, their estimated errors, the difference and
    whether it exceeds the errors combined (``resolved``; None where an error is not estimated)."""
    rows = []
    for key in COMPARED:
        a, b = heuristic["outcomes"].get(key), intraday["outcomes"].get(key)
        ea = (heuristic.get("outcome_errors") or {}).get(key)
        eb = (intraday.get("outcome_errors") or {}).get(key)
        diff = b - a if _finite(a) and _finite(b) else None
        both = math.hypot(ea, eb) if _finite(ea) and _finite(eb) else None
        rows.append({"outcome": key, "heuristic": a, "heuristic_error": ea, "intraday": b, "intraday_error": eb,
                     "difference": diff, "relative_change": diff / a if diff is not None and a else None,
                     "resolved": (abs(diff) > both) if diff is not None and both is not None else None})
    return rows
