"""Settings of a tape replay: tick grid, queue model, latency, fees, decision step (units stated)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks

QUEUE_MODELS = ("front", "back", "probabilistic")

#: B3 cash-equity trading + post-trading fee per side (bps of notional), the first tier of the price list
#: announced in 2024 for 2025 (2.30 bp up to R$ 3 million ADTV; day trade 2.30 bp up to R$ 200 thousand,
#: falling by tiers to 0.95 bp). Brokerage is not included. The pipeline's default; set
#: ``maker_fee_bps`` / ``taker_fee_bps`` to the tier (or market-maker programme) that applies.
B3_EQUITY_DAY_TRADE_FEE_BPS = 2.3


@dataclass(frozen=True)
class ReplaySettings:
    """How our quotes meet the tape.

    Attributes
    ----------
    dt_s : decision step (s): the strategy re-quotes at ``t_start + n dt_s``, as the simulator does.
    tick_size : price grid (BRL); bids are rounded down and asks up (away from the mid). ``0`` means
        no grid (continuous prices, used by the consistency check against the simulator).
    queue : "front" (our order is first at its price), "back" (``queue_ahead`` shares at our price
        trade before us) or "probabilistic" (the queue ahead is ``U * queue_ahead``, ``U`` uniform on
        [0, 1) drawn per posted order from ``seed``).
    queue_ahead : shares ahead of a newly posted order ("back", "probabilistic"; unused by "front");
        an unfilled order re-posted at the same price keeps its place.
    latency_s : delay (s) between a quote decision and its arrival at the exchange; until then the
        previous quote stays live.
    maker_fee_bps : fee on each of our passive fills (bps of notional).
    taker_fee_bps : fee on the end-of-session liquidation at the last print (bps of notional).
    reference_window : prints in the rolling median of the reference price (odd, >= 1).
    seed : seed of the probabilistic queue positions.
    """

    dt_s: float = 1.0
    tick_size: float = 0.01
    queue: str = "front"
    queue_ahead: float = 0.0
    latency_s: float = 0.0
    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0
    reference_window: int = 5
    seed: int = 0

    def __post_init__(self):
        _checks.positive("dt_s", self.dt_s, unit="s")
        _checks.non_negative("tick_size", self.tick_size, unit="BRL")
        _checks.choice("queue", self.queue, QUEUE_MODELS)
        _checks.non_negative("queue_ahead", self.queue_ahead, unit="shares")
        _checks.non_negative("latency_s", self.latency_s, unit="s")
        _checks.non_negative("maker_fee_bps", self.maker_fee_bps, unit="bps")
        _checks.non_negative("taker_fee_bps", self.taker_fee_bps, unit="bps")
        window = _checks.positive_int("reference_window", self.reference_window, unit="prints")
        if window % 2 == 0:
            raise ConfigError(f"reference_window must be odd (a median of prints), got {window}")
        object.__setattr__(self, "reference_window", window)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "replay") -> "ReplaySettings":
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where} must be a mapping, got {type(values).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


def clock_seconds(text: str | None, *, name: str = "time") -> float | None:
    """``"HH:MM"`` or ``"HH:MM:SS"`` (exchange clock) as seconds since midnight; ``None`` stays ``None``."""
    if text is None:
        return None
    parts = str(text).split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        h, m, sec = int(parts[0]), int(parts[1]), float(parts[2]) if len(parts) == 3 else 0.0
        if not (0 <= h < 24 and 0 <= m < 60 and 0 <= sec < 60):
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name} must be a clock time HH:MM[:SS], got {text!r}") from None
    return h * 3600.0 + m * 60.0 + sec
