"""IPPM evaluation metrics (docs/ippm.md §9; E15)."""

from __future__ import annotations

import pytest

from kymata_core.entities.expression import ExpressionPoint as P
from kymata_core.ippm.evaluation import (
    causality_violation_score,
    null_edge_difference,
    relative_causality_violation_score,
    transform_recall,
)
from kymata_core.ippm.graph import IPPMGraph


def pts(spec: dict[str, list[float]], logp: float = -10.0) -> list[P]:
    out = []
    for t, lats in spec.items():
        out += [P(f"{t}_{i}", lat, t, logp) for i, lat in enumerate(lats)]
    return out


def graph(ctl, **blocks) -> IPPMGraph:
    return IPPMGraph(ctl, {b: pts(spec) for b, spec in blocks.items()})


def approx(result, expected):
    assert result[1:] == expected[1:]
    assert result[0] == pytest.approx(expected[0], abs=1e-9)


# --- causality -----------------------------------------------------------------------------------


def test_e15_causality_ref():
    ctl = {"f1": [], "f2": ["f1"], "f3": ["f1", "f2"], "f4": ["f3"]}
    g = graph(ctl, scalp={"f1": [0.050, 0.100], "f2": [0.075, 0.110], "f3": [0.120], "f4": [0.100, 0.150]})
    approx(causality_violation_score(g), (0.25, 1, 4))
    g = graph({"f2": ["f1"], "f1": []}, scalp={"f1": [0.05, 0.10], "f2": [0.11]})
    approx(causality_violation_score(g), (0.0, 0, 1))


def test_e15_causality_per_block():
    g = graph(
        {"in": [], "f1": ["in"], "f2": ["f1"]},
        left={"f1": [0.05], "f2": [0.10]},
        right={"f1": [0.20], "f2": [0.15]},
    )
    approx(causality_violation_score(g), (0.25, 1, 4))


def test_causality_empty_graph_is_zero():
    approx(causality_violation_score(graph({"in": [], "f1": ["in"]}, scalp={})), (0.0, 0, 0))


# --- relative causality ---------------------------------------------------------------------------


def test_e15_relative_ref():
    ctl = {"f1": [], "f2": ["f1"]}
    g1 = graph(ctl, merged={"f1": [0.01], "f2": [0.02]})
    approx(
        relative_causality_violation_score(g1, graph(ctl, merged={"f1": [0.01], "f2": [0.02]})), (0.0, 0, 1)
    )
    approx(
        relative_causality_violation_score(g1, graph(ctl, merged={"f1": [0.02], "f2": [0.01]})), (1.0, 1, 1)
    )
    approx(relative_causality_violation_score(g1, graph(ctl, merged={"f1": [0.02]})), (0.0, 0, 0))


def test_e15_relative_two_hemispheres():
    ctl = {"in": [], "f1": ["in"], "f2": ["f1"]}
    g1 = graph(ctl, left={"f1": [0.05], "f2": [0.10]}, right={"f1": [0.06], "f2": [0.12]})
    g2 = graph(ctl, left={"f1": [0.05], "f2": [0.10]}, right={"f1": [0.12], "f2": [0.06]})
    approx(relative_causality_violation_score(g1, g2, include_inputs=False), (0.5, 1, 2))
    # with inputs, the in -> f1 edges (at 0 s) are compared too, and agree
    approx(relative_causality_violation_score(g1, g2), (0.25, 1, 4))


def test_relative_equal_latency_against_order_is_a_violation():
    ctl = {"f1": [], "f2": ["f1"]}
    g1 = graph(ctl, scalp={"f1": [0.01], "f2": [0.01]})
    g2 = graph(ctl, scalp={"f1": [0.01], "f2": [0.02]})
    approx(relative_causality_violation_score(g1, g2), (1.0, 1, 1))


def test_relative_refusals():
    ctl = {"f1": [], "f2": ["f1"]}
    g = graph(ctl, scalp={"f1": [0.01], "f2": [0.02]})
    with pytest.raises(NotImplementedError):
        relative_causality_violation_score(g, g, connection_style="last-to-first")
    with pytest.raises(NotImplementedError):
        relative_causality_violation_score(g, g, connection_style="full")
    with pytest.raises(ValueError):
        relative_causality_violation_score(g, graph({"f1": [], "f2": []}, scalp={}))


# --- recall ---------------------------------------------------------------------------------------


def test_e15_recall():
    noisy = pts({"f1": [0.1], "f2": [0.2]})
    approx(transform_recall(IPPMGraph({}, {"scalp": []}), noisy), (0.0, 0, 2))
    full = {"input": [], "f1": ["input"], "f2": ["f1"]}
    approx(transform_recall(IPPMGraph(full, {"scalp": noisy}), noisy), (1.0, 2, 2))
    only_f1 = IPPMGraph({"input": [], "f1": ["input"]}, {"scalp": pts({"f1": [0.1]})})
    approx(transform_recall(only_f1, noisy), (0.5, 1, 2))
    g = IPPMGraph(full, {"scalp": noisy})
    approx(transform_recall(g, pts({"f1": [0.1], "f3": [0.3]})), (0.5, 1, 2))


# --- null edge difference -------------------------------------------------------------------------

NED_CTL = {"f0": [], "f1": ["f0"], "f2": ["f1"], "f3": ["f2"], "f4": ["f2"], "f5": ["f3", "f4"]}


def ned_graph(n3: int, n5: int) -> IPPMGraph:
    spec = {"f1": [0.1], "f2": [0.2], "f3": [0.3 + 0.01 * i for i in range(n3)], "f4": [0.35],
            "f5": [0.4 + 0.01 * i for i in range(n5)]}  # fmt: skip
    return graph(NED_CTL, scalp=spec)


def test_e15_null_edge_difference():
    assert null_edge_difference(ned_graph(1, 1), ned_graph(1, 1)) == 0
    assert null_edge_difference(ned_graph(2, 2), ned_graph(2, 2)) == 0
    assert null_edge_difference(ned_graph(2, 2), ned_graph(1, 1)) == pytest.approx(1.0)
    assert null_edge_difference(ned_graph(2, 2), ned_graph(2, 1)) == pytest.approx(0.5)
    assert null_edge_difference(ned_graph(3, 1), ned_graph(2, 1)) == pytest.approx(2 / 3)  # 3 null edges vs 1
    with pytest.raises(ValueError):
        null_edge_difference(ned_graph(1, 1), graph({"f0": []}, scalp={}))
