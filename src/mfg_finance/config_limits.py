"""Checks of the workflow configuration beyond the JSON schema: values, consistency, resources.

The schema checks each key's type and range on its own; :func:`mfg_finance.config.check_config`
checks grid/scenario/sweep/ticker consistency. These steps close the remaining gaps, each
raising :class:`ConfigError` that names the key (all run before any job, from ``common.smk``):

1. :func:`check_finite` -- YAML's ``.nan`` / ``.inf`` are numbers to the schema; no key takes them.
2. :func:`check_sizes` -- sizes a config can ask for without bound: sweep points (each a job,
   and all expanded when the DAG is built), MFG grids (``nx (nt + 1)`` nodes), and the memory of
   one backtest job (quote tables ``(n_steps + 1) x (2 Q_max + 1)``, and ``n_paths`` path states).
   A config over a limit is refused with the key, the estimate and the limit.
3. :func:`check_scenarios` -- each ``mfg.scenarios.<name>`` merged onto ``mfg`` must be a valid
   solver config (types and ranges of every overridden value), as the solve would check it.
4. :func:`check_market_making` -- ``horizon_s`` a whole number of ``dt_s`` steps.
5. :func:`check_url_template` -- ``data.b3.url_template`` fills ``{year}`` and nothing else.
6. :func:`check_stats_window` -- with the synthetic sample, whose length the config fixes,
   ``stats.rolling_window`` must fit in it (with real data the statistics job checks it).

Run in this order by :func:`check_config_limits` (sizes before anything expands a sweep).
"""

from __future__ import annotations

import math
import string
from typing import Any, Iterator, Mapping

from mfg_finance.errors import ConfigError

#: Sweep points over all sweeps (each point is a job; Snakemake plans them all up front).
MAX_SWEEP_POINTS = 10_000
#: Memory one backtest job may need (bytes): quote tables and per-path state.
MAX_JOB_BYTES = 8 * 2**30
#: Bytes per (time step, inventory) cell of a backtest: bid and ask tables and the GLFT solve's
#: work arrays (about six float64 arrays of that shape).
_BYTES_PER_TABLE_CELL = 48
#: Bytes per Monte Carlo path: state (inventory, cash, mid, fill counts, spreads), random draws of
#: a step and the per-path result frame (about 20 float64 / int64 values).
_BYTES_PER_PATH = 160


def _walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, path + (key,))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, path + (i,))
    else:
        yield path, node


def _key(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_finite(config: Mapping[str, Any]) -> None:
    """No number in the config is NaN or infinite (YAML ``.nan``, ``.inf``, ``-.inf``)."""
    bad = [f"{_key(path)} = {value!r}" for path, value in _walk(config)
           if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: expected a finite number (YAML .nan/.inf are not accepted)")


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


def _sweep_size(spec: Mapping[str, Any]) -> int:
    size = 1
    for axis in spec.values():
        size *= int(axis["num"]) if isinstance(axis, Mapping) and "num" in axis else \
            len(axis) if isinstance(axis, (list, tuple)) else 1
    return size


def check_sizes(config: Mapping[str, Any]) -> None:
    """Refuse sizes beyond the limits above, with the key and the estimate (before any expansion)."""
    from mfg_finance.mfg.config import MAX_NODES

    sizes = {name: _sweep_size(spec) for name, spec in config.get("sweeps", {}).items()}
    if sum(sizes.values()) > MAX_SWEEP_POINTS:
        detail = ", ".join(f"sweeps.{name}: {n}" for name, n in sizes.items())
        raise ConfigError(f"sweeps: {sum(sizes.values())} points in all ({detail}; the product of each "
                          f"sweep's axis lengths), more than {MAX_SWEEP_POINTS}; each point is one MFG solve "
                          "job: use fewer values")

    mfg = config["mfg"]
    grids = [("mfg.grid", mfg["grid"])]
    grids += [(f"mfg.scenarios.{name}.grid", {**mfg["grid"], **(s.get("grid") or {})})
              for name, s in mfg["scenarios"].items() if isinstance(s.get("grid"), Mapping)]
    for key, grid in grids:
        nx, nt = grid.get("nx"), grid.get("nt")
        if isinstance(nx, int) and isinstance(nt, int) and nx * (nt + 1) > MAX_NODES:
            raise ConfigError(f"{key}: nx * (nt + 1) = {nx} * {nt + 1} = {nx * (nt + 1)} nodes, more than "
                              f"{MAX_NODES} (about {_gib(8 * 10 * nx * (nt + 1))} of solver arrays); "
                              "coarsen nx or nt")
    for i, (nx, nt) in enumerate(mfg.get("verification", {}).get("refinements", [])):
        if nx * (nt + 1) > MAX_NODES:
            raise ConfigError(f"mfg.verification.refinements[{i}]: [{nx}, {nt}] has nx * (nt + 1) = "
                              f"{nx * (nt + 1)} nodes, more than {MAX_NODES}; use a coarser pair")

    mm = config["market_making"]
    n_steps = max(1, round(mm["horizon_s"] / mm["dt_s"]))
    tables = _BYTES_PER_TABLE_CELL * (n_steps + 1) * (2 * mm["Q_max"] + 1)
    for key, n_paths in (("market_making.n_paths", mm["n_paths"]),
                         ("market_making.reproduction.n_paths", mm["reproduction"]["n_paths"])):
        paths = _BYTES_PER_PATH * n_paths
        if paths > MAX_JOB_BYTES:
            raise ConfigError(f"{key} = {n_paths}: one backtest job would need about {_gib(paths)} for the "
                              f"paths ({_BYTES_PER_PATH} bytes each), more than {_gib(MAX_JOB_BYTES)}; "
                              "use fewer paths")
    if tables > MAX_JOB_BYTES:
        raise ConfigError(f"market_making.Q_max = {mm['Q_max']} with horizon_s / dt_s = {n_steps} steps: the "
                          f"quote tables of one backtest job, (n_steps + 1) x (2 Q_max + 1) cells, would need "
                          f"about {_gib(tables)}, more than {_gib(MAX_JOB_BYTES)}; lower Q_max or horizon_s "
                          "(or raise dt_s)")


#: Placeholders for the calibrated parameters while checking a scenario's types and ranges only.
_PLACEHOLDERS = {"params": {"sigma": 1.0, "eta0": 1.0, "eta1": 0.0, "phi": 1.0, "gamma_T": 1.0},
                 "price": {"kappa": 1.0, "p_ref": 1.0}}


def check_scenarios(config: Mapping[str, Any]) -> None:
    """Each scenario, merged onto ``mfg``, passes the solver's own validation (key named in full)."""
    from mfg_finance.config import deep_merge
    from mfg_finance.mfg.config import validate_config

    mfg = config["mfg"]
    base = {section: dict(mfg[section]) for section in ("grid", "params", "solver", "price")}
    for section, values in _PLACEHOLDERS.items():
        for name, value in values.items():
            if base[section].get(name) is None:
                base[section][name] = value
    try:
        validate_config(base)
    except ConfigError:
        return  # a problem of mfg itself: check_config, which runs next, names it in its own words
    for name, overrides in mfg["scenarios"].items():
        if not isinstance(overrides, Mapping):
            continue  # the schema reports it
        for section, values in overrides.items():
            if section == "types":   # a list, checked by mfg_finance.mfg.agent_types.validate_types
                continue
            if not isinstance(values, Mapping):
                raise ConfigError(f"mfg.scenarios.{name}.{section}: must be a mapping, got {values!r}")
            # params.sigma0: null means "the calibrated common noise" (mfg_finance.mfg.systemic)
            nulls = sorted(k for k, v in values.items() if v is None and not (section == "params" and k == "sigma0"))
            if nulls:
                raise ConfigError(f"mfg.scenarios.{name}.{section}: {nulls} set to null; leave a key out to "
                                  "keep the base value")
        merged = deep_merge(base, overrides)
        if merged["params"].get("sigma0", 0.0) is None:
            merged["params"]["sigma0"] = 0.0   # calibrated later; its range is checked by the schema
        try:
            validate_config(merged)
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(f"mfg.scenarios.{name}.{message[4:]}" if message.startswith("mfg.")
                              else f"mfg.scenarios.{name}: {message}") from None


def check_market_making(config: Mapping[str, Any]) -> None:
    """``market_making.horizon_s`` is a whole number of ``dt_s`` steps."""
    from mfg_finance.market_making._checks import n_steps_of

    mm = config["market_making"]
    try:
        n_steps_of(mm["horizon_s"], mm["dt_s"])
    except ConfigError as exc:
        raise ConfigError(f"market_making.horizon_s / market_making.dt_s: {exc}") from None


def check_url_template(config: Mapping[str, Any]) -> None:
    """``data.b3.url_template`` names ``{year}`` and no other field, with balanced braces."""
    template = config["data"]["b3"]["url_template"]
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"data.b3.url_template: {template!r} is not a valid template ({exc}); write "
                          "literal braces as {{ and }}") from None
    unknown = sorted({f for f in fields if f != "year"})
    if unknown:
        raise ConfigError(f"data.b3.url_template: unknown field(s) {['{' + f + '}' for f in unknown]} in "
                          f"{template!r}; only {{year}} is filled in")


def check_stats_window(config: Mapping[str, Any]) -> None:
    """``stats.rolling_window`` fits the synthetic sample's ``n_sessions - 1`` returns (80% filled)."""
    if config["data"]["source"] != "sample":
        return
    window, n_returns = config["stats"]["rolling_window"], config["data"]["sample"]["n_sessions"] - 1
    if math.ceil(0.8 * window) > n_returns:
        raise ConfigError(f"stats.rolling_window = {window} sessions: the synthetic sample "
                          f"(data.sample.n_sessions = {n_returns + 1}) has {n_returns} returns per ticker, "
                          f"too few to fill 80% of the window; the rolling volatility would be empty")


def check_config_limits(config: Mapping[str, Any]) -> None:
    """All the checks of this module, in the order of the module docstring."""
    check_finite(config)
    check_sizes(config)
    check_scenarios(config)
    check_market_making(config)
    check_url_template(config)
    check_stats_window(config)
