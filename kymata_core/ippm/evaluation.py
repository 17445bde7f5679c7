"""Scores for IPPM graphs (``docs/ippm.md`` §9). Each returns ``(ratio, numerator, denominator)``
(ratio 0 when the denominator is 0) unless stated."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kymata_core.entities.expression import ExpressionPoint
from kymata_core.ippm.graph import IPPMConnectionStyle, IPPMGraph


def _ratio(numerator: int, denominator: int) -> tuple[float, int, int]:
    return (numerator / denominator if denominator else 0.0), numerator, denominator


def _latencies_by_block(graph: IPPMGraph) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {b: {} for b in graph.blocks}
    for n in graph.nodes:
        out[n.hemisphere].setdefault(n.transform, []).append(n.latency)
    return out


def causality_violation_score(graph: IPPMGraph) -> tuple[float, int, int]:
    """Fraction of parent → child arrows (per block) whose child starts before its parent ends.

    For each block and each non-input transform t with nodes there, its earliest latency is
    compared with each parent's latest latency in the block (0 s for a CTL input, which is the
    stimulus onset); parents without nodes in the block are skipped.
    """
    ctl = graph.candidate_transform_list
    inputs = ctl.inputs
    arrows = violations = 0
    for latencies in _latencies_by_block(graph).values():
        for t in sorted(latencies):
            if t in inputs:
                continue
            earliest = min(latencies[t])
            for parent in ctl.immediately_upstream(t):
                if parent in inputs:
                    parent_latest = 0.0
                elif parent not in latencies:
                    continue
                else:
                    parent_latest = max(latencies[parent])
                arrows += 1
                violations += earliest < parent_latest
    return _ratio(violations, arrows)


def relative_causality_violation_score(
    graph_1: IPPMGraph,
    graph_2: IPPMGraph,
    connection_style: IPPMConnectionStyle | str = IPPMConnectionStyle.first_to_first,
    include_inputs: bool = True,
) -> tuple[float, int, int]:
    """Fraction of comparable CTL edges whose direction in time differs between two graphs.

    For each CTL edge (u, v) and each block present in both graphs, the single style edge u → v
    of that block in each graph is compared; the pair is skipped when either is missing. A
    violation is a different sign of ``latency(v) − latency(u)`` (0 against ±1 counts).
    """
    style = IPPMConnectionStyle(connection_style)
    if style is not IPPMConnectionStyle.first_to_first:
        raise NotImplementedError(
            f"relative_causality_violation_score supports only first-to-first, got {style.value!r}"
        )
    ctl = graph_1.candidate_transform_list
    if ctl != graph_2.candidate_transform_list:
        raise ValueError("The two graphs have different candidate transform lists")

    def cross_edges(graph: IPPMGraph) -> dict[tuple[str, str, str], float]:
        out = {}
        for u, v in graph.graph_first_to_first.edges:
            if u.transform != v.transform:
                out[(u.hemisphere, u.transform, v.transform)] = float(np.sign(v.latency - u.latency))
        return out

    e1, e2 = cross_edges(graph_1), cross_edges(graph_2)
    blocks = [b for b in graph_1.blocks if b in graph_2.blocks]
    inputs = ctl.inputs
    compared = violations = 0
    for upstream, downstream in sorted(ctl.edges):
        if not include_inputs and (upstream in inputs or downstream in inputs):
            continue
        for block in blocks:
            key = (block, upstream, downstream)
            if key in e1 and key in e2:
                compared += 1
                violations += e1[key] != e2[key]
    return _ratio(violations, compared)


def transform_recall(graph: IPPMGraph, noisy_points: Iterable[ExpressionPoint]) -> tuple[float, int, int]:
    """Fraction of the (non-input) transforms with noisy points that have nodes in the last-to-first graph."""
    inputs = graph.candidate_transform_list.inputs
    noisy = {p.transform for p in noisy_points} - inputs
    found = {n.transform for n in graph.graph_last_to_first.nodes} - inputs
    return _ratio(len(found & noisy), len(noisy))


def _null_edge_counts(graph: IPPMGraph) -> dict[str, int]:
    counts: dict[str, int] = {}
    for latencies in _latencies_by_block(graph).values():
        for t, lats in latencies.items():
            n = len(lats)
            counts[t] = counts.get(t, 0) + n * (n - 1) // 2
    return counts


def null_edge_difference(graph_1: IPPMGraph, graph_2: IPPMGraph) -> float:
    """Σ_t |c1(t) − c2(t)| / Σ_t max(c1(t), c2(t)) over the null-edge counts c of graph_full (0 for 0/0)."""
    if graph_1.candidate_transform_list != graph_2.candidate_transform_list:
        raise ValueError("The two graphs have different candidate transform lists")
    c1, c2 = _null_edge_counts(graph_1), _null_edge_counts(graph_2)
    transforms = set(c1) | set(c2)
    difference = sum(abs(c1.get(t, 0) - c2.get(t, 0)) for t in transforms)
    union = sum(max(c1.get(t, 0), c2.get(t, 0)) for t in transforms)
    return difference / union if union else 0.0
