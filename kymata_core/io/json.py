"""Strict JSON for IPPM graphs: the reference's schema and key order, with non-finite floats as ``null``.

Both directions of the IPPM JSON are here: :func:`serialise_graph` writes a graph's nodes and
edges, :func:`parse_graph` and :func:`read_json_file` read them back (the graph itself is rebuilt
from what they read by :meth:`kymata_core.ippm.graph.IPPMGraph.from_json` and
:func:`kymata_core.ippm.graph.load_ippm_json`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from kymata_core.entities.expression import ExpressionPoint
from kymata_core.entities.hemispheres import IPPM_BLOCKS

NODE_KEYS = ("node_id", "is_input_node", "hemisphere", "channel", "latency", "transform", "logp_value", "KID")
EDGE_KEYS = ("source", "target", "transform", "KID")


class NumpyJSONEncoder(json.JSONEncoder):
    """Maps numpy integers to int, numpy floats to float and arrays to lists; anything else unknown raises TypeError."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        return super().default(o)


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def serialise_graph(graph: nx.DiGraph) -> dict[str, Any]:
    """A JSON-ready dict of an IPPM graph whose nodes are :class:`~kymata_core.ippm.graph.IPPMNode`.

    Nodes keep the graph's node order; edges are sorted by (source position, target position).
    A node KID of None becomes ``"unassigned"``; an edge without ``transform`` gets ``"unknown"``,
    without ``KID`` ``"unassigned"``. Non-finite latencies and log10 p-values become ``None``.
    """
    position = {node: i for i, node in enumerate(graph.nodes)}
    nodes = [
        {
            "node_id": node.node_id,
            "is_input_node": bool(node.is_input),
            "hemisphere": node.hemisphere,
            "channel": _plain(node.channel),
            "latency": _finite_or_none(node.latency),
            "transform": node.transform,
            "logp_value": _finite_or_none(node.logp_value),
            "KID": "unassigned" if node.KID is None else node.KID,
        }
        for node in graph.nodes
    ]
    edges = [
        {
            "source": u.node_id,
            "target": v.node_id,
            "transform": data.get("transform", "unknown"),
            "KID": data.get("KID", "unassigned"),
        }
        for u, v, data in sorted(graph.edges(data=True), key=lambda e: (position[e[0]], position[e[1]]))
    ]
    return {"directed": True, "multigraph": False, "graph": {}, "nodes": nodes, "edges": edges}


def dumps_strict(obj: Any) -> str:
    """RFC 8259 JSON with a 2-space indent; NaN and infinities raise ValueError."""
    return json.dumps(obj, indent=2, allow_nan=False, cls=NumpyJSONEncoder)


# --- reading ------------------------------------------------------------------------------------

_UNASSIGNED_KIDS = (None, "unassigned")


@dataclass(frozen=True)
class ParsedGraph:
    """What an IPPM JSON holds, as :func:`parse_graph` reads it.

    Attributes
    ----------
    hierarchy : dict of str to list of str, or None
        The candidate transform list inferred from the edges (transform to its sorted parents), or
        None when it was not asked for.
    points_by_block : dict of str to list of ExpressionPoint
        The data nodes (pseudo-inputs left out) as points, per block, in file order; blocks in
        the order ``left``, ``right``, ``merged``, ``scalp``, then any other by name.
    node_kids : dict of str to str
        Node id to the KID assigned to it.
    edge_kids : dict of str to str
        Target transform to the KID of the edges into it.
    """

    hierarchy: dict[str, list[str]] | None
    points_by_block: dict[str, list[ExpressionPoint]]
    node_kids: dict[str, str]
    edge_kids: dict[str, str]


def parse_graph(data: str | Mapping[str, Any], *, infer_hierarchy: bool = True) -> ParsedGraph:
    """Read the nodes and edges of an IPPM JSON (as :func:`serialise_graph` makes it).

    Parameters
    ----------
    data : str or mapping
        The JSON text, or its parsed object.
    infer_hierarchy : bool
        Infer the candidate transform list: input-node transforms are inputs, and each other
        transform's parents are the transforms of the sources of edges into it (a transform with
        no incoming edge in the file becomes an input).

    Returns
    -------
    ParsedGraph
        A ``null`` log10 p becomes -inf; a KID of ``"unassigned"`` is no KID.

    Raises
    ------
    ValueError
        If the text is not JSON, or the object has no ``nodes`` and ``edges`` lists.
    """
    d = json.loads(data) if isinstance(data, str) else data
    try:
        nodes, edges = list(d["nodes"]), list(d["edges"])
    except (KeyError, TypeError) as e:
        raise ValueError("IPPM JSON must be an object with 'nodes' and 'edges' lists") from e
    by_id = {n["node_id"]: n for n in nodes}
    hierarchy = None
    if infer_hierarchy:
        parents: dict[str, set[str]] = {n["transform"]: set() for n in nodes}
        for e in edges:
            s, t = by_id[e["source"]], by_id[e["target"]]
            if s["transform"] != t["transform"]:
                parents[t["transform"]].add(s["transform"])
        hierarchy = {t: sorted(ps) for t, ps in parents.items()}
    blocks = sorted(
        {n["hemisphere"] for n in nodes},
        key=lambda b: (IPPM_BLOCKS.index(b) if b in IPPM_BLOCKS else 99, b),
    )
    points_by_block: dict[str, list[ExpressionPoint]] = {b: [] for b in blocks}
    for n in nodes:
        if n["is_input_node"]:
            continue
        logp = -math.inf if n["logp_value"] is None else float(n["logp_value"])
        points_by_block[n["hemisphere"]].append(
            ExpressionPoint(n["channel"], float(n["latency"]), n["transform"], logp)
        )
    node_kids = {n["node_id"]: n.get("KID") for n in nodes if n.get("KID") not in _UNASSIGNED_KIDS}
    edge_kids: dict[str, str] = {}
    for e in edges:
        if e.get("KID") not in _UNASSIGNED_KIDS:
            edge_kids[by_id[e["target"]]["transform"]] = e["KID"]
    return ParsedGraph(hierarchy, points_by_block, node_kids, edge_kids)


def read_json_file(path: str | os.PathLike) -> Any:
    """The parsed contents of a JSON file (UTF-8).

    Raises
    ------
    ValueError
        If the file is not valid JSON; the message names the file.
    """
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from e
