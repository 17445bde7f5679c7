"""Each channel's best point among chosen transforms, as arrays (fast for whole source spaces), to draw.

The points are :meth:`ExpressionSet.best_points <kymata_core.entities.expression.ExpressionSet.best_points>`;
the expression plot adds whether each is drawn hollow (a midline sensor's copy on both axes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from kymata_core.entities import best_points as _entities
from kymata_core.entities.expression import ExpressionSet


@dataclass(frozen=True)
class BestPoints(_entities.BestPoints):
    """The points of :class:`kymata_core.entities.best_points.BestPoints`, and whether each is drawn hollow."""

    hollow: NDArray[np.bool_]

    @classmethod
    def of(cls, points: _entities.BestPoints, hollow: bool = False) -> BestPoints:
        """``points``, each drawn hollow or not."""
        return cls(
            points.channels,
            points.latencies,
            points.transforms,
            points.logps,
            np.full(len(points), hollow, dtype=bool),
        )

    @classmethod
    def empty(cls) -> BestPoints:
        return cls.of(_entities.BestPoints.empty())

    def with_hollow(self, hollow: bool) -> BestPoints:
        return replace(self, hollow=np.full(len(self), hollow, dtype=bool))


def best_points(
    es: ExpressionSet,
    block: str,
    transforms: Sequence[str] | None = None,
    latency_range: tuple[float | None, float | None] | None = None,
) -> BestPoints:
    """Per channel of ``block``: its best transform among ``transforms``, at its best latency, not hollow.

    See :meth:`ExpressionSet.best_points <kymata_core.entities.expression.ExpressionSet.best_points>`.
    """
    return BestPoints.of(es.best_points(block, transforms, latency_range))
