"""Candidate transform lists (docs/ippm.md §2, worked example E3 in §12)."""

from __future__ import annotations

import pytest

from kymata_core.ippm.hierarchy import CandidateTransformList

K = {"input": [], "func1": ["input"], "func2": ["input", "func1"], "func3": ["func2"], "func4": ["func2"]}


def _h_hierarchy(suffix: str = "") -> dict[str, list[str]]:
    ins = [f"in_{i}{suffix}" for i in range(1, 6)]
    mes = [f"Me{i}{suffix}" for i in range(1, 5)]
    h = {f"Acc{suffix}": [f"Vel{suffix}"], f"Vel{suffix}": mes}
    h.update({m: list(ins) for m in mes})
    h.update({i: [] for i in ins})
    return h


def test_e3_serial_sequence_and_subgraph():
    ctl = CandidateTransformList(K)
    assert ctl.serial_sequence == (
        frozenset({"input"}),
        frozenset({"func1"}),
        frozenset({"func2"}),
        frozenset({"func3", "func4"}),
    )
    assert ctl.subgraph(["func1", "func4"]) == CandidateTransformList({"func1": [], "func4": []})
    assert ctl.subgraph(["func1", "func4"]).inputs == {"func1", "func4"}


def test_e3_large_hierarchy():
    ctl = CandidateTransformList(_h_hierarchy())
    assert len(ctl.transforms) == 11
    assert ctl.terminals == {"Acc"}
    assert ctl.serial_sequence == (
        frozenset(f"in_{i}" for i in range(1, 6)),
        frozenset(f"Me{i}" for i in range(1, 5)),
        frozenset({"Vel"}),
        frozenset({"Acc"}),
    )
    assert len(ctl.connected_components) == 1
    both = CandidateTransformList({**_h_hierarchy(), **_h_hierarchy("_b")})
    assert len(both.connected_components) == 2
    assert len(both.connected_serial_sequences) == 2
    assert ctl.serial_sequence in both.connected_serial_sequences


@pytest.mark.parametrize(
    "hierarchy, cycle",
    [
        ({"a": ["b"], "b": ["a"]}, "a -> b -> a"),
        ({"x": ["z"], "y": ["x"], "z": ["y"]}, "x -> y -> z -> x"),
        ({"a": ["a"]}, "a -> a"),
        ({"in": [], "c": ["in", "b"], "b": ["c"]}, "b -> c -> b"),
    ],
)
def test_e3_cycles_are_named(hierarchy, cycle):
    with pytest.raises(ValueError, match="contains a cycle") as info:
        CandidateTransformList(hierarchy)
    assert str(info.value).endswith(": " + cycle)


def test_e3_unknown_parent():
    with pytest.raises(ValueError, match="'q'.*'a'"):
        CandidateTransformList({"a": ["q"]})


def test_api():
    ctl = CandidateTransformList(K)
    assert ctl.inputs == {"input"}
    assert ctl.terminals == {"func3", "func4"}
    assert sorted(ctl.immediately_upstream("func2")) == ["func1", "input"]
    assert sorted(ctl.immediately_downstream("func2")) == ["func3", "func4"]
    with pytest.raises(ValueError):
        ctl.immediately_upstream("nope")
    with pytest.raises(ValueError):
        ctl.immediately_downstream("nope")
    # equality ignores key and parent order, and differs on edges
    reordered = {k: list(reversed(v)) for k, v in reversed(list(K.items()))}
    assert CandidateTransformList(reordered) == ctl
    assert CandidateTransformList({**K, "func4": ["func1"]}) != ctl
    assert ctl.connected_serial_sequences == {ctl.serial_sequence}
