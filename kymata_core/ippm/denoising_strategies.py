"""Denoising strategies: threshold the best points of an ExpressionSet, cluster each transform's
significant points by latency, and keep each cluster's most significant point.

Every latency parameter is in seconds; latency is never rescaled. See ``docs/ippm.md`` §4–§5 and ``docs/ippm-denoisers.md``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from kymata_core.entities.expression import (
    ExpressionPoint,
    ExpressionSet,
    HexelExpressionSet,
    SensorExpressionSet,
    get_n_comparisons,
    group_points_by_transform,
)
from kymata_core.ippm.cluster import (
    AdaptiveMaxPoolClusterer,
    DBSCANClusterer,
    GMMClusterer,
    MaxPoolClusterer,
    MeanShiftClusterer,
    latency_step,
)
from kymata_core.ippm.registry import DENOISER_CLASSES
from kymata_core.math.probability import p_threshold_for_sigmas, sidak_logp_threshold

DEFAULT_N_SIGMA = 5.0


def logp_threshold_for_n_sigma(n_sigma: float, n_comparisons: int) -> float:
    """log10 of the Šidák-corrected one-tailed p-value at ``n_sigma`` over ``n_comparisons`` tests."""
    return sidak_logp_threshold(p_threshold_for_sigmas(n_sigma), n_comparisons)


def canonical_order(points: Sequence[ExpressionPoint], transforms: Sequence[str]) -> list[ExpressionPoint]:
    """Points sorted by (position of the transform in ``transforms``, latency, log10 p, channel).

    Best points come in channel order; sorting them makes the IPPM independent of how channels
    are numbered or ordered in the file (ties keep the input order).
    """
    rank = {t: i for i, t in enumerate(transforms)}
    return sorted(
        points, key=lambda p: (rank.get(p.transform, len(rank)), p.latency, p.logp_value, p.channel)
    )


class DenoisingStrategy:
    """Base class: threshold, then per (block, transform) cluster and keep cluster minima.

    Parameters
    ----------
    exclude_points_above_n_sigma : float, optional
        Keep points more significant than this many sigma after Šidák correction over
        transforms × latencies × channels. Default 5 when ``exclude_logp_vals_above`` is not given.
    exclude_logp_vals_above : float, optional
        Keep points with log10 p strictly below this. Exclusive with the sigma route.
    should_normalise : bool
        Min–max scale the significance column (only used when ``should_cluster_only_latency`` is False).
    should_cluster_only_latency : bool
        Cluster on latency only (True), or on latency and significance.
    should_max_pool : bool
        Keep only the single best cluster representative per transform and block.
    should_shuffle : bool
        Permute each transform's points with ``numpy.random.default_rng(random_state)`` before clustering.
    random_state : int
        Seed for the shuffle and for GMM.
    """

    def __init__(
        self,
        clusterer: Any,
        exclude_points_above_n_sigma: float | None = None,
        exclude_logp_vals_above: float | None = None,
        should_normalise: bool = False,
        should_cluster_only_latency: bool = True,
        should_max_pool: bool = False,
        should_shuffle: bool = False,
        random_state: int | None = 0,
    ):
        if exclude_points_above_n_sigma is not None and exclude_logp_vals_above is not None:
            raise ValueError(
                "exclude_points_above_n_sigma and exclude_logp_vals_above are mutually exclusive; give at most one"
            )
        if exclude_points_above_n_sigma is not None and not exclude_points_above_n_sigma > 0:
            raise ValueError(
                f"exclude_points_above_n_sigma must be positive, got {exclude_points_above_n_sigma!r}"
            )
        self._clusterer = clusterer
        self._explicit_n_sigma = exclude_points_above_n_sigma
        self._logp_threshold = None if exclude_logp_vals_above is None else float(exclude_logp_vals_above)
        self._should_normalise = bool(should_normalise)
        self._should_cluster_only_latency = bool(should_cluster_only_latency)
        self._should_max_pool = bool(should_max_pool)
        self._should_shuffle = bool(should_shuffle)
        self._random_state = random_state

    # --- thresholds -----------------------------------------------------------------------------

    def logp_threshold(self, es: ExpressionSet) -> float:
        """The log10 p threshold for ``es`` (a point is kept iff its log10 p is strictly below)."""
        if self._logp_threshold is not None:
            return self._logp_threshold
        n_sigma = DEFAULT_N_SIGMA if self._explicit_n_sigma is None else self._explicit_n_sigma
        return logp_threshold_for_n_sigma(n_sigma, get_n_comparisons(es))

    def _threshold_for_points(self) -> float | None:
        if self._explicit_n_sigma is not None:
            raise ValueError(
                "exclude_points_above_n_sigma needs an ExpressionSet (a list of points has no comparison count); "
                "use exclude_logp_vals_above"
            )
        return self._logp_threshold

    # --- entry points ---------------------------------------------------------------------------

    def denoise(
        self, es: ExpressionSet
    ) -> tuple[list[ExpressionPoint], list[ExpressionPoint]] | list[ExpressionPoint]:
        """Denoise each block's best points: ``(left, right)`` for hexel sets, a list for sensor sets.

        The best points are first put in :func:`canonical_order`, so transforms are taken in the
        set's transform order and the result does not depend on channel order.
        """
        thr = self.logp_threshold(es)
        step = latency_step(es.latencies)
        if isinstance(es, HexelExpressionSet):
            left, right = es.best_transforms()
            return (
                self._denoise_block(canonical_order(left, es.transforms), thr, step),
                self._denoise_block(canonical_order(right, es.transforms), thr, step),
            )
        if isinstance(es, SensorExpressionSet):
            return self._denoise_block(canonical_order(es.best_transforms(), es.transforms), thr, step)
        raise NotImplementedError(f"Denoising is not implemented for {type(es).__name__}")

    def merge_and_denoise(self, es: HexelExpressionSet) -> list[ExpressionPoint]:
        """Pool the best points of both hemispheres (left first) and denoise them together."""
        if not isinstance(es, HexelExpressionSet):
            raise TypeError(f"merge_and_denoise needs a HexelExpressionSet, got {type(es).__name__}")
        thr = self.logp_threshold(es)
        left, right = es.best_transforms()
        return self._denoise_block(
            canonical_order([*left, *right], es.transforms), thr, latency_step(es.latencies)
        )

    def denoise_points(
        self, points: Sequence[ExpressionPoint], logp_threshold: float | None = None
    ) -> list[ExpressionPoint]:
        """Denoise a list of points as one block.

        Without ``logp_threshold``, only ``exclude_logp_vals_above`` applies (a list has no
        comparison count, so an explicit sigma threshold raises ValueError); with neither, no
        threshold is applied. The latency step (for GMM's default variance floor) is the smallest
        gap between the latencies of all the given points, significant or not.
        """
        if logp_threshold is None:
            logp_threshold = self._threshold_for_points()
        points = list(points)
        return self._denoise_block(points, logp_threshold, latency_step(p.latency for p in points))

    # --- the algorithm --------------------------------------------------------------------------

    def _denoise_block(
        self, points: list[ExpressionPoint], thr: float | None, step: float | None = None
    ) -> list[ExpressionPoint]:
        out: list[ExpressionPoint] = []
        for _transform, group in group_points_by_transform(points).items():
            if thr is not None:
                group = [p for p in group if p.logp_value < thr]
            group = sorted(group, key=lambda p: (p.latency, p.logp_value))
            if self._should_shuffle and group:
                perm = np.random.default_rng(self._random_state).permutation(len(group))
                group = [group[i] for i in perm]
            if not group:
                continue
            labels = self._cluster(self._features(group), step)
            best: dict[int, tuple[tuple[float, float, int], ExpressionPoint]] = {}
            for i, (label, p) in enumerate(zip(labels.tolist(), group, strict=True)):
                if label == -1:
                    continue
                key = (p.logp_value, p.latency, i)
                if label not in best or key < best[label][0]:
                    best[label] = (key, p)
            chosen = [best[label] for label in sorted(best)]
            if self._should_max_pool and chosen:
                chosen = [min(chosen, key=lambda kp: kp[0])]
            out.extend(p for _, p in sorted(chosen, key=lambda kp: (kp[1].latency, kp[0])))
        return out

    def _cluster(self, features: NDArray[np.float64], step: float | None) -> NDArray[np.int64]:
        """One label per row of ``features`` (-1 = noise); ``step`` is the block's latency step."""
        return self._clusterer.fit_predict(features)

    def _features(self, points: list[ExpressionPoint]) -> NDArray[np.float64]:
        latency = np.array([p.latency for p in points], dtype=np.float64)
        if self._should_cluster_only_latency:
            return latency[:, None]
        logp = np.array([p.logp_value for p in points], dtype=np.float64)
        if self._should_normalise:
            lo, hi = logp.min(), logp.max()
            second = (logp - lo) / (hi - lo) if hi > lo else np.zeros_like(logp)
        else:
            second = np.power(10.0, logp)
        return np.column_stack([latency, second])


class ClusteringStrategy(DenoisingStrategy):
    """A strategy built from one clusterer: its parameters are the clusterer's, then the common options.

    A subclass names its clusterer, ``class S(ClusteringStrategy, clusterer=SomeClusterer)``, and its
    constructor takes the clusterer's parameters (same order and defaults, positional or keyword),
    followed by the keyword-only options of :class:`DenoisingStrategy`. The signature is built from the
    clusterer's (``inspect.signature(S)`` shows it), so each parameter and default is written once, in
    :mod:`kymata_core.ippm.cluster`. A clusterer parameter that is also a common option (GMM's
    ``random_state``) is not repeated: the clusterer gets the strategy's value.
    """

    clusterer_class: ClassVar[type]

    def __init_subclass__(cls, clusterer: type | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if clusterer is not None:  # else a subclass of a strategy: it keeps its parent's clusterer
            cls.clusterer_class = clusterer
            cls.__signature__ = _strategy_signature(clusterer)

    def __init__(self, *args: Any, **kwargs: Any):
        try:
            bound = type(self).__signature__.bind(*args, **kwargs)
        except TypeError as e:
            names = list(type(self).__signature__.parameters)
            raise TypeError(f"{type(self).__name__}: {e} (its parameters: {names})") from None
        bound.apply_defaults()
        params = dict(bound.arguments)
        options = {name: params.pop(name) for name in _COMMON_OPTIONS}
        clusterer_params = inspect.signature(self.clusterer_class).parameters
        params.update({name: options[name] for name in _COMMON_OPTIONS if name in clusterer_params})
        super().__init__(self.clusterer_class(**params), **options)


# The options every strategy takes (DenoisingStrategy's parameters after the clusterer), with their defaults.
_COMMON_OPTIONS: dict[str, inspect.Parameter] = dict(list(inspect.signature(DenoisingStrategy).parameters.items())[1:])


def _strategy_signature(clusterer: type) -> inspect.Signature:
    """The clusterer's parameters (less any common option), then the common options, keyword-only."""
    own = [p for name, p in inspect.signature(clusterer).parameters.items() if name not in _COMMON_OPTIONS]
    common = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in _COMMON_OPTIONS.values()]
    return inspect.Signature([*own, *common])


class MaxPoolingStrategy(ClusteringStrategy, clusterer=MaxPoolClusterer):
    """Fixed latency bins (seconds); bins with fewer than ``bin_significance_threshold`` points are noise."""


class AdaptiveMaxPoolingStrategy(ClusteringStrategy, clusterer=AdaptiveMaxPoolClusterer):
    """Runs of significant points with gaps of at most ``base_bin_size`` seconds form a cluster."""


class DBSCANStrategy(ClusteringStrategy, clusterer=DBSCANClusterer):
    """:class:`sklearn.cluster.DBSCAN` on latency (seconds)."""


class GMMStrategy(ClusteringStrategy, clusterer=GMMClusterer):
    """Gaussian mixtures with 1 … ``number_of_clusters_upper_bound`` components, chosen by BIC (or AIC).

    ``reg_covar`` (s²) floors the variances. The default None ties the floor to the latency step Δ
    of what is denoised: ``max(Δ, 1 ms)²``, with Δ the step of the ExpressionSet's latencies, or
    for a list of points the smallest gap between their latencies (see
    :func:`~kymata_core.ippm.cluster.default_reg_covar`). So a peak spread over a few grid
    latencies stays one cluster on any grid. A given ``reg_covar`` is used as is. ``random_state``
    seeds the shuffle and every mixture fit.
    """

    def _cluster(self, features: NDArray[np.float64], step: float | None) -> NDArray[np.int64]:
        return self._clusterer.fit_predict(features, latency_step=step)


class MeanShiftStrategy(ClusteringStrategy, clusterer=MeanShiftClusterer):
    """:class:`sklearn.cluster.MeanShift` on latency with ``bandwidth`` in seconds; orphans are noise."""


DENOISERS: dict[str, type[DenoisingStrategy]] = {name: globals()[cls] for name, cls in DENOISER_CLASSES.items()}
"""Denoiser name → strategy class, from the registry (:mod:`kymata_core.ippm.registry`)."""


def make_denoiser(name: str, **kwargs: Any) -> DenoisingStrategy:
    """The strategy registered under ``name`` (case-insensitive), constructed with ``kwargs``."""
    key = str(name).lower()
    if key not in DENOISERS:
        raise ValueError(f"Unknown denoiser {name!r}; valid denoisers are {list(DENOISERS)} (or None)")
    return DENOISERS[key](**kwargs)
