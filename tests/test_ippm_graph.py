"""IPPM construction and graphs (docs/ippm.md §1, §3, §6; E1, E4–E7, E13, E16 data part)."""

from __future__ import annotations

import numpy as np
import pytest

from kymata_core.entities.expression import ExpressionPoint as P
from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet
from kymata_core.ippm.graph import IPPMConnectionStyle, IPPMGraph, IPPMNode, load_ippm_json
from kymata_core.ippm.hierarchy import CandidateTransformList
from kymata_core.ippm.ippm import IPPM


def ids(edges) -> list[tuple[str, str]]:
    return [(u.node_id, v.node_id) for u, v in edges]


S = {"input": [], "func1": ["input"], "func2": ["input", "func1"], "func3": ["func2"], "func4": ["func3"]}
S_POINTS = [P("c1", 0.010, "func1", -28), P("c2", 0.025, "func1", -79), P("c3", 0.050, "func2", -61),
            P("c4", 0.060, "func3", -92), P("c5", 0.065, "func3", -12), P("c6", 0.070, "func4", -42)]  # fmt: skip


# --- E1 -------------------------------------------------------------------------------------------


def test_e1_best_transforms():
    a = np.array([[1, 0.1, 1], [1, 1, 0.2], [0.1, 1, 1], [0.2, 1, 1]])
    b = np.array([[1, 1, 0.2], [1, 0.1, 1], [1, 0.2, 1], [1, 1, 0.1]])
    es = SensorExpressionSet(["a", "b"], ["0", "1", "2", "3"], [0.0, 0.05, 0.10], [np.log10(a), np.log10(b)])
    assert es.best_transforms() == [P("0", 0.05, "a", -1), P("1", 0.05, "b", -1), P("2", 0.0, "a", -1),
                                    P("3", 0.10, "b", -1)]  # fmt: skip
    a[0] = 1
    b[0] = 1
    es = SensorExpressionSet(["a", "b"], ["0", "1", "2", "3"], [0.0, 0.05, 0.10], [np.log10(a), np.log10(b)])
    assert [p.channel for p in es.best_transforms()] == ["1", "2", "3"]


# --- E4 -------------------------------------------------------------------------------------------


def test_e4_last_to_first_and_full():
    ctl = {"in": [], "A": ["in"], "B": ["A"], "C": ["A"]}
    pts = [P("a1", 0.1, "A", -10), P("a2", 0.2, "A", -10), P("a3", 0.3, "A", -10), P("b1", 0.4, "B", -10),
           P("c1", 0.5, "C", -10)]  # fmt: skip
    g = IPPMGraph(ctl, {"scalp": pts})
    assert ids(g.graph_last_to_first.edges) == [("sa1", "sa2"), ("sa2", "sa3"), ("sa3", "sb1"), ("sa3", "sc1"),
                                                ("i1", "sa1")]  # fmt: skip
    assert g.graph_full.number_of_edges() == 12
    assert all(d["transform"] == v.transform for u, v, d in g.graph_full.edges(data=True))


def test_e4_first_to_first_and_null_edges():
    ctl = {"in": [], "A": ["in"], "B": ["A"], "C": ["A"]}
    pts = [P("a1", 0.1, "A", -10), P("a2", 0.15, "A", -10), P("a3", 0.2, "A", -10), P("b1", 0.3, "B", -10),
           P("b2", 0.4, "B", -10)]  # fmt: skip
    g = IPPMGraph(ctl, {"scalp": pts})
    assert ids(g.graph_first_to_first.edges) == [("sa1", "sa2"), ("sa1", "sb1"), ("sa2", "sa3"), ("sb1", "sb2"),
                                                 ("i1", "sa1")]  # fmt: skip
    assert g.graph_full.number_of_edges() == 13
    from kymata_core.ippm.evaluation import _null_edge_counts

    assert _null_edge_counts(g)["A"] == 3 and _null_edge_counts(g)["B"] == 1


def test_e4_s_graph():
    g = IPPMGraph(S, {"scalp": S_POINTS})
    assert g.terminals == {"func4"}
    assert g.graph_full.number_of_edges() == 11
    assert ids(g.graph_first_to_first.edges) == [("sc1", "sc2"), ("sc1", "sc3"), ("sc3", "sc4"), ("sc4", "sc5"),
                                                 ("sc4", "sc6"), ("i1", "sc1"), ("i1", "sc3")]  # fmt: skip
    no_func1 = IPPMGraph(S, {"scalp": [p for p in S_POINTS if p.transform != "func1"]})
    assert no_func1.serial_sequence == tuple(frozenset({t}) for t in ("input", "func2", "func3", "func4"))
    empty = IPPMGraph(S, {"scalp": []})
    assert empty.transforms == empty.terminals == {"input"}


def test_derived_graphs_are_subgraphs_of_full_with_all_nodes():
    g = IPPMGraph(S, {"scalp": S_POINTS})
    full = g.graph_full
    for style in ("last-to-first", "first-to-first"):
        derived = g.graph_with_connection_style(style)
        assert set(derived.nodes) == set(full.nodes)
        for u, v, d in derived.edges(data=True):
            assert full.has_edge(u, v) and full.edges[u, v] == d
    assert g.graph_with_connection_style("full") is full
    assert (
        g.graph_with_connection_style(IPPMConnectionStyle.last_to_first).edges == g.graph_last_to_first.edges
    )


# --- E5, E6, E7 -----------------------------------------------------------------------------------


def test_e5_ties_are_ordered_by_logp():
    g = IPPMGraph({"in": [], "A": ["in"]}, {"scalp": [P("c1", 0.1, "A", -5), P("c2", 0.1, "A", -9)]})
    assert [n.node_id for n in g.graph_full.nodes] == ["sc2", "sc1", "i1"]
    assert sorted(ids(g.graph_full.edges)) == sorted([("sc2", "sc1"), ("i1", "sc2"), ("i1", "sc1")])
    assert ids(g.graph_last_to_first.edges) == [("sc2", "sc1"), ("i1", "sc2")]


def test_e6_pseudo_inputs_by_sorted_name(caplog):
    g = IPPMGraph(
        {"in": [], "a": ["in"], "x": [], "z": []}, {"scalp": [P("c1", 0.1, "x", -5), P("c2", 0.2, "a", -5)]}
    )
    assert "'x'" in caplog.text  # an input with data: warned about, no pseudo-node
    inputs = {n.node_id: n.transform for n in g.nodes if n.is_input}
    assert inputs == {"i1": "in", "i2": "z"}
    assert ids(g.graph_last_to_first.edges) == [("i1", "sc2")]
    assert [n.node_id for n in g.graph_last_to_first.nodes] == ["sc2", "i1", "sc1", "i2"]


def test_e6_pseudo_inputs_in_every_block():
    g = IPPMGraph(
        {"zeta": [], "alpha": [], "f": ["alpha", "zeta"]}, {"left": [P(7, 0.1, "f", -20)], "right": []}
    )
    assert [(n.node_id, n.transform) for n in g.graph_full.nodes] == [
        ("left_h7", "f"), ("left_i1", "alpha"), ("right_i1", "alpha"), ("left_i2", "zeta"), ("right_i2", "zeta")]  # fmt: skip
    assert sorted(ids(g.graph_full.edges)) == [("left_i1", "left_h7"), ("left_i2", "left_h7")]
    pseudo = g.nodes[1]
    assert pseudo == IPPMNode("left_i1", True, "left", 1, 0.0, "alpha", -np.inf)


def test_e7_id_collisions_get_suffixes():
    g = IPPMGraph({"in": [], "A": ["in"]}, {"merged": [P(5, 0.10, "A", -20), P(5, 0.12, "A", -30)]})
    assert [n.node_id for n in g.nodes] == ["merged_h5", "merged_h5-2", "merged_i1"]
    assert ids(g.graph_last_to_first.edges) == [("merged_h5", "merged_h5-2"), ("merged_i1", "merged_h5")]


# --- E13 ------------------------------------------------------------------------------------------

E13_LATENCIES = np.round(np.arange(13) * 0.005, 6)
E13_LEFT_F1 = [(0, 0, -50), (1, 0.005, -70), (2, 0.005, -34), (3, 0.030, -100), (4, 0.035, -50), (5, 0.015, -15),
               (6, 0.025, -7), (7, 0.040, -3)]  # fmt: skip
E13_RIGHT_F2 = [(0, 0, -2), (1, 0.005, -50), (2, 0.025, -99), (3, 0.025, -78), (4, 0.030, -23), (5, 0.040, -77),
                (6, 0.050, -54), (7, 0.055, -4)]  # fmt: skip
E13_CTL = {"in": [], "f1": ["in"], "f2": ["f1"]}


def e13_set() -> HexelExpressionSet:
    left, right = np.zeros((8, 13, 2)), np.zeros((8, 13, 2))
    for h, lat, v in E13_LEFT_F1:
        left[h, int(round(lat / 0.005)), 0] = v
    for h, lat, v in E13_RIGHT_F2:
        right[h, int(round(lat / 0.005)), 1] = v
    return HexelExpressionSet(["f1", "f2"], range(8), range(8), E13_LATENCIES, left, right)


def test_e13_hexel_end_to_end():
    ippm = IPPM(e13_set(), E13_CTL)
    g = ippm.graph
    nodes = {n.node_id: n.latency for n in g.nodes}
    assert nodes == pytest.approx({"left_h1": 0.005, "left_h3": 0.030, "right_h2": 0.025, "left_i1": 0.0,
                                   "right_i1": 0.0})  # fmt: skip
    assert ids(g.graph_last_to_first.edges) == [("left_h1", "left_h3"), ("left_i1", "left_h1")]
    assert g.terminals == {"f1", "f2", "in"}
    assert {n.node_id for n in IPPM(e13_set(), E13_CTL, denoiser="adaptive_maxpool").graph.nodes if not n.is_input} == {
        "left_h3", "right_h2"}  # fmt: skip
    assert sum(not n.is_input for n in IPPM(e13_set(), E13_CTL, denoiser=None).graph.nodes) == 16


def test_merge_before_denoising():
    g = IPPM(e13_set(), E13_CTL, merge_before_denoising=True).graph
    assert g.blocks == ["merged"]
    assert all(n.node_id.startswith("merged_") for n in g.nodes)
    g_none = IPPM(e13_set(), E13_CTL, denoiser=None, merge_before_denoising=True).graph
    assert g_none.blocks == ["merged"] and sum(not n.is_input for n in g_none.nodes) == 16
    assert len({n.node_id for n in g_none.nodes}) == len(
        g_none.nodes
    )  # h0..h7 of both hemispheres: unique ids


# --- E16 (the IPPM part) ---------------------------------------------------------------------------


def e16_sensor_set() -> SensorExpressionSet:
    data = np.zeros((4, 4, 3))
    data[0, 1, 0], data[1, 2, 1], data[3, 3, 2] = -20, -25, -25
    return SensorExpressionSet(["a", "b", "c"], ["0", "1", "2", "3"], [0.0, 0.05, 0.10, 0.15], data)


def test_e16_sensor_ippm():
    ctl = {"input": [], "a": ["input"], "b": ["a"], "c": ["a"]}
    assert [n.node_id for n in IPPM(e16_sensor_set(), ctl).graph.nodes] == ["i1"]
    g = IPPM(e16_sensor_set(), ctl, bin_significance_threshold=1).graph
    assert sorted(n.node_id for n in g.nodes) == ["i1", "s0", "s1", "s3"]
    assert sorted(ids(g.graph_last_to_first.edges)) == [("i1", "s0"), ("s0", "s1"), ("s0", "s3")]


# --- IPPM refusals and inputs ----------------------------------------------------------------------


def test_transform_missing_from_expression_set():
    with pytest.raises(ValueError, match="Transform f3 from hierarchy not in expression set"):
        IPPM(e13_set(), {"in": [], "f1": ["in"], "f3": ["f1"]})


def test_inputs_may_be_absent_and_es_is_restricted():
    # f2 is not in the hierarchy, so it neither competes in best_transforms nor counts in n
    g = IPPM(e13_set(), {"in": [], "f1": ["in"]}, denoiser=None).graph
    assert {n.transform for n in g.nodes} == {"f1", "in"}
    assert sum(not n.is_input for n in g.nodes) == 8


def test_bad_expression_set_type():
    with pytest.raises(
        TypeError, match="expression_set must be an ExpressionSet or a list of ExpressionPoints. Was"
    ):
        IPPM({"not": "a set"}, E13_CTL)


def test_unknown_expression_set_subclass():
    from kymata_core.entities.expression import ExpressionSet

    class Odd(HexelExpressionSet):
        pass

    es = e13_set()
    odd = Odd.__new__(Odd)
    odd.__dict__.update(es.__dict__)
    assert isinstance(odd, ExpressionSet)
    IPPM(odd, E13_CTL)  # a subclass of a known kind is fine

    class Unknown(ExpressionSet):
        def best_transforms(self):
            return []

        def _with_blocks(self, *args):
            return self

    unknown = Unknown.__new__(Unknown)
    with pytest.raises(NotImplementedError):
        IPPM(unknown, E13_CTL)


def test_denoiser_refusals():
    with pytest.raises(ValueError, match="'nope'.*maxpool.*adaptive_maxpool.*dbscan.*gmm.*mean_shift"):
        IPPM(S_POINTS, S, denoiser="nope")
    with pytest.raises(TypeError):
        IPPM(S_POINTS, S, denoiser=None, bin_size=0.01)
    with pytest.raises(TypeError):
        IPPM(S_POINTS, S, denoiser="maxpool", bandwidth=0.01)
    assert IPPM(S_POINTS, S, denoiser="MaxPool", bin_significance_threshold=1).graph.nodes


def test_list_input_drops_unknown_transforms_and_honours_logp_threshold():
    extra = [*S_POINTS, P("c9", 0.02, "elsewhere", -100)]
    g = IPPM(extra, S, denoiser=None).graph
    assert "elsewhere" not in g.transforms
    g = IPPM(S_POINTS, S, denoiser="maxpool", bin_significance_threshold=1, exclude_logp_vals_above=-50).graph
    assert sorted(n.channel for n in g.nodes if not n.is_input) == ["c2", "c3", "c4"]
    with pytest.raises(ValueError, match="exclude_points_above_n_sigma"):
        IPPM(S_POINTS, S, exclude_points_above_n_sigma=5)


def test_cycle_in_ippm_hierarchy():
    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        IPPM(S_POINTS, {"a": ["b"], "b": ["a"]})


def test_graph_refusals():
    with pytest.raises(ValueError, match="Points supplied for transform X, not present in transform list."):
        IPPMGraph(S, {"scalp": [P("c", 0.1, "X", -5)]})
    with pytest.raises(NotImplementedError):
        IPPMGraph(S, {"middle": []})
    with pytest.raises(ValueError):
        IPPMConnectionStyle("sideways")
    assert IPPMConnectionStyle("last_to_first") is IPPMConnectionStyle.last_to_first
    g = IPPMGraph(S, {"scalp": S_POINTS})
    with pytest.raises(KeyError):
        g.points_for_transform("nope")


def test_graph_api():
    g = IPPMGraph(S, {"scalp": S_POINTS})
    assert g.candidate_transform_list == CandidateTransformList(S)
    assert g.inputs == {"input"}
    assert g.points_for_transform("func3") == {"scalp": [S_POINTS[3], S_POINTS[4]]}
    assert g.points_for_transform("input") == {"scalp": []}
    assert ids(g.edges_between_transforms("func1", "func2", "last-to-first")) == [("sc2", "sc3")]
    assert ids(g.edges_between_transforms("func1", "func2", "first-to-first")) == [("sc1", "sc3")]
    assert len(g.edges_between_transforms("func1", "func2", "full")) == 2
    assert g == g.copy()
    assert g != IPPMGraph(S, {"scalp": S_POINTS[:-1]})
    sub = g.subgraph(["func3", "func4"])
    assert sub.transforms == {"func3", "func4"}
    assert ids(sub.graph_last_to_first.edges) == [("sc4", "sc5"), ("sc5", "sc6")]


def test_graph_takes_the_reference_keyword_names():
    g = IPPMGraph(ctl=S, points_by_block={"scalp": S_POINTS})
    assert g == IPPMGraph(S, {"scalp": S_POINTS})
    edges = g.edges_between_transforms(
        upstream_transform="func1", downstream_transform="func2", connection_style="last-to-first"
    )
    assert ids(edges) == [("sc2", "sc3")]


def test_from_json_round_trip(tmp_path):
    ippm = IPPM(S_POINTS, S, denoiser=None)
    with pytest.warns(UserWarning):
        ippm.set_kids({"func1": "K1"}, verify_against_api=False)
    path = tmp_path / "ippm.json"
    path.write_text(ippm.to_json())
    rebuilt = load_ippm_json(path, S)
    assert rebuilt == ippm.graph
    assert [n.KID for n in rebuilt.nodes] == [n.KID for n in ippm.graph.nodes]
    inferred = IPPMGraph.from_json(ippm.to_json())
    assert inferred.candidate_transform_list == CandidateTransformList(S)  # every S edge is visible here
    assert ids(inferred.graph_last_to_first.edges) == ids(ippm.graph.graph_last_to_first.edges)
    assert [n.node_id for n in inferred.graph_last_to_first.nodes] == [
        n.node_id for n in ippm.graph.graph_last_to_first.nodes
    ]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        load_ippm_json(bad)
