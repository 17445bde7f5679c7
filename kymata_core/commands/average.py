"""``kymata-core average``: the grand average of several participants' EMEG."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError
from kymata_core.io.conditions import condition_arg

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  kymata-core average --space sensor --out data/average-ave.fif data/emeg/p01-ave.fif data/emeg/p02-ave.fif
  kymata-core average --space source --out data/average data/emeg/p01-lh.stc data/emeg/p02-lh.stc
      writes data/average-lh.stc and data/average-rh.stc

Sensor space: each INPUT is an MNE evoked (or epochs) file, of which the first --n-reps repetitions
of --condition are used, as the gridsearch uses them; repetition r of OUT is the mean of the
participants' repetitions r. OUT is an evoked file (name it *-ave.fif). Source space: each INPUT is a source estimate (stem-lh.stc,
stem-rh.stc, the stem, or stem-stc.h5); OUT is a stem or a -lh.stc/-rh.stc path, and both
hemispheres are written. With --operators, each INPUT is an evoked file projected through its
source operator (kymata-core operator) and the hexel time series are averaged (the operators must
put every participant on one common subject). Every input must have the same channels (or
vertices), sample rate and times.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "average",
        help=COMMANDS["average"],
        description="Average EMEG over participants and write it back in the same MNE format.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--space", required=True, choices=("sensor", "source"), help="channel space of the inputs"
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="OUT", help="output file (sensor) or stem (source)"
    )
    parser.add_argument(
        "--condition",
        action="append",
        metavar="NAME",
        help="sensor space: the condition to average, as for gridsearch --condition",
    )
    parser.add_argument(
        "--n-reps", type=int, default=1, metavar="N", help="repetitions to keep, each averaged over participants (default 1)"
    )
    parser.add_argument(
        "--operators",
        nargs="+",
        type=Path,
        metavar="OP.h5",
        help="source space from sensor evokeds: the INPUTs are evoked files and these their source operators, "
        "in the same order (all on one common subject)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output")
    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="EMEG files of the participants"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from kymata_core.io.emeg import (
        grand_average,
        grand_average_projected,
        write_evoked,
        write_source_estimate,
    )

    if args.space == "sensor" and not args.out.name.endswith(("-ave.fif", "_ave.fif")):
        raise UsageError(f"--out {args.out}: an evoked file name must end in -ave.fif")
    condition = condition_arg(args.condition)
    if args.operators:
        if args.space != "source":
            raise UsageError("--operators averages hexel time series: use it with --space source")
        average = grand_average_projected(args.inputs, args.operators, condition=condition, n_reps=args.n_reps)
    else:
        average = grand_average(args.inputs, args.space, condition=condition, n_reps=args.n_reps)
    if args.space == "sensor":
        written = [write_evoked(average, args.out, overwrite=args.overwrite)]
    else:
        written = write_source_estimate(average, args.out, overwrite=args.overwrite)
    log.info("averaged %d inputs into %s", len(args.inputs), ", ".join(map(str, written)))
    return 0
