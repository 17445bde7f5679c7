"""``kymata-core gridsearch``: one transform against one participant's EMEG, written as an ``.nkg``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError
from kymata_core.gridsearch.rates import EMEG_RATE, SampleRateError, resolve_transform_rate
from kymata_core.io.atomic import check_overwrite
from kymata_core.io.conditions import condition_arg
from kymata_core.io.transform import NAN_POLICIES
from kymata_core.parameters import GRIDSEARCH
from kymata_core.provenance import file_record, file_records, make_provenance

log = logging.getLogger(__name__)

PARAMETERS = {p.name: p for p in GRIDSEARCH}

EPILOG = """\
examples:
  kymata-core gridsearch --emeg data/emeg/p01-ave.fif --space sensor \\
      --transform data/transforms/loudness.npy --transform-rate 200 \\
      --n-splits 100 --out results/p01/shards/loudness.scalp.nkg
  kymata-core gridsearch --emeg data/emeg/p01-lh.stc --hemi lh \\
      --transform data/stimulisig.npz --transform-name loudness --transform-rate 1000 --resample 200 \\
      --n-splits 400 --n-derangements 6 --seed 0 --threads 2 --out results/p01/shards/loudness.lh.nkg
  kymata-core gridsearch --estimate-memory --emeg data/emeg/p01-lh.stc --space source \\
      --transform data/transforms/loudness.npy --transform-rate 200 --n-splits 100
      prints the peak memory estimate in MB, reading only the files' headers

EMEG: sensor space reads an MNE evoked file (MEG and EEG channels, bad and reference channels
excluded): the evokeds of --condition (the same comment: repetitions), or the file's only condition;
an -epo.fif epochs file gives one repetition per epoch. Source space reads a source estimate given as stem-lh.stc,
stem-rh.stc, the stem, or stem-stc.h5, both hemispheres unless --hemi is given.
Transform: .npy (one transform; name = file stem unless --transform-name), .npz (one key per
transform; --transform-name picks the key) or .mat (--transform-name is the variable). Its sample
rate is --transform-rate (an .npz may store it under the key sample_rate instead). The transform is
tested at the EMEG rate divided by a whole number d: its own rate if that fits, else --resample
(a rate within 1% of such a fraction, or 'emeg'); the EMEG is down-sampled by taking every d-th
sample inside the gridsearch. Splits are whole numbers of samples, so they stay aligned at any rate.
Latencies are in seconds. The output .nkg records its provenance (kymata-core info shows it): the
package version and git commit, the Python and dependency versions, the name and sha256 of every input
file, every parameter and the seed. The same inputs, --seed and environment give a byte-identical .nkg.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "gridsearch",
        help=COMMANDS["gridsearch"],
        description="Test one transform against every channel (sensor or hexel) at every latency and write "
        "the log10 p-values as an .nkg ExpressionSet.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    io = p.add_argument_group("inputs and outputs")
    io.add_argument("--emeg", required=True, type=Path, metavar="PATH", help="EMEG file (see below)")
    io.add_argument(
        "--space",
        choices=("sensor", "source"),
        help="channel space of --emeg (default: the one --hemi implies: sensor for scalp, source for lh/rh)",
    )
    io.add_argument(
        "--hemi",
        choices=("lh", "rh", "scalp"),
        help="source space: only this hemisphere (default both); sensor space: 'scalp' or nothing",
    )
    io.add_argument(
        "--operator",
        type=Path,
        metavar="PATH.h5",
        help="source space from a sensor evoked: --emeg is the evoked file and this its source operator "
        "(kymata-core operator); each chunk of hexels is formed on the fly",
    )
    io.add_argument(
        "--condition",
        action="append",
        metavar="NAME",
        help="sensor space: the evoked comment (or epochs event) to analyse; give it several times to take "
        "differently named evokeds as repetitions, in order (default: the file's only condition)",
    )
    io.add_argument(
        "--transform", required=True, type=Path, metavar="PATH", help="transform file (.npy, .npz, .mat)"
    )
    io.add_argument(
        "--transform-name",
        metavar="NAME",
        help="transform name: the key in an .npz, the variable in a .mat (default: the .npy file stem, or an .npz's only key)",
    )
    io.add_argument("--transform-rate", type=float, metavar="HZ", help="sample rate of the transform file")
    PARAMETERS["resample"].add_to(io, type=_rate_or_emeg, metavar="HZ|emeg")
    PARAMETERS["nan_policy"].add_to(io, choices=NAN_POLICIES)
    io.add_argument(
        "--out", type=Path, metavar="OUT.nkg", help="output ExpressionSet (required unless --estimate-memory)"
    )
    io.add_argument(
        "--dense-out",
        type=Path,
        metavar="PATH.h5",
        help="also write the dense log10 p (channels × latencies)",
    )
    io.add_argument(
        "--qc-plot", type=Path, metavar="PATH.png", help="also plot the five most significant channels"
    )
    io.add_argument("--overwrite", action="store_true", help="replace existing outputs")

    # defaults and help from kymata_core.parameters, where each differing default says why
    gs = p.add_argument_group("gridsearch parameters")
    for name, metavar in (
        ("start_latency", "S"),
        ("seconds_per_split", "S"),
        ("n_splits", "N"),
        ("n_reps", "N"),
        ("n_derangements", "N"),
        ("seed", "N"),
        ("stimulus_delivery_latency", "S"),
        ("stimulus_shift_correction", "S/S"),
    ):
        PARAMETERS[name].add_to(gs, metavar=metavar)
    gs.add_argument("--exact-t", action="store_true", help="use the t distribution for every cell")

    rs = p.add_argument_group("resources")
    PARAMETERS["memory_budget_mb"].add_to(rs, metavar="MB")
    PARAMETERS["threads"].add_to(rs, metavar="N")
    rs.add_argument(
        "--estimate-memory",
        action="store_true",
        help="print the peak memory estimate in MB and exit without running",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    if args.estimate_memory:
        print(f"{estimate_memory_mb(args):.0f}")
        return 0
    if args.out is None:
        raise UsageError("--out is required (the .nkg to write)")
    check_overwrite(args.out, args.overwrite, flag="--overwrite")

    from kymata_core.entities.transform import Transform
    from kymata_core.io.emeg import read_emeg
    from kymata_core.io.transform import load_transform

    transform = load_transform(
        args.transform,
        name=args.transform_name if args.transform.suffix.lower() != ".npy" else None,
        sample_rate=args.transform_rate,
        nan_policy=args.nan_policy,
    )
    if args.transform_name and transform.name != args.transform_name:
        transform = Transform(args.transform_name, transform.values, transform.sample_rate)
    hemi = None if args.hemi == "scalp" else args.hemi
    emeg = read_emeg(args.emeg, args.space, hemi=hemi, condition=condition_arg(args.condition), operator=args.operator)
    transform = transform.resampled(_transform_rate(args, emeg.sample_rate, transform.sample_rate))
    log.info(
        "gridsearch of %r (%s) against %s: %d channels, %d reps, %d samples at %g Hz",
        transform.name,
        transform,
        args.emeg,
        emeg.n_channels,
        emeg.n_reps,
        emeg.n_times,
        emeg.sample_rate,
    )

    from kymata_core.gridsearch.plain import do_gridsearch
    from kymata_core.gridsearch.reliability import few_splits_warning
    from kymata_core.io.nkg import save_expression_set

    if warning := few_splits_warning(args.n_splits, args.n_reps):
        log.warning(warning)

    es = do_gridsearch(
        emeg.values,
        transform,
        emeg.channel_names,
        args.space,
        start_latency=args.start_latency,
        emeg_t_start=emeg.t_start,
        stimulus_shift_correction=args.stimulus_shift_correction,
        stimulus_delivery_latency=args.stimulus_delivery_latency,
        emeg_sample_rate=emeg.sample_rate,
        emeg_layout=emeg.sensor_layout,
        plot_location=args.qc_plot,
        n_derangements=args.n_derangements,
        seconds_per_split=args.seconds_per_split,
        n_splits=args.n_splits,
        n_reps=args.n_reps,
        plot_top_five_channels=args.qc_plot is not None,
        overwrite=args.overwrite,
        seed=args.seed,
        memory_budget=_budget_bytes(args),
        n_jobs=args.threads,
        exact_t=args.exact_t,
        dense_out=args.dense_out,
        sensor_sides=emeg.sensor_sides,
    )
    save_expression_set(es, args.out, overwrite=args.overwrite, provenance=provenance(args, transform, emeg))
    log.info("wrote %s", args.out)
    return 0


def provenance(args: argparse.Namespace, transform, emeg) -> dict[str, Any]:
    """What made the ``.nkg``: the common record (:func:`kymata_core.provenance.make_provenance`) with
    the input files, every gridsearch parameter, the rates used and the seed.

    File names are stored without their directories so that the same inputs give the same bytes
    wherever they live; the sha256 identifies the content.
    """
    if args.operator:
        inputs = {"emeg": [file_record(args.emeg)], "operator": file_record(args.operator)}
    else:
        inputs = {"emeg": file_records(emeg_input_files(args.emeg, args.space))}
    inputs["transform"] = file_record(args.transform)
    parameters = {
        "channel_space": args.space,
        "hemi": args.hemi,
        "condition": condition_arg(args.condition),
        "transform_name": transform.name,
        "transform_rate": args.transform_rate,
        "transform_sample_rate_used": transform.sample_rate,
        "resample": args.resample,
        "nan_policy": args.nan_policy,
        "emeg_sample_rate": emeg.sample_rate,
        "emeg_t_start": emeg.t_start,
        "n_channels": emeg.n_channels,
        "start_latency": args.start_latency,
        "seconds_per_split": args.seconds_per_split,
        "n_splits": args.n_splits,
        "n_reps": args.n_reps,
        "n_derangements": args.n_derangements,
        "stimulus_delivery_latency": args.stimulus_delivery_latency,
        "stimulus_shift_correction": args.stimulus_shift_correction,
        "exact_t": args.exact_t,
    }
    return make_provenance("gridsearch", inputs, parameters, seed=args.seed)


def emeg_input_files(path: Path, space: str) -> list[Path]:
    """Every file the EMEG input consists of (both ``.stc`` files of a pair)."""
    if space == "source":
        from kymata_core.io.emeg import source_estimate_files

        return source_estimate_files(path)
    return [Path(path)]


def estimate_memory_mb(args: argparse.Namespace) -> float:
    """The gridsearch memory estimate for these arguments, reading only file headers."""
    from kymata_core.gridsearch.memory import estimate_gridsearch_memory
    from kymata_core.io.emeg_shape import read_emeg_shape

    hemi = None if args.hemi == "scalp" else args.hemi
    condition = condition_arg(args.condition)
    held = 0
    if args.operator is not None:
        from kymata_core.io.source_operator import read_source_operator_header

        header = read_source_operator_header(args.operator)
        sensors = read_emeg_shape(args.emeg, "sensor", None, condition)
        shape = sensors._replace(n_channels=header.n_hexels(hemi))
        # the sensor data and the operator's rows are held whole; hexels are formed a chunk at a time
        held = 4 * len(header.channel_names) * (sensors.n_reps * sensors.n_times + shape.n_channels)
    elif args.space == "source":
        shape = read_emeg_shape(emeg_input_files(args.emeg, args.space)[0], args.space, hemi)
    else:
        shape = read_emeg_shape(args.emeg, args.space, hemi, condition)
    file_rate = args.transform_rate if args.transform_rate is not None else _npz_rate_only(args.transform)
    transform_rate = _transform_rate(args, shape.sample_rate, file_rate)
    estimate = estimate_gridsearch_memory(
        n_channels=shape.n_channels,
        n_times=shape.n_times,
        n_reps=args.n_reps,
        n_splits=args.n_splits,
        n_derangements=args.n_derangements,
        seconds_per_split=args.seconds_per_split,
        emeg_sample_rate=shape.sample_rate,
        transform_sample_rate=transform_rate,
        memory_budget=_budget_bytes(args),
        emeg_in_memory=args.operator is None,
        emeg_itemsize=4 if args.operator is not None else 8,
    )
    return (estimate + held) / 1024**2


def _npz_rate_only(path: Path) -> float:
    import numpy as np

    from kymata_core.io.transform import SAMPLE_RATE_KEY

    if path.suffix.lower() == ".npz" and path.exists():
        with np.load(path, allow_pickle=False) as npz:
            if SAMPLE_RATE_KEY in npz.files:
                return float(np.asarray(npz[SAMPLE_RATE_KEY]).reshape(()))
    raise UsageError(f"{path}: give --transform-rate (the file does not record its sample rate)")


def _rate_or_emeg(text: str) -> float | str:
    if text == EMEG_RATE:
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate in Hz or {EMEG_RATE!r}, got {text!r}") from None


def _transform_rate(args: argparse.Namespace, emeg_rate: float, file_rate: float) -> float:
    """The rate the transform is tested at (see :mod:`kymata_core.gridsearch.rates`), or an error naming --resample."""
    try:
        return resolve_transform_rate(args.resample, emeg_rate, file_rate)
    except SampleRateError as e:
        flag = "--resample" if args.resample is not None else "--transform-rate (or give --resample)"
        raise SampleRateError(f"{flag}: {e}") from None


def _budget_bytes(args: argparse.Namespace) -> int | None:
    return None if args.memory_budget_mb is None else int(args.memory_budget_mb * 1024**2)


def _check_args(args: argparse.Namespace) -> None:
    if args.space is None:
        if args.hemi is None:
            raise UsageError("--space is required (or --hemi: scalp implies sensor space, lh and rh source space)")
        args.space = "sensor" if args.hemi == "scalp" else "source"
    if args.operator is not None and args.space != "source":
        raise UsageError("--operator makes source space from a sensor evoked: use it with --space source or --hemi lh/rh")
    if args.space == "sensor" and args.hemi in ("lh", "rh"):
        raise UsageError(
            f"--hemi {args.hemi} is for source space; sensor space takes --hemi scalp or nothing"
        )
    if args.space == "source" and args.hemi == "scalp":
        raise UsageError("--hemi scalp is for sensor space; source space takes lh, rh or nothing (both)")
    for name in ("n_splits", "n_reps", "n_derangements", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.seconds_per_split <= 0:
        raise UsageError(f"--seconds-per-split must be positive, got {args.seconds_per_split}")
    for name in ("transform_rate", "memory_budget_mb"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if isinstance(args.resample, float) and not args.resample > 0:
        raise UsageError(f"--resample must be positive or 'emeg', got {args.resample}")
    if args.out is not None and args.out.suffix != ".nkg":
        raise UsageError(f"--out {args.out}: the output must be an .nkg file")
    if args.operator is not None and not args.operator.exists():
        raise FileNotFoundError(f"source operator not found: {args.operator}")
    if not args.emeg.exists() and not (args.space == "source" and not args.operator and emeg_input_files(args.emeg, args.space)):
        raise FileNotFoundError(f"EMEG file not found: {args.emeg}")
    if not args.transform.exists():
        raise FileNotFoundError(f"transform file not found: {args.transform}")
