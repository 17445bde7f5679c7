"""``kymata-core info FILE``: describe an ``.nkg`` file, an IPPM or summary JSON, and their provenance."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError
from kymata_core.provenance import describe_provenance, sidecar_path

_TOP_N = 5

EPILOG = """\
examples:
  kymata-core info results/p01/expression-source.nkg
  kymata-core info results/p01/ippm/maxpool-source.json      (reads maxpool-source.provenance.json)
  kymata-core info --json results/p01/summary.json
  kymata-core info results/p01/operator/source-operator.h5

The provenance part names the step that wrote the file, the software (version, git commit, Python),
the versions of numpy, scipy, mne, scikit-learn, matplotlib and snakemake, the input files (name and
sha256), the parameters and the seed; for a combined set, each shard and the step that made it.
"""


def add_parser(subparsers) -> None:
    """Register the ``info`` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help=COMMANDS["info"],
        description="Print the type, format version, shape, transforms, the most significant points of "
        "each block and the provenance of an .nkg file; or the provenance of a JSON file the pipeline "
        "wrote (an IPPM, read from its .provenance.json, or a summary), or of a source operator (.h5).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file", type=Path, metavar="FILE", help="the .nkg, .json or source operator .h5 file to describe"
    )
    parser.add_argument(
        "--top", type=int, default=_TOP_N, help="points to list per block (default %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="also print the whole provenance record as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.file``; NkgFormatError (a ValueError) reaches the CLI as one line."""
    suffix = args.file.suffix.lower()
    if suffix == ".json":
        provenance = _describe_json(args.file)
    elif suffix == ".h5":
        provenance = _describe_operator(args.file)
    else:
        provenance = _describe_nkg(args.file, args.top)
    _print_provenance(provenance, args.json)
    return 0


def _describe_nkg(path: Path, top: int) -> dict[str, Any] | None:
    """Print an ``.nkg`` file's type, version, shape and most significant points; return its provenance."""
    import numpy as np

    from kymata_core.io.nkg import file_version, load_expression_set, read_provenance

    version = ".".join(str(v) for v in file_version(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        es = load_expression_set(path)
    provenance = read_provenance(path)

    print(f"file: {path}")
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
        order = np.argsort(coo.data, kind="stable")[:top]
        if order.size:
            print(f"  {'channel':>12}  {'latency (s)':>11}  {'log10 p':>10}  transform")
        channels = es.channels(block)
        for i in order:
            c, lat, t = coo.coords[:, i]
            print(f"  {channels[c]!s:>12}  {latencies[lat]:>11.4f}  {coo.data[i]:>10.3f}  {es.transforms[t]}")
    for w in caught:
        print(f"warning: {w.message}")
    return provenance


def _describe_json(path: Path) -> dict[str, Any] | None:
    """Print what kind of JSON file ``path`` is; return its provenance (its own, or its sidecar's)."""
    data = _load_json(path)
    print(f"file: {path}")
    if isinstance(data, dict) and "nodes" in data and "edges" in data:
        print(f"type: IPPM ({len(data['nodes'])} nodes, {len(data['edges'])} edges)")
        sidecar = sidecar_path(path)
        if not sidecar.is_file():
            print(f"no provenance: {sidecar} not found")
            return None
        print(f"provenance file: {sidecar}")
        return _load_json(sidecar)
    if isinstance(data, dict) and "participant" in data and "spaces" in data:
        print(f"type: summary of {data['participant']} ({', '.join(data['spaces'])} space)")
        return data.get("provenance")
    if isinstance(data, dict) and "step" in data:
        print("type: provenance record")
        return data
    raise UsageError(f"{path}: not an IPPM, summary or provenance JSON file of the pipeline")


def _describe_operator(path: Path) -> dict[str, Any] | None:
    """Print what a source operator file (``kymata-core operator``) maps; return its provenance."""
    from kymata_core.io.source_operator import read_source_operator_header

    header = read_source_operator_header(path)
    morphed = "morphed" if header.morphed else "not morphed"
    print(f"file: {path}")
    print(
        f"type: source operator, {len(header.channel_names)} channels to {header.n_lh} + {header.n_rh} hexels"
    )
    print(f"subject: {header.subject} ({morphed})")
    text = header.attrs.get("provenance")
    try:
        return json.loads(text) if text else None
    except (TypeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: its provenance attribute is not valid JSON ({e})") from None


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: not valid JSON ({e})") from None


def _print_provenance(provenance: Any, as_json: bool) -> None:
    if not isinstance(provenance, dict):
        print("provenance: none recorded")
        return
    print("provenance:")
    known = "software" in provenance or "command" in provenance
    if known:
        for line in describe_provenance(provenance):
            print(f"  {line}")
    if as_json or not known:  # a record of another schema is shown as it is
        print(json.dumps(provenance, sort_keys=True, indent=2))
