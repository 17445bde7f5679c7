"""The best point of each channel: the one rule, and the arrays it gives.

Each channel's *best point* is its entry with the smallest log10 p; on a tie the earliest transform
(in the set's transform order) wins, and then the earliest latency. The rule is applied to a
block's sparse entries in one vectorised pass (:func:`best_entries`), fast enough for whole source
spaces; :meth:`kymata_core.entities.expression.ExpressionSet.best_points` gives the result as
:class:`BestPoints`, and ``best_transforms``, the summary, the expression plot and the ``.nkg``
writer all use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class BestPoints:
    """Parallel arrays, one element per point: channel id, latency (s), transform name, log10 p.

    Channel ids and transform names are object arrays of Python ints or strs; latencies and
    log10 p-values are float64.
    """

    channels: NDArray
    latencies: NDArray[np.float64]
    transforms: NDArray
    logps: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.logps)

    def rows(self) -> Iterator[tuple[Any, float, str, float]]:
        """``(channel, latency, transform, logp)`` of each point, as Python values, in order."""
        return zip(
            self.channels.tolist(), self.latencies.tolist(), self.transforms.tolist(), self.logps.tolist(), strict=True
        )

    def select(self, mask: NDArray) -> Self:
        """The points where ``mask`` (a boolean mask or indices) selects, in its order."""
        return replace(self, **{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @classmethod
    def empty(cls) -> Self:
        """No points."""
        return cls(
            np.array([], dtype=object),
            np.array([], dtype=float),
            np.array([], dtype=object),
            np.array([], dtype=float),
        )

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        """The points of ``parts``, one after the other (no points for no parts)."""
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def best_entries(
    channel: NDArray, latency: NDArray, transform: NDArray, values: NDArray, *, per_transform: bool = False
) -> NDArray[np.intp]:
    """Indices of the best entry of each channel (or of each channel and transform) of a sparse block.

    In each group, the entry with the smallest value wins; ties go to the earliest transform, then
    to the earliest latency (smallest indices). Every entry given counts: callers leave out what
    must not (values of p = 1 or above, other transforms, latencies outside a window) first.

    Parameters
    ----------
    channel, latency, transform : array of int
        The entries' coordinates (indices along the block's channel, latency and transform axes).
    values : array of float
        The entries' log10 p-values (no NaN).
    per_transform : bool
        Group by (channel, transform) instead of by channel: the best latency of every transform
        of every channel.

    Returns
    -------
    array of intp
        One index per group, into the given arrays, ordered by channel (then transform).
    """
    channel, latency, transform = (np.asarray(x) for x in (channel, latency, transform))
    values = np.asarray(values)
    if values.size == 0:
        return np.empty(0, dtype=np.intp)
    group = channel * (int(transform.max()) + 1) + transform if per_transform else channel
    # the group minima, in one pass over the entries sorted by group (COO entries already are by channel)
    order = np.argsort(group, kind="stable") if np.any(group[1:] < group[:-1]) else np.arange(group.size)
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    minima = np.minimum.reduceat(values[order], starts)
    counts = np.diff(np.r_[starts, sorted_group.size])
    candidates = order[values[order] == np.repeat(minima, counts)]
    # among each group's minima: the earliest transform, then the earliest latency
    ranked = candidates[np.lexsort((latency[candidates], transform[candidates], group[candidates]))]
    first = np.r_[True, group[ranked][1:] != group[ranked][:-1]]
    return ranked[first]
