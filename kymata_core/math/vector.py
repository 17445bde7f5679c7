"""Small vector helpers used by the gridsearch and the IPPM."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def normalize(x: NDArray, axis: int = -1, inplace: bool = False) -> NDArray:
    """Centre ``x`` along ``axis`` and scale it to unit Euclidean norm.

    Parameters
    ----------
    x : ndarray
        Values to normalise.
    axis : int
        Axis along which each vector runs.
    inplace : bool
        Overwrite ``x`` (must be a float array) instead of returning a new array.

    Returns
    -------
    ndarray
        The normalised array. A constant vector has norm 0 and becomes NaN; callers that
        must refuse constant vectors check for that first.
    """
    out = x if inplace else np.array(x, dtype=np.result_type(x, np.float32), copy=True)
    out -= out.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= np.linalg.norm(out, axis=axis, keepdims=True)
    return out


def get_stds(x: NDArray, n: int) -> NDArray:
    """Centred Euclidean norm of every length-``n`` sliding window along the last axis.

    Returns an array whose last axis has ``x.shape[-1] - n + 1`` entries: entry ``l`` is
    ``sqrt(sum((x[..., l:l+n] - mean) ** 2))``. Computed with cumulative sums in float64.
    """
    x64 = np.asarray(x, dtype=np.float64)
    zeros = np.zeros(x64.shape[:-1] + (1,))
    c1 = np.concatenate([zeros, np.cumsum(x64, axis=-1)], axis=-1)
    c2 = np.concatenate([zeros, np.cumsum(x64 * x64, axis=-1)], axis=-1)
    s1 = c1[..., n:] - c1[..., :-n]
    s2 = c2[..., n:] - c2[..., :-n]
    var_times_n = np.maximum(s2 - s1 * s1 / n, 0.0)
    return np.sqrt(var_times_n)
