"""``kymata-core ippm``: build an IPPM from an ExpressionSet and a transform hierarchy, and write its JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.entities.hemispheres import BLOCK_MERGED, HEMIS, HEMISPHERE_BLOCKS, block_of_hemi
from kymata_core.errors import UsageError
from kymata_core.io.atomic import check_overwrite
from kymata_core.ippm.registry import DENOISER_NAMES
from kymata_core.parameters import IPPM as IPPM_PARAMETERS
from kymata_core.provenance import sidecar_path

EPILOG = """\
example:
  kymata-core ippm --expression results/p01/expression.nkg --hierarchy config/hierarchy.yaml \\
      --denoiser maxpool --params '{"bin_size": 0.02}' --out results/p01/ippm/maxpool.json

The hierarchy file (YAML or JSON) maps each transform to the list of its parents; inputs map to [].
--denoiser is one of DENOISER_NAMES, or none.
--params is a JSON/YAML file or inline JSON object of denoiser parameters (latencies in seconds).
With --truth (a simulated study's truth.json, or {"hierarchy"?: {...}, "effects": [{"transform", "latency_s",
"hemisphere"?}, ...]}; the hierarchy defaults to --hierarchy) the IPPM is also checked against the planted
structure (nodes within 10 ms of each planted latency, no extra nodes, edges along the hierarchy), and the
result is written to OUT.check.json.
The IPPM JSON keeps the reference's schema exactly, so the step's provenance (software, dependency
versions, input checksums, denoiser and parameters) is written beside it, to OUT.provenance.json.
""".replace("DENOISER_NAMES", ", ".join(DENOISER_NAMES))

TRUTH_TOLERANCE_S = 0.010
# truth.json may name a hemisphere either way; other values are compared as they are
_HEMISPHERE_ALIASES = {name: block_of_hemi(name) for name in (*HEMIS, *HEMISPHERE_BLOCKS)}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ippm",
        help=COMMANDS["ippm"],
        description="Build a denoised IPPM from an .nkg expression set and a transform hierarchy; write its JSON.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--expression", required=True, type=Path, metavar="EXPR.nkg", help="the expression set"
    )
    parser.add_argument(
        "--hierarchy", required=True, type=Path, metavar="HIER", help="YAML/JSON mapping transform -> parents"
    )
    # defaults and help from kymata_core.parameters, where each differing default says why
    parameters = {p.name: p for p in IPPM_PARAMETERS}
    denoiser = parameters["denoisers"]
    denoiser.add_to(parser, help=f"denoiser name, or 'none' (default: {denoiser.command_default})")
    parameters["denoiser_params"].add_to(parser)
    parameters["merge_hemispheres"].add_to(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="OUT.json", help="the IPPM JSON to write")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out (and its .check.json and .provenance.json) if they exist",
    )
    parser.add_argument(
        "--truth", type=Path, default=None, help="planted-effects JSON to check the IPPM against"
    )
    parser.set_defaults(func=run)


def _load_mapping(path: Path, what: str) -> dict:
    import yaml

    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid YAML/JSON ({str(e).splitlines()[0]})") from e
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping for the {what}, got {type(data).__name__}")
    return data


def load_hierarchy(path: Path) -> dict[str, list[str]]:
    """Read a hierarchy file (transform → list of parents), validating its shape."""
    data = _load_mapping(path, "hierarchy")
    return _check_hierarchy(data, str(path))


def _check_hierarchy(data: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(data, dict) or not data:
        raise UsageError(
            f"{where}: the hierarchy must be a non-empty mapping of transform -> list of parents"
        )
    out = {}
    for key, parents in data.items():
        if parents is None:
            parents = []
        if (
            not isinstance(key, str)
            or not isinstance(parents, list)
            or not all(isinstance(p, str) for p in parents)
        ):
            raise UsageError(
                f"{where}: hierarchy key {key!r} must be a transform name mapped to a list of names"
            )
        out[key] = parents
    return out


def load_params(value: str | None) -> dict[str, Any]:
    """Denoiser parameters from a JSON/YAML file or an inline JSON object."""
    if value is None:
        return {}
    path = Path(value)
    if path.is_file():
        return _load_mapping(path, "denoiser parameters")
    try:
        data = json.loads(value)
    except json.JSONDecodeError as e:
        raise UsageError(f"--params: {value!r} is neither an existing file nor inline JSON ({e})") from e
    if not isinstance(data, dict):
        raise UsageError(
            f"--params: expected a JSON object of denoiser parameters, got {type(data).__name__}"
        )
    return data


def _check_out(path: Path, overwrite: bool) -> None:
    check_overwrite(path, overwrite, flag="--overwrite")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output directory {path.parent} does not exist")


def check_against_truth(
    ippm_json: dict, truth: dict, where: str = "truth", hierarchy: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """Compare an IPPM's JSON (parsed) with planted effects.

    ``truth`` holds ``effects``: objects with ``transform`` and ``latency_s``, and optionally a
    ``hemisphere`` (``lh``/``rh``/``left``/``right``/``scalp``) or, as in the ``truth.json`` of
    :func:`kymata_core.simulate.simulate_study`, ``channel_space`` and ``channels`` (``[hemi, vertex]``
    pairs for source space). Effects of the other channel space than the IPPM's are ignored. The
    hierarchy is ``truth["hierarchy"]`` if present, else ``hierarchy``.

    Every planted effect must have a node of its transform (in each of its hemispheres, or the
    merged block) within 10 ms; every data node must be within 10 ms of a planted effect of its
    transform (in its block); every edge between different transforms must be a hierarchy edge,
    and every edge within a transform must go forward in time.
    """
    if truth.get("hierarchy") is not None or hierarchy is None:
        hierarchy = _check_hierarchy(truth.get("hierarchy"), f"{where}: 'hierarchy'")
    effects = None
    for key in ("effects", "planted_effects", "planted"):
        if key in truth:
            effects = truth[key]
            break
    if not isinstance(effects, list):
        raise UsageError(f"{where}: expected a list of planted effects under 'effects'")
    blocks = {n["hemisphere"] for n in ippm_json["nodes"]}
    space = "sensor" if "scalp" in blocks else "source"
    planted: list[tuple[str, float, str | None]] = []
    for i, e in enumerate(effects):
        if not isinstance(e, dict) or "transform" not in e or "latency_s" not in e:
            raise UsageError(f"{where}: effect {i} must be an object with 'transform' and 'latency_s'")
        if e.get("channel_space", space) != space:
            continue
        hemi = e.get("hemisphere", e.get("hemi"))
        if hemi is not None:
            hemis = {_HEMISPHERE_ALIASES.get(hemi, hemi)}
        elif space == "source" and e.get("channels"):
            hemis = {_HEMISPHERE_ALIASES.get(c[0], c[0]) for c in e["channels"]}
        else:
            hemis = {None}
        planted.extend((e["transform"], float(e["latency_s"]), h) for h in sorted(hemis, key=str))

    def near(node: dict, transform: str, latency: float, hemi: str | None) -> bool:
        block_ok = hemi is None or node["hemisphere"] in (hemi, BLOCK_MERGED)
        return (
            node["transform"] == transform
            and block_ok
            and node["latency"] is not None
            and abs(node["latency"] - latency) <= TRUTH_TOLERANCE_S + 1e-9
        )

    inputs = {t for t, ps in hierarchy.items() if not ps}
    data_nodes = [n for n in ippm_json["nodes"] if not n["is_input_node"]]
    missing = [
        {"transform": t, "latency_s": lat, "hemisphere": h}
        for t, lat, h in planted
        if t not in inputs and not any(near(n, t, lat, h) for n in data_nodes)
    ]
    extra = [n["node_id"] for n in data_nodes if not any(near(n, t, lat, h) for t, lat, h in planted)]
    by_id = {n["node_id"]: n for n in ippm_json["nodes"]}
    bad_edges = []
    for e in ippm_json["edges"]:
        s, t = by_id[e["source"]], by_id[e["target"]]
        if s["transform"] == t["transform"]:
            ok = (t["latency"] or 0.0) >= (s["latency"] or 0.0)
        else:
            ok = s["transform"] in hierarchy.get(t["transform"], [])
        if not ok:
            bad_edges.append([e["source"], e["target"]])
    matches = not missing and not extra and not bad_edges
    return {"matches": matches, "tolerance_s": TRUTH_TOLERANCE_S, "missing": missing, "extra": extra,
            "bad_edges": bad_edges}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from kymata_core.io.atomic import atomic_write
    from kymata_core.io.json import dumps_strict
    from kymata_core.io.nkg import load_expression_set
    from kymata_core.ippm.denoising_strategies import make_denoiser
    from kymata_core.ippm.hierarchy import CandidateTransformList
    from kymata_core.ippm.ippm import IPPM

    # every check before the heavy work
    _check_out(args.out, args.overwrite)
    _check_out(sidecar_path(args.out), args.overwrite)
    check_path = args.out.with_suffix(".check.json")
    if args.truth is not None:
        _check_out(check_path, args.overwrite)
        truth = _load_mapping(args.truth, "truth")
        if truth.get("hierarchy") is not None:
            _check_hierarchy(truth["hierarchy"], f"{args.truth}: 'hierarchy'")
    if not args.expression.is_file():
        raise FileNotFoundError(f"expression set {args.expression} does not exist")
    try:
        ctl = CandidateTransformList(load_hierarchy(args.hierarchy))
    except ValueError as e:
        raise UsageError(f"{args.hierarchy}: {e}") from e
    params = load_params(args.params)
    denoiser = None if args.denoiser.lower() == "none" else args.denoiser
    if denoiser is None and params:
        raise UsageError(f"--params {sorted(params)} given with --denoiser none")
    if denoiser is not None:
        try:
            make_denoiser(denoiser, **params)
        except TypeError as e:  # a parameter the denoiser does not take
            raise UsageError(f"--params: {e}") from e
        except ValueError as e:  # an unknown denoiser, or a parameter value it refuses
            raise UsageError(f"--denoiser {denoiser}: {e}") from e

    es = load_expression_set(args.expression)
    try:
        ippm = IPPM(es, ctl, denoiser=denoiser, merge_before_denoising=args.merge_hemispheres, **params)
    except ValueError as e:
        raise UsageError(f"{args.expression}: {e}") from e
    text = ippm.to_json()
    with atomic_write(args.out, overwrite=args.overwrite, mode="w", encoding="utf-8") as f:
        f.write(text + "\n")
    _write_provenance(args, denoiser, params)
    n_nodes = len(ippm.graph.nodes)
    print(f"wrote {args.out} ({n_nodes} nodes) and its provenance {sidecar_path(args.out)}")

    if args.truth is not None:
        result = check_against_truth(json.loads(text), truth, str(args.truth), ctl.hierarchy)
        with atomic_write(check_path, overwrite=args.overwrite, mode="w", encoding="utf-8") as f:
            f.write(dumps_strict(result) + "\n")
        verdict = "matches" if result["matches"] else "does NOT match"
        print(
            f"IPPM {verdict} the planted structure in {args.truth}: {len(result['missing'])} missing, "
            f"{len(result['extra'])} extra nodes, {len(result['bad_edges'])} bad edges (see {check_path})"
        )
    return 0


def provenance(args: argparse.Namespace, denoiser: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """The IPPM step's record: expression set, hierarchy (and truth) files, denoiser and its parameters."""
    from kymata_core.provenance import file_record, make_provenance

    inputs = {"expression": file_record(args.expression), "hierarchy": file_record(args.hierarchy)}
    if args.truth is not None:
        inputs["truth"] = file_record(args.truth)
    parameters = {"denoiser": denoiser, "denoiser_params": params, "merge_hemispheres": args.merge_hemispheres}
    return make_provenance("ippm", inputs, parameters)


def _write_provenance(args: argparse.Namespace, denoiser: str | None, params: dict[str, Any]) -> None:
    """Write the record beside --out: the IPPM JSON's schema (the reference's) has no member for it."""
    from kymata_core.io.atomic import write_text_atomic
    from kymata_core.provenance import provenance_json

    text = provenance_json(provenance(args, denoiser, params))
    write_text_atomic(sidecar_path(args.out), text, overwrite=args.overwrite)
