"""The ``kymata-core`` command: every workflow rule calls one of its subcommands.

Each subcommand lives in its own module under :mod:`kymata_core.commands` and provides
``add_parser(subparsers)``, which registers the subcommand and sets ``func`` to the function that
runs it (taking the parsed arguments and returning an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from kymata_core import __version__

# each subcommand is the module of the same name under kymata_core.commands
SUBCOMMANDS = ("simulate", "operator", "average", "gridsearch", "combine", "summary", "ippm", "plot", "info")


class UserError(Exception):
    """An error caused by the user's input: printed as one line, without a traceback."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every available subcommand, or just ``only``.

    Registering one subcommand imports only its module, which keeps the start-up of each of the
    workflow's thousands of jobs short.
    """
    parser = argparse.ArgumentParser(
        prog="kymata-core",
        description="Kymata gridsearch, ExpressionSets and IPPMs. Every step of the kymata-pipeline workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in [only] if only else SUBCOMMANDS:
        try:
            module = importlib.import_module(f"kymata_core.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"kymata_core.commands.{name}":
                continue  # not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kymata-core``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, FileExistsError, KeyError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"kymata-core {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
