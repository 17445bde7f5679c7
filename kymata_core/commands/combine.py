"""``kymata-core combine``: merge gridsearch shards into one ExpressionSet file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.io.atomic import check_overwrite

EPILOG = """\
example:
  kymata-core combine --out results/p01/expression-source.nkg \\
      results/p01/shards/loudness.lh.nkg results/p01/shards/loudness.rh.nkg \\
      results/p01/shards/pitch.lh.nkg results/p01/shards/pitch.rh.nkg

Shards of different transforms over the same channels are concatenated; the left- and right-hemisphere
shards of one transform are merged. Every shard must have the same kind (sensor or hexel), latencies
and channels, and each (hemisphere, transform) must come from exactly one shard.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "combine",
        help=COMMANDS["combine"],
        description="Merge .nkg shards (transforms, hemispheres) into one ExpressionSet file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shards", nargs="+", type=Path, metavar="SHARD", help=".nkg files to merge")
    parser.add_argument("--out", required=True, type=Path, help="the combined .nkg file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kymata_core.entities.expression import combine
    from kymata_core.io.nkg import load_expression_set, save_expression_set

    check_overwrite(args.out, args.overwrite, flag="--overwrite")
    sets = [load_expression_set(path) for path in args.shards]
    combined = combine(sets, names=[str(p) for p in args.shards])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_expression_set(combined, args.out, overwrite=args.overwrite, provenance=provenance(args.shards))
    return 0


def provenance(shards: list[Path]) -> dict[str, Any]:
    """The combined set's record: each shard's name, sha256 and own record (under ``provenance``)."""
    from kymata_core.io.nkg import read_provenance
    from kymata_core.provenance import file_record, make_provenance

    records = [dict(file_record(p), provenance=read_provenance(p)) for p in shards]
    return make_provenance("combine", inputs={"shards": records}, parameters={})
