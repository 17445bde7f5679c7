"""``kymata-core simulate``: write a synthetic study with known ground truth."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  kymata-core simulate --out data/demo
      the built-in demo study: 3 participants, 4 transforms, sensor and source space
  kymata-core simulate --dump-spec > my_study.yaml
      the demo spec as YAML, to edit
  kymata-core simulate --out data/mine --spec my_study.yaml --seed 7 --overwrite

output:
  DIR/emeg/{participant}-ave.fif        evoked EMEG (sensor space), one evoked per repetition
  DIR/emeg/{participant}-lh.stc, -rh.stc source estimates (source space)
  DIR/transforms/{transform}.npy        float32 transforms at the transform sample rate
  DIR/truth.json                        the spec and every planted effect (latencies in seconds)

SPEC.yaml is a mapping of kymata_core.simulate.StudySpec fields (participants, emeg_sample_rate,
transform_sample_rate, n_splits, seconds_per_split, sensors, hexels_lh, hexels_rh, transforms,
effects: [{transform, channel_space, channels, latency_s, amplitude}], noise, seed, ...);
fields left out take their defaults. The same spec and seed give byte-identical files.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate",
        help=COMMANDS["simulate"],
        description="Write a simulated study (EMEG, transforms, truth.json) with effects planted at known "
        "channels and latencies.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (required unless --dump-spec)"
    )
    parser.add_argument(
        "--spec", type=Path, metavar="SPEC.yaml", help="study spec (default: the built-in demo)"
    )
    parser.add_argument("--seed", type=int, help="random seed (overrides the spec's seed)")
    parser.add_argument("--overwrite", action="store_true", help="replace a study already in DIR")
    parser.add_argument(
        "--dump-spec",
        action="store_true",
        help="print the spec as YAML (a starting point for your own) and exit",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from kymata_core.simulate import DEMO_SPEC, StudySpec, simulate_study

    spec = StudySpec.from_yaml(args.spec) if args.spec is not None else DEMO_SPEC
    if args.seed is not None:
        spec = spec.with_seed(args.seed)
    if args.dump_spec:
        import yaml

        print(yaml.safe_dump(spec.to_dict(), sort_keys=False), end="")
        return 0
    if args.out is None:
        raise UsageError("--out is required (the directory to write the study to)")
    truth = simulate_study(spec, args.out, overwrite=args.overwrite)
    log.info(
        "simulated %d participants, %d transforms, %d effects in %s",
        len(truth["participants"]),
        len(truth["transforms"]),
        len(truth["effects"]),
        args.out,
    )
    return 0
