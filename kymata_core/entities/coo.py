"""Canonical sparse COO arrays, built with numpy alone.

:class:`sparse.COO` validates unsorted coordinates with a numba function, whose just-in-time
compilation costs about a second in every new process: in a workflow of thousands of short jobs
that is most of each job. Sorting and checking the coordinates here, then handing them over as
already canonical, never triggers it.
"""

from __future__ import annotations

import numpy as np
import sparse
from numpy.typing import ArrayLike

from kymata_core.entities.datatypes import LogPDType


def make_coo(coords: ArrayLike, data: ArrayLike, shape: tuple[int, ...], *, is_sorted: bool = False) -> sparse.COO:
    """A COO array with fill value 0, coordinates in row-major (lexicographic) order, int64, float64 data.

    Parameters
    ----------
    coords : array_like, shape (ndim, nnz)
        Integer coordinates.
    data : array_like, shape (nnz,)
        Values.
    shape : tuple of int
    is_sorted : bool
        The caller guarantees the coordinates are already in lexicographic order without duplicates.

    Raises
    ------
    ValueError
        If coordinates fall outside ``shape``, lengths disagree, or a coordinate appears twice.
    """
    coords = np.asarray(coords, dtype=np.int64).reshape(len(shape), -1)
    data = np.asarray(data, dtype=LogPDType).reshape(-1)
    if coords.shape[1] != data.shape[0]:
        raise ValueError(f"{coords.shape[1]} coordinates but {data.shape[0]} values")
    if coords.size and (coords.min() < 0 or np.any(coords.max(axis=1) >= np.asarray(shape))):
        raise ValueError(f"coordinates outside the shape {tuple(shape)}")
    if not is_sorted and coords.shape[1] > 1:
        linear = np.ravel_multi_index(tuple(coords), shape)
        steps = np.diff(linear)
        if not np.all(steps > 0):  # files and most callers give sorted coordinates: no sort needed
            order = np.argsort(linear, kind="stable")
            coords, data = coords[:, order], data[order]
            if np.any(np.diff(linear[order]) == 0):
                raise ValueError("a coordinate appears more than once")
    return sparse.COO(coords, data, shape=tuple(shape), fill_value=0.0, has_duplicates=False, sorted=True)


def empty_coo(shape: tuple[int, ...]) -> sparse.COO:
    """An all-fill COO array."""
    return make_coo(np.zeros((len(shape), 0), dtype=np.int64), np.zeros(0), shape, is_sorted=True)
