"""Values given on Snakemake's command line: typed to the schema, and named in error messages.

``snakemake --config 'mfg={"params": {"phi": 0.05}}'`` reads a nested value with YAML's base loader,
so every scalar inside it arrives as a string (``'0.05'``), which the schema then rejects as "not of
type 'number'". :func:`coerce_command_line_strings` turns such strings back into what YAML would
have read (``0.05``, ``50``, ``true``, ``null``) wherever the schema refuses the string, and says
which values it changed. Only values that came from ``--config`` are touched: a quoted string in a
config file stays an error, since it was typed on purpose.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml

_TYPE_VALIDATORS = ("type", "oneOf", "anyOf")


def _string_leaves(values: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            yield from _string_leaves(value, path + (key,))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _string_leaves(value, path + (index,))
    elif isinstance(values, str):
        yield path


def _typed(text: str) -> Any:
    """What YAML reads from ``text`` (``'0.05'`` -> 0.05, ``'1e-3'`` -> 0.001); ``text`` if nothing else."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string; Python's float does not
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    return value if value is None or isinstance(value, (bool, int, float)) else text


def _set(config: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        config = config[key]
    config[path[-1]] = value


def _key(path: Iterable) -> str:
    return ".".join(str(p) for p in path)


def coerce_command_line_strings(config: dict, command_line: Mapping[str, Any],
                                schema: Mapping[str, Any]) -> list[str]:
    """Retype, in ``config``, the strings from ``command_line`` that the JSON ``schema`` refuses as strings.

    ``command_line`` is what Snakemake parsed from ``--config`` (already merged into ``config``).
    A string is replaced by its YAML reading when the schema raises a type error at its key and the
    reading is a number, boolean or null. Returns one line per change, e.g.
    ``mfg.params.phi: '0.05' -> 0.05`` (empty when nothing was changed).
    """
    import jsonschema

    from_command_line = set(_string_leaves(command_line))
    if not from_command_line:
        return []
    validator = jsonschema.validators.validator_for(schema)(schema)
    changes = []
    for error in validator.iter_errors(config):
        path = tuple(error.absolute_path)
        if (error.validator in _TYPE_VALIDATORS and path in from_command_line
                and isinstance(error.instance, str)):
            value = _typed(error.instance)
            if value is not error.instance:
                _set(config, path, value)
                from_command_line.discard(path)
                changes.append(f"{_key(path)}: {error.instance!r} -> {value!r}")
    return sorted(changes)


def config_sources(config_files: Iterable[str | Path], command_line: Mapping[str, Any],
                   root: str | Path | None = None) -> str:
    """The config files and command-line values a run used, in the order they were applied.

    ``config_files`` as Snakemake lists them (the ``configfile:`` of the Snakefile and every
    ``--configfile``); paths under ``root`` are shown relative to it.
    """
    names = []
    for path in config_files:
        path = Path(path)
        if root is not None and path.is_absolute():
            try:
                path = path.relative_to(Path(root).resolve())
            except ValueError:
                pass
        if path.as_posix() not in names:
            names.append(path.as_posix())
    if command_line:
        names.append("--config " + ", ".join(sorted(command_line)))
    return "; ".join(names) if names else "no config file"
