r"""Heterogeneous crowds: the ``mfg.types`` list and the validated type specifications.

``K`` types with population weights ``w_k`` (``sum_k w_k = 1``) and their own running penalty
``phi_k``, terminal penalty ``gamma_T,k``, initial law ``N(m0_mean,k, m0_std,k^2)`` and noise
``sigma_k``, coupled through one cost ``eta = eta0 + eta1 |m|`` of the crowd's mean flow
``m = sum_k w_k m_k`` (``m_k`` the mean flow of type ``k``). Config shape::

    types:
      - {name: urgent,  weight: 0.3, phi_factor: 5, gamma_T_factor: 2}   # multiples of the mfg.params value
      - {name: fixed,   weight: 0.1, phi: 0.35}                          # absolute; keys not given: mfg.params
      - {name: patient, weight: 0.6}

An absent or empty list means one type with the ``params`` values (the model of the deterministic
solver). Units are those of :mod:`mfg_finance.mfg.config`; ``weight`` is a population fraction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any, Mapping, Sequence

from mfg_finance.errors import ConfigError

#: Per-type keys that override ``mfg.params``.
TYPE_PARAMS = ("phi", "gamma_T", "m0_mean", "m0_std", "sigma")
#: Relative overrides: ``<param>_factor`` multiplies the run's (calibrated) ``mfg.params`` value, so a type
#: defined as "urgent" (``phi_factor``, ``gamma_T_factor`` > 1) is urgent on any calibration; a type gives a
#: parameter either absolutely or as a factor, not both.
TYPE_FACTORS = {"phi_factor": "phi", "gamma_T_factor": "gamma_T"}
#: ``sum_k w_k`` must be 1 to this tolerance.
WEIGHT_TOL = 1e-9


@dataclass(frozen=True)
class AgentType:
    """One type: ``name``, population ``weight`` and its parameters (units of ``mfg.params``)."""

    name: str
    weight: float
    phi: float
    gamma_T: float
    m0_mean: float
    m0_std: float
    sigma: float


def _number(key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{key}: must be a finite number, got {value!r}")
    value = float(value)
    if value < 0.0 or (positive and value == 0.0):
        raise ConfigError(f"{key}: must be {'>' if positive else '>='} 0, got {value!r}")
    return value


def validate_types(types: Sequence[Mapping[str, Any]] | None, params: Mapping[str, float]) -> list[AgentType]:
    """Check ``mfg.types`` against the validated ``mfg.params``; absent/empty gives one type.

    Raises :class:`ConfigError` naming ``mfg.types[i].<key>`` for unknown keys, bad values,
    duplicate names or weights that do not sum to 1.
    """
    if not types:
        return [AgentType("all", 1.0, params["phi"], params["gamma_T"], params["m0_mean"],
                          params["m0_std"], params["sigma"])]
    if not isinstance(types, Sequence) or isinstance(types, (str, bytes)):
        raise ConfigError(f"mfg.types: must be a list of mappings, got {type(types).__name__}")
    out: list[AgentType] = []
    for i, raw in enumerate(types):
        key = f"mfg.types[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{key}: must be a mapping, got {type(raw).__name__}")
        unknown = sorted(set(raw) - {"name", "weight", *TYPE_PARAMS, *TYPE_FACTORS})
        if unknown:
            raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: ['name', 'weight', "
                              f"{', '.join(repr(k) for k in (*TYPE_PARAMS, *TYPE_FACTORS))}]")
        raw = _resolve_factors(key, raw, params)
        name = raw.get("name", f"type{i}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{key}.name: must be a non-empty string, got {name!r}")
        if "weight" not in raw:
            raise ConfigError(f"{key}.weight: missing (the type's population fraction)")
        values = {k: _number(f"{key}.{k}", raw.get(k, params[k]), positive=(k == "m0_std"))
                  if k != "m0_mean" else _signed(f"{key}.m0_mean", raw.get(k, params[k]))
                  for k in TYPE_PARAMS}
        out.append(AgentType(name=name, weight=_number(f"{key}.weight", raw["weight"], positive=True),
                             **values))
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"mfg.types: type names must be unique, got {names}")
    total = sum(t.weight for t in out)
    if abs(total - 1.0) > WEIGHT_TOL:
        raise ConfigError(f"mfg.types: the weights must sum to 1, got {total!r} ({[t.weight for t in out]})")
    return out


def _resolve_factors(key: str, raw: Mapping[str, Any], params: Mapping[str, float]) -> dict[str, Any]:
    """``raw`` with each ``<param>_factor`` (:data:`TYPE_FACTORS`) replaced by ``factor x params[<param>]``.

    Raises :class:`ConfigError` for a factor that is not a finite number > 0, or given beside the absolute value."""
    out = {k: v for k, v in raw.items() if k not in TYPE_FACTORS}
    for factor, param in TYPE_FACTORS.items():
        if factor not in raw:
            continue
        if param in raw:
            raise ConfigError(f"{key}: give {param} or {factor} (a multiple of mfg.params.{param}), not both")
        out[param] = _number(f"{key}.{factor}", raw[factor], positive=True) * float(params[param])
    return out


def _signed(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{key}: must be a finite number, got {value!r}")
    return float(value)


def mean_of(types: Sequence[AgentType], values: Sequence[float]) -> float:
    """Population average ``sum_k w_k values_k``."""
    return float(sum(t.weight * v for t, v in zip(types, values)))
