"""Validation and defaults of the ``mfg`` configuration block that :func:`mfg_finance.mfg.solve` takes.

Shape (units in brackets)::

    grid:   {x_min, x_max [inventory units, or 'auto'], nx, T [trading days], nt,
             time_mesh: graded | uniform, max_step_ratio [dimensionless, >= 1]}
    params: {sigma [inv. units / sqrt(day)], eta0 [cost x day / inv. units^2], eta1 [eta0 units per
             (inv. units / day)], phi [cost / (inv. units^2 day)], gamma_T [cost / inv. units^2],
             m0_mean, m0_std [inventory units], sigma0 [inv. units / sqrt(day), common noise, default 0]}
    solver: {method: newton | picard, tol, max_iter, damping}
    price:  {enabled, kappa [inv. units / (day BRL)], p_ref [BRL], supply [inv. units / day]}

``time_mesh`` (default ``graded``): ``uniform`` steps ``T/nt``, or steps graded geometrically towards
``T`` from the terminal-layer width ``eta0/gamma_T`` and uniform (``max_step_ratio x T/nt``, default
1.5) away from it, see :func:`mfg_finance.mfg.grid.time_mesh`. ``graded`` is the default because on
the stiff calibrated problems the layer (~1e-3 trading days) is narrower than one uniform step: at
201 x 160 it cuts the feedback error against the exact LQ solution from 63% to 8% and the value
error from 25% to 7% (docs/mfg.md, section 6). ``max_step_ratio`` is ignored by ``uniform``.

``x_min`` / ``x_max`` (default ``auto``): each end is either fixed by the user or sized from the
problem by :func:`mfg_finance.mfg.grid.auto_domain` (``m0`` and the noise over the horizon,
``sigma sqrt(T)``; the validated config carries the numbers). The initial law must fit the domain
and be representable on its nodes (:func:`mfg_finance.mfg.grid.initial_density`), else the error
names the key.

The pipeline's ``scenarios``, ``verification`` and ``types`` keys may be present and are ignored here
(``types``: :mod:`mfg_finance.mfg.agent_types`; ``sigma0 > 0``: :mod:`mfg_finance.mfg.common_noise`).
Every error is a :class:`~mfg_finance.errors.ConfigError` whose message starts with the full key
(``mfg.grid.nx: must be an integer >= 3, got 2``).
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real
from typing import Any, Mapping

import numpy as np

from mfg_finance.errors import ConfigError
from mfg_finance.mfg.grid import AUTO, INVENTORY_MESHES, TIME_MESHES, auto_domain, grid_nodes, initial_density

METHODS = ("newton", "picard")
#: Defaults of the optional keys. sigma, eta0, eta1, phi, gamma_T have none: they are calibrated.
DEFAULTS: dict[str, dict[str, Any]] = {
    "grid": {"x_min": AUTO, "x_max": AUTO, "nx": 201, "T": 0.5, "nt": 150, "time_mesh": "graded",
             "max_step_ratio": 1.5, "inventory_mesh": "graded"},
    "params": {"m0_mean": 0.5, "m0_std": 0.5, "sigma0": 0.0},
    "solver": {"method": "newton", "tol": 1.0e-10, "max_iter": 50, "damping": 0.5},
    "price": {"enabled": False, "kappa": None, "p_ref": None, "supply": 0.0},
}
REQUIRED_PARAMS = ("sigma", "eta0", "eta1", "phi", "gamma_T")
_ALLOWED = {
    "grid": ("x_min", "x_max", "nx", "T", "nt", "time_mesh", "max_step_ratio", "inventory_mesh"),
    "params": REQUIRED_PARAMS + ("m0_mean", "m0_std", "sigma0"),
    "solver": ("method", "tol", "max_iter", "damping"),
    "price": ("enabled", "kappa", "p_ref", "supply"),
}
_IGNORED = ("scenarios", "verification", "types")
#: Largest number of space-time nodes accepted (each (nt+1, nx) array is 8 bytes a node).
MAX_NODES = 20_000_000


def _real(key: str, value: Any, *, low: float | None = None, strict: bool = False,
          high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        hint = " (write floats with a dot, e.g. 1.0e-10, so YAML reads a number)" if isinstance(value, str) else ""
        raise ConfigError(f"{key}: must be a finite number, got {value!r}{hint}")
    value = float(value)
    if low is not None and (value <= low if strict else value < low):
        raise ConfigError(f"{key}: must be {'>' if strict else '>='} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{key}: must be <= {high:g}, got {value!r}")
    return value


def _integer(key: str, value: Any, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ConfigError(f"{key}: must be an integer >= {low}, got {value!r}")
    return int(value)


def _section(config: Mapping[str, Any], name: str) -> dict:
    raw = config.get(name)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"mfg.{name}: must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_ALLOWED[name]))
    if unknown:
        raise ConfigError(f"mfg.{name}: unknown key(s) {unknown}; allowed: {list(_ALLOWED[name])}")
    merged = dict(DEFAULTS[name])
    merged.update(raw)
    return merged


def _end(key: str, value: Any) -> float | str:
    return AUTO if value == AUTO else _real(key, value)


def _grid(raw: Mapping[str, Any]) -> dict:
    g = {
        "x_min": _end("mfg.grid.x_min", raw["x_min"]),
        "x_max": _end("mfg.grid.x_max", raw["x_max"]),
        "nx": _integer("mfg.grid.nx", raw["nx"], low=3),
        "T": _real("mfg.grid.T", raw["T"], low=0.0, strict=True),
        "nt": _integer("mfg.grid.nt", raw["nt"], low=1),
        "time_mesh": raw["time_mesh"],
        "max_step_ratio": _real("mfg.grid.max_step_ratio", raw["max_step_ratio"], low=1.0),
        "inventory_mesh": raw["inventory_mesh"],
    }
    if g["time_mesh"] not in TIME_MESHES:
        raise ConfigError(f"mfg.grid.time_mesh: {g['time_mesh']!r} is not one of {list(TIME_MESHES)}")
    if g["inventory_mesh"] not in INVENTORY_MESHES:
        raise ConfigError(f"mfg.grid.inventory_mesh: {g['inventory_mesh']!r} is not one of {list(INVENTORY_MESHES)}")
    if AUTO not in (g["x_min"], g["x_max"]) and not g["x_min"] < g["x_max"]:
        raise ConfigError(f"mfg.grid.x_max: must be above x_min ({g['x_min']!r}), got {g['x_max']!r}")
    if g["nx"] * (g["nt"] + 1) > MAX_NODES:
        raise ConfigError(f"mfg.grid: nx * (nt + 1) = {g['nx'] * (g['nt'] + 1)} nodes exceeds "
                          f"{MAX_NODES}; coarsen nx or nt")
    return g


def _params(raw: Mapping[str, Any], grid: Mapping[str, float]) -> dict:
    for name in REQUIRED_PARAMS:
        if raw.get(name) is None:
            raise ConfigError(f"mfg.params.{name}: missing (null); set a number or take it from calibration")
    p = {
        "sigma": _real("mfg.params.sigma", raw["sigma"], low=0.0),
        "eta0": _real("mfg.params.eta0", raw["eta0"], low=0.0, strict=True),
        "eta1": _real("mfg.params.eta1", raw["eta1"], low=0.0),
        "phi": _real("mfg.params.phi", raw["phi"], low=0.0),
        "gamma_T": _real("mfg.params.gamma_T", raw["gamma_T"], low=0.0),
        "m0_mean": _real("mfg.params.m0_mean", raw["m0_mean"]),
        "m0_std": _real("mfg.params.m0_std", raw["m0_std"], low=0.0, strict=True),
        # common noise (inventory units / sqrt(trading day)); > 0 is solved by mfg.common_noise
        "sigma0": _real("mfg.params.sigma0", raw["sigma0"], low=0.0),
    }
    return p


def _resolve_domain(grid: dict, params: Mapping[str, float]) -> None:
    """Replace ``auto`` ends by :func:`auto_domain`'s; check the initial law fits and is representable."""
    if AUTO not in (grid["x_min"], grid["x_max"]):
        low = high = None
    else:
        both = grid["x_min"] == grid["x_max"] == AUTO
        low, high = auto_domain(m0_mean=params["m0_mean"], m0_std=params["m0_std"], sigma=params["sigma"],
                                T=grid["T"], nx=grid["nx"] if both else None, eta0=params["eta0"],
                                eta1=params["eta1"], phi=params["phi"], gamma_T=params["gamma_T"])
    if grid["x_min"] == AUTO:
        grid["x_min"] = low
    if grid["x_max"] == AUTO:
        grid["x_max"] = high
    if not grid["x_min"] < grid["x_max"]:
        raise ConfigError(f"mfg.grid: x_min ({grid['x_min']!r}) must be below x_max ({grid['x_max']!r})")
    initial_density(grid_nodes(grid, params), params["m0_mean"], params["m0_std"])


def _solver(raw: Mapping[str, Any]) -> dict:
    method = raw["method"]
    if method not in METHODS:
        raise ConfigError(f"mfg.solver.method: {method!r} is not one of {list(METHODS)}")
    return {
        "method": method,
        "tol": _real("mfg.solver.tol", raw["tol"], low=0.0, strict=True),
        "max_iter": _integer("mfg.solver.max_iter", raw["max_iter"], low=1),
        "damping": _real("mfg.solver.damping", raw["damping"], low=0.0, strict=True, high=1.0),
    }


def _price(raw: Mapping[str, Any], nt: int) -> dict:
    enabled = raw["enabled"]
    if not isinstance(enabled, bool):
        raise ConfigError(f"mfg.price.enabled: must be true or false, got {enabled!r}")
    out: dict[str, Any] = {"enabled": enabled, "kappa": None, "p_ref": None}
    if raw["kappa"] is not None:
        out["kappa"] = _real("mfg.price.kappa", raw["kappa"])
        if out["kappa"] == 0.0:
            raise ConfigError("mfg.price.kappa: must be nonzero (the supply slope; p solves "
                              "m + s + kappa (p - p_ref) = 0), got 0.0")
    if raw["p_ref"] is not None:
        out["p_ref"] = _real("mfg.price.p_ref", raw["p_ref"], low=0.0, strict=True)
    supply = raw["supply"]
    if isinstance(supply, (list, tuple)):
        if len(supply) != nt + 1:
            raise ConfigError(f"mfg.price.supply: a path needs nt + 1 = {nt + 1} values, got {len(supply)}")
        out["supply"] = [_real(f"mfg.price.supply[{i}]", v) for i, v in enumerate(supply)]
    else:
        out["supply"] = _real("mfg.price.supply", supply)
    if enabled:
        for name in ("kappa", "p_ref"):
            if out[name] is None:
                raise ConfigError(f"mfg.price.{name}: required when mfg.price.enabled is true "
                                  f"(set it or take it from calibration)")
    return out


def validate_config(config: Mapping[str, Any]) -> dict:
    """Check an ``mfg`` config block, fill defaults and return a new, JSON-able dict.

    Parameters
    ----------
    config : mapping with sections ``grid``, ``params``, ``solver`` and optionally ``price``
        (``scenarios`` and ``verification`` are accepted and dropped).

    Returns
    -------
    dict with exactly the sections ``grid``, ``params``, ``solver``, ``price``, every value a
    builtin ``float``/``int``/``str``/``bool``/``None``/``list``.

    Raises
    ------
    ConfigError naming the offending key, the value and what was expected.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"mfg: the solver config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(_ALLOWED) - set(_IGNORED))
    if unknown:
        raise ConfigError(f"mfg: unknown section(s) {unknown}; allowed: {list(_ALLOWED)}")
    for name in ("grid", "params"):
        if name not in config:
            raise ConfigError(f"mfg.{name}: missing section")
    config = copy.deepcopy(dict(config))
    grid = _grid(_section(config, "grid"))
    params = _params(_section(config, "params"), grid)
    _resolve_domain(grid, params)
    return {
        "grid": grid,
        "params": params,
        "solver": _solver(_section(config, "solver")),
        "price": _price(_section(config, "price"), grid["nt"]),
    }
