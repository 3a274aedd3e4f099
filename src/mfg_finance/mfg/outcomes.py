"""Scalar outcomes of an equilibrium, computed the same way from a grid solution and the exact LQ one.

Every outcome is a function of time paths only (time in trading days)::

    liquidation_half_life   first t with |Q_t| = |Q_0| / 2 (interpolation of ln|Q|; NaN if never) [trading days]
    liquidation_speed       -ln(Q_T / Q_0) / T (NaN if Q_T / Q_0 <= 0)                            [1 / trading day]
    total_cost              expected cost of a representative agent                                [cost units]
    mean_inventory_initial, mean_inventory_terminal     Q_0, Q_T                                   [inventory units]
    terminal_dispersion     std of the inventory law at T                                          [inventory units]
    mean_flow_initial, mean_flow_terminal               m_0, m_T                                   [inventory units / day]
    eta_min, eta_max, eta_mean                          min, max, time average of eta               [eta0 units]
    price_initial, price_terminal, price_impact         p_0, p_T, p_T - p_0 (None without price)    [BRL]

``HEADLINE`` are the outcomes the report states in words; the accuracy targets of
``docs/mfg.md`` (section 11) are measured on them.
"""

from __future__ import annotations

import math

import numpy as np

#: Keys of ``outcomes`` in ``metrics.json``, in order.
OUTCOME_KEYS = ("liquidation_half_life", "liquidation_speed", "total_cost", "mean_inventory_initial",
                "mean_inventory_terminal", "terminal_dispersion", "mean_flow_initial", "mean_flow_terminal",
                "eta_min", "eta_max", "eta_mean", "price_initial", "price_terminal", "price_impact")
#: The outcomes stated in the report's words.
HEADLINE = ("liquidation_half_life", "liquidation_speed", "total_cost", "mean_inventory_terminal",
            "terminal_dispersion", "eta_max", "eta_mean", "price_impact")


def half_life(t: np.ndarray, mean: np.ndarray) -> float:
    """First time the mean inventory's magnitude falls to half its initial value.

    Between the two time nodes that bracket it, ``ln |Q|`` is interpolated linearly (exact for the
    exponential decay of the LQ mean over a step, so the node spacing adds no error of its own; linear
    in ``|Q|`` when a node value is zero). NaN when it starts at zero or never gets there within the horizon.
    """
    start = abs(float(mean[0]))
    if start == 0.0:
        return math.nan
    level = np.abs(mean) - start / 2.0
    below = np.nonzero(level <= 0.0)[0]
    if not below.size:
        return math.nan
    i = int(below[0])
    if i == 0:
        return float(t[0])
    a0, a1 = abs(float(mean[i - 1])), abs(float(mean[i]))
    if a1 > 0.0 and a0 > a1:
        return float(t[i - 1] + (t[i] - t[i - 1]) * math.log(2.0 * a0 / start) / math.log(a0 / a1))
    l0, l1 = level[i - 1], level[i]
    return float(t[i - 1] + (t[i] - t[i - 1]) * l0 / (l0 - l1))


def liquidation_speed(t: np.ndarray, mean: np.ndarray) -> float:
    """``-ln(Q_T / Q_0) / T`` (1 / trading day); NaN when ``Q_T / Q_0 <= 0``."""
    ratio = mean[-1] / mean[0] if mean[0] != 0.0 else math.nan
    if not ratio > 0.0:
        return math.nan
    return float(-math.log(ratio) / (t[-1] - t[0]))


def time_average(t: np.ndarray, path: np.ndarray) -> float:
    """Trapezoidal time average of a path on (possibly graded) nodes."""
    return float(np.trapezoid(path, t) / (t[-1] - t[0]))


#: An initial mean below this fraction of the initial std is a symmetric law (round-off, not a position).
NO_POSITION = 1e-9


def path_outcomes(t: np.ndarray, mean: np.ndarray, std_terminal: float, mean_flow: np.ndarray,
                  eta: np.ndarray, total_cost: float, price: np.ndarray | None,
                  std_initial: float = 0.0, log_ratio_terminal: float | None = None) -> dict[str, float | None]:
    """The outcome dict (keys :data:`OUTCOME_KEYS`) from the time paths of an equilibrium.

    With ``|Q_0| <= NO_POSITION std_0`` there is no position to liquidate: half-life and speed are NaN.
    ``log_ratio_terminal``: ``ln(Q_T / Q_0)`` when the caller has it (:mod:`mfg_finance.mfg.mean_path`): the speed is
    then ``-log_ratio_terminal / T``, defined where ``Q_T`` underflows.
    """
    position = abs(float(mean[0])) > NO_POSITION * std_initial
    if position and log_ratio_terminal is not None and math.isfinite(log_ratio_terminal):
        speed = float(-log_ratio_terminal / (t[-1] - t[0]))
    else:
        speed = liquidation_speed(t, mean) if position else math.nan
    out: dict[str, float | None] = {
        "liquidation_half_life": half_life(t, mean) if position else math.nan,
        "liquidation_speed": speed,
        "total_cost": float(total_cost),
        "mean_inventory_initial": float(mean[0]),
        "mean_inventory_terminal": float(mean[-1]),
        "terminal_dispersion": float(std_terminal),
        "mean_flow_initial": float(mean_flow[0]),
        "mean_flow_terminal": float(mean_flow[-1]),
        "eta_min": float(np.min(eta)),
        "eta_max": float(np.max(eta)),
        "eta_mean": time_average(t, eta),
        "price_initial": None if price is None else float(price[0]),
        "price_terminal": None if price is None else float(price[-1]),
        "price_impact": None if price is None else float(price[-1] - price[0]),
    }
    return out
