"""Reading values out of the calibration documents (``mfg_params.yaml``, ``mm_params.yaml``).

Kept apart from the calibrations that write them (:mod:`.daily`, :mod:`.market_making`, which need pandas):
the model jobs read a document's values and nothing else, and do not import pandas for it.
"""

from __future__ import annotations

from typing import Any, Mapping

from mfg_finance.errors import CalibrationError


def parameter_values(doc: Mapping[str, Any]) -> dict[str, float]:
    """``{name: value}`` of an MFG calibration document (``mfg_params.yaml``)."""
    try:
        params = doc["parameters"]
        return {name: float(entry["value"]) for name, entry in params.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"not an MFG calibration document (parameters.<name>.value expected): {exc!r}")


def ticker_values(doc: Mapping[str, Any], ticker: str) -> dict[str, float]:
    """``{name: value}`` of one ticker of a market-making calibration document (``mm_params.yaml``)."""
    try:
        tickers = doc["tickers"]
    except (KeyError, TypeError):
        raise CalibrationError("not a market-making calibration document (top-level 'tickers' expected)")
    if ticker not in tickers:
        raise CalibrationError(f"ticker {ticker!r} is not calibrated; calibrated tickers: {sorted(tickers)}")
    values = {}
    for name, entry in tickers[ticker].items():
        value = entry["value"]
        values[name] = int(value) if isinstance(value, int) and not isinstance(value, bool) else float(value)
    return values
