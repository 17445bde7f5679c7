"""``kymata-core summary``: the most significant point per transform, and planted-effect checks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.io.atomic import check_overwrite

EPILOG = """\
example:
  kymata-core summary --participant group --truth demo-data/truth.json \\
      --out results/group/summary.json --text results/group/summary.txt \\
      results/group/expression-sensor.nkg results/group/expression-source.nkg

With --truth (the truth.json of a simulated study) the summary says whether every planted effect
was recovered, and lists significant channels where nothing was planted. The JSON's "provenance"
member records the software, dependency versions and the inputs' checksums (see docs/nkg-format.md).
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "summary",
        help=COMMANDS["summary"],
        description="Summarise a participant's expression sets: best channel and latency per transform.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("expressions", nargs="+", type=Path, metavar="EXPRESSION", help=".nkg files")
    parser.add_argument("--participant", required=True, help="participant id, for the report")
    parser.add_argument("--truth", type=Path, help="truth.json of a simulated study")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    parser.add_argument("--text", type=Path, help="write the summary as text here")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.set_defaults(func=run)


def _gridsearch_warnings(path: Path) -> list[str]:
    """Warnings about the gridsearches behind an ``.nkg``, from its provenance (a shard's, or a combined
    set's record of its shards)."""
    from kymata_core.gridsearch.reliability import few_splits_warning
    from kymata_core.io.nkg import read_provenance

    provenance = read_provenance(path) or {}
    records = [shard.get("provenance") or {} for shard in provenance.get("inputs", {}).get("shards", [])]
    warnings = []
    for record in records or [provenance]:
        parameters = record.get("parameters", {})
        if "n_splits" in parameters:
            warning = few_splits_warning(int(parameters["n_splits"]), int(parameters.get("n_reps") or 1))
            if warning:
                warnings.append(warning)
    return warnings


def run(args: argparse.Namespace) -> int:
    from kymata_core.io.atomic import write_text_atomic
    from kymata_core.io.nkg import load_expression_set
    from kymata_core.summary import format_summary, summarise

    for out in (args.out, args.text):
        if out is not None:
            check_overwrite(out, args.overwrite, flag="--overwrite")
    truth = None
    if args.truth is not None:
        if not args.truth.is_file():
            raise FileNotFoundError(f"truth file {args.truth} not found")
        truth = json.loads(args.truth.read_text())
    sets = [(str(path), load_expression_set(path)) for path in args.expressions]
    summary = summarise(sets, args.participant, truth)
    warnings = sorted({w for path in args.expressions for w in _gridsearch_warnings(path)})
    if warnings:
        summary["warnings"] = warnings
    text = format_summary(summary)
    if args.out is not None:
        summary["provenance"] = provenance(args)
        write_text_atomic(args.out, json.dumps(summary, indent=2) + "\n", overwrite=args.overwrite)
    if args.text is not None:
        write_text_atomic(args.text, text, overwrite=args.overwrite)
    print(text, end="")
    return 0


def provenance(args: argparse.Namespace) -> dict[str, Any]:
    """The summary's record: the expression sets (and truth file) it read, and the participant."""
    from kymata_core.provenance import file_record, file_records, make_provenance

    inputs: dict[str, Any] = {"expressions": file_records(args.expressions)}
    if args.truth is not None:
        inputs["truth"] = file_record(args.truth)
    return make_provenance("summary", inputs, parameters={"participant": args.participant})
