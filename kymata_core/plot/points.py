"""Each channel's best point among chosen transforms, as arrays (fast for whole source spaces)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kymata_core.entities.expression import ExpressionSet


@dataclass(frozen=True)
class BestPoints:
    """Parallel arrays: channel id, latency (s), transform name, log10 p, and whether drawn hollow."""

    channels: NDArray
    latencies: NDArray[np.float64]
    transforms: NDArray
    logps: NDArray[np.float64]
    hollow: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.logps)

    def select(self, mask: NDArray) -> BestPoints:
        return BestPoints(
            self.channels[mask],
            self.latencies[mask],
            self.transforms[mask],
            self.logps[mask],
            self.hollow[mask],
        )

    def with_hollow(self, hollow: bool) -> BestPoints:
        return BestPoints(
            self.channels, self.latencies, self.transforms, self.logps, np.full(len(self), hollow, dtype=bool)
        )

    @staticmethod
    def concat(parts: Sequence[BestPoints]) -> BestPoints:
        if not parts:
            return empty()
        return BestPoints(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("channels", "latencies", "transforms", "logps", "hollow")
            )
        )


def empty() -> BestPoints:
    return BestPoints(
        np.array([], dtype=object),
        np.array([], dtype=float),
        np.array([], dtype=object),
        np.array([], dtype=float),
        np.array([], dtype=bool),
    )


def best_points(
    es: ExpressionSet,
    block: str,
    transforms: Sequence[str] | None = None,
    latency_range: tuple[float | None, float | None] | None = None,
) -> BestPoints:
    """Per channel of ``block``: its best transform among ``transforms``, at its best latency.

    The rule of :meth:`ExpressionSet.best_transforms`: the smallest log10 p wins, ties going to the
    earlier transform in the set's order and then to the earlier latency; channels with p = 1 are
    omitted. ``latency_range`` (seconds, inclusive, None for open ends) restricts the latencies
    considered. Channels come out in block order.
    """
    coo = es.coo(block)
    c, lat, t = (np.asarray(x) for x in coo.coords)
    v = np.asarray(coo.data, dtype=np.float64)
    keep = v < 0
    if transforms is not None:
        wanted = np.isin(np.arange(len(es.transforms)), [es.transforms.index(x) for x in transforms])
        keep &= wanted[t]
    if latency_range is not None:
        latencies = es.latencies
        in_window = np.ones(len(latencies), dtype=bool)
        if latency_range[0] is not None:
            in_window &= latencies >= latency_range[0]
        if latency_range[1] is not None:
            in_window &= latencies <= latency_range[1]
        keep &= in_window[lat]
    c, lat, t, v = c[keep], lat[keep], t[keep], v[keep]
    if v.size == 0:
        return empty()
    if np.any(np.diff(c) < 0):
        order = np.argsort(c, kind="stable")
        c, lat, t, v = c[order], lat[order], t[order], v[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    minima = np.minimum.reduceat(v, starts)
    counts = np.diff(np.r_[starts, len(c)])
    candidates = np.flatnonzero(v == np.repeat(minima, counts))
    order = candidates[np.lexsort((lat[candidates], t[candidates], c[candidates]))]
    first = np.r_[True, c[order][1:] != c[order][:-1]]
    chosen = order[first]
    names = np.asarray(es.transforms, dtype=object)
    return BestPoints(
        channels=np.asarray(es.channels(block))[c[chosen]].astype(object),
        latencies=es.latencies[lat[chosen]].astype(np.float64),
        transforms=names[t[chosen]],
        logps=v[chosen],
        hollow=np.zeros(len(chosen), dtype=bool),
    )
