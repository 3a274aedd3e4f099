r"""The one place where the crowd's units meet the market maker's (docs/equilibrium.md, section 3).

The crowd (:mod:`mfg_finance.mfg`) counts time in trading days, inventory in *inventory units*
(``inventory_unit_shares`` shares each, from the MFG calibration) and costs in cost units (fractions of
the notional of one inventory unit). The market maker (:mod:`mfg_finance.market_making`) counts time in
seconds, inventory in lots of ``lot_shares`` shares and prices in BRL per share.

* time: ``t_s = t_days * seconds_per_day``;
* the crowd's aggregate flow in lots per second: ``F = size * m * inventory_unit_shares / (lot_shares *
  seconds_per_day)``, with ``m`` the mean flow of one agent (inventory units / trading day) and ``size``
  the number of agents (the crowd's mass, dimensionless);
* the spread's cost coefficient ``theta`` (cost units x trading day / inventory units^2 per BRL) from the
  dimensionless ``theta_share``: ``theta = theta_share * eta0 / spread_ref``, so that the market maker
  quoting its reference spread ``spread_ref`` (BRL; the spread of the standalone market maker at
  ``q = 0``, far from the horizon) adds ``theta_share * eta0`` to the crowd's cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mfg_finance.errors import ConfigError


@dataclass(frozen=True)
class Units:
    """Conversion constants. ``seconds_per_day`` (s / trading day), ``inventory_unit_shares`` (shares per
    inventory unit), ``lot_shares`` (shares per lot), ``crowd_size`` (agents, dimensionless)."""

    seconds_per_day: float
    inventory_unit_shares: float
    lot_shares: float
    crowd_size: float

    def __post_init__(self):
        for name in ("seconds_per_day", "inventory_unit_shares", "lot_shares", "crowd_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise ConfigError(f"equilibrium units: {name} must be a finite number > 0, got {value!r}")

    @property
    def flow_to_lots_per_s(self) -> float:
        """Multiplier from one agent's flow (inventory units / trading day) to the crowd's (lots / s)."""
        return self.crowd_size * self.inventory_unit_shares / (self.lot_shares * self.seconds_per_day)

    def seconds(self, t_days) -> np.ndarray:
        return np.asarray(t_days, dtype=float) * self.seconds_per_day

    def crowd_flow_lots_per_s(self, mean_flow) -> np.ndarray:
        """``F_t`` (lots / s, > 0 buys) from the mean flow ``m_t`` (inventory units / trading day)."""
        return np.asarray(mean_flow, dtype=float) * self.flow_to_lots_per_s


def intensities(flow_lots_per_s, *, A: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Base intensities at the mid (1/s): bid ``A + beta max(-F, 0)`` (a selling crowd hits the bid),
    ask ``A + beta max(F, 0)``; ``beta`` (dimensionless) is the share of the crowd's flow that reaches
    the market maker as market orders."""
    f = np.asarray(flow_lots_per_s, dtype=float)
    return A + beta * np.maximum(-f, 0.0), A + beta * np.maximum(f, 0.0)


def spread_cost_coefficient(theta_share: float, *, eta0: float, spread_ref: float) -> float:
    """``theta = theta_share * eta0 / spread_ref`` (cost units x trading day / inventory units^2 per BRL)."""
    if not spread_ref > 0:
        raise ConfigError(f"equilibrium: the reference spread must be > 0 BRL, got {spread_ref!r}")
    return float(theta_share) * float(eta0) / float(spread_ref)
