"""Calibrated market parameters of one ticker (BRL, seconds, lots), as the backtests consume them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from mfg_finance.errors import ConfigError
from mfg_finance.market_making import _checks

#: keys every calibrated parameter set must provide, with their units
REQUIRED_KEYS = {
    "sigma": "BRL/sqrt(s)",
    "A": "1/s",
    "k": "1/BRL",
    "gamma": "1/BRL",
    "Q_max": "lots",
    "S0": "BRL",
    "tick_size": "BRL",
}
#: optional keys and their defaults
OPTIONAL_KEYS = {"phi": 0.0, "order_size": 1.0, "half_spread": None, "skew": None}


@dataclass(frozen=True)
class MarketParameters:
    """Market-making parameters of one ticker.

    Attributes
    ----------
    sigma : mid volatility (BRL / sqrt(s)).
    A : fill intensity at zero distance from the mid (1/s).
    k : decay of the fill intensity with distance (1/BRL).
    gamma : CARA risk aversion (1/BRL).
    Q_max : inventory limit (lots).
    S0 : initial mid (BRL).
    tick_size : price tick (BRL).
    phi : terminal inventory penalty of the GLFT strategy (BRL / lot^2); default 0 (inventory
        marked to the mid at the horizon, as in GLFT 2013).
    order_size : shares per fill (default 1). Prices, ``sigma`` and ``k`` stay per share; PnL is
        multiplied by ``order_size`` and the CARA strategies use ``gamma * order_size`` (the risk of
        ``order_size`` shares). Use 100 for B3 standard lots.
    half_spread : half-spread of the ``constant`` and ``inventory_aware`` heuristics (BRL); default
        ``(1/gamma) ln(1 + gamma/k)`` rounded to whole ticks (at least one).
    skew : quote shift per lot of inventory of ``inventory_aware`` (BRL/lot); default
        ``half_spread / Q_max``.
    """

    sigma: float
    A: float
    k: float
    gamma: float
    Q_max: int
    S0: float
    tick_size: float
    phi: float = 0.0
    order_size: float = 1.0
    half_spread: float | None = None
    skew: float | None = None

    def __post_init__(self):
        # keep the checked values (floats), not what came in (a numeric string would pass the check
        # and then fail in arithmetic)
        checked = {
            "sigma": _checks.non_negative("sigma", self.sigma, unit="BRL/sqrt(s)"),
            "A": _checks.positive("A", self.A, unit="1/s"),
            "k": _checks.positive("k", self.k, unit="1/BRL"),
            "gamma": _checks.positive("gamma", self.gamma, unit="1/BRL"),
            "Q_max": _checks.positive_int("Q_max", self.Q_max, unit="lots"),
            "S0": _checks.positive("S0", self.S0, unit="BRL"),
            "tick_size": _checks.positive("tick_size", self.tick_size, unit="BRL"),
            "phi": _checks.non_negative("phi", self.phi, unit="BRL/lot^2"),
            "order_size": _checks.positive("order_size", self.order_size, unit="shares"),
        }
        if self.half_spread is not None:
            checked["half_spread"] = _checks.non_negative("half_spread", self.half_spread, unit="BRL")
        if self.skew is not None:
            checked["skew"] = _checks.non_negative("skew", self.skew, unit="BRL/lot")
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        _checks.bounded_scales(sigma=checked["sigma"], gamma=self.effective_gamma, k=checked["k"],
                               S0=checked["S0"], Q_max=checked["Q_max"])

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, where: str = "params") -> "MarketParameters":
        """Build from a calibrated dict; values may be plain numbers or ``{value: x, ...}`` records.

        Unknown keys are ignored (calibration files carry provenance next to the values).
        """
        if not isinstance(params, Mapping):
            raise ConfigError(f"{where} must be a mapping of parameters, got {type(params).__name__}")
        values = {key: (val["value"] if isinstance(val, Mapping) and "value" in val else val)
                  for key, val in params.items()}
        missing = [key for key in REQUIRED_KEYS if values.get(key) is None]
        if missing:
            wanted = ", ".join(f"{key} ({REQUIRED_KEYS[key]})" for key in missing)
            raise ConfigError(f"{where} lacks {wanted}; got keys {sorted(values)}")
        names = {f.name for f in fields(cls)}
        kwargs = {key: values[key] for key in names if values.get(key) is not None}
        return cls(**kwargs)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def effective_gamma(self) -> float:
        """Risk aversion per share of inventory risk: ``gamma * order_size`` (1/BRL)."""
        return self.gamma * self.order_size


def default_market_parameters() -> MarketParameters:
    """The GLFT (2013) example expressed in BRL with a 0.01 BRL tick.

    sigma 0.3 tick/sqrt(s) = 0.003 BRL/sqrt(s), A 0.9 /s, k 0.3 /tick = 30 /BRL,
    gamma 0.01 /tick = 1 /BRL, Q_max 30 lots, S0 = 100 BRL.
    """
    tick = 0.01
    return MarketParameters(sigma=0.3 * tick, A=0.9, k=0.3 / tick, gamma=0.01 / tick, Q_max=30,
                            S0=100.0, tick_size=tick)


def market_parameters_from_file(path, ticker: str | None = None) -> tuple[str, MarketParameters]:
    """Read one ticker's parameters from a YAML file; returns ``(ticker, parameters)``.

    Accepted layouts: a flat mapping of the parameters (ticker ``"custom"``); a mapping
    ``{ticker: {parameters}}``; or ``{tickers: {ticker: {parameters}}}`` (as in
    ``results/calibration/mm_params.yaml``). With several tickers, ``ticker`` chooses one (default:
    the first in file order).
    """
    from mfg_finance.user_yaml import read_user_yaml

    data = read_user_yaml(path)  # YAML 1.2 floats (1.0e6), duplicate keys refused, errors with line
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of parameters, got {type(data).__name__}")
    if all(key in data for key in REQUIRED_KEYS):
        return (ticker or "custom"), MarketParameters.from_mapping(data, where=str(path))
    per_ticker = data.get("tickers", data)
    candidates = {str(name): values for name, values in per_ticker.items() if isinstance(values, Mapping)}
    if not candidates:
        raise ConfigError(f"{path}: no parameter set found (need keys {', '.join(REQUIRED_KEYS)})")
    name = ticker if ticker is not None else next(iter(candidates))
    if name not in candidates:
        raise ConfigError(f"{path}: ticker {name!r} not found; available: {', '.join(candidates)}")
    return name, MarketParameters.from_mapping(candidates[name], where=f"{path} [{name}]")
