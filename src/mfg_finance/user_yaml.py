"""Reading YAML files that users write (parameter files, config files), strictly.

PyYAML follows YAML 1.1, where ``1.0e6`` and ``1e200`` are *strings* (a float needs a dot and a
signed exponent: ``1.0e+6``). Users write exponents the YAML 1.2 way, so this loader reads every
YAML 1.2 float form (``1e6``, ``1.0e6``, ``1E-3``, ``.5e2``) as a float; integers stay integers.
It also refuses what PyYAML lets through silently:

* a key given twice in one mapping (PyYAML keeps the last one);
* a syntax error is reported with the file, line and column, as a :class:`ConfigError`.

Artefacts the pipeline writes itself are read with :func:`mfg_finance.io.read_yaml`: they come
from ``yaml.safe_dump`` and need none of this.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any

import yaml

from mfg_finance.errors import ConfigError

#: YAML 1.2 core-schema float (without the .inf/.nan forms, which YAML 1.1 already reads).
_FLOAT_1_2 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


class UserYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats and duplicate keys refused (with their line)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: let the base class report it
                    break
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first given on line {first.start_mark.line + 1}; "
                        "YAML would silently keep only the last value)", key_node.start_mark)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


# Registered after SafeLoader's int and float resolvers, so "30" stays an int and "1.5" a float as
# before; only the forms YAML 1.1 would leave as strings ("1e6", "1.0e6") reach this one.
UserYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+.0123456789"))


def loads_user_yaml(text: str, *, source: str = "<string>") -> Any:
    """Parse YAML ``text`` with :class:`UserYamlLoader`; errors name ``source``, line and column."""
    try:
        return yaml.load(text, Loader=UserYamlLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None


def read_user_yaml(path: str | os.PathLike) -> Any:
    """Read a user-written YAML file (see module docstring); :class:`ConfigError` on any problem."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would block or never end
            raise ConfigError(f"{path}: not a regular file")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return loads_user_yaml(text, source=str(path))
