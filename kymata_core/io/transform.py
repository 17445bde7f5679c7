"""Loading stimulus transforms from ``.npy``, ``.npz`` ("stimulisig") and MATLAB ``.mat`` files.

Sample rates
------------
A transform's values carry no sample rate of their own in ``.npy`` and ``.mat`` files, so the
caller must give it. In an ``.npz`` file a scalar key ``sample_rate`` (if present) gives the rate
of every transform in the file; a rate given by the caller takes precedence over it.

NaN policy
----------
``"error"`` (default) refuses a transform containing NaN, naming the file and the first NaN's
index; ``"zero"`` replaces NaNs with 0; ``"mean"`` replaces them with the mean of the other values.

Errors
------
A file that cannot be read, or holds no usable transform, raises
:class:`~kymata_core.errors.InputFileError` (a ``ValueError``); a transform name the file does not
hold raises :class:`TransformNotFoundError` (a ``KeyError``). Both name the file, and the
``kymata-core`` command reports them as one line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kymata_core.entities.transform import Transform
from kymata_core.errors import InputFileError, KymataError, UsageError
from kymata_core.io.matlab import load_mat_variable

NAN_POLICIES = ("error", "zero", "mean")
SAMPLE_RATE_KEY = "sample_rate"


class TransformNotFoundError(KymataError, KeyError):
    """The transform (``.npz`` key or ``.mat`` variable) asked for is not in the file; names the file."""

    def __str__(self) -> str:  # the message, not KeyError's quoted repr of it
        return str(self.args[0]) if self.args else ""


def load_transform(
    path: str | os.PathLike,
    name: str | None = None,
    sample_rate: float | None = None,
    *,
    nan_policy: str = "error",
    resample_to: float | None = None,
) -> Transform:
    """Load one transform.

    Parameters
    ----------
    path : path-like
        ``.npy`` (one transform per file), ``.npz`` (one key per transform) or ``.mat``.
    name : str, optional
        The transform's name, and for ``.npz``/``.mat`` the key or variable to read. For ``.npy``
        it defaults to the file stem; for ``.npz`` it may be omitted when the file holds exactly
        one transform.
    sample_rate : float, optional
        Samples per second. Required for ``.npy`` and ``.mat``; for ``.npz`` taken from the key
        ``sample_rate`` when not given.
    nan_policy : {"error", "zero", "mean"}
    resample_to : float, optional
        Resample to this rate (:meth:`Transform.resampled`).

    Returns
    -------
    Transform
    """
    _check_nan_policy(nan_policy)
    path = _existing(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        values = _load_npy(path)
        transform_name = name or path.stem
        rate = _require_rate(sample_rate, path)
    elif suffix == ".npz":
        with _open_npz(path) as npz:
            keys = _transform_keys(npz)
            if name is None:
                if len(keys) != 1:
                    raise InputFileError(f"{path}: holds {len(keys)} transforms {keys}; choose one by name")
                name = keys[0]
            if name not in keys:
                raise TransformNotFoundError(f"{path}: no transform named {name!r}; available: {keys}")
            values = npz[name]
            rate = _npz_rate(npz, sample_rate, path)
        transform_name = name
    elif suffix == ".mat":
        if name is None:
            raise InputFileError(f"{path}: a .mat file needs the name of the variable to read")
        values = _load_mat_variable(path, name)
        transform_name = name
        rate = _require_rate(sample_rate, path)
    else:
        raise InputFileError(f"{path}: unknown transform file type {suffix!r}; expected .npy, .npz or .mat")
    values = _apply_nan_policy(_as_vector(values, path, transform_name), nan_policy, path, transform_name)
    transform = Transform(transform_name, values, rate)
    return transform.resampled(resample_to) if resample_to is not None else transform


def load_transforms_npz(
    path: str | os.PathLike,
    names: Sequence[str] | None = None,
    sample_rate: float | None = None,
    *,
    nan_policy: str = "error",
    resample_to: float | None = None,
) -> list[Transform]:
    """Load several transforms from one ``.npz`` file (all keys except ``sample_rate`` by default).

    Raises KeyError naming the file and the missing transform if ``names`` asks for one that is not there.
    """
    _check_nan_policy(nan_policy)
    path = _existing(path)
    if path.suffix.lower() != ".npz":
        raise InputFileError(f"{path}: expected an .npz file")
    with _open_npz(path) as npz:
        keys = _transform_keys(npz)
        wanted = list(keys) if names is None else list(names)
        missing = [n for n in wanted if n not in keys]
        if missing:
            raise TransformNotFoundError(f"{path}: no transform named {missing[0]!r}; available: {keys}")
        rate = _npz_rate(npz, sample_rate, path)
        transforms = []
        for n in wanted:
            values = _apply_nan_policy(_as_vector(npz[n], path, n), nan_policy, path, n)
            t = Transform(n, values, rate)
            transforms.append(t.resampled(resample_to) if resample_to is not None else t)
    return transforms


def transform_length(path: str | os.PathLike, name: str | None = None) -> int:
    """Number of samples of a transform, reading as little as possible (``.npy``, ``.npz``: only headers)."""
    path = _existing(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with open(path, "rb") as f:
            shape = _npy_header_shape(f, path)
        return int(np.prod(shape)) if len(shape) else 1
    if suffix == ".npz" and name is not None:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as f:
                shape = _npy_header_shape(f, path)
            return int(np.prod(shape)) if len(shape) else 1
        except KeyError:
            raise TransformNotFoundError(f"{path}: no transform named {name!r}") from None
        except (zipfile.BadZipFile, OSError) as e:
            raise InputFileError(f"{path}: cannot read as an .npz archive: {e}") from e
    return len(load_transform(path, name=name, sample_rate=1.0, nan_policy="zero").values)


def npz_sample_rate(path: str | os.PathLike) -> float | None:
    """The ``sample_rate`` an ``.npz`` stimulus file records, or None (other file types record none)."""
    path = _existing(path)
    if path.suffix.lower() != ".npz":
        return None
    with _open_npz(path) as npz:
        if SAMPLE_RATE_KEY not in npz.files:
            return None
        return _npz_rate(npz, None, path)


# ----------------------------------------------------------------------------------------- helpers


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"transform file not found: {path}")
    return path


def _check_nan_policy(policy: str) -> None:
    if policy not in NAN_POLICIES:
        raise UsageError(f"nan_policy must be one of {NAN_POLICIES}, got {policy!r}")


def _require_rate(rate: float | None, path: Path) -> float:
    if rate is None:
        raise InputFileError(f"{path}: the file does not record a sample rate; give the transform's sample rate")
    return float(rate)


# numpy's header parser (ast), zipfile and scipy raise almost anything for a damaged or foreign file
# (SyntaxError, EOFError, struct.error, zipfile.BadZipFile, MemoryError for an absurd shape, ...): at
# this boundary every such failure is reported as one ValueError naming the file.
_READ_ERRORS = (Exception,)


def _load_npy(path: Path) -> NDArray:
    try:
        return np.load(path, allow_pickle=False)
    except _READ_ERRORS as e:
        raise InputFileError(
            f"{path}: cannot read as a numeric .npy array (object arrays are refused): {e}"
        ) from e


def _npy_header_shape(f, path: Path) -> tuple[int, ...]:
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, _ = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, _ = np.lib.format.read_array_header_2_0(f)
    except _READ_ERRORS as e:
        raise InputFileError(f"{path}: cannot read the header of an .npy array: {e}") from e
    return tuple(shape)


class _open_npz:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        try:
            self.npz = np.load(self.path, allow_pickle=False)
        except Exception as e:
            raise InputFileError(f"{self.path}: cannot read as an .npz archive: {e}") from e
        return self

    def __exit__(self, *exc) -> None:
        self.npz.close()

    @property
    def files(self) -> list[str]:
        return list(self.npz.files)

    def __getitem__(self, key: str) -> NDArray:
        try:
            return self.npz[key]
        except _READ_ERRORS as e:
            raise InputFileError(
                f"{self.path}: key {key!r} is not a numeric array (object arrays are refused)"
            ) from e


def _transform_keys(npz: _open_npz) -> list[str]:
    return [k for k in npz.files if k != SAMPLE_RATE_KEY]


def _npz_rate(npz: _open_npz, rate: float | None, path: Path) -> float:
    if rate is not None:
        return float(rate)
    if SAMPLE_RATE_KEY in npz.files:
        stored = np.asarray(npz[SAMPLE_RATE_KEY])
        if stored.size != 1:
            raise InputFileError(
                f"{path}: key {SAMPLE_RATE_KEY!r} must be a single number, got shape {stored.shape}"
            )
        return float(stored.reshape(()))
    raise InputFileError(f"{path}: no {SAMPLE_RATE_KEY!r} key in the file; give the transforms' sample rate")


def _load_mat_variable(path: Path, name: str) -> NDArray:
    from scipy.io import whosmat

    try:
        values = load_mat_variable(path, name)
        if values is None:
            available = sorted(v[0] for v in whosmat(path))
    except Exception as e:
        raise InputFileError(f"{path}: cannot read as a MATLAB .mat file: {e}") from e
    if values is None:
        raise TransformNotFoundError(f"{path}: no variable named {name!r}; available: {available}")
    return values


def _as_vector(values: NDArray, path: Path, name: str) -> NDArray[np.floating]:
    values = np.asarray(values)
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise InputFileError(f"{path}: transform {name!r} must be numeric, got dtype {values.dtype}")
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise InputFileError(
            f"{path}: transform {name!r} must be one-dimensional (or 2-D with one dimension of size 1), "
            f"got shape {values.shape}"
        )
    if values.size == 0:
        raise InputFileError(f"{path}: transform {name!r} is empty")
    if np.issubdtype(values.dtype, np.integer):
        values = values.astype(np.float64)
    return values


def _apply_nan_policy(values: NDArray, policy: str, path: Path, name: str) -> NDArray:
    if np.isinf(values).any():
        raise InputFileError(
            f"{path}: transform {name!r} has an infinite value at index {int(np.argmax(np.isinf(values)))}"
        )
    nan = np.isnan(values)
    if not nan.any():
        return values
    if policy == "error":
        raise InputFileError(
            f"{path}: transform {name!r} has {int(nan.sum())} NaN value(s), the first at index {int(np.argmax(nan))} "
            "(choose a NaN policy 'zero' or 'mean' to replace them)"
        )
    if nan.all():
        raise InputFileError(f"{path}: transform {name!r} is all NaN")
    values = values.copy()
    values[nan] = 0.0 if policy == "zero" else values[~nan].mean()
    return values
