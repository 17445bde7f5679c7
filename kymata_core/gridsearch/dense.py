"""Dense gridsearch output: the full log10 p (channels × latencies) in HDF5, written atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np
from numpy.typing import NDArray

from kymata_core.io.atomic import atomic_path


def write_dense_logp(
    path: Path | str,
    logp: NDArray,
    latencies: NDArray,
    channels: Sequence,
    transform_name: str,
    attrs: Mapping[str, object] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write datasets ``logp`` (float64, channels × latencies), ``latencies`` (s) and ``channels``.

    Channels are stored as UTF-8 strings, or int64 when every channel is an integer (hexel ids).
    File attributes hold ``transform`` and the gridsearch parameters in ``attrs``. The file is
    written to a temporary name in the same directory and renamed, so a reader never sees a partial
    file. Refuses to replace an existing file unless ``overwrite``.
    """
    path = Path(path)
    logp = np.asarray(logp, dtype=np.float64)
    latencies = np.asarray(latencies, dtype=np.float64)
    if logp.shape != (len(channels), latencies.shape[0]):
        raise ValueError(
            f"dense log p has shape {logp.shape}, expected ({len(channels)} channels, {latencies.shape[0]} latencies)"
        )
    with atomic_path(path, overwrite=overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("logp", data=logp)
        f.create_dataset("latencies", data=latencies)
        if all(isinstance(c, (int, np.integer)) for c in channels):
            f.create_dataset("channels", data=np.asarray(channels, dtype=np.int64))
        else:
            f.create_dataset("channels", data=[str(c) for c in channels], dtype=h5py.string_dtype("utf-8"))
        f.attrs["transform"] = transform_name
        for key, value in (attrs or {}).items():
            f.attrs[key] = value
    return path


def read_dense_logp(path: Path | str) -> tuple[NDArray[np.float64], NDArray[np.float64], list, dict]:
    """Read ``(logp, latencies, channels, attrs)`` written by :func:`write_dense_logp`."""
    with h5py.File(path, "r") as f:
        logp = f["logp"][()]
        latencies = f["latencies"][()]
        raw = f["channels"]
        if h5py.check_string_dtype(raw.dtype) is not None:
            channels: list = list(raw.asstr()[()])
        else:
            channels = [int(c) for c in raw[()]]
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    return logp, latencies, channels, attrs
