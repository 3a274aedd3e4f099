"""Model parameters from intraday estimates: the MFG's eta0, eta1, kappa, sigma and the market
maker's A and k, each with a standard error propagated by the delta method.

MFG units (as in :mod:`mfg_finance.calibration`): time in trading days of :math:`S` seconds,
inventory in units of :math:`Q_u = c\\,\\mathrm{ADV}` shares, costs as fractions of the unit's
notional :math:`N_u = Q_u P`.

* ``kappa`` (supply slope, units/(day BRL)): a crowd flow of :math:`m` units/day moves the price
  permanently by :math:`\\lambda m Q_u` BRL per day (Kyle's :math:`\\lambda`, BRL/share), so
  :math:`\\kappa = -1/(\\lambda Q_u)`. (The daily heuristic uses Amihud's ILLIQ in place of
  :math:`\\lambda/P^2`, its per-BRL analogue.)
* ``eta1`` (crowding, same construction as the heuristic with :math:`\\lambda/P^2` for ILLIQ):
  :math:`\\eta_1 = \\lambda Q_u c / (0.01 P)`.
* ``eta0`` (temporary impact): the square-root law charges a metaorder of :math:`Q` shares in a day
  :math:`Y \\sigma_d P \\sqrt{Q/\\mathrm{ADV}}` per share; in MFG units, trading :math:`v` units/day
  costs :math:`Y \\sigma_d \\sqrt{c}\\, v^{3/2}` per day, which the model's :math:`\\eta_0 v^2`
  matches at :math:`v = 1`: :math:`\\eta_0 = Y \\sigma_d \\sqrt{c}`, :math:`\\sigma_d =
  \\sigma\\sqrt S / P` the daily relative volatility from the intraday :math:`\\sigma` (BRL/sqrt(s)).
* ``sigma`` (inventory noise, units/sqrt(day)): the standard deviation of a day's net signed flow,
  :math:`\\sqrt{\\Lambda S E[q^2]} / Q_u`, :math:`\\Lambda` the total trade rate (1/s).

Market making (seconds, BRL): a market maker quoting at the touch, :math:`\\delta = h` (the
effective half-spread), receives the share :math:`f` (``market_making.flow_share``) of the
market orders of each side: :math:`A e^{-k h} = f \\Lambda_{side}`. With the competitive-quote
condition :math:`k = 1/h` (GLFT/AS optimal half-spread :math:`\\to 1/k` as :math:`\\gamma \\to 0`):
:math:`k = 1/h`, :math:`A = e f \\Lambda_{side}`. The old rule (:math:`f = 1`, every trade in the
market is ours) is the upper bound :math:`A_{max} = e \\Lambda_{side}`.
"""

from __future__ import annotations

import math

from mfg_finance.errors import CalibrationError
from mfg_finance.microstructure.estimate import Estimate

AC_PARTICIPATION_PER_SPREAD = 0.01  # as in the daily heuristic (calibration)


def _rel(e: Estimate) -> float:
    return e.se / abs(e.value) if e.value else math.inf


def _check_positive(name: str, e: Estimate) -> None:
    if not (math.isfinite(e.value) and e.value > 0):
        raise CalibrationError(f"intraday {name} = {e.value!r} is not > 0: cannot build the model parameter")


#: The intraday estimates each MFG parameter needs; those in :data:`MUST_BE_SIGNIFICANT` must also be
#: significantly above 0 (value > 2 SE) to replace a heuristic.
MFG_NEEDS = {"eta0": ("sqrt_law_y", "sigma"), "eta1": ("kyle_lambda",), "kappa": ("kyle_lambda",),
             "sigma": ("rate_total", "size_mean_square")}
MUST_BE_SIGNIFICANT = ("kyle_lambda", "sqrt_law_y")
_LABELS = {"kyle_lambda": "Kyle lambda", "sqrt_law_y": "square-root-law Y", "sigma": "volatility",
           "rate_total": "trade rate", "size_mean_square": "E[q^2]"}


def mfg_parameter(name: str, est, *, price: float, adv_shares: float, inventory_unit_adv: float,
                  session_seconds: float) -> Estimate:
    """One MFG parameter (``eta0``, ``eta1``, ``kappa`` or ``sigma``) from the estimates it needs
    (:data:`MFG_NEEDS`, looked up in the mapping ``est``), in MFG units, with its delta-method SE."""
    if name not in MFG_NEEDS:
        raise CalibrationError(f"no intraday formula for MFG parameter {name!r}; known: {sorted(MFG_NEEDS)}")
    for needed in MFG_NEEDS[name]:
        _check_positive(_LABELS[needed], est[needed])
    if not (price > 0 and adv_shares > 0 and inventory_unit_adv > 0):
        raise CalibrationError(f"price {price!r}, ADV {adv_shares!r} and inventory_unit_adv {inventory_unit_adv!r} "
                               "must be > 0")
    c = inventory_unit_adv
    q_u = c * adv_shares
    if name in ("kappa", "eta1"):
        kyle_lambda = est["kyle_lambda"]
        lam = kyle_lambda.value
        if name == "kappa":
            kappa = -1.0 / (lam * q_u)
            return Estimate(kappa, abs(kappa) * _rel(kyle_lambda), "inventory unit / (trading day * BRL)",
                            f"kappa = -1 / (lambda Q_u), lambda={lam:.4g} BRL/share, Q_u={q_u:.6g} shares",
                            kyle_lambda.n)
        eta1 = lam * q_u * c / (AC_PARTICIPATION_PER_SPREAD * price)
        return Estimate(eta1, eta1 * _rel(kyle_lambda), "cost unit * trading day^2 / inventory unit^3",
                        f"eta1 = lambda Q_u c / (0.01 P), lambda={lam:.4g} BRL/share, Q_u={q_u:.6g} shares",
                        kyle_lambda.n)
    if name == "eta0":
        sqrt_law_y, sigma_brl = est["sqrt_law_y"], est["sigma"]
        sigma_d = sigma_brl.value * math.sqrt(session_seconds) / price
        eta0 = sqrt_law_y.value * sigma_d * math.sqrt(c)
        return Estimate(eta0, eta0 * math.hypot(_rel(sqrt_law_y), _rel(sigma_brl)),
                        "cost unit * trading day / inventory unit^2",
                        f"eta0 = Y sigma_d sqrt(c), Y={sqrt_law_y.value:.4g}, sigma_d={sigma_d:.4g}, c={c:g}",
                        sqrt_law_y.n)
    rate_total, mean_square_size = est["rate_total"], est["size_mean_square"]
    noise = math.sqrt(rate_total.value * session_seconds * mean_square_size.value) / q_u
    return Estimate(noise, noise * 0.5 * math.hypot(_rel(rate_total), _rel(mean_square_size)),
                    "inventory unit / sqrt(trading day)",
                    "sigma = sqrt(rate * S * E[q^2]) / Q_u (sd of a day's net signed flow)", rate_total.n)


def mfg_parameters(*, kyle_lambda: Estimate, sqrt_law_y: Estimate, sigma_brl: Estimate, rate_total: Estimate,
                   mean_square_size: Estimate, price: float, adv_shares: float, inventory_unit_adv: float,
                   session_seconds: float) -> dict[str, Estimate]:
    """``eta0``, ``eta1``, ``kappa``, ``sigma`` in MFG units (module docstring), with delta-method SEs."""
    est = {"kyle_lambda": kyle_lambda, "sqrt_law_y": sqrt_law_y, "sigma": sigma_brl, "rate_total": rate_total,
           "size_mean_square": mean_square_size}
    for needed, label in _LABELS.items():
        _check_positive(label, est[needed])
    return {name: mfg_parameter(name, est, price=price, adv_shares=adv_shares, inventory_unit_adv=inventory_unit_adv,
                                session_seconds=session_seconds) for name in ("eta0", "eta1", "kappa", "sigma")}


def mm_intensities(*, rate_per_side: Estimate, half_spread: Estimate, flow_share: float) -> dict[str, Estimate]:
    """``A`` (1/s), ``k`` (1/BRL) and the upper bound ``A_all_flow`` (f = 1), module docstring."""
    _check_positive("per-side trade rate", rate_per_side)
    _check_positive("half-spread", half_spread)
    if not 0 < flow_share <= 1:
        raise CalibrationError(f"market_making.flow_share must be in (0, 1], got {flow_share!r}")
    h = half_spread.value
    a_all = math.e * rate_per_side.value
    return {
        "A": Estimate(flow_share * a_all, flow_share * math.e * rate_per_side.se, "1/s",
                      f"A = e * flow_share * rate_per_side, flow_share={flow_share:g}", rate_per_side.n),
        "k": Estimate(1.0 / h, half_spread.se / h ** 2, "1/BRL", f"k = 1/h, h={h:.4g} BRL (effective half-spread)",
                      half_spread.n),
        "A_all_flow": Estimate(a_all, math.e * rate_per_side.se, "1/s",
                               "upper bound: every trade in the market fills us (flow_share = 1)", rate_per_side.n),
    }
