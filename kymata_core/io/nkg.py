"""Reading and writing ExpressionSets as ``.nkg`` files (ZIP archives; see ``docs/nkg-format.md``).

Every format version the reference implementation wrote (0.1 to 0.5) is read; 0.5 is written.
Written files are byte-for-byte deterministic: the same ExpressionSet (and provenance) always gives
the same bytes, because every ZIP member has a fixed date, fixed permissions and a fixed order.

Files come from other people's machines, so reading is defensive: every malformed archive is
refused with :class:`NkgFormatError` (naming the file and the problem) before any large
allocation. Member sizes are checked against what the declared shapes need before anything is
decompressed, and every read is bounded. Nothing in a file is ever executed or unpickled.
"""

from __future__ import annotations

import json
import lzma
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np
import sparse

from kymata_core.entities.best_points import best_entries
from kymata_core.entities.coo import make_coo
from kymata_core.entities.expression import (
    ExpressionSet,
    HexelExpressionSet,
    SensorExpressionSet,
    combine,
)
from kymata_core.entities.hemispheres import (
    BLOCK_LEFT,
    BLOCK_RIGHT,
    BLOCK_SCALP,
    HEMISPHERE_BLOCKS,
    SENSOR_BLOCKS,
    SIDES,
)
from kymata_core.errors import KymataError
from kymata_core.io.atomic import atomic_write
from kymata_core.io.layouts import SensorLayout

PathType = str | os.PathLike
FileType = IO[bytes]

CURRENT_VERSION = "0.5"
SUPPORTED_VERSIONS = ("0.1", "0.2", "0.3", "0.4", "0.5")
PROVENANCE_MEMBER = "_metadata/provenance.json"
SENSOR_SIDES_MEMBER = "_metadata/sensor-sides.tsv"
OLD_FORMAT_WARNING = (
    "{file} uses the old .nkg format {version}; consider re-saving it to upgrade to format " + CURRENT_VERSION
)

_TYPE_HEXEL = "hexel"
_TYPE_SENSOR = "sensor"
_BLOCKS_FOR_TYPE = {_TYPE_HEXEL: list(HEMISPHERE_BLOCKS), _TYPE_SENSOR: list(SENSOR_BLOCKS)}

# Fixed ZIP metadata, so that saving the same set twice gives byte-identical files.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_PERMISSIONS = 0o644
_ZIP_CREATE_SYSTEM = 3  # Unix

# Limits for reading untrusted files (generous for real data, small enough to refuse nonsense).
_SMALL_MEMBER_MAX = 1024  # version, type, shape, layout, blocks
_MAX_CHANNELS = 10_000_000
_MAX_LATENCIES = 10_000_000
_MAX_TRANSFORMS = 1_000_000
_MAX_BYTES_PER_LATENCY_LINE = 64
_MAX_BYTES_PER_CHANNEL_LINE = 256
_MAX_BYTES_PER_TRANSFORM_LINE = 4096
_PROVENANCE_MAX = 16 * 1024 * 1024
_MAX_BYTES_PER_SIDE_LINE = _MAX_BYTES_PER_CHANNEL_LINE + len("\t\n") + max(len(side) for side in SIDES)

# Everything that reading a damaged ZIP member can raise from the standard library.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    struct.error,
    OverflowError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    UnicodeDecodeError,
)


class NkgFormatError(KymataError, ValueError):
    """An ``.nkg`` file is malformed, of an unknown version, or unsafe to read.

    The message names the file and the problem. It is a :class:`~kymata_core.errors.KymataError`
    (the ``kymata-core`` command reports it as one line) and a :class:`ValueError`, for code that
    catches ValueError.

    Attributes
    ----------
    file : str
        The file (or a description of the file object) that could not be read.
    problem : str
        What is wrong with it.
    """

    def __init__(self, file: str, problem: str):
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: not a readable .nkg file: {problem}")


# --- public API ---------------------------------------------------------------------------------


def load_expression_set(from_path_or_file: PathType | FileType | Sequence[PathType]) -> ExpressionSet:
    """Load an ExpressionSet from an ``.nkg`` file, an open binary file, or a list of paths.

    Parameters
    ----------
    from_path_or_file : path, binary file object, or list of paths
        A list loads each file and :func:`~kymata_core.entities.expression.combine` s them (the
        files must hold sets of one kind with the same latencies; see ``combine``).

    Returns
    -------
    ExpressionSet
        A :class:`HexelExpressionSet` or :class:`SensorExpressionSet`, by the file's type.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    NkgFormatError
        If a file is not a valid ``.nkg`` file (names the file and the problem).
    ValueError
        If a list of files cannot be combined.

    Warns
    -----
    UserWarning
        Once per file of a format older than 0.5 (suggesting re-saving it).
    RuntimeWarning
        Once per file with NaN values, which load as p = 1.
    """
    if isinstance(from_path_or_file, list | tuple):
        if not from_path_or_file:
            raise ValueError("load_expression_set needs at least one path")
        return combine([load_expression_set(p) for p in from_path_or_file])
    label = _label(from_path_or_file)
    with _open_zip(from_path_or_file, label) as zf:
        return _read_expression_set(zf, label)


def save_expression_set(
    expression_set: ExpressionSet,
    to_path_or_file: PathType | FileType,
    compression: int = zipfile.ZIP_LZMA,
    overwrite: bool = False,
    provenance: dict[str, Any] | None = None,
) -> None:
    """Save an ExpressionSet as an ``.nkg`` file of format 0.5.

    Parameters
    ----------
    expression_set : ExpressionSet
        The set to save.
    to_path_or_file : path or binary file object
        A path is written atomically (a temporary file beside it, renamed into place). A file
        object must be opened ``"wb"`` (seekable) and is written to directly; ``overwrite`` is
        then ignored.
    compression : int
        A :mod:`zipfile` compression method (default ``ZIP_LZMA``, as the reference writes).
    overwrite : bool
        Replace an existing file at the path.
    provenance : dict, optional
        JSON-serialisable description of how the set was made (parameters, versions — no
        timestamps, to keep files reproducible). Stored as ``_metadata/provenance.json`` with
        sorted keys; the reference reader ignores it.

    Notes
    -----
    A SensorExpressionSet's known sensor sides (``sensor_sides``) are stored in
    ``_metadata/sensor-sides.tsv``, which the reference reader ignores: one line per sensor with a
    known side, in the set's sensor order, ``<sensor name>\t<left|right|midline>``, lines joined
    by ``\n`` without a trailing newline, UTF-8. Sets without sides have no such member, so their
    files are as the reference writes them.

    Raises
    ------
    FileExistsError
        If the path exists and ``overwrite`` is False.
    TypeError
        If ``expression_set`` is not an ExpressionSet, the target is neither a path nor a
        binary file, or ``provenance`` is not JSON-serialisable.
    """
    if not isinstance(expression_set, ExpressionSet):
        raise TypeError(f"expected an ExpressionSet, got {type(expression_set).__name__}")
    members = _members_for(expression_set, provenance)
    if isinstance(to_path_or_file, str | os.PathLike):
        with atomic_write(to_path_or_file, overwrite=overwrite, mode="wb") as f:
            _write_zip(f, members, compression)
    elif hasattr(to_path_or_file, "write"):
        _write_zip(to_path_or_file, members, compression)
    else:
        raise TypeError(f"expected a path or a binary file opened 'wb', got {type(to_path_or_file).__name__}")


def file_version(path_or_file: PathType | FileType) -> tuple[int, ...]:
    """The format version of an ``.nkg`` file, e.g. ``(0, 5)``.

    Raises
    ------
    NkgFormatError
        If the file is not an ``.nkg`` file or its version is unknown.
    """
    label = _label(path_or_file)
    with _open_zip(path_or_file, label) as zf:
        version = _read_version(zf, label)
    return tuple(int(part) for part in version.split("."))


def read_provenance(path_or_file: PathType | FileType) -> dict[str, Any] | None:
    """The provenance stored in an ``.nkg`` file by :func:`save_expression_set`, or None if absent.

    Raises
    ------
    NkgFormatError
        If the file is not a ZIP archive or the provenance member is not a JSON object.
    """
    label = _label(path_or_file)
    with _open_zip(path_or_file, label) as zf:
        if PROVENANCE_MEMBER not in zf.NameToInfo:
            return None
        raw = _read_member(zf, PROVENANCE_MEMBER, _PROVENANCE_MAX, label)
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise NkgFormatError(label, f"{PROVENANCE_MEMBER} is not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise NkgFormatError(label, f"{PROVENANCE_MEMBER} is not a JSON object")
    return value


# --- writing ------------------------------------------------------------------------------------


def _members_for(es: ExpressionSet, provenance: dict[str, Any] | None) -> list[tuple[str, bytes]]:
    """The archive's members, in the order the reference writes them."""
    if isinstance(es, HexelExpressionSet):
        set_type = _TYPE_HEXEL
    elif isinstance(es, SensorExpressionSet):
        set_type = _TYPE_SENSOR
    else:
        raise TypeError(f"cannot save a {type(es).__name__}")
    members = [
        ("_metadata/format-version.txt", CURRENT_VERSION.encode()),
        ("_metadata/expression-set-type.txt", set_type.encode()),
        ("/latencies.txt", _lines(repr(float(x)) for x in es.latencies)),
        ("/transforms.txt", _lines(es.transforms)),
        ("/blocks.txt", _lines(es.block_names)),
        ("/layout.txt", _layout_text(es)),
    ]
    for block in es.block_names:
        coo = es.coo(block)
        coords, data = _one_entry_per_channel_and_transform(coo.coords, coo.data, coo.shape)
        members += [
            (f"/{block}/channels.txt", _lines(str(c) for c in es.channels(block).tolist())),
            (f"/{block}/coo-coords.bytes", np.ascontiguousarray(coords, dtype="<i8").tobytes()),
            (f"/{block}/coo-data.bytes", np.ascontiguousarray(data, dtype="<f8").tobytes()),
            (f"/{block}/coo-shape.txt", _lines(str(n) for n in coo.shape)),
        ]
    sides = es.sensor_sides if isinstance(es, SensorExpressionSet) else None
    if sides is not None:
        members.append((SENSOR_SIDES_MEMBER, _lines(f"{sensor}\t{side}" for sensor, side in sides.items())))
    if provenance is not None:
        try:
            text = json.dumps(provenance, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"provenance must be JSON-serialisable: {e}") from None
        members.append((PROVENANCE_MEMBER, (text + "\n").encode("utf-8")))
    return members


def _lines(items) -> bytes:
    return "\n".join(items).encode("utf-8")


def _layout_text(es: ExpressionSet) -> bytes:
    layout = es.sensor_layout if isinstance(es, SensorExpressionSet) else None
    if layout is None:
        return b""
    meg = layout.meg.value if layout.meg is not None else "None"
    eeg = layout.eeg.value if layout.eeg is not None else "None"
    return f"MEG:\t{meg}\nEEG:\t{eeg}\n".encode()


def _one_entry_per_channel_and_transform(
    coords: np.ndarray, data: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Keep, per (channel, transform), the entry with the smallest value (earliest latency on a tie).

    Sets loaded from the reference may hold several tied entries per (channel, transform); the
    format stores one. The result is sorted by (channel, latency, transform).
    """
    if data.size == 0:
        return coords.reshape(3, 0), data
    n_channels, n_latencies, n_transforms = shape
    channel, latency, transform = coords
    pair = channel * n_transforms + transform
    if n_channels * n_transforms <= 8 * pair.size + 1_000_000:
        repeated = np.bincount(pair, minlength=n_channels * n_transforms).max() > 1  # O(n), no sort
    else:
        repeated = np.unique(pair).size != pair.size
    if repeated:  # the best point of each (channel, transform), positive values included
        keep = best_entries(channel, latency, transform, data, per_transform=True)
        coords, data = coords[:, keep], data[keep]
    linear = (coords[0] * n_latencies + coords[1]) * n_transforms + coords[2]
    if np.any(linear[1:] <= linear[:-1]):  # ExpressionSets keep their entries sorted; sort if not
        order = np.argsort(linear, kind="stable")
        coords, data = coords[:, order], data[order]
    return coords, data


def _write_zip(f: IO[bytes], members: list[tuple[str, bytes]], compression: int) -> None:
    with zipfile.ZipFile(f, mode="w", compression=compression) as zf:
        for name, payload in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = compression
            info.create_system = _ZIP_CREATE_SYSTEM
            info.external_attr = (0o100000 | _ZIP_PERMISSIONS) << 16  # regular file, rw-r--r--
            zf.writestr(info, payload)


# --- reading ------------------------------------------------------------------------------------


def _label(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, str | os.PathLike) else f"<{type(source).__name__}>"


class _open_zip:
    """Context manager: a ZipFile on a path or binary file, or NkgFormatError."""

    def __init__(self, source: Any, label: str):
        self.source, self.label, self.zf = source, label, None

    def __enter__(self) -> zipfile.ZipFile:
        source = self.source
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such .nkg file")
            if path.is_dir():
                raise NkgFormatError(self.label, "it is a directory")
        elif not hasattr(source, "read"):
            raise TypeError(f"expected a path, a binary file or a list of paths, got {type(source).__name__}")
        try:
            self.zf = zipfile.ZipFile(source, mode="r")
        except _ZIP_ERRORS as e:
            if isinstance(e, FileNotFoundError | PermissionError | IsADirectoryError):
                raise
            raise NkgFormatError(self.label, f"not a ZIP archive ({type(e).__name__}: {e})") from None
        return self.zf

    def __exit__(self, *exc) -> None:
        if self.zf is not None:
            self.zf.close()


def _read_member(zf: zipfile.ZipFile, name: str, max_size: int, label: str) -> bytes:
    """The bytes of one member, refusing members larger than ``max_size`` before decompressing."""
    info = zf.NameToInfo.get(name)
    if info is None:
        raise NkgFormatError(label, f"missing member {name!r}")
    if info.file_size > max_size:
        raise NkgFormatError(
            label,
            f"member {name!r} is {info.file_size} bytes uncompressed, more than the {max_size} its shape allows",
        )
    try:
        with zf.open(info) as member:
            payload = member.read(max_size + 1)
    except NkgFormatError:
        raise
    except _ZIP_ERRORS as e:
        raise NkgFormatError(label, f"cannot read member {name!r} ({type(e).__name__}: {e})") from None
    if len(payload) > max_size:
        raise NkgFormatError(label, f"member {name!r} is larger than its header says")
    return payload


def _read_text(zf: zipfile.ZipFile, name: str, max_size: int, label: str) -> str:
    payload = _read_member(zf, name, max_size, label)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise NkgFormatError(label, f"member {name!r} is not UTF-8 text") from None


def _read_lines(zf: zipfile.ZipFile, name: str, max_size: int, label: str) -> list[str]:
    text = _read_text(zf, name, max_size, label)
    if text == "":
        return []
    if text.endswith("\n"):  # tolerated, though the format writes none
        text = text[:-1]
    return text.split("\n")


def _read_version(zf: zipfile.ZipFile, label: str) -> str:
    version = _read_text(zf, "_metadata/format-version.txt", _SMALL_MEMBER_MAX, label).strip()
    if version not in SUPPORTED_VERSIONS:
        raise NkgFormatError(
            label,
            f"unknown format version {version[:40]!r} (this reader knows {', '.join(SUPPORTED_VERSIONS)})",
        )
    return version


def _read_expression_set(zf: zipfile.ZipFile, label: str) -> ExpressionSet:
    version = _read_version(zf, label)
    old = version != CURRENT_VERSION
    log_values = version in ("0.4", "0.5")  # older versions store p-values

    if version == "0.1":
        set_type = _TYPE_HEXEL
    else:
        set_type = _read_text(zf, "_metadata/expression-set-type.txt", _SMALL_MEMBER_MAX, label).strip()
        if set_type not in _BLOCKS_FOR_TYPE:
            raise NkgFormatError(
                label, f"unknown expression set type {set_type[:40]!r} (expected hexel or sensor)"
            )

    if version == "0.1":
        blocks = list(HEMISPHERE_BLOCKS)
    else:
        blocks_member = "/layers.txt" if version in ("0.2", "0.3") else "/blocks.txt"
        blocks = _read_lines(zf, blocks_member, _SMALL_MEMBER_MAX, label)
    if sorted(blocks) != sorted(_BLOCKS_FOR_TYPE[set_type]) or len(set(blocks)) != len(blocks):
        raise NkgFormatError(
            label,
            f"a {set_type} set must have blocks {_BLOCKS_FOR_TYPE[set_type]}, the file lists {blocks[:5]}",
        )

    shapes = {b: _read_shape(zf, b, label) for b in blocks}
    n_latencies = {s[1] for s in shapes.values()}
    n_transforms = {s[2] for s in shapes.values()}
    if len(n_latencies) != 1 or len(n_transforms) != 1:
        raise NkgFormatError(label, f"blocks declare different latency or transform counts: {shapes}")
    n_lat, n_tr = n_latencies.pop(), n_transforms.pop()

    latency_lines = _read_lines(zf, "/latencies.txt", max(n_lat, 1) * _MAX_BYTES_PER_LATENCY_LINE, label)
    latencies = _parse_numbers(latency_lines, float, "/latencies.txt", label)
    if len(latencies) != n_lat:
        raise NkgFormatError(
            label, f"/latencies.txt has {len(latencies)} latencies but the shape declares {n_lat}"
        )
    if not np.all(np.isfinite(latencies)) or np.any(np.diff(latencies) <= 0):
        raise NkgFormatError(label, "/latencies.txt must hold finite, strictly increasing latencies")

    transforms_member = "/transforms.txt" if version == "0.5" else "/functions.txt"
    transforms = _read_lines(zf, transforms_member, max(n_tr, 1) * _MAX_BYTES_PER_TRANSFORM_LINE, label)
    if len(transforms) != n_tr:
        raise NkgFormatError(
            label, f"{transforms_member} has {len(transforms)} names but the shape declares {n_tr}"
        )
    if len(set(transforms)) != len(transforms):
        duplicates = sorted({t for t in transforms if transforms.count(t) > 1})
        raise NkgFormatError(label, f"duplicate transform names in {transforms_member}: {duplicates[:5]}")
    if any(t == "" for t in transforms):
        raise NkgFormatError(label, f"empty transform name in {transforms_member}")

    channel_type = int if set_type == _TYPE_HEXEL else str
    channels: dict[str, list] = {}
    for block in blocks:
        if version == "0.1":
            member = "/hexels.txt"
        elif version in ("0.2", "0.3"):
            member = "/channels.txt"
        else:
            member = f"/{block}/channels.txt"
        n_ch = shapes[block][0]
        lines = _read_lines(zf, member, max(n_ch, 1) * _MAX_BYTES_PER_CHANNEL_LINE, label)
        if len(lines) != n_ch:
            raise NkgFormatError(
                label, f"{member} has {len(lines)} channels but /{block}/coo-shape.txt declares {n_ch}"
            )
        values = _parse_numbers(lines, int, member, label) if channel_type is int else lines
        if len(set(values.tolist() if isinstance(values, np.ndarray) else values)) != len(values):
            raise NkgFormatError(label, f"{member} lists a channel twice")
        channels[block] = values

    layout = _read_layout(zf, label) if version == "0.5" and set_type == _TYPE_SENSOR else None
    sides = _read_sensor_sides(zf, set_type, channels.get(BLOCK_SCALP), label)

    # Decompressing the blocks' members dominates loading; LZMA releases the GIL, so read blocks in threads.
    with ThreadPoolExecutor(max_workers=min(len(blocks), 2) or 1) as pool:
        read = pool.map(lambda b: _read_block(zf, b, shapes[b], log_values, label), blocks)
        coos = dict(zip(blocks, read, strict=True))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if set_type == _TYPE_HEXEL:
                es: ExpressionSet = HexelExpressionSet(
                    transforms,
                    channels[BLOCK_LEFT],
                    channels[BLOCK_RIGHT],
                    latencies,
                    coos[BLOCK_LEFT],
                    coos[BLOCK_RIGHT],
                )
            else:
                es = SensorExpressionSet(
                    transforms,
                    channels[BLOCK_SCALP],
                    latencies,
                    coos[BLOCK_SCALP],
                    layout,
                    sensor_sides=sides,
                )
        except (ValueError, TypeError) as e:
            raise NkgFormatError(label, str(e)) from None
    for w in caught:  # re-issue the entity's warnings (NaNs, layout) naming the file
        warnings.warn(f"{label}: {w.message}", w.category, stacklevel=3)
    if old:
        warnings.warn(OLD_FORMAT_WARNING.format(file=label, version=version), UserWarning, stacklevel=3)
    return es


def _parse_numbers(lines: list[str], kind: type, member: str, label: str) -> np.ndarray:
    try:
        values = [kind(line) for line in lines]
    except ValueError:
        bad = next((line for line in lines if not _parses(line, kind)), "?")
        raise NkgFormatError(label, f"{member} holds a non-numeric value {bad[:40]!r}") from None
    dtype = np.float64 if kind is float else np.int64
    try:
        return np.array(values, dtype=dtype)
    except OverflowError:
        raise NkgFormatError(label, f"{member} holds a value out of range") from None


def _parses(text: str, kind: type) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _read_shape(zf: zipfile.ZipFile, block: str, label: str) -> tuple[int, int, int]:
    member = f"/{block}/coo-shape.txt"
    lines = _read_lines(zf, member, _SMALL_MEMBER_MAX, label)
    if len(lines) == 2:  # old single-transform files
        lines = [*lines, "1"]
    if len(lines) != 3:
        raise NkgFormatError(
            label, f"{member} must have 3 lines (channels, latencies, transforms), has {len(lines)}"
        )
    try:
        shape = tuple(int(x) for x in lines)
    except ValueError:
        raise NkgFormatError(label, f"{member} holds a non-integer dimension: {lines}") from None
    n_ch, n_lat, n_tr = shape
    limits = (_MAX_CHANNELS, _MAX_LATENCIES, _MAX_TRANSFORMS)
    if any(n < 0 or n > limit for n, limit in zip(shape, limits, strict=True)):
        raise NkgFormatError(label, f"{member} declares an impossible shape {shape}")
    if n_ch * n_lat * n_tr >= 2**62:
        raise NkgFormatError(label, f"{member} declares a shape too large to index: {shape}")
    if n_lat == 0 or n_tr == 0:
        raise NkgFormatError(label, f"{member} declares no latencies or no transforms: {shape}")
    return n_ch, n_lat, n_tr


def _read_layout(zf: zipfile.ZipFile, label: str) -> SensorLayout | None:
    text = _read_text(zf, "/layout.txt", _SMALL_MEMBER_MAX, label)
    if text.strip() == "":
        return None
    found: dict[str, str | None] = {}
    for line in text.strip("\n").split("\n"):
        key, sep, value = line.partition(":\t")
        if not sep or key not in ("MEG", "EEG") or key in found:
            raise NkgFormatError(label, f"/layout.txt has an unexpected line {line[:60]!r}")
        found[key] = None if value == "None" else value
    try:
        return SensorLayout(meg=found.get("MEG"), eeg=found.get("EEG"))
    except ValueError as e:
        raise NkgFormatError(label, f"/layout.txt: {e}") from None


def _read_sensor_sides(
    zf: zipfile.ZipFile, set_type: str, sensors: list[str] | None, label: str
) -> dict[str, str] | None:
    """The sensor sides stored by :func:`save_expression_set`, or None when the file has none."""
    if SENSOR_SIDES_MEMBER not in zf.NameToInfo:
        return None
    member = SENSOR_SIDES_MEMBER
    if set_type != _TYPE_SENSOR or sensors is None:
        raise NkgFormatError(label, f"{member} is only for sensor sets, but this is a {set_type} set")
    lines = _read_lines(zf, member, max(len(sensors), 1) * _MAX_BYTES_PER_SIDE_LINE, label)
    known = set(sensors)
    sides: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        sensor, tab, side = line.partition("\t")
        if not tab or side not in SIDES:
            raise NkgFormatError(
                label, f"{member} line {number} is not '<sensor>\\t<left|right|midline>': {line[:60]!r}"
            )
        if sensor not in known:
            raise NkgFormatError(
                label, f"{member} line {number} names a sensor not in the set: {sensor[:60]!r}"
            )
        if sensor in sides:
            raise NkgFormatError(label, f"{member} line {number} gives sensor {sensor[:60]!r} a side twice")
        sides[sensor] = side
    return sides or None


def _read_block(
    zf: zipfile.ZipFile, block: str, shape: tuple[int, int, int], log_values: bool, label: str
) -> sparse.COO:
    n_ch, n_lat, n_tr = shape
    max_entries = n_ch * n_lat * n_tr
    coords_member, data_member = f"/{block}/coo-coords.bytes", f"/{block}/coo-data.bytes"
    for member in (coords_member, data_member):
        if member not in zf.NameToInfo:
            raise NkgFormatError(label, f"missing member {member!r}")
    data_raw = _read_member(zf, data_member, 8 * max_entries, label)
    if len(data_raw) % 8:
        raise NkgFormatError(
            label, f"{data_member} is {len(data_raw)} bytes, not a whole number of float64 values"
        )
    nnz = len(data_raw) // 8
    coords_size = zf.NameToInfo[coords_member].file_size
    # Shapes of two lines come from single-transform files that may store two coordinate rows.
    n_rows = 2 if (n_tr == 1 and coords_size == 16 * nnz and nnz) else 3
    if n_rows == 3 and coords_size % 24:
        raise NkgFormatError(
            label, f"{coords_member} is {coords_size} bytes, not a multiple of 24 (3 int64 per entry)"
        )
    if coords_size != 8 * n_rows * nnz:
        raise NkgFormatError(
            label,
            f"{coords_member} holds {coords_size // 24} coordinates but {data_member} holds {nnz} values",
        )
    coords_raw = _read_member(zf, coords_member, 8 * n_rows * nnz, label)
    if len(coords_raw) != 8 * n_rows * nnz:
        raise NkgFormatError(label, f"{coords_member} is shorter than its header says")
    coords = np.frombuffer(coords_raw, dtype="<i8").reshape(n_rows, nnz).astype(np.int64)
    if n_rows == 2:
        coords = np.vstack([coords, np.zeros((1, nnz), dtype=np.int64)])
    if nnz:
        bad = (coords.min(axis=1) < 0) | (coords.max(axis=1) >= np.array(shape))
        if bad.any():
            axis = ["channel", "latency", "transform"][int(np.flatnonzero(bad)[0])]
            raise NkgFormatError(
                label, f"{coords_member} has {axis} coordinates outside the declared shape {shape}"
            )
        _check_no_duplicate_coordinates(coords, shape, coords_member, label)
    data = np.frombuffer(data_raw, dtype="<f8").astype(np.float64)
    if not log_values:
        with np.errstate(divide="ignore", invalid="ignore"):
            data = np.log10(data)  # p = 0 -> -inf; p < 0 -> NaN (loaded as p = 1, with a warning)
    return make_coo(coords, data, shape)


def _check_no_duplicate_coordinates(
    coords: np.ndarray, shape: tuple[int, int, int], member: str, label: str
) -> None:
    n_ch, n_lat, n_tr = shape
    linear = (coords[0] * n_lat + coords[1]) * n_tr + coords[2]  # fits int64: shapes are bounded above
    if linear.size > 1 and not np.all(linear[1:] > linear[:-1]):  # unsorted or duplicated: check properly
        linear = np.sort(linear)
        if np.any(linear[1:] == linear[:-1]):
            raise NkgFormatError(label, f"{member} lists a coordinate twice")
