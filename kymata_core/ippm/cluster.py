"""Clusterers used by the IPPM denoisers: each maps a feature matrix to one int label per row (-1 = noise).

Column 0 of the features is latency in seconds; every latency parameter is in seconds. The
max-pooling clusterers read only column 0.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

_EPS = 1e-9  # absorbs float error at bin edges: 0.150 / 0.025 is bin 6, not 5

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

MIN_LATENCY_FLOOR_S = 0.001
"""The smallest s.d. floor (seconds) of the default GMM ``reg_covar``: 1 ms, i.e. 1e-6 s².

It applies when the latency step is finer than 1 ms or cannot be found, so no grid gets a smaller
floor than scikit-learn's own default of 1e-6.
"""

_LATENCY_DECIMALS = 9  # latencies and their gaps are compared to 1 ns, which absorbs float error


def latency_step(latencies: Iterable[float] | NDArray) -> float | None:
    """The step of the grid that ``latencies`` (seconds) lie on.

    Parameters
    ----------
    latencies : iterable of float
        Latencies in seconds, in any order, repeats allowed.

    Returns
    -------
    float or None
        The smallest gap between distinct latencies, both rounded to 1 ns (so 0.131 − 0.130 is
        0.001 exactly), or None when there are fewer than two distinct latencies.
    """
    distinct = np.unique(np.round(np.asarray(list(latencies), dtype=np.float64), _LATENCY_DECIMALS))
    if distinct.size < 2:
        return None
    return float(np.round(np.diff(distinct).min(), _LATENCY_DECIMALS))


def latency_step_of_features(X: NDArray) -> float | None:
    """:func:`latency_step` of column 0 (latency) of a feature matrix."""
    X = np.asarray(X, dtype=np.float64)
    return latency_step(X[:, 0]) if X.ndim == 2 and X.shape[0] else None


def default_reg_covar(step: float | None) -> float:
    """The GMM variance floor (s²) for latencies on a grid of ``step`` seconds: ``max(step, 1 ms)²``.

    A latency known only to the nearest grid point is uncertain by about one step, so no cluster is
    given a standard deviation below one step. With a smaller floor, a peak spread over a few grid
    latencies looks to BIC like one spike per latency, and is split (docs/ippm-denoisers.md has the
    measurements). ``None`` (no step known) gives ``MIN_LATENCY_FLOOR_S²``.

    Parameters
    ----------
    step : float or None
        Latency step in seconds, e.g. from :func:`latency_step`.

    Returns
    -------
    float
        The floor in s², as :class:`sklearn.mixture.GaussianMixture` ``reg_covar``.
    """
    if step is None or not np.isfinite(step) or step <= 0:
        return MIN_LATENCY_FLOOR_S**2
    return max(float(step), MIN_LATENCY_FLOOR_S) ** 2


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number (seconds), got {value!r}")


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _latency_bins(latencies: NDArray, bin_size: float) -> NDArray[np.int64]:
    return np.floor(latencies / bin_size + _EPS).astype(np.int64)


def _significant_bins(latencies: NDArray, bin_size: float, threshold: int) -> tuple[NDArray, NDArray]:
    """Per point: its bin, and whether the bin holds at least ``threshold`` points."""
    bins = _latency_bins(latencies, bin_size)
    _, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    return bins, counts[inverse] >= threshold


class MaxPoolClusterer:
    """Fixed latency bins ``[k*bin_size, (k+1)*bin_size)`` anchored at 0 s.

    A bin with fewer than ``bin_significance_threshold`` points is noise; surviving bins are
    labelled 0, 1, … in ascending latency.
    """

    def __init__(self, bin_size: float = 0.025, bin_significance_threshold: int = 2):
        _check_positive("bin_size", bin_size)
        _check_count("bin_significance_threshold", bin_significance_threshold)
        self.bin_size = float(bin_size)
        self.bin_significance_threshold = int(bin_significance_threshold)

    def fit_predict(self, X: NDArray) -> NDArray[np.int64]:
        x = np.asarray(X, dtype=np.float64)[:, 0]
        bins, significant = _significant_bins(x, self.bin_size, self.bin_significance_threshold)
        labels = np.full(len(x), -1, dtype=np.int64)
        if significant.any():
            _, dense = np.unique(bins[significant], return_inverse=True)
            labels[significant] = dense
        return labels


class AdaptiveMaxPoolClusterer:
    """Noise as for :class:`MaxPoolClusterer` (``base_bin_size``); clusters are maximal runs of
    non-noise points (in latency order) with no gap larger than ``base_bin_size``."""

    def __init__(self, base_bin_size: float = 0.025, bin_significance_threshold: int = 2):
        _check_positive("base_bin_size", base_bin_size)
        _check_count("bin_significance_threshold", bin_significance_threshold)
        self.base_bin_size = float(base_bin_size)
        self.bin_significance_threshold = int(bin_significance_threshold)

    def fit_predict(self, X: NDArray) -> NDArray[np.int64]:
        x = np.asarray(X, dtype=np.float64)[:, 0]
        _, significant = _significant_bins(x, self.base_bin_size, self.bin_significance_threshold)
        labels = np.full(len(x), -1, dtype=np.int64)
        order = np.argsort(x, kind="stable")
        label = -1
        previous: int | None = None
        for i in order:
            if significant[i]:
                if (
                    previous is None
                    or not significant[previous]
                    or x[i] - x[previous] > self.base_bin_size + _EPS
                ):
                    label += 1
                labels[i] = label
            previous = i
        return labels


class DBSCANClusterer:
    """:class:`sklearn.cluster.DBSCAN` with latency parameters in seconds."""

    def __init__(
        self,
        eps: float = 0.02,
        min_samples: int = 2,
        metric: str = "euclidean",
        metric_params: dict | None = None,
        algorithm: str = "auto",
        leaf_size: int = 30,
        n_jobs: int | None = None,
    ):
        _check_positive("eps", eps)
        _check_count("min_samples", min_samples)
        from sklearn.cluster import DBSCAN  # scikit-learn is imported only when a clusterer is used

        self._model = DBSCAN(
            eps=eps,
            min_samples=min_samples,
            metric=metric,
            metric_params=metric_params,
            algorithm=algorithm,
            leaf_size=leaf_size,
            n_jobs=n_jobs,
        )

    def fit_predict(self, X: NDArray) -> NDArray[np.int64]:
        return self._model.fit_predict(np.asarray(X, dtype=np.float64)).astype(np.int64)


class GMMClusterer:
    """Gaussian mixtures with k = 1 … ``number_of_clusters_upper_bound`` (inclusive), the best by BIC
    (or AIC); labels from ``predict``, no noise.

    Parameters
    ----------
    number_of_clusters_upper_bound : int
        The largest k tried.
    covariance_type : {"full", "tied", "diag", "spherical"}
    max_iter, n_init : int
        EM iterations, and k-means initialisations per k.
    init_params : str
        As :class:`sklearn.mixture.GaussianMixture`.
    random_state : int or None
        Seed of every fit.
    should_evaluate_using_aic : bool
        Choose k by AIC instead of BIC.
    reg_covar : float or None
        Floor added to the variances, in s² (latency is in seconds). None (the default) ties it to
        the latency step Δ: ``max(Δ, 1 ms)²`` (see :func:`default_reg_covar`), with Δ given to
        :meth:`fit_predict` or, failing that, the smallest gap between the latencies in ``X``. A
        given value is used as is, whatever the step.
    """

    def __init__(
        self,
        number_of_clusters_upper_bound: int = 5,
        covariance_type: str = "full",
        max_iter: int = 1000,
        n_init: int = 5,
        init_params: str = "kmeans",
        random_state: int | None = 0,
        should_evaluate_using_aic: bool = False,
        reg_covar: float | None = None,
    ):
        _check_count("number_of_clusters_upper_bound", number_of_clusters_upper_bound)
        if reg_covar is not None:
            _check_positive("reg_covar", reg_covar)
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {list(COVARIANCE_TYPES)}, got {covariance_type!r}"
            )
        _check_count("max_iter", max_iter)
        _check_count("n_init", n_init)
        self.number_of_clusters_upper_bound = int(number_of_clusters_upper_bound)
        self.covariance_type = covariance_type
        self.max_iter = int(max_iter)
        self.n_init = int(n_init)
        self.init_params = init_params
        self.random_state = random_state
        self.should_evaluate_using_aic = bool(should_evaluate_using_aic)
        self.reg_covar = None if reg_covar is None else float(reg_covar)

    def reg_covar_for(self, X: NDArray, latency_step: float | None = None) -> float:
        """The variance floor (s²) a fit of ``X`` uses: the given ``reg_covar``, else the step's.

        Parameters
        ----------
        X : array of shape (n, d)
            Features; column 0 is latency in seconds.
        latency_step : float, optional
            The latency grid step in seconds; inferred from column 0 of ``X`` when not given.

        Returns
        -------
        float
        """
        if self.reg_covar is not None:
            return self.reg_covar
        if latency_step is None:
            latency_step = latency_step_of_features(X)
        return default_reg_covar(latency_step)

    def fit_predict(self, X: NDArray, latency_step: float | None = None) -> NDArray[np.int64]:
        """One label per row of ``X``: the components of the best mixture.

        Parameters
        ----------
        X : array of shape (n, d)
            Features; column 0 is latency in seconds.
        latency_step : float, optional
            The latency grid step (seconds) the default ``reg_covar`` is tied to.

        Returns
        -------
        array of int
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        X = np.asarray(X, dtype=np.float64)
        if len(X) == 1:
            return np.zeros(1, dtype=np.int64)
        reg_covar = self.reg_covar_for(X, latency_step)
        best_model, best_score = None, np.inf
        # one thread: k-means initialisation on a few hundred points is slower with a thread pool
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            for k in range(1, min(self.number_of_clusters_upper_bound, len(X)) + 1):
                model = GaussianMixture(
                    n_components=k,
                    covariance_type=self.covariance_type,
                    max_iter=self.max_iter,
                    n_init=self.n_init,
                    init_params=self.init_params,
                    random_state=self.random_state,
                    reg_covar=reg_covar,
                ).fit(X)
                score = model.aic(X) if self.should_evaluate_using_aic else model.bic(X)
                if best_model is None or score < best_score:
                    best_model, best_score = model, score
        return best_model.predict(X).astype(np.int64)


class MeanShiftClusterer:
    """:class:`sklearn.cluster.MeanShift` with the bandwidth in seconds; orphans are noise unless
    ``cluster_all``."""

    def __init__(
        self,
        bandwidth: float = 0.025,
        seeds: NDArray | None = None,
        min_bin_freq: int = 1,
        cluster_all: bool = False,
        n_jobs: int | None = None,
    ):
        if bandwidth is not None:
            _check_positive("bandwidth", bandwidth)
        _check_count("min_bin_freq", min_bin_freq)
        from sklearn.cluster import MeanShift

        self._model = MeanShift(
            bandwidth=bandwidth,
            seeds=seeds,
            min_bin_freq=min_bin_freq,
            cluster_all=cluster_all,
            n_jobs=n_jobs,
        )

    def fit_predict(self, X: NDArray) -> NDArray[np.int64]:
        from sklearn.base import clone

        X = np.asarray(X, dtype=np.float64)
        model = self._model
        if model.seeds is None:
            # Seeding from every point (sklearn's default) runs one identical ascent per repeated
            # point; the distinct points give exactly the same modes, intensities and labels.
            model = clone(model).set_params(seeds=np.unique(X, axis=0))
        return model.fit_predict(X).astype(np.int64)
