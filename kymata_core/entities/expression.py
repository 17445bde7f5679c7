"""ExpressionSets: log10 p-values of transform expression by (channel, latency, transform).

An ExpressionSet holds one or more *blocks* of evidence: ``left`` and ``right`` hemispheres for a
:class:`HexelExpressionSet`, ``scalp`` for a :class:`SensorExpressionSet`. Each block is an
:class:`xarray.DataArray` over a :class:`sparse.COO` array with dims (channel, latency, transform),
holding log10 p-values with fill value 0 (p = 1).

Dense input is sparsified when a set is built: for every (channel, transform) only the entry at the
latency with the smallest log10 p is kept (the earliest such latency on a tie), which is what the
``.nkg`` format stores. Sparse input is kept as given, so files written by other tools load exactly.

Values above 0 (p > 1) are not p-values, but they are accepted, as the reference accepts any finite
values (its own tests build sets from ``np.random.randn``): a set given any warns once
(:class:`PositiveLogPWarning`), keeps them as given, and they never count as evidence (best points
and plots look only at values below 0).
"""

from __future__ import annotations

import copy as _copy
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Self

import numpy as np
import sparse
from numpy.typing import ArrayLike, NDArray

from kymata_core.entities.best_points import BestPoints, best_entries
from kymata_core.entities.coo import empty_coo, make_coo
from kymata_core.entities.datatypes import (
    DIM_HEXEL,
    DIM_LATENCY,
    DIM_SENSOR,
    DIM_TRANSFORM,
    Channel,
    HexelDType,
    Latency,
    LatencyDType,
    LogPDType,
    SensorDType,
)
from kymata_core.entities.hemispheres import BLOCK_LEFT, BLOCK_RIGHT, BLOCK_SCALP, SIDES, Side
from kymata_core.entities.sensor_layout import SensorLayout, sensors_not_in_layout

if TYPE_CHECKING:
    import xarray as xr

_InputDataArray = ArrayLike | sparse.SparseArray
GroupedPoints = dict[str, list["ExpressionPoint"]]


class PositiveLogPWarning(UserWarning):
    """An ExpressionSet was given log10 p-values above 0 (p > 1): perhaps p-values, not their log10."""


class NoLatenciesInRangeError(ValueError, IndexError):
    """A latency window holds none of a set's latencies.

    Both a ValueError (a bad argument) and an IndexError (what kymata-core raises), so code written
    for either catches it.
    """


class ExpressionPoint(NamedTuple):
    """A single point of transform expression evidence.

    Two points are equal when channel, latency and transform are equal and their log10 p-values
    are close (:func:`numpy.isclose`).
    """

    channel: Channel
    latency: Latency
    transform: str
    logp_value: float

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, tuple) or len(other) != 4:
            return NotImplemented
        return (
            self.channel == other[0]
            and self.latency == other[1]
            and self.transform == other[2]
            and bool(np.isclose(self.logp_value, other[3]))
        )

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.channel, self.latency, self.transform))


class ExpressionSet(ABC):
    """Brain data associated with the expression of one or more transforms. Data are log10 p-values.

    Parameters
    ----------
    transforms : str or sequence of str
        Transform name, or names (unique).
    latencies : sequence of float
        Latencies in seconds, strictly increasing.
    data_blocks : dict
        Block name to data. Either a sequence with one (channel, latency) array per transform, or
        a single (channel, latency, transform) array; numpy arrays or sparse arrays. A dense array
        is sparsified (each channel and transform keeps its best latency only); a sparse array must
        have fill value 0 and is kept as given. NaNs become 0 (p = 1) with one warning. Values
        above 0 are kept, with one :class:`PositiveLogPWarning` giving their number. The caller's
        arrays are never modified.
    channel_coord_name : str
        Name of the channel dimension (``"hexel"`` or ``"sensor"``).
    channel_coord_dtype : dtype
        dtype of the channel ids.
    channel_coord_values : dict
        Block name to the block's channel ids (unique within the block).

    Raises
    ------
    ValueError
        When arguments are inconsistent: shapes, duplicate names, unsorted latencies, or a sparse
        fill value other than 0.

    Warns
    -----
    PositiveLogPWarning
        Once per set, when the data hold values above 0 (which suggests p-values were passed).
    """

    def __init__(
        self,
        transforms: str | Sequence[str],
        latencies: Sequence[Latency],
        data_blocks: Mapping[str, _InputDataArray | Sequence[_InputDataArray]],
        channel_coord_name: str,
        channel_coord_dtype,
        channel_coord_values: Mapping[str, Sequence],
    ):
        self._transforms: list[str] = _validate_transforms(transforms)
        self._latencies: NDArray[LatencyDType] = _validate_latencies(latencies)
        if set(data_blocks) != set(channel_coord_values):
            raise ValueError(
                f"data blocks {sorted(data_blocks)} and channel blocks {sorted(channel_coord_values)} differ"
            )
        self._channel_coord_name = channel_coord_name
        shape_tl = (len(self._latencies), len(self._transforms))
        counts = _ValueCounts()
        # Each block is held as its channel ids and a sparse COO; the xarray view of a block is built only
        # when asked for (block(), left, right, scalp): the gridsearch, .nkg I/O, combine and IPPMs never
        # need it, and importing xarray costs every job a quarter of a second.
        self._channels: dict[str, NDArray] = {}
        self._coos: dict[str, sparse.COO] = {}
        for block, raw_channels in channel_coord_values.items():
            channels = _validate_channels(raw_channels, channel_coord_dtype, block)
            coo, block_counts = _to_coo(data_blocks[block], (len(channels), *shape_tl), block)
            counts += block_counts
            self._channels[block], self._coos[block] = channels, coo
        self._views: dict[str, xr.DataArray] = {}
        _warn_about_values(counts)

    # --- construction helpers -------------------------------------------------------------------

    def _wrap(self, coo: sparse.COO, channels: NDArray) -> xr.DataArray:
        import xarray as xr

        return xr.DataArray(
            coo,
            dims=(self._channel_coord_name, DIM_LATENCY, DIM_TRANSFORM),
            coords={
                self._channel_coord_name: channels,
                DIM_LATENCY: self._latencies,
                DIM_TRANSFORM: np.array(self._transforms, dtype=np.str_),
            },
        )

    @abstractmethod
    def _with_blocks(
        self, transforms: list[str], latencies: NDArray, channels: dict[str, NDArray], coos: dict[str, sparse.COO]
    ) -> Self:
        """A new set of the same kind (and layout) with the given contents."""

    # --- properties -----------------------------------------------------------------------------

    @property
    def transforms(self) -> list[str]:
        """Transform names, in order."""
        return list(self._transforms)

    @property
    def latencies(self) -> NDArray[LatencyDType]:
        """Latencies, in seconds."""
        return self._latencies.copy()

    @property
    def block_names(self) -> list[str]:
        """The names of the set's blocks, in order."""
        return list(self._coos)

    @property
    def channel_coord_name(self) -> str:
        """Name of the channel dimension (``"hexel"`` or ``"sensor"``)."""
        return self._channel_coord_name

    def channels(self, block: str) -> NDArray:
        """Channel ids of one block, in order."""
        return self._channels[block].copy()

    def block(self, block: str) -> xr.DataArray:
        """The DataArray (channel, latency, transform) of one block, over a sparse COO array."""
        if block not in self._views:
            self._views[block] = self._wrap(self._coos[block], self._channels[block])
        return self._views[block]

    def coo(self, block: str) -> sparse.COO:
        """The sparse COO array (channel, latency, transform) of one block."""
        return self._coos[block]

    # --- methods --------------------------------------------------------------------------------

    def crop(self, latency_start: float | None, latency_stop: float | None) -> Self:
        """A copy with latencies cropped to ``[latency_start, latency_stop]`` (inclusive, seconds).

        Use None for an open end.

        Raises
        ------
        NoLatenciesInRangeError
            If no latency of the set lies in the window; it is both a ValueError and an IndexError.
        """
        keep = np.ones(len(self._latencies), dtype=bool)
        if latency_start is not None:
            keep &= self._latencies >= latency_start
        if latency_stop is not None:
            keep &= self._latencies <= latency_stop
        if not keep.any():
            raise NoLatenciesInRangeError(
                f"cropping to [{latency_start}, {latency_stop}] s leaves no latency "
                f"(the set spans {self._latencies[0]} to {self._latencies[-1]} s)"
            )
        indices = np.flatnonzero(keep)
        coos = {b: _take(self.coo(b), 1, indices) for b in self._coos}
        return self._with_blocks(self.transforms, self._latencies[indices], self._channel_map(), coos)

    def rename(self, transforms: dict[str, str] | None = None, channels: dict | None = None) -> None:
        """Rename transforms and/or channels in place.

        Parameters
        ----------
        transforms : dict, optional
            Old transform name to new name.
        channels : dict, optional
            Old channel id to new id (in every block where the id appears).

        Raises
        ------
        KeyError
            If a key is not a transform name (or a channel id) of the set.
        ValueError
            If renaming would make two transforms or two channels of a block share a name.
        """
        new_transforms = list(self._transforms)
        for old, new in (transforms or {}).items():
            if old not in self._transforms:
                raise KeyError(f"cannot rename transform {old!r}: not in this set (has {self._transforms})")
            new_transforms[self._transforms.index(old)] = new
        new_transforms = _validate_transforms(new_transforms)
        channel_map = self._channel_map()
        if channels:
            all_channels = set().union(*(set(c.tolist()) for c in channel_map.values()))
            missing = [c for c in channels if c not in all_channels]
            if missing:
                raise KeyError(f"cannot rename channel(s) {missing}: not in this set")
            for block, values in channel_map.items():
                renamed = np.array([channels.get(c, c) for c in values.tolist()], dtype=values.dtype.type)
                channel_map[block] = _validate_channels(renamed, values.dtype.type, block)
        self._transforms = new_transforms
        self._channels = {b: channel_map[b] for b in self._coos}
        self._views = {}

    @abstractmethod
    def best_transforms(self) -> list[ExpressionPoint] | tuple[list[ExpressionPoint], ...]:
        """The best transform and latency of every channel; channels whose best p-value is 1 are omitted."""

    def copy(self) -> Self:
        """A deep copy."""
        return _copy.deepcopy(self)

    def __copy__(self) -> Self:
        return self.copy()

    def __deepcopy__(self, memo) -> Self:
        coos = {b: self.coo(b).copy() for b in self._coos}
        return self._with_blocks(self.transforms, self._latencies.copy(), self._channel_map(), coos)

    def __getitem__(self, transforms: str | Sequence[str]) -> Self:
        """The subset of the given transform(s), in the set's own transform order."""
        wanted = [transforms] if isinstance(transforms, str) else list(transforms)
        missing = [t for t in wanted if t not in self._transforms]
        if missing:
            raise KeyError(f"transform(s) {missing} not in this set (has {self._transforms})")
        wanted_set = set(wanted)
        indices = np.array([i for i, t in enumerate(self._transforms) if t in wanted_set], dtype=np.intp)
        coos = {b: _take(self.coo(b), 2, indices) for b in self._coos}
        return self._with_blocks([self._transforms[i] for i in indices], self._latencies, self._channel_map(), coos)

    def __add__(self, other: ExpressionSet) -> Self:
        return combine([self, other])

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        assert isinstance(other, ExpressionSet)
        if self._transforms != other._transforms or not np.array_equal(self._latencies, other._latencies):
            return False
        if list(self._coos) != list(other._coos):
            return False
        for b in self._coos:
            if not np.array_equal(self.channels(b), other.channels(b)):
                return False
            a, c = self.coo(b), other.coo(b)
            if not (np.array_equal(a.coords, c.coords) and np.array_equal(a.data, c.data)):
                return False
        return self._extra_equal(other)

    def _extra_equal(self, other: ExpressionSet) -> bool:
        return True

    __hash__ = None  # mutable (rename), so unhashable

    def __repr__(self) -> str:
        blocks = ", ".join(f"{b}: {len(self.channels(b))} channels" for b in self._coos)
        return (
            f"{type(self).__name__}({len(self._transforms)} transform(s), {len(self._latencies)} latencies, {blocks})"
        )

    def _channel_map(self) -> dict[str, NDArray]:
        return {b: self.channels(b) for b in self._coos}

    def best_points(
        self,
        block: str,
        transforms: Sequence[str] | None = None,
        latency_range: tuple[float | None, float | None] | None = None,
        *,
        per_transform: bool = False,
    ) -> BestPoints:
        """The best point of each channel of one block, as arrays.

        A channel's best point is its smallest log10 p; ties go to the earlier transform in the
        set's order, then to the earlier latency (see :mod:`kymata_core.entities.best_points`).
        Only values below 0 count: channels whose best p-value is 1 (or, for values above 0, more)
        are omitted.

        Parameters
        ----------
        block : str
            The block's name (``"left"``, ``"right"`` or ``"scalp"``).
        transforms : sequence of str, optional
            Choose only among these transforms (default all).
        latency_range : (float or None, float or None), optional
            Consider only latencies in this window (seconds, inclusive; None for an open end).
        per_transform : bool
            The best point of every transform of each channel (its best latency), instead of the
            channel's one best point.

        Returns
        -------
        BestPoints
            In block channel order (then in transform order, with ``per_transform``).

        Raises
        ------
        ValueError
            If a name in ``transforms`` is not a transform of the set.
        """
        coo = self.coo(block)
        c, lat, t = coo.coords
        v = coo.data
        keep = v < 0
        if transforms is not None:
            wanted = np.isin(np.arange(len(self._transforms)), [self._transforms.index(x) for x in transforms])
            keep &= wanted[t]
        if latency_range is not None:
            in_window = np.ones(len(self._latencies), dtype=bool)
            if latency_range[0] is not None:
                in_window &= self._latencies >= latency_range[0]
            if latency_range[1] is not None:
                in_window &= self._latencies <= latency_range[1]
            keep &= in_window[lat]
        kept = np.flatnonzero(keep)
        if kept.size == 0:
            return BestPoints.empty()
        chosen = kept[best_entries(c[kept], lat[kept], t[kept], v[kept], per_transform=per_transform)]
        return BestPoints(
            channels=self._channels[block][c[chosen]].astype(object),
            latencies=self._latencies[lat[chosen]].astype(np.float64),
            transforms=np.asarray(self._transforms, dtype=object)[t[chosen]],
            logps=v[chosen],
        )

    def _best_points(self, block: str) -> list[ExpressionPoint]:
        """Best points of one block (see :meth:`best_points`) as ExpressionPoints."""
        found = self.best_points(block)
        return [ExpressionPoint(*row) for row in found.rows()]


class HexelExpressionSet(ExpressionSet):
    """Expression evidence in cortical source space (hexels), in a left and a right hemisphere.

    Parameters
    ----------
    transforms : str or sequence of str
    hexels_lh, hexels_rh : sequence of int
        Hexel (vertex) ids of the left and right hemispheres.
    latencies : sequence of float
        Seconds.
    data_lh, data_rh : array or sequence of arrays
        Log10 p-values, as for :class:`ExpressionSet`.

    Notes
    -----
    **One-hemisphere sets (shards).** Either hemisphere may have no hexels: pass an empty
    ``hexels_rh`` and ``data_rh=None`` for a left-hemisphere-only set. The workflow's gridsearch
    writes such shards (one per transform and hemisphere), and :func:`combine` merges the left and
    right shards of a transform into one set, since each (hemisphere, transform) pair then comes
    from exactly one input.
    """

    def __init__(
        self,
        transforms: str | Sequence[str],
        hexels_lh: Sequence[int],
        hexels_rh: Sequence[int],
        latencies: Sequence[Latency],
        data_lh: _InputDataArray | Sequence[_InputDataArray] | None,
        data_rh: _InputDataArray | Sequence[_InputDataArray] | None,
    ):
        super().__init__(
            transforms=transforms,
            latencies=latencies,
            data_blocks={BLOCK_LEFT: data_lh, BLOCK_RIGHT: data_rh},
            channel_coord_name=DIM_HEXEL,
            channel_coord_dtype=HexelDType,
            channel_coord_values={BLOCK_LEFT: hexels_lh, BLOCK_RIGHT: hexels_rh},
        )

    def _with_blocks(self, transforms, latencies, channels, coos) -> HexelExpressionSet:
        with warnings.catch_warnings():  # positive values were reported when this set was built
            warnings.simplefilter("ignore", PositiveLogPWarning)
            return HexelExpressionSet(
                transforms,
                channels[BLOCK_LEFT],
                channels[BLOCK_RIGHT],
                latencies,
                coos[BLOCK_LEFT],
                coos[BLOCK_RIGHT],
            )

    @property
    def hexels_left(self) -> NDArray[HexelDType]:
        """Hexel ids of the left hemisphere."""
        return self.channels(BLOCK_LEFT)

    @property
    def hexels_right(self) -> NDArray[HexelDType]:
        """Hexel ids of the right hemisphere."""
        return self.channels(BLOCK_RIGHT)

    @property
    def left(self) -> xr.DataArray:
        """Left-hemisphere data (hexel, latency, transform)."""
        return self.block(BLOCK_LEFT)

    @property
    def right(self) -> xr.DataArray:
        """Right-hemisphere data (hexel, latency, transform)."""
        return self.block(BLOCK_RIGHT)

    def best_transforms(self) -> tuple[list[ExpressionPoint], list[ExpressionPoint]]:
        """For each hexel, its best transform, latency and log10 p, as a pair (left, right) of lists.

        For each channel, the transform whose minimum over latencies is smallest wins (the
        earliest in the set's transform order on a tie), at the earliest latency reaching that
        minimum. Only values below 0 count: channels whose best p-value is 1 (or, for values
        above 0, more) are omitted.
        """
        return self._best_points(BLOCK_LEFT), self._best_points(BLOCK_RIGHT)


class SensorExpressionSet(ExpressionSet):
    """Expression evidence in sensor space (MEG and/or EEG sensors), in one ``scalp`` block.

    Parameters
    ----------
    transforms : str or sequence of str
    sensors : sequence of str
        Sensor names.
    latencies : sequence of float
        Seconds.
    data : array or sequence of arrays
        Log10 p-values, as for :class:`ExpressionSet`.
    sensor_layout : SensorLayout, optional
        The MEG/EEG layouts of the recording. None means not known. A warning is raised when
        sensors of the set are not in the layout (names are matched the MNE way, see
        :func:`kymata_core.io.layouts.match_layout_names`).
    sensor_sides : mapping, optional
        Keyword only. Sensor name to the side of the head it is on: ``"left"``, ``"right"`` or
        ``"midline"`` (e.g. from :func:`kymata_core.io.sensors.sensor_sides`). Sensors left out
        have no known side; None (or an empty mapping) means no side is known. Kept by every
        operation that makes a new set from this one.

    Raises
    ------
    ValueError
        As for :class:`ExpressionSet`; or ``sensor_sides`` names a sensor that is not in the set
        or a side other than the three above.
    """

    def __init__(
        self,
        transforms: str | Sequence[str],
        sensors: Sequence[str],
        latencies: Sequence[Latency],
        data: _InputDataArray | Sequence[_InputDataArray],
        sensor_layout: SensorLayout | None = None,
        *,
        sensor_sides: Mapping[str, Side] | None = None,
    ):
        super().__init__(
            transforms=transforms,
            latencies=latencies,
            data_blocks={BLOCK_SCALP: data},
            channel_coord_name=DIM_SENSOR,
            channel_coord_dtype=SensorDType,
            channel_coord_values={BLOCK_SCALP: sensors},
        )
        if sensor_layout is not None and not isinstance(sensor_layout, SensorLayout):
            raise TypeError(f"sensor_layout must be a SensorLayout or None, got {type(sensor_layout).__name__}")
        self._sensor_layout = sensor_layout
        self._sensor_sides = _validate_sides(sensor_sides, self.sensors)
        if sensor_layout is not None:
            _warn_if_sensors_not_in_layout(self.sensors, sensor_layout)

    def _with_blocks(self, transforms, latencies, channels, coos) -> SensorExpressionSet:
        with warnings.catch_warnings():  # layout and positive values were reported when this set was built
            warnings.simplefilter("ignore")
            return SensorExpressionSet(
                transforms,
                channels[BLOCK_SCALP],
                latencies,
                coos[BLOCK_SCALP],
                sensor_layout=self._sensor_layout,
                sensor_sides=self._sensor_sides,
            )

    def rename(self, transforms: dict[str, str] | None = None, channels: dict | None = None) -> None:
        """Rename transforms and/or sensors in place (see :meth:`ExpressionSet.rename`); sides follow their sensors."""
        super().rename(transforms, channels)
        if channels and self._sensor_sides is not None:
            self._sensor_sides = {channels.get(s, s): side for s, side in self._sensor_sides.items()}

    @property
    def sensors(self) -> NDArray[SensorDType]:
        """Sensor names."""
        return self.channels(BLOCK_SCALP)

    @property
    def scalp(self) -> xr.DataArray:
        """The data (sensor, latency, transform)."""
        return self.block(BLOCK_SCALP)

    @property
    def sensor_layout(self) -> SensorLayout | None:
        """The recording's sensor layout, if known."""
        return self._sensor_layout

    @property
    def sensor_sides(self) -> Mapping[str, Side] | None:
        """Sensor name to ``"left"``, ``"right"`` or ``"midline"`` (a read-only view), or None if not known.

        Only sensors with a known side are keys, in the set's sensor order.
        """
        return None if self._sensor_sides is None else MappingProxyType(self._sensor_sides)

    def best_transforms(self) -> list[ExpressionPoint]:
        """For each sensor, its best transform, latency and log10 p.

        Same rule as :meth:`HexelExpressionSet.best_transforms`; sensors whose best p-value is 1
        are omitted.
        """
        return self._best_points(BLOCK_SCALP)

    def _extra_equal(self, other: ExpressionSet) -> bool:
        assert isinstance(other, SensorExpressionSet)
        return self._sensor_layout == other._sensor_layout and self._sensor_sides == other._sensor_sides


# --- module functions ---------------------------------------------------------------------------


def combine(expression_sets: Sequence[ExpressionSet], *, names: Sequence[str] | None = None) -> ExpressionSet:
    """Combine ExpressionSets of one kind into a single set, in time linear in their number.

    Every input must have the same type and latencies. A block's channels must be the same in
    every input in which that block is not empty. The result holds the union of the transforms,
    in order of first appearance, and each (block, transform) pair must come from exactly one
    input: so sets of different transforms over the same channels combine (the usual case), and
    so do the one-hemisphere shards of one transform (see :class:`HexelExpressionSet`).

    Parameters
    ----------
    expression_sets : sequence of ExpressionSet
    names : sequence of str, optional
        A name for each set (e.g. its file), used in error messages; default "set 0", "set 1", …

    Sensor sets keep their layout and the union of their known sensor sides.

    Raises
    ------
    ValueError
        If the sets cannot be combined: mixed types, different latencies or channels, a
        (block, transform) given twice or not at all, conflicting sensor layouts, or a sensor
        given different sides by two sets.
    """
    sets = list(expression_sets)
    if not sets:
        raise ValueError("combine needs at least one ExpressionSet")
    label = list(names) if names is not None else [f"set {i}" for i in range(len(sets))]
    if len(label) != len(sets):
        raise ValueError(f"{len(label)} names for {len(sets)} sets")
    first = sets[0]
    for i, es in enumerate(sets):
        if type(es) is not type(first):
            raise ValueError(
                f"cannot combine a {type(es).__name__} ({label[i]}) with a {type(first).__name__} ({label[0]})"
            )
        if not np.array_equal(es._latencies, first._latencies):
            raise ValueError(
                f"{label[i]} has different latencies ({len(es._latencies)} from {es._latencies[0]} s) than "
                f"{label[0]} ({len(first._latencies)} from {first._latencies[0]} s)"
            )
    layouts = {es.sensor_layout for es in sets if isinstance(es, SensorExpressionSet)} - {None}
    if len(layouts) > 1:
        raise ValueError(f"cannot combine sets with different sensor layouts: {sorted(map(str, layouts))}")
    sides = _merged_sides(sets, label) if isinstance(first, SensorExpressionSet) else None

    transforms: list[str] = []
    index: dict[str, int] = {}
    for es in sets:
        for t in es._transforms:
            if t not in index:
                index[t] = len(transforms)
                transforms.append(t)

    channels: dict[str, NDArray] = {}
    coos: dict[str, sparse.COO] = {}
    for block in first.block_names:
        providers = [(i, es) for i, es in enumerate(sets) if len(es.channels(block)) > 0]
        if not providers:
            channels[block] = first.channels(block)
            coos[block] = empty_coo((0, len(first._latencies), len(transforms)))
            continue
        reference_i, reference = providers[0]
        block_channels = reference.channels(block)
        owner: dict[int, int] = {}
        coords, data = [], []
        for i, es in providers:
            if not np.array_equal(es.channels(block), block_channels):
                raise ValueError(
                    f"{label[i]} has different {block} channels ({len(es.channels(block))}) "
                    f"than {label[reference_i]} ({len(block_channels)})"
                )
            mapping = np.array([index[t] for t in es._transforms], dtype=np.int64)
            for t_new in mapping.tolist():
                if t_new in owner:
                    raise ValueError(
                        f"transform {transforms[t_new]!r} appears in both {label[owner[t_new]]} and {label[i]} "
                        f"for block {block!r}"
                    )
                owner[t_new] = i
            coo = es.coo(block)
            c = coo.coords.copy()
            c[2] = mapping[c[2]]
            coords.append(c)
            data.append(coo.data)
        missing = [transforms[t] for t in range(len(transforms)) if t not in owner]
        if missing:
            raise ValueError(f"no set provides block {block!r} for transform(s) {missing}")
        channels[block] = block_channels
        coos[block] = make_coo(
            np.concatenate(coords, axis=1),
            np.concatenate(data),
            (len(block_channels), len(first._latencies), len(transforms)),
        )
    combined = first._with_blocks(transforms, first._latencies, channels, coos)
    if isinstance(combined, SensorExpressionSet):
        combined._sensor_sides = sides  # merged from validated sets over these same sensors
    return combined


def _merged_sides(sets: Sequence[ExpressionSet], label: Sequence[str]) -> dict[str, Side] | None:
    """The union of the sets' known sensor sides; ValueError where two sets disagree."""
    merged: dict[str, Side] = {}
    source: dict[str, int] = {}
    for i, es in enumerate(sets):
        for sensor, side in (es.sensor_sides or {}).items():
            if sensor in merged and merged[sensor] != side:
                raise ValueError(
                    f"cannot combine sets that put sensor {sensor!r} on different sides: "
                    f"{merged[sensor]!r} in {label[source[sensor]]}, {side!r} in {label[i]}"
                )
            merged.setdefault(sensor, side)
            source.setdefault(sensor, i)
    if not merged:
        return None
    order = {s: k for k, s in enumerate(sets[0].channels(BLOCK_SCALP).tolist())}
    return dict(sorted(merged.items(), key=lambda item: order[item[0]]))


def get_n_channels(es: ExpressionSet) -> int:
    """The number of channels in an ExpressionSet, summed over its blocks."""
    return sum(len(es.channels(b)) for b in es.block_names)


def get_n_comparisons(es: ExpressionSet, transforms: Sequence[str] | None = None) -> int:
    """How many tests a significance threshold over ``es`` corrects for.

    Parameters
    ----------
    es : ExpressionSet
    transforms : sequence of str, optional
        The transforms tested (default all of the set's).

    Returns
    -------
    int
        channels (summed over blocks) × latencies × transforms; see
        :func:`kymata_core.math.probability.sidak_logp_threshold`.
    """
    n_transforms = len(es.transforms) if transforms is None else len(transforms)
    return get_n_channels(es) * len(es.latencies) * n_transforms


def group_points_by_transform(points: Iterable[ExpressionPoint]) -> GroupedPoints:
    """Group expression points by transform, keeping first-appearance order of transforms and points."""
    grouped: GroupedPoints = {}
    for point in points:
        grouped.setdefault(point.transform, []).append(point)
    return grouped


# --- validation and conversion ------------------------------------------------------------------


def _validate_transforms(transforms: str | Sequence[str]) -> list[str]:
    names = [transforms] if isinstance(transforms, str) else list(transforms)
    if not names:
        raise ValueError("an ExpressionSet needs at least one transform")
    for name in names:
        if not isinstance(name, str | np.str_) or not name:
            raise ValueError(f"transform names must be non-empty strings, got {name!r}")
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate transform name(s): {duplicates}")
    return names


def _validate_latencies(latencies: Sequence[Latency]) -> NDArray[LatencyDType]:
    try:
        values = np.array(latencies, dtype=LatencyDType)
    except (TypeError, ValueError) as e:
        raise ValueError(f"latencies must be numbers: {e}") from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"latencies must be a non-empty 1-D sequence, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("latencies must be finite")
    if values.size > 1 and not np.all(np.diff(values) > 0):
        raise ValueError("latencies must be strictly increasing")
    return values


def _validate_channels(values: Sequence, dtype, block: str) -> NDArray:
    try:
        channels = np.array(values, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"block {block!r}: channel ids are not of type {np.dtype(dtype).name}: {e}") from None
    if channels.ndim != 1:
        channels = channels.reshape(-1)
    if np.unique(channels).size != channels.size:
        raise ValueError(f"block {block!r}: channel ids are not unique")
    return channels


@dataclass(frozen=True)
class _ValueCounts:
    """How many NaNs and how many values above 0 one input held."""

    nans: int = 0
    positives: int = 0

    def __add__(self, other: _ValueCounts) -> _ValueCounts:
        return _ValueCounts(self.nans + other.nans, self.positives + other.positives)


def _count_values(values: NDArray) -> _ValueCounts:
    return _ValueCounts(nans=int(np.isnan(values).sum()), positives=int((values > 0).sum()))


def _warn_about_values(counts: _ValueCounts) -> None:
    """One warning for NaNs and one for values above 0, for a whole set (stack: caller → subclass → here)."""
    if counts.nans:
        warnings.warn(
            f"{counts.nans} NaN log10 p-value(s) were stored as 0 (p = 1)", RuntimeWarning, stacklevel=4
        )
    if counts.positives:
        warnings.warn(
            f"{counts.positives} log10 p-value(s) are above 0 (p > 1) and are kept as given; "
            "were p-values passed instead of their log10?",
            PositiveLogPWarning,
            stacklevel=4,
        )


def _to_coo(data: Any, shape: tuple[int, int, int], block: str) -> tuple[sparse.COO, _ValueCounts]:
    """Convert one block's input to a canonical COO array, counting NaNs (which become fill) and values above 0."""
    n_channels, n_latencies, n_transforms = shape
    if data is None:
        if n_channels:
            raise ValueError(f"block {block!r}: no data given for {n_channels} channels")
        return empty_coo(shape), _ValueCounts()
    if isinstance(data, list | tuple):
        if len(data) != n_transforms:
            raise ValueError(f"block {block!r}: {len(data)} data arrays for {n_transforms} transforms")
        parts = [_to_coo(_with_transform_axis(d), (n_channels, n_latencies, 1), block) for d in data]
        coords = []
        counts = _ValueCounts()
        for t, (part, part_counts) in enumerate(parts):
            c = part.coords.copy()
            c[2] = t
            coords.append(c)
            counts += part_counts
        coo = make_coo(np.concatenate(coords, axis=1), np.concatenate([p.data for p, _ in parts]), shape)
        return coo, counts
    data = _with_transform_axis(data) if n_transforms == 1 else data
    if isinstance(data, sparse.SparseArray):
        return _sparse_to_coo(data, shape, block)
    return _dense_to_coo(np.asarray(data), shape, block)


def _with_transform_axis(data: Any) -> Any:
    if getattr(data, "ndim", None) == 2:
        return data[:, :, None]
    return data


def _check_shape(actual: tuple, shape: tuple, block: str) -> None:
    if tuple(actual) != tuple(shape):
        raise ValueError(
            f"block {block!r}: data shape {tuple(actual)} does not match (channels, latencies, transforms) = {shape}"
        )


def _dense_to_coo(
    values: NDArray, shape: tuple[int, int, int], block: str
) -> tuple[sparse.COO, _ValueCounts]:
    _check_shape(values.shape, shape, block)
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"block {block!r}: data must be numeric, got dtype {values.dtype}")
    values = values.astype(LogPDType, copy=False)
    counts = _count_values(values)
    if counts.nans:
        values = np.where(np.isnan(values), 0.0, values)  # a new array: the caller's is left alone
    if 0 in shape:
        return empty_coo(shape), counts
    best_latency = np.argmin(values, axis=1)  # (channel, transform): first latency at the minimum
    best_value = np.take_along_axis(values, best_latency[:, None, :], axis=1)[:, 0, :]
    # a row's minimum is kept even when it is above 0 (as the reference does); 0 is the fill value
    channel, transform = np.nonzero(best_value != 0)
    coords = np.stack([channel, best_latency[channel, transform], transform]).astype(np.int64)
    return make_coo(coords, best_value[channel, transform], shape), counts


def _sparse_to_coo(
    array: sparse.SparseArray, shape: tuple[int, int, int], block: str
) -> tuple[sparse.COO, _ValueCounts]:
    coo = sparse.COO(array) if not isinstance(array, sparse.COO) else array
    _check_shape(coo.shape, shape, block)
    if not (coo.fill_value == 0):
        raise ValueError(f"block {block!r}: sparse data must have fill value 0 (p = 1), got {coo.fill_value}")
    values = coo.data.astype(LogPDType, copy=True)
    counts = _count_values(values)
    values[np.isnan(values)] = 0.0
    keep = values != 0
    return make_coo(coo.coords[:, keep], values[keep], shape), counts


def _take(coo: sparse.COO, axis: int, indices: NDArray[np.intp]) -> sparse.COO:
    """Select ``indices`` (ascending) along ``axis`` of a COO array."""
    new_index = np.full(coo.shape[axis], -1, dtype=np.int64)
    new_index[indices] = np.arange(len(indices))
    mapped = new_index[coo.coords[axis]]
    keep = mapped >= 0
    coords = coo.coords[:, keep].copy()
    coords[axis] = mapped[keep]
    shape = list(coo.shape)
    shape[axis] = len(indices)
    return make_coo(coords, coo.data[keep], tuple(shape), is_sorted=True)


_SIDES = frozenset(SIDES)


def _validate_sides(sides: Mapping[str, Side] | None, sensors: NDArray) -> dict[str, Side] | None:
    """The sides as a dict in sensor order, or None when none is given; ValueError on a bad entry."""
    if sides is None:
        return None
    if not isinstance(sides, Mapping):
        raise TypeError(f"sensor_sides must be a mapping of sensor name to side, got {type(sides).__name__}")
    bad = {s: side for s, side in sides.items() if side not in _SIDES}
    if bad:
        raise ValueError(
            f"sensor_sides: unknown side(s) {dict(list(bad.items())[:5])}; a side is one of {sorted(_SIDES)}"
        )
    names = sensors.tolist()
    known = set(names)
    unknown = [s for s in sides if s not in known]
    if unknown:
        raise ValueError(
            f"sensor_sides names {len(unknown)} sensor(s) that are not in the set: {unknown[:5]}"
            + (" …" if len(unknown) > 5 else "")
        )
    ordered = {s: str(sides[s]) for s in names if s in sides}
    return ordered or None


def _warn_if_sensors_not_in_layout(sensors: NDArray, layout: SensorLayout) -> None:
    unknown = sensors_not_in_layout(sensors.tolist(), layout)
    if unknown:
        warnings.warn(
            f"{len(unknown)} sensor(s) are not in the layout {layout}: {unknown[:5]}"
            + (" …" if len(unknown) > 5 else ""),
            UserWarning,
            stacklevel=3,
        )
