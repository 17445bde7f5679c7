"""``kymata-core info FILE.nkg``: describe an ``.nkg`` file."""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np

from kymata_core.io.nkg import file_version, load_expression_set, read_provenance

_TOP_N = 5


def add_parser(subparsers) -> None:
    """Register the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="describe an .nkg file",
        description="Print the type, format version, shape, transforms, the most significant points of "
        "each block and the provenance of an .nkg file.",
    )
    parser.add_argument("file", metavar="FILE.nkg", help="the .nkg file to describe")
    parser.add_argument(
        "--top", type=int, default=_TOP_N, help="points to list per block (default %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.file``; NkgFormatError (a ValueError) reaches the CLI as one line."""
    version = ".".join(str(v) for v in file_version(args.file))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        es = load_expression_set(args.file)
    provenance = read_provenance(args.file)

    print(f"file: {args.file}")
    print(f"type: {'hexel' if es.channel_coord_name == 'hexel' else 'sensor'}")
    print(f"format version: {version}")
    latencies = es.latencies
    print(f"latencies: {len(latencies)} ({latencies[0]:g} s to {latencies[-1]:g} s)")
    print(f"transforms: {len(es.transforms)}")
    for name in es.transforms:
        print(f"  {name}")
    layout = getattr(es, "sensor_layout", None)
    if layout is not None:
        print(f"sensor layout: MEG {layout.meg}, EEG {layout.eeg}")
    for block in es.block_names:
        coo = es.coo(block)
        print(f"block {block}: {len(es.channels(block))} channels, {coo.nnz} stored entries")
        order = np.argsort(coo.data, kind="stable")[: args.top]
        if order.size:
            print(f"  {'channel':>12}  {'latency (s)':>11}  {'log10 p':>10}  transform")
        channels = es.channels(block)
        for i in order:
            c, lat, t = coo.coords[:, i]
            print(f"  {channels[c]!s:>12}  {latencies[lat]:>11.4f}  {coo.data[i]:>10.3f}  {es.transforms[t]}")
    for w in caught:
        print(f"warning: {w.message}")
    if provenance is not None:
        print("provenance:")
        print(json.dumps(provenance, sort_keys=True, indent=2))
    return 0
