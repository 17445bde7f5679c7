"""``kymata-core evoked``: a participant's BIDS recording cut into presentations, as an evoked file."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from kymata_core.errors import UsageError
from kymata_core.io.atomic import check_overwrite

log = logging.getLogger(__name__)

EPILOG = """\
example:
  kymata-core evoked --bids-root data/bids --participant sub-01 --task listening --trigger 5 \\
      --duration 400 --l-freq 0.1 --h-freq 40 --out results/sub-01/emeg/sub-01-ave.fif

Reads the participant's recording with mne-bids (events from events.tsv, bad channels from
channels.tsv), filters it if asked, cuts one epoch per trigger from --before s before it to --after s
after the stimulus ends, and writes their average (or, with --keep-repetitions, each presentation as a
repetition) as an evoked file whose condition is "presentation". A trigger is an event value or an
events.tsv trial_type name. Every presentation must be complete, or nothing is written.
"""


def _trigger(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def add_parser(subparsers) -> argparse.ArgumentParser:
    from kymata_core.cli import COMMANDS

    p = subparsers.add_parser(
        "evoked",
        help=COMMANDS["evoked"],
        description="Epoch each presentation of the stimulus in a BIDS recording and write the evoked file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bids = p.add_argument_group("the recording")
    bids.add_argument("--bids-root", required=True, type=Path, metavar="DIR")
    bids.add_argument("--participant", required=True, metavar="ID", help="sub-01 (or its label, 01)")
    bids.add_argument("--task", required=True)
    bids.add_argument("--session")
    bids.add_argument("--run")
    bids.add_argument("--acquisition")
    bids.add_argument("--datatype", default="meg", choices=("meg", "eeg"))
    epochs = p.add_argument_group("the presentations")
    epochs.add_argument("--trigger", required=True, type=_trigger, help="event value or events.tsv trial_type")
    epochs.add_argument("--duration", required=True, type=float, metavar="S", help="stimulus length, seconds")
    epochs.add_argument("--before", type=float, default=0.5, metavar="S", help="margin before each trigger (0.5)")
    epochs.add_argument("--after", type=float, default=1.5, metavar="S", help="margin after the stimulus (1.5)")
    epochs.add_argument("--l-freq", type=float, metavar="HZ", help="high-pass edge (default: none)")
    epochs.add_argument("--h-freq", type=float, metavar="HZ", help="low-pass edge (default: none)")
    epochs.add_argument("--stim-channel", metavar="NAME", help="find triggers on this channel, not in events.tsv")
    epochs.add_argument("--bad-channel", action="append", default=[], metavar="NAME", help="also leave this channel out")
    epochs.add_argument("--keep-repetitions", action="store_true", help="each presentation a repetition, not averaged")
    p.add_argument("--out", required=True, type=Path, metavar="OUT-ave.fif")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import mne

    from kymata_core.io.atomic import atomic_path
    from kymata_core.io.bids import BidsSpec, EpochSettings, presentation_evokeds, recording
    from kymata_core.io.emeg import deterministic_fif_ids
    from kymata_core.provenance import file_record, make_provenance

    if not args.out.name.endswith(("-ave.fif", "_ave.fif")):
        raise UsageError(f"--out {args.out}: an evoked file name must end in -ave.fif")
    check_overwrite(args.out, args.overwrite, flag="--overwrite")
    for name in ("duration", "before", "after"):
        if getattr(args, name) < 0 or (name == "duration" and args.duration == 0):
            raise UsageError(f"--{name} must be positive, got {getattr(args, name)}")
    spec = BidsSpec(str(args.bids_root), args.task, args.session, args.run, args.acquisition, args.datatype)
    settings = EpochSettings(
        trigger=args.trigger, duration=args.duration, before=args.before, after=args.after, l_freq=args.l_freq,
        h_freq=args.h_freq, keep_repetitions=args.keep_repetitions, stim_channel=args.stim_channel,
        bad_channels=tuple(args.bad_channel),
    )  # fmt: skip
    evokeds = presentation_evokeds(spec, args.participant, settings)
    source = Path(recording(spec, args.participant).fpath)
    provenance = make_provenance(
        "evoked",
        inputs={"recording": file_record(source)},
        parameters={k: v for k, v in vars(args).items() if k not in ("func", "out", "overwrite", "bids_root", "command", "verbose")},
    )
    for evoked in evokeds:
        with evoked.info._unlock():
            evoked.info["description"] = json.dumps(provenance, sort_keys=True)
    with atomic_path(args.out, overwrite=args.overwrite, suffix="-ave.fif") as tmp, deterministic_fif_ids():
        mne.write_evokeds(tmp, evokeds, overwrite=True, verbose="error")
    log.info(
        "wrote %s: %d presentation(s) of %s%s", args.out, evokeds[0].nave if len(evokeds) == 1 else len(evokeds),
        args.participant, "" if args.keep_repetitions else ", averaged",
    )  # fmt: skip
    return 0
