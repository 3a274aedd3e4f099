"""How the report states a number with its uncertainty: ``value ± error (SE se)``, one rule for every table and
sentence.

* ``±`` is the uncertainty the caller gives: an outcome's estimated discretisation error, or a Monte Carlo
  standard error where the table says so; ``(SE se)`` adds a Monte Carlo standard error to a discretisation error
  (a common-noise mean), and ``(SE)`` marks a ``±`` that is one.
* The uncertainty is shown to two significant digits and the value rounded to its last digit, but the value to
  :data:`MAX_DIGITS` significant digits at most: a converged solve's discretisation error can be 1e-9 of its
  value, and ten digits of a number whose parameters are estimated to a few per cent say nothing. Past the cap the
  uncertainty is stated on its own, in exponent form: ``0.00681727 ± 2.3e-8``, not ``0.0068172725 ± 0.000000023``.
* An uncertainty at round-off of its value (:data:`ROUND_OFF`, :data:`SE_ROUNDOFF`) is left out; a value
  without uncertainty is shown to four significant digits (:func:`~mfg_finance.report.formatting.num`) or in the
  caller's format; a missing value is a dash.
"""

from __future__ import annotations

import math

from mfg_finance.report.formatting import finite, num

#: An estimated error below this fraction of its value is round-off (float64's 2e-16 times a modest conditioning)
#: and not shown: the eta1 = 0 speed's 7e-15 on 13.8, the initial mean's 1e-16. Tiny genuine errors (a price's
#: 7.5e-9 BRL on 17.17, 4e-10 of it) stay shown. One threshold for the summary, the tables and the sweeps.
ROUND_OFF = 1e-12

#: A Monte Carlo SE below this fraction of its value is round-off (the std of identical paths), not shown.
SE_ROUNDOFF = 1e-9

#: Significant digits of a value shown with its uncertainty, at most (the module docstring says why).
MAX_DIGITS = 6

#: Decimals beyond which a value (of magnitude below 1e-4) is written in exponent form instead.
MAX_DECIMALS = 10


def _exponent(x: float) -> int:
    """The decimal exponent of ``x`` (non-zero): 0 for 1.0 ... 9.99, -3 for 0.00123."""
    return int(math.floor(math.log10(abs(x))))


def _compact(x: float) -> str:
    """``x`` to two significant digits as :func:`~mfg_finance.report.formatting.num` writes it, an exponent
    without padding (``2.3e-8``, ``0.064``, ``1,234``)."""
    mantissa, _, exponent = num(x, 2).partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _rounded(value: float, uncertainty: float) -> tuple[str, str]:
    """``(value, uncertainty)`` as text by the module's rule (``uncertainty`` > 0)."""
    decimals = max(0, 1 - _exponent(uncertainty))                       # the uncertainty's second digit
    shown = min(decimals, max(0, MAX_DIGITS - 1 - _exponent(value))) if value != 0.0 else decimals
    error = f"{uncertainty:.{shown}f}" if shown == decimals else _compact(uncertainty)
    if shown <= MAX_DECIMALS:
        return f"{value:.{shown}f}", error
    # a value below 1e-4 or so: exponent form, to the uncertainty's second digit (MAX_DIGITS at most)
    if value == 0.0:
        return "0", _compact(uncertainty)
    digits = min(MAX_DIGITS, max(1, _exponent(value) - _exponent(uncertainty) + 2))
    return f"{value:.{digits - 1}e}", _compact(uncertainty)


def plus_minus(value, uncertainty) -> str:
    """``value ± uncertainty`` by the module's rule; the value alone (four significant digits) without a positive
    uncertainty, a dash without a value."""
    if not finite(value):
        return "—"
    if not finite(uncertainty) or float(uncertainty) <= 0:
        return num(value, 4)
    text, error = _rounded(float(value), float(uncertainty))
    return f"{text} ± {error}"


def plus_minus_both(value, se, error) -> str:
    """``value ± se ± error``: a Monte Carlo SE and a discretisation error, each written as :func:`plus_minus`
    writes it, the value rounded to the larger one's second digit (as :func:`with_error`); :func:`plus_minus`
    with the one that is positive when the other is not, a dash without a value."""
    if not finite(value):
        return "—"
    se = float(se) if finite(se) and float(se) > 0 else None
    error = float(error) if finite(error) and float(error) > 0 else None
    if se is None or error is None:
        return plus_minus(value, se if error is None else error)
    value = float(value)
    return f"{_rounded(value, max(se, error))[0]} ± {_rounded(value, se)[1]} ± {_rounded(value, error)[1]}"


def with_error(value, error=None, se=None, *, unit: str = "", scale: float = 1.0, unresolved: bool = False,
               fmt: str | None = None) -> str:
    """``value ± error{unit} (SE se)``: a value (times ``scale``) with its estimated discretisation ``error`` and
    Monte Carlo ``se`` (both times ``scale``), e.g. ``12.3 ± 0.064 per day (SE 1.1)``.

    Either part is left out when absent or at round-off of the value (``ROUND_OFF``, ``SE_ROUNDOFF``); with both,
    the value is rounded to the larger. Without either, the value alone: four significant digits, or
    ``format(value, fmt)``. ``unresolved`` appends `` (unresolved)`` (the grid does not resolve the outcome); a
    missing value is a dash.
    """
    if not finite(value):
        return "—"
    value = float(value) * scale
    error = float(error) * scale if finite(error) else None
    se = float(se) * scale if finite(se) else None
    has_error = error is not None and error > ROUND_OFF * abs(value)
    has_se = se is not None and se > SE_ROUNDOFF * abs(value)
    if has_error and has_se:
        text = f"{_rounded(value, max(error, se))[0]} ± {_compact(error)}{unit} (SE {_compact(se)})"
    elif has_error:
        text = f"{plus_minus(value, error)}{unit}"
    elif has_se:
        text = f"{plus_minus(value, se)}{unit} (SE)"
    else:
        text = (num(value, 4) if fmt is None else format(value, fmt)) + unit
    return text + " (unresolved)" if unresolved else text
