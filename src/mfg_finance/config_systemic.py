"""Checks of the systemic keys (``mfg.params.sigma0``, ``mfg.types``, ``systemic.finite_n``) before any job.

The schema checks each type entry on its own; these checks need the whole list or several keys, and
without them a bad value surfaced only inside a job (weights that do not sum to 1, a type giving both
``phi`` and ``phi_factor``), or not at all (a misspelt finite-N scenario silently dropped the check), or
as a bare ``IndexError`` while Snakemake read the rules (``sigma0`` or ``types`` at the top of ``mfg``
making every scenario systemic). Each raises :class:`ConfigError` naming the key and what to write.
"""

from __future__ import annotations

from typing import Any, Mapping

from mfg_finance.errors import ConfigError

#: Stand-ins for the calibrated parameters a type may be relative to (``phi_factor``, ``gamma_T_factor``):
#: the checks below concern the list's shape, names and weights, which do not depend on their values.
_PLACEHOLDERS = {"phi": 1.0, "gamma_T": 1.0, "sigma": 1.0}


def _types_key(mfg: Mapping[str, Any], scenario: str) -> str:
    """Where a scenario's types are written: its own ``types``, or the top-level ``mfg.types``."""
    return f"mfg.scenarios.{scenario}.types" if "types" in mfg["scenarios"][scenario] else "mfg.types"


def check_types(mfg: Mapping[str, Any]) -> None:
    """Every scenario's type list passes :func:`mfg_finance.mfg.agent_types.validate_types`."""
    from mfg_finance.config import mfg_run_overrides
    from mfg_finance.mfg.agent_types import validate_types

    for name in mfg["scenarios"]:
        run = mfg_run_overrides(mfg, name)
        params = {k: (_PLACEHOLDERS.get(k, 0.0) if v is None else v) for k, v in run["params"].items()}
        params.update({k: v for k, v in _PLACEHOLDERS.items() if k not in params})
        try:
            validate_types(run.get("types"), params)
        except ConfigError as exc:
            message = str(exc)
            key = _types_key(mfg, name)
            raise ConfigError(key + message[len("mfg.types"):] if message.startswith("mfg.types")
                              else f"{key}: {message}") from None


def check_deterministic_scenario(mfg: Mapping[str, Any]) -> None:
    """At least one scenario without common noise or types: calibration diagnostics, the notebook and the
    deterministic figures read its solution."""
    from mfg_finance.config import mfg_run_overrides
    from mfg_finance.mfg.systemic import is_systemic

    if all(is_systemic(mfg_run_overrides(mfg, name)) for name in mfg["scenarios"]):
        top = [key for key, set_ in (("mfg.params.sigma0", mfg["params"].get("sigma0", 0.0) != 0.0),
                                     ("mfg.types", bool(mfg.get("types")))) if set_]
        cause = (f"{' and '.join(top)} {'apply' if len(top) > 1 else 'applies'} to every scenario" if top
                 else "every scenario has common noise or agent types")
        raise ConfigError(f"mfg.scenarios: {cause}, so none is left for the deterministic solver, which the "
                          "calibration diagnostics, the notebook and the MFG figures need; keep one scenario "
                          "without them, e.g. mfg.scenarios.baseline: {params: {sigma0: 0.0}, types: []}, or set "
                          "sigma0 / types in the scenarios that should have them (as config/config.yaml does)")


def _finite_n_scenario(config: Mapping[str, Any]) -> str | None:
    """``systemic.finite_n.scenario`` (the schema's default ``common_noise`` where the block leaves it out)."""
    return ((config.get("systemic") or {}).get("finite_n") or {}).get("scenario", "common_noise")


def scenario_references(config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every key naming a scenario of ``mfg.scenarios``, as ``(key, scenario, what else to write)``: each
    sweep's ``scenario``, ``systemic.finite_n.scenario`` (unless null) and the equilibrium's ``mfg_scenario``
    (the block's and each of its scenarios' own). The schema fills in a key left out (``baseline``), so each
    message says the default: the user may never have written that key."""
    refs = [(f"sweeps.{name}.scenario", spec.get("scenario", "baseline"),
             f"write another scenario there (default baseline) or delete the sweep sweeps.{name}")
            for name, spec in (config.get("sweeps") or {}).items()]
    finite_n = _finite_n_scenario(config)
    if finite_n is not None:
        refs.append(("systemic.finite_n.scenario", finite_n, "name the common-noise scenario the N-player game "
                     "is checked against, or write systemic.finite_n.scenario: null to skip the finite-N check"))
    block = config.get("equilibrium") or {}
    crowd = "name the crowd's scenario there (default baseline), one without common noise or agent types"
    refs.append(("equilibrium.mfg_scenario", block.get("mfg_scenario", "baseline"), crowd))
    refs.extend((f"equilibrium.scenarios.{name}.mfg_scenario", own["mfg_scenario"], crowd)
                for name, own in (block.get("scenarios") or {}).items() if "mfg_scenario" in (own or {}))
    return refs


def check_scenario_references(config: Mapping[str, Any]) -> None:
    """Every scenario a key names is in ``mfg.scenarios``. All the keys naming missing ones are refused in one
    error (deleting a scenario from config/config.yaml leaves several keys naming it, e.g. ``common_noise``:
    the sigma0 sweep's and the finite-N check's), each with what to write instead."""
    defined = config["mfg"]["scenarios"]
    missing = [f"{key}: {scenario!r} is not in mfg.scenarios; {fix}"
               for key, scenario, fix in scenario_references(config) if scenario not in defined]
    if missing:
        raise ConfigError("; ".join(missing) + f" (mfg.scenarios defines {sorted(defined)})")


def check_finite_n(config: Mapping[str, Any]) -> None:
    """``systemic.finite_n.scenario`` is null (no check) or a scenario of ``mfg.scenarios`` (checked by
    :func:`check_scenario_references`) with common noise and no agent types (the N-player game of
    :mod:`mfg_finance.mfg.finite_n` is one type's)."""
    from mfg_finance.config import mfg_run_overrides

    mfg = config["mfg"]
    scenario = _finite_n_scenario(config)
    if scenario is None:
        return
    run = mfg_run_overrides(mfg, scenario)
    if run.get("types"):
        raise ConfigError(f"systemic.finite_n.scenario: {scenario!r} has agent types ({len(run['types'])}); the "
                          "N-player game simulates the one-type crowd of mfg.params (docs/mfg.md, section 10): "
                          "name a scenario without types (or give it types: [])")
    if run["params"].get("sigma0", 0.0) == 0.0:
        raise ConfigError(f"systemic.finite_n.scenario: {scenario!r} has no common noise (sigma0 0), so no "
                          "finite-N check would run; name a scenario with sigma0 null (calibrated) or > 0, or "
                          "null to skip the check")


def check_equilibrium_crowd(config: Mapping[str, Any]) -> None:
    """Each ``equilibrium`` run's ``mfg_scenario`` (in ``mfg.scenarios``: :func:`check_scenario_references`) is
    a deterministic one-type scenario (its jobs check it too, but only once the calibration has run)."""
    from mfg_finance.config import mfg_run_overrides
    from mfg_finance.equilibrium.config import check_deterministic

    names = {scenario for key, scenario, _ in scenario_references(config) if key.startswith("equilibrium.")}
    for scenario in sorted(names):
        check_deterministic(mfg_run_overrides(config["mfg"], scenario), scenario)


def check_sweep_types(name: str, spec: Mapping[str, Any], run: Mapping[str, Any], scenario: str) -> None:
    """A sweep's type keys against the types of its scenario (``run``: the scenario's run overrides): an
    ``urgent_share`` needs exactly two types; each ``type_weights`` vector needs one weight per type; and the
    common-noise types solver takes at most two types, so more types are refused when the scenario or the
    sweep (``sigma0``, ``market_share`` > 0) brings common noise. The vectors' own checks (entries > 0, sum 1)
    are :func:`mfg_finance.sweeps.weight_vectors`'."""
    types = run.get("types") or []
    where = f"sweeps.{name}.scenario {scenario!r}"
    if "urgent_share" in spec and len(types) != 2:
        raise ConfigError(f"sweeps.{name}.urgent_share: needs a scenario with exactly two types "
                          f"(the first is the urgent one); {where} has {len(types)}")
    if "type_weights" in spec:
        if not types:
            raise ConfigError(f"sweeps.{name}.type_weights: {where} has no agent types; name a scenario with "
                              "types (mfg.scenarios.<name>.types or mfg.types), e.g. scenario: two_types")
        names = [t.get("name", f"type{i}") for i, t in enumerate(types)]
        for i, vector in enumerate(spec["type_weights"]):
            if len(vector) != len(types):
                raise ConfigError(f"sweeps.{name}.type_weights[{i}]: {len(vector)} weights for the {len(types)} "
                                  f"types of {where} ({names}); give one weight per type, in that order")
    sigma0 = run["params"].get("sigma0", 0.0)
    noisy = [key for key in ("sigma0", "market_share")
             if any(float(v) > 0.0 for v in _axis_values(spec, key, name))]
    if types and (_has_common_noise(sigma0) or noisy):
        key = "type_weights" if "type_weights" in spec else (noisy or ["scenario"])[0]
        cause = f"sweeps.{name}.{noisy[0]} > 0" if noisy else f"{where} has {_sigma0_text(sigma0)}"
        _refuse_too_many_types_with_noise(len(types), f"sweeps.{name}.{key}", cause, "sweep the weights of at "
                                          "most two types with common noise, or use sigma0: 0.0")


def check_types_with_common_noise(mfg: Mapping[str, Any]) -> None:
    """No scenario has more types with common noise than the common-noise types solver takes."""
    from mfg_finance.config import mfg_run_overrides

    for name in mfg["scenarios"]:
        run = mfg_run_overrides(mfg, name)
        sigma0 = run["params"].get("sigma0", 0.0)
        if run.get("types") and _has_common_noise(sigma0):
            _refuse_too_many_types_with_noise(len(run["types"]), _types_key(mfg, name), _sigma0_text(sigma0),
                                              "use two types or sigma0: 0.0")


def _has_common_noise(sigma0: float | None) -> bool:
    return sigma0 is None or sigma0 > 0.0


def _sigma0_text(sigma0: float | None) -> str:
    return f"sigma0 {'calibrated' if sigma0 is None else sigma0}"


def _refuse_too_many_types_with_noise(count: int, key: str, cause: str, fix: str) -> None:
    """Refuse ``count`` types with common noise (``cause``) beyond the common-noise types solver's limit."""
    # imported only here: the solver module costs about 10x the rest of check_config (measured under load)
    from mfg_finance.mfg.types_common_noise import MAX_TYPES

    if count > MAX_TYPES:
        raise ConfigError(f"{key}: {count} types with common noise ({cause}) are not supported: the common-noise "
                          f"types solver takes at most {MAX_TYPES} (docs/mfg.md, section 8b); {fix}")


def _axis_values(spec: Mapping[str, Any], key: str, name: str) -> list[float]:
    from mfg_finance.sweeps import axis_values

    return axis_values(spec[key], key=f"sweeps.{name}.{key}") if key in spec else []


def check_systemic(config: Mapping[str, Any]) -> None:
    """All the checks of this module."""
    check_types(config["mfg"])
    check_types_with_common_noise(config["mfg"])
    check_deterministic_scenario(config["mfg"])
    check_finite_n(config)
    check_equilibrium_crowd(config)
