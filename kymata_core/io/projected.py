"""Hexel time series formed on demand from sensor data and a source operator, a chunk at a time.

:class:`ProjectedSources` looks like the ``(hexels, repetitions, time)`` array the gridsearch reads,
but holds only the sensor data and the operator's rows: reading ``x[c0:c1, :r, t0:t1]`` computes
``operator[c0:c1] @ sensors[:, :r, t0:t1]`` then. The gridsearch reads one chunk of hexels at a time
within its memory budget, so no source time series is ever held (or written) whole.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class ProjectedSources:
    """``operator @ sensors`` as a lazily computed ``(hexels, repetitions, time)`` float32 array.

    Parameters
    ----------
    operator : float32 array (hexels, channels)
    sensors : float32 array (channels, repetitions, time)
        The sensor data, its channels in the operator's column order.

    Notes
    -----
    Supports the reads the gridsearch makes: basic slices and integers on each of the three axes
    (``a[c0:c1, :r, t0:t1]``), and ``np.asarray(a)`` (the whole array, for small cases and tests).
    """

    def __init__(self, operator: NDArray, sensors: NDArray):
        operator = np.asarray(operator, dtype=np.float32)
        sensors = np.asarray(sensors, dtype=np.float32)
        if operator.ndim != 2 or sensors.ndim != 3 or operator.shape[1] != sensors.shape[0]:
            raise ValueError(
                f"a source operator of shape {operator.shape} cannot be applied to sensor data of shape {sensors.shape}"
            )
        self._operator = operator
        self._sensors = sensors

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self._operator.shape[0], *self._sensors.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    @property
    def nbytes_held(self) -> int:
        """Bytes of the operator and the sensor data this object keeps."""
        return self._operator.nbytes + self._sensors.nbytes

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> NDArray[np.float32]:
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) > 3 or any(k is Ellipsis or k is None or not isinstance(k, (slice, int, np.integer)) for k in key):
            raise IndexError("ProjectedSources supports basic slices and integers on (hexels, repetitions, time)")
        hexels, rest = key[0], key[1:]
        rows = self._operator[hexels]
        data = self._sensors[(slice(None), *rest)]
        if rows.ndim == 1:
            return np.tensordot(rows, data, axes=(0, 0)).astype(np.float32, copy=False)
        flat = data.reshape(data.shape[0], -1)
        return (rows @ flat).reshape(rows.shape[0], *data.shape[1:])

    def __array__(self, dtype=None, copy=None) -> NDArray:
        whole = self[:, :, :]
        return whole if dtype is None else whole.astype(dtype)
