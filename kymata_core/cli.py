"""The ``kymata-core`` command: every workflow rule calls one of its subcommands.

Each subcommand lives in its own module under :mod:`kymata_core.commands` and provides
``add_parser(subparsers)``, which registers the subcommand and sets ``func`` to the function that
runs it (taking the parsed arguments and returning an exit status).

A study runs tens of thousands of jobs, each a new ``kymata-core`` process, so start-up matters:
the list of subcommands (``kymata-core --help``) comes from :data:`COMMANDS` and imports no
subcommand module, and a subcommand imports only its own module.

Errors about the user's input (:class:`~kymata_core.errors.KymataError`, and a missing or existing file)
are printed as one line, ``kymata-core COMMAND: error: MESSAGE``, with exit status 2 (``--verbose`` adds
the traceback); any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from kymata_core import __version__
from kymata_core.errors import KymataError

#: Every subcommand (the module of the same name under kymata_core.commands) and its one-line help,
#: in the order ``--help`` lists them. Each module registers itself with this help.
COMMANDS: dict[str, str] = {
    "simulate": "write a synthetic study with known ground truth (the demo data)",
    "evoked": "cut a participant's BIDS recording into presentations and write the evoked file",
    "operator": "build a participant's premorphed source operator from an inverse operator",
    "average": "average EMEG over participants (the grand-average participant)",
    "gridsearch": "gridsearch one transform against one participant's EMEG",
    "combine": "merge .nkg shards into one expression set",
    "summary": "summarise expression sets (and check planted effects)",
    "ippm": "build an IPPM (JSON) from an expression set and a hierarchy",
    "plot": "draw the expression plot or an IPPM plot",
    "info": "describe an .nkg, IPPM or summary JSON, or operator file, and its provenance",
}
SUBCOMMANDS = tuple(COMMANDS)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``kymata-core``.

    Parameters
    ----------
    only : str, optional
        A subcommand: register it in full (importing its module, and no other). Without it, every
        subcommand is listed by name and help only, importing no subcommand module; that parser
        serves ``--help`` and reports unknown subcommands.

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="kymata-core",
        description="Kymata gridsearch, ExpressionSets and IPPMs. Every step of the kymata-pipeline workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if only is None:
        for name, help_text in COMMANDS.items():
            subparsers.add_parser(name, help=help_text)
    else:
        importlib.import_module(f"kymata_core.commands.{only}").add_parser(subparsers)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (its first argument that is not an option), if it is one."""
    command = next((a for a in argv if not a.startswith("-")), None)
    return command if command in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kymata-core``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except (KymataError, FileNotFoundError, FileExistsError) as e:
        logging.getLogger(__name__).debug("traceback of the error below", exc_info=True)
        print(f"kymata-core {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
