"""Strict JSON for IPPM graphs: the reference's schema and key order, with non-finite floats as ``null``."""

from __future__ import annotations

import json
import math
from typing import Any

import networkx as nx
import numpy as np

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
