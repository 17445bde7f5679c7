"""Candidate transform lists: the hypothesised hierarchy of transforms that wires an IPPM."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import networkx as nx

TransformHierarchy = dict[str, list[str]]
"""Maps each transform to the list of its parents; inputs map to an empty list."""


class CandidateTransformList:
    """A validated DAG of transforms, with edges parent → child.

    Parameters
    ----------
    hierarchy : mapping of str to list of str
        Each transform mapped to its parents. Inputs have an empty list.

    Raises
    ------
    ValueError
        When a parent is not itself a key, or when the hierarchy contains a cycle or a self-loop
        (the message names the cycle, e.g. ``a -> b -> a``).
    """

    def __init__(self, hierarchy: Mapping[str, Iterable[str]]):
        if not isinstance(hierarchy, Mapping):
            raise TypeError(
                f"hierarchy must be a mapping of transform -> list of parents, got {type(hierarchy).__name__}"
            )
        parents: dict[str, list[str]] = {}
        for child, ps in hierarchy.items():
            if not isinstance(child, str):
                raise ValueError(f"transform names must be strings, got {child!r}")
            if isinstance(ps, str) or not isinstance(ps, Iterable):
                raise ValueError(f"parents of {child!r} must be a list of transform names, got {ps!r}")
            parents[child] = list(dict.fromkeys(ps))
        for child, ps in parents.items():
            for p in ps:
                if p not in parents:
                    raise ValueError(
                        f"Parent transform {p!r} of {child!r} is not a transform in the hierarchy "
                        "(every parent must also be a key)"
                    )
        self._parents = parents
        self._children: dict[str, list[str]] = {t: [] for t in parents}
        for child, ps in parents.items():
            for p in ps:
                self._children[p].append(child)
        cycle = self._find_cycle()
        if cycle is not None:
            raise ValueError("Candidate transform list contains a cycle: " + " -> ".join(cycle))
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(parents)
        self.graph.add_edges_from((p, c) for c, ps in parents.items() for p in ps)

    def _find_cycle(self) -> list[str] | None:
        """The first cycle of a DFS over sorted names, rotated to start at its smallest member."""
        state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
        for root in sorted(self._parents):
            if root in state:
                continue
            stack: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(self._children[root])))]
            path = [root]
            state[root] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                    continue
                if state.get(child) == 1:
                    members = path[path.index(child) :]
                    start = members.index(min(members))
                    members = members[start:] + members[:start]
                    return [*members, members[0]]
                if child not in state:
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(self._children[child]))))
        return None

    # --- structure ------------------------------------------------------------------------------

    @property
    def hierarchy(self) -> TransformHierarchy:
        """A copy of the transform → parents mapping."""
        return {t: list(ps) for t, ps in self._parents.items()}

    @property
    def transforms(self) -> set[str]:
        """All transforms."""
        return set(self._parents)

    @property
    def inputs(self) -> set[str]:
        """Transforms without parents."""
        return {t for t, ps in self._parents.items() if not ps}

    @property
    def terminals(self) -> set[str]:
        """Transforms without children."""
        return {t for t, cs in self._children.items() if not cs}

    def immediately_upstream(self, transform: str) -> list[str]:
        """Parents of ``transform``."""
        self._check_known(transform)
        return list(self._parents[transform])

    def immediately_downstream(self, transform: str) -> list[str]:
        """Children of ``transform``."""
        self._check_known(transform)
        return list(self._children[transform])

    def _check_known(self, transform: str) -> None:
        if transform not in self._parents:
            raise ValueError(f"{transform!r} is not a transform in the candidate transform list")

    @property
    def edges(self) -> set[tuple[str, str]]:
        """All (parent, child) pairs."""
        return {(p, c) for c, ps in self._parents.items() for p in ps}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CandidateTransformList):
            return NotImplemented
        return self.transforms == other.transforms and self.edges == other.edges

    __hash__ = None

    def __repr__(self) -> str:
        return f"CandidateTransformList({self._parents!r})"

    def subgraph(self, transforms: Collection[str]) -> CandidateTransformList:
        """The CTL induced on ``transforms`` (which may gain new inputs)."""
        keep = set(transforms)
        return CandidateTransformList(
            {t: [p for p in ps if p in keep] for t, ps in self._parents.items() if t in keep}
        )

    @property
    def connected_components(self) -> set[frozenset[str]]:
        """The weakly connected components."""
        return {frozenset(c) for c in nx.weakly_connected_components(self.graph)}

    @property
    def serial_sequence(self) -> tuple[frozenset[str], ...]:
        """Transforms by depth: inputs at step 0, then 1 + the deepest parent."""
        depth: dict[str, int] = {}
        for t in nx.topological_sort(self.graph):
            ps = self._parents[t]
            depth[t] = 1 + max(depth[p] for p in ps) if ps else 0
        if not depth:
            return ()
        steps: list[set[str]] = [set() for _ in range(max(depth.values()) + 1)]
        for t, d in depth.items():
            steps[d].add(t)
        return tuple(frozenset(s) for s in steps)

    @property
    def connected_serial_sequences(self) -> set[tuple[frozenset[str], ...]]:
        """Each connected component's serial sequence, with empty steps dropped."""
        out = set()
        for component in self.connected_components:
            seq = tuple(step & component for step in self.serial_sequence)
            out.add(tuple(s for s in seq if s))
        return out
