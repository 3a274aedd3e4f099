"""Command-line interface: ``mfg-finance <command>`` (same as ``python -m mfg_finance.cli``).

Each area of the library registers its own sub-commands (``register(subparsers)`` in its
``cli`` module), so this file only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mfg_finance.errors import MfgFinanceError

# (module, description) of each area that contributes sub-commands.
_AREAS = (
    "mfg_finance.cotahist.cli",
    "mfg_finance.mfg.cli",
    "mfg_finance.market_making.cli",
    "mfg_finance.market_making.replay.cli",
    "mfg_finance.equilibrium.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mfg-finance", description=__doc__.splitlines()[0])
    from mfg_finance import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _AREAS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # an area not installed yet must not break the others
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except MfgFinanceError as exc:
        print(f"mfg-finance {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
