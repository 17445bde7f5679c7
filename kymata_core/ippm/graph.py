"""IPPM graphs: nodes per significant point, edges along the candidate transform list. See ``docs/ippm.md`` §6."""

from __future__ import annotations

import copy as _copy
import logging
import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import networkx as nx
import numpy as np

from kymata_core.entities.expression import ExpressionPoint
from kymata_core.entities.hemispheres import BLOCK_MERGED, BLOCK_SCALP, HEMISPHERE_BLOCKS, IPPM_BLOCKS
from kymata_core.io.json import parse_graph, read_json_file
from kymata_core.ippm.hierarchy import CandidateTransformList, TransformHierarchy

logger = logging.getLogger(__name__)

HEXEL_BLOCKS = (*HEMISPHERE_BLOCKS, BLOCK_MERGED)
SCALP_BLOCK = BLOCK_SCALP


class IPPMConnectionStyle(StrEnum):
    """How nodes of one transform connect to each other and to the next transform."""

    full = "full"
    last_to_first = "last-to-first"
    first_to_first = "first-to-first"

    @classmethod
    def _missing_(cls, value: object) -> IPPMConnectionStyle | None:
        if isinstance(value, str):
            for member in cls:
                if value.replace("_", "-").lower() == member.value:
                    return member
        return None


@dataclass(frozen=True)
class IPPMNode:
    """One node of an IPPM graph: a significant point, or a pseudo-node for an input transform."""

    node_id: str
    is_input: bool
    hemisphere: str
    channel: int | str
    latency: float
    transform: str
    logp_value: float
    KID: str | None = None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _base_id(block: str, is_input: bool, channel: Any) -> str:
    if block in HEXEL_BLOCKS:
        return f"{block}_i{channel}" if is_input else f"{block}_h{channel}"
    if block == SCALP_BLOCK:
        return f"i{channel}" if is_input else f"s{channel}"
    raise NotImplementedError(f"Unknown block {block!r}; expected one of {list(IPPM_BLOCKS)}")


class IPPMGraph:
    """An IPPM graph built from a candidate transform list and points per block.

    Parameters
    ----------
    ctl : CandidateTransformList or dict
        The candidate transform list: the hypothesised hierarchy (kept as
        :attr:`candidate_transform_list`).
    points_by_block : dict of str to collection of ExpressionPoint
        Block name (``left``, ``right``, ``merged`` or ``scalp``) to its points.

    Notes
    -----
    ``graph_full`` is quadratic in the number of nodes per transform, so it is built on first
    access only; the derived styles (``graph_last_to_first``, ``graph_first_to_first``) are
    linear and built directly from the sequences.
    """

    def __init__(
        self,
        ctl: CandidateTransformList | TransformHierarchy,
        points_by_block: Mapping[str, Collection[ExpressionPoint]],
    ):
        if not isinstance(ctl, CandidateTransformList):
            ctl = CandidateTransformList(ctl)
        self._ctl = ctl
        self._blocks: list[str] = list(points_by_block)
        for block in self._blocks:
            _base_id(block, False, 0)  # validates the block name
        self._nodes: list[IPPMNode] = []
        # block -> transform -> node indices in sequence order
        self._sequences: dict[str, dict[str, list[int]]] = {b: {} for b in self._blocks}
        self._edge_kids: dict[str, str] = {}
        used_ids: set[str] = set()
        ctl_transforms = ctl.transforms

        def add(
            block: str, is_input: bool, channel: Any, latency: float, transform: str, logp: float
        ) -> None:
            node_id = base = _base_id(block, is_input, channel)
            k = 2
            while node_id in used_ids:
                node_id = f"{base}-{k}"
                k += 1
            used_ids.add(node_id)
            self._sequences[block].setdefault(transform, []).append(len(self._nodes))
            self._nodes.append(IPPMNode(node_id, is_input, block, channel, latency, transform, logp))

        transforms_with_points: set[str] = set()
        for block, points in points_by_block.items():
            groups: dict[str, list[ExpressionPoint]] = {}
            for p in points:
                groups.setdefault(p.transform, []).append(p)
            for transform, group in groups.items():
                if transform not in ctl_transforms:
                    raise ValueError(
                        f"Points supplied for transform {transform}, not present in transform list."
                    )
                transforms_with_points.add(transform)
                for p in sorted(group, key=lambda q: (float(q.latency), float(q.logp_value))):
                    add(block, False, _plain(p.channel), float(p.latency), transform, float(p.logp_value))

        for t in sorted(ctl.inputs & transforms_with_points):
            logger.warning("Input transform %r has data points; no pseudo-input node is added for it", t)
        for k, transform in enumerate(sorted(ctl.inputs - transforms_with_points), start=1):
            for block in self._blocks:
                add(block, True, k, 0.0, transform, -math.inf)
        self._full: nx.DiGraph | None = None

    # --- basic properties -----------------------------------------------------------------------

    @property
    def candidate_transform_list(self) -> CandidateTransformList:
        """The CTL this graph was built on."""
        return self._ctl

    @property
    def blocks(self) -> list[str]:
        """Block names, in the order given."""
        return list(self._blocks)

    @property
    def nodes(self) -> list[IPPMNode]:
        """All nodes, in graph_full order."""
        return list(self._nodes)

    @property
    def inputs(self) -> set[str]:
        """The CTL inputs."""
        return self._ctl.inputs

    @property
    def transforms(self) -> set[str]:
        """Transforms of all nodes (pseudo-inputs included)."""
        return {n.transform for n in self._nodes}

    @property
    def terminals(self) -> set[str]:
        """Transforms of graph_full nodes without a successor."""
        out = set()
        for seqs in self._sequences.values():
            for t in seqs:
                if not any(c in seqs for c in self._ctl.immediately_downstream(t)):
                    out.add(t)
        return out

    @property
    def serial_sequence(self) -> tuple[frozenset[str], ...]:
        """The CTL serial sequence restricted to this graph's transforms, empty steps dropped."""
        present = self.transforms
        steps = (step & present for step in self._ctl.serial_sequence)
        return tuple(s for s in steps if s)

    def points_for_transform(self, transform: str) -> dict[str, list[ExpressionPoint]]:
        """Data points of ``transform`` per block, in sequence order (``[]`` where it has none)."""
        if transform not in self._ctl.transforms:
            raise KeyError(f"Transform {transform!r} is not in the candidate transform list")
        out: dict[str, list[ExpressionPoint]] = {}
        for block in self._blocks:
            nodes = (self._nodes[i] for i in self._sequences[block].get(transform, []))
            out[block] = [
                ExpressionPoint(n.channel, n.latency, n.transform, n.logp_value)
                for n in nodes
                if not n.is_input
            ]
        return out

    # --- graphs ---------------------------------------------------------------------------------

    def _edge_attrs(self, target: IPPMNode) -> dict[str, str]:
        attrs = {"transform": target.transform}
        if target.transform in self._edge_kids:
            attrs["KID"] = self._edge_kids[target.transform]
        return attrs

    @property
    def graph_full(self) -> nx.DiGraph:
        """Every cross edge between parent and child transforms in a block, and every null edge within
        a transform's sequence (quadratic; built on first access)."""
        if self._full is None:
            g = nx.DiGraph()
            g.add_nodes_from(self._nodes)
            for seqs in self._sequences.values():
                for t, seq in seqs.items():
                    for i, a in enumerate(seq):
                        for b in seq[i + 1 :]:
                            g.add_edge(self._nodes[a], self._nodes[b], **self._edge_attrs(self._nodes[b]))
                    for child in self._ctl.immediately_downstream(t):
                        for b in seqs.get(child, []):
                            for a in seq:
                                g.add_edge(self._nodes[a], self._nodes[b], **self._edge_attrs(self._nodes[b]))
            self._full = g
        return self._full

    def _derived(self, style: IPPMConnectionStyle) -> nx.DiGraph:
        edges: list[tuple[int, int]] = []
        for seqs in self._sequences.values():
            for t, seq in seqs.items():
                edges.extend(zip(seq[:-1], seq[1:], strict=True))
                source = seq[-1] if style is IPPMConnectionStyle.last_to_first else seq[0]
                for child in self._ctl.immediately_downstream(t):
                    if child in seqs:
                        edges.append((source, seqs[child][0]))
        touched = {i for e in edges for i in e}
        order = [i for i in range(len(self._nodes)) if i in touched]
        order += [i for i in range(len(self._nodes)) if i not in touched]
        position = {i: k for k, i in enumerate(order)}
        g = nx.DiGraph()
        g.add_nodes_from(self._nodes[i] for i in order)
        for a, b in sorted(edges, key=lambda e: (position[e[0]], position[e[1]])):
            g.add_edge(self._nodes[a], self._nodes[b], **self._edge_attrs(self._nodes[b]))
        return g

    @property
    def graph_last_to_first(self) -> nx.DiGraph:
        """Null edges n_i → n_{i+1}; a cross edge from the last node of a parent to the first of a child."""
        return self._derived(IPPMConnectionStyle.last_to_first)

    @property
    def graph_first_to_first(self) -> nx.DiGraph:
        """Null edges n_i → n_{i+1}; a cross edge from the first node of a parent to the first of a child."""
        return self._derived(IPPMConnectionStyle.first_to_first)

    def graph_with_connection_style(self, connection_style: IPPMConnectionStyle | str) -> nx.DiGraph:
        """The graph in the given style (``full``, ``last-to-first`` or ``first-to-first``)."""
        style = IPPMConnectionStyle(connection_style)
        if style is IPPMConnectionStyle.full:
            return self.graph_full
        return self._derived(style)

    def edges_between_transforms(
        self,
        upstream_transform: str,
        downstream_transform: str,
        connection_style: IPPMConnectionStyle | str = IPPMConnectionStyle.last_to_first,
        block: str | None = None,
    ) -> list[tuple[IPPMNode, IPPMNode]]:
        """The edges from one transform's nodes to another's, in a connection style.

        Parameters
        ----------
        upstream_transform, downstream_transform : str
            The transforms at the source and at the target of the edges.
        connection_style : IPPMConnectionStyle or str
            ``full``, ``last-to-first`` (the default) or ``first-to-first``.
        block : str, optional
            Only edges into this block's nodes; None for every block.

        Returns
        -------
        list of (IPPMNode, IPPMNode)
            (source, target) pairs.
        """
        g = self.graph_with_connection_style(connection_style)
        return [
            (u, v)
            for u, v in g.edges
            if u.transform == upstream_transform
            and v.transform == downstream_transform
            and (block is None or v.hemisphere == block)
        ]

    # --- KIDs -----------------------------------------------------------------------------------

    def _assign_kids(self, transform_kids: Mapping[str, str]) -> None:
        """Set node KIDs and the KID of edges into mapped transforms (used by ``IPPM.set_kids``)."""
        self._nodes = [
            replace(n, KID=transform_kids[n.transform]) if n.transform in transform_kids else n
            for n in self._nodes
        ]
        self._edge_kids.update(transform_kids)
        self._full = None

    # --- derived graphs, copies, comparison -----------------------------------------------------

    def _data_points_by_block(
        self, transforms: Collection[str] | None = None
    ) -> dict[str, list[ExpressionPoint]]:
        return {
            block: [
                ExpressionPoint(n.channel, n.latency, n.transform, n.logp_value)
                for i in range(len(self._nodes))
                if (n := self._nodes[i]).hemisphere == block
                and not n.is_input
                and (transforms is None or n.transform in transforms)
            ]
            for block in self._blocks
        }

    def subgraph(self, transforms: Collection[str]) -> IPPMGraph:
        """The IPPM graph on the sub-CTL induced by ``transforms`` (KIDs kept)."""
        keep = set(transforms)
        sub = IPPMGraph(self._ctl.subgraph(keep), self._data_points_by_block(keep))
        kids = {n.transform: n.KID for n in self._nodes if n.KID is not None and n.transform in keep}
        sub._assign_kids(kids)
        sub._edge_kids = {t: k for t, k in self._edge_kids.items() if t in keep}
        return sub

    def copy(self) -> IPPMGraph:
        """A deep copy."""
        return _copy.deepcopy(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IPPMGraph):
            return NotImplemented
        if self._ctl != other._ctl:
            return False
        a, b = self.graph_full, other.graph_full
        if set(a.nodes) != set(b.nodes):
            return False
        edges_a = {(u, v): tuple(sorted(d.items())) for u, v, d in a.edges(data=True)}
        edges_b = {(u, v): tuple(sorted(d.items())) for u, v, d in b.edges(data=True)}
        return edges_a == edges_b

    __hash__ = None

    def __repr__(self) -> str:
        return f"IPPMGraph({len(self._nodes)} nodes, blocks {self._blocks})"

    # --- JSON -----------------------------------------------------------------------------------

    @classmethod
    def from_json(
        cls,
        data: str | Mapping[str, Any],
        candidate_transform_list: CandidateTransformList | TransformHierarchy | None = None,
    ) -> IPPMGraph:
        """Rebuild a graph from :meth:`IPPM.to_json` output (text or parsed dict).

        Data nodes become points (``null`` log10 p → -inf) in their blocks; pseudo-inputs are
        regenerated. Without ``candidate_transform_list`` the CTL is inferred: input-node
        transforms are inputs, and each other transform's parents are the transforms of the
        sources of edges into it (a transform with no incoming edge in the file becomes an
        input). Node KIDs are restored per node and edge KIDs per target transform.
        """
        parsed = parse_graph(data, infer_hierarchy=candidate_transform_list is None)
        if candidate_transform_list is None:
            candidate_transform_list = parsed.hierarchy
        graph = cls(candidate_transform_list, parsed.points_by_block)
        graph._nodes = [
            replace(n, KID=parsed.node_kids[n.node_id]) if n.node_id in parsed.node_kids else n
            for n in graph._nodes
        ]
        graph._edge_kids.update(parsed.edge_kids)
        return graph


def load_ippm_json(
    path: str | os.PathLike,
    candidate_transform_list: CandidateTransformList | TransformHierarchy | None = None,
) -> IPPMGraph:
    """Read an IPPM JSON file (as written by ``kymata-core ippm``) into an :class:`IPPMGraph`.

    See :meth:`IPPMGraph.from_json`; the file is read by :func:`kymata_core.io.json.read_json_file`.
    """
    data = read_json_file(path)
    try:
        return IPPMGraph.from_json(data, candidate_transform_list)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
