"""``kymata-core operator``: a participant's premorphed source operator (sensors -> target hexels)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError
from kymata_core.io.atomic import check_overwrite
from kymata_core.io.conditions import condition_arg
from kymata_core.io.source_operator import (
    DEFAULT_METHOD,
    DEFAULT_SNR,
    SOURCE_METHODS,
    MorphSpec,
    build_source_operator,
    write_source_operator,
)
from kymata_core.provenance import file_record, make_provenance

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  kymata-core operator --evoked data/p01-ave.fif --inverse data/p01-inv.fif \\
      --morph-to fsaverage --subjects-dir data/subjects --spacing 5 --out results/p01/operator.h5
  kymata-core operator --evoked data/p01-ave.fif --condition "Left Auditory" --inverse data/p01-inv.fif \\
      --morph data/p01-morph.h5 --snr 3 --method dSPM --out results/p01/operator.h5

The operator is the linear map from the evoked's sensors to the hexels: projections, noise
whitening, the inverse (surface-normal component, lambda2 = 1/snr^2, as the reference) and the morph
to a common subject, in one float32 matrix (hexels x channels, a few tens of MB). The gridsearch
(--operator) then forms each chunk of hexels from the sensors on the fly. The inverse and the evoked
must agree on the channels; the evoked's condition gives nave.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "operator",
        help=COMMANDS["operator"],
        description="Build the linear map from a participant's sensors to (morphed) hexels and write it as HDF5.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--evoked", required=True, type=Path, metavar="PATH", help="the participant's evoked file")
    p.add_argument("--condition", action="append", metavar="NAME", help="the condition analysed (as for gridsearch)")
    p.add_argument("--inverse", required=True, type=Path, metavar="PATH", help="MNE inverse operator (-inv.fif)")
    p.add_argument("--snr", type=float, default=DEFAULT_SNR, help=f"lambda2 = 1/snr^2 (default {DEFAULT_SNR:g})")
    p.add_argument("--method", choices=SOURCE_METHODS, default=DEFAULT_METHOD, help=f"default {DEFAULT_METHOD}")
    morph = p.add_mutually_exclusive_group()
    morph.add_argument("--morph", type=Path, metavar="PATH", help="a precomputed MNE source morph (-morph.h5)")
    morph.add_argument("--morph-to", metavar="SUBJECT", help="compute the morph to this subject (e.g. fsaverage)")
    p.add_argument("--subjects-dir", type=Path, metavar="DIR", help="FreeSurfer subjects directory (with --morph-to)")
    p.add_argument("--spacing", type=int, default=5, help="the target's icosahedral spacing (with --morph-to; default 5)")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.h5", help="the operator file to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    check_overwrite(args.out, args.overwrite, flag="--overwrite")
    if args.morph_to and args.subjects_dir is None:
        raise UsageError("--morph-to needs --subjects-dir (the FreeSurfer subjects directory)")
    morph = args.morph or (MorphSpec(args.morph_to, str(args.subjects_dir), args.spacing) if args.morph_to else None)
    condition = condition_arg(args.condition)
    operator = build_source_operator(
        args.evoked, args.inverse, condition=condition, snr=args.snr, method=args.method, morph=morph
    )
    inputs = {"evoked": file_record(args.evoked), "inverse": file_record(args.inverse)}
    if args.morph:
        inputs["morph"] = file_record(args.morph)
    provenance = make_provenance(
        "operator",
        inputs=inputs,
        parameters={
            "condition": condition,
            "snr": args.snr,
            "method": args.method,
            "morph_to": args.morph_to,
            "spacing": args.spacing if args.morph_to else None,
            **{k: v for k, v in operator.attrs.items() if k not in ("snr", "method")},
        },
    )
    write_source_operator(operator, args.out, provenance=provenance, overwrite=args.overwrite)
    log.info(
        "wrote %s: %d + %d hexels on %s (%s) x %d channels",
        args.out, len(operator.vertices[0]), len(operator.vertices[1]), operator.subject,
        "morphed" if operator.morphed else "not morphed", len(operator.channel_names),
    )  # fmt: skip
    return 0
