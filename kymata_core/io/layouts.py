"""Sensor layouts: which MEG and EEG sensor arrays a sensor-space ExpressionSet was recorded with.

The value types (:class:`SensorLayout`, :class:`MEGLayout`, :class:`EEGLayout`) are defined in
:mod:`kymata_core.entities.sensor_layout` and the sides of the head in
:mod:`kymata_core.entities.hemispheres`; they are re-exported here. This module reads what each
named layout holds.

Positions come from the layouts MNE-Python ships, so no layout data is kept in this project:

========================  ====================================================================
layout                    source and sensor names
========================  ====================================================================
MEG ``Vectorview``        ``mne.channels.read_layout("Vectorview-all")``: 306 sensors. MNE's
                          layout names them ``"MEG 0113"``; they are normalised to the names
                          MNE gives the channels of Vectorview/TRIUX evoked files, ``"MEG0113"``.
MEG ``CTF275``            ``read_layout("CTF-275")``: 275 sensors. The layout's system suffix is
                          dropped (``"MLC11-2622"`` -> ``"MLC11"``), which is how MNE names the
                          channels when reading with ``mne.io.read_raw_ctf(..., clean_names=True)``.
MEG ``KIT-AD``            ``read_layout("KIT-AD")``: 208 sensors named ``"MEG 001"`` … as MNE's
                          KIT reader names them (kept unchanged, with the space).
EEG ``Easycap``           ``mne.channels.make_standard_montage("easycap-M1")``: 74 electrodes
                          named by the 10-10 system (``"Fp1"``, ``"Cz"``, …), projected to 2-D
                          (azimuthal equidistant projection about the vertex). Vectorview-style
                          recordings number their EEG channels ``"EEG001"`` … ``"EEG074"``; those
                          names are accepted as Easycap sensors by :func:`sensor_names_in_layout`
                          but have no default position or hemisphere (their positions are in the
                          recording's own digitisation, which the evoked file carries).
========================  ====================================================================

Positions are in arbitrary 2-D units with the head centred on x = 0 (left negative, right
positive) and the nose towards +y; MEG and EEG positions are each scaled so that their x spans
[-1, 1]. All results are cached.

The names above are each layout's own; a recording's channel names are matched to them after
:func:`kymata_core.io.sensors.normalise_channel_name` (MNE's cleaning: ``"MEG 0113"`` and
``"MEG0113"``, ``"EEG 001"`` and ``"EEG001"``, ``"MLC53-2908"`` and ``"MLC53"`` are the same
sensor), by :func:`match_layout_names`, :func:`layout_sides` and :func:`layout_positions`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from types import MappingProxyType

import numpy as np

from kymata_core.entities.hemispheres import Side, side_of_x
from kymata_core.entities.sensor_layout import EEGLayout, MEGLayout, SensorLayout, register_layout_lookup

Hemisphere = Side
"""The side of the head a sensor is on (:data:`kymata_core.entities.hemispheres.Side`, by its former name)."""

_MNE_MEG_LAYOUT_NAMES = {
    MEGLayout.Vectorview: "Vectorview-all",
    MEGLayout.CTF275: "CTF-275",
    MEGLayout.KIT_AD: "KIT-AD",
}
_MNE_EEG_MONTAGE_NAMES = {EEGLayout.Easycap: "easycap-M1"}
_NUMBERED_EEG_NAMES = frozenset(f"EEG{i:03d}" for i in range(1, 75))
# A sensor is on the midline when |x| is below this fraction of the layout's half-width.
_MIDLINE_TOLERANCE = 0.01


def _normalise_meg_name(layout: MEGLayout, name: str) -> str:
    if layout is MEGLayout.Vectorview:
        return name.replace(" ", "")
    if layout is MEGLayout.CTF275:
        return name.split("-")[0]
    return name


def _centred(xy: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Shift x to be centred on 0 and scale so that x spans [-1, 1] (y scaled alike)."""
    points = np.array(list(xy.values()), dtype=np.float64)
    x_centre = (points[:, 0].min() + points[:, 0].max()) / 2
    y_centre = (points[:, 1].min() + points[:, 1].max()) / 2
    half_width = (points[:, 0].max() - points[:, 0].min()) / 2 or 1.0
    return {
        name: (float((x - x_centre) / half_width), float((y - y_centre) / half_width))
        for name, (x, y) in xy.items()
    }


def _box_centres(mne_layout_name: str, layout: MEGLayout) -> dict[str, tuple[float, float]]:
    """Centre of each sensor's box in one of MNE's layout files, under this project's sensor names."""
    import mne

    mne_layout = mne.channels.read_layout(mne_layout_name)
    centres = mne_layout.pos[:, :2] + mne_layout.pos[:, 2:4] / 2  # the layout stores boxes
    return {
        _normalise_meg_name(layout, name): (float(x), float(y))
        for name, (x, y) in zip(mne_layout.names, centres, strict=True)
    }


@cache
def _meg_positions(layout: MEGLayout) -> MappingProxyType:
    return MappingProxyType(_centred(_box_centres(_MNE_MEG_LAYOUT_NAMES[layout], layout)))


@cache
def _meg_side_x(layout: MEGLayout) -> MappingProxyType:
    """x of the place on the helmet that each MEG sensor of the layout measures, for its side.

    Vectorview-all draws the three sensors of one location side by side (the two gradiometers
    left of the magnetometer), which would put the gradiometers and the magnetometer of a midline
    location on opposite sides; so Vectorview sensors take the x of their location, from
    MNE's Vectorview-mag layout (one box per location, named by its magnetometer ``MEGxxx1``).
    """
    if layout is not MEGLayout.Vectorview:
        return MappingProxyType({name: x for name, (x, _) in _meg_positions(layout).items()})
    locations = _centred(_box_centres("Vectorview-mag", layout))
    return MappingProxyType({name: locations[name[:-1] + "1"][0] for name in _meg_positions(layout)})


@cache
def _eeg_positions(layout: EEGLayout) -> MappingProxyType:
    import mne

    montage = mne.channels.make_standard_montage(_MNE_EEG_MONTAGE_NAMES[layout])
    xy = {}
    for name, (x, y, z) in montage.get_positions()["ch_pos"].items():
        # azimuthal equidistant projection about the vertex: distance = polar angle from +z
        polar = np.arctan2(np.hypot(x, y), z)
        azimuth = np.arctan2(y, x)
        xy[name] = (float(polar * np.cos(azimuth)), float(polar * np.sin(azimuth)))
    return MappingProxyType(_centred_on_zero(xy))


def _centred_on_zero(xy: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Scale so that x spans [-1, 1] without moving the origin (the montage is already centred)."""
    half_width = max(abs(x) for x, _ in xy.values()) or 1.0
    return {name: (x / half_width, y / half_width) for name, (x, y) in xy.items()}


def get_layout_positions(layout: SensorLayout) -> dict[str, tuple[float, float]]:
    """2-D position of every sensor of the layout that has a default position.

    Parameters
    ----------
    layout : SensorLayout

    Returns
    -------
    dict
        Sensor name (as MNE names the channels of evoked files; see the module docstring) to
        ``(x, y)``, left hemisphere at negative x, nose at positive y. MEG sensors first.
    """
    positions: dict[str, tuple[float, float]] = {}
    if layout.meg is not None:
        positions.update(_meg_positions(layout.meg))
    if layout.eeg is not None:
        positions.update(_eeg_positions(layout.eeg))
    return positions


@cache
def sensor_names_in_layout(layout: SensorLayout) -> frozenset[str] | None:
    """Names of every sensor in the layout, or None when the layout has neither MEG nor EEG sensors.

    Includes the numbered EEG names ``EEG001`` … ``EEG074`` for an EEG layout (see the module
    docstring). Used by :class:`~kymata_core.entities.expression.SensorExpressionSet` to warn
    about sensors that are not in the layout.
    """
    if layout.meg is None and layout.eeg is None:
        return None
    names = set(get_layout_positions(layout))
    if layout.eeg is not None:
        names |= _NUMBERED_EEG_NAMES
    return frozenset(names)


def get_sensor_hemispheres(layout: SensorLayout) -> dict[str, Side]:
    """Which side of the head each positioned sensor of the layout is on.

    A sensor is ``"midline"`` when its x is within 1 % of the layout's half-width of the centre,
    otherwise ``"left"`` (x < 0) or ``"right"`` (x > 0). MEG and EEG are judged each against
    their own centre. A Vectorview sensor takes the side of its location (the three sensors of a
    location share one side; see :func:`_meg_side_x`). Sensors without a default position
    (numbered EEG names) are not included. Keys are the layout's names, as in
    :func:`get_layout_positions`; use :func:`layout_sides` for a recording's channel names.
    """
    return dict(_hemispheres(layout))


@cache
def _hemispheres(layout: SensorLayout) -> MappingProxyType:
    side_x: dict[str, float] = {}
    if layout.meg is not None:
        side_x.update(_meg_side_x(layout.meg))
    if layout.eeg is not None:
        side_x.update({name: x for name, (x, _) in _eeg_positions(layout.eeg).items()})
    return MappingProxyType({name: side_of_x(x, _MIDLINE_TOLERANCE) for name, x in side_x.items()})


# --- matching a recording's channel names -------------------------------------------------------


@cache
def _normalised_index(layout: SensorLayout) -> MappingProxyType:
    """Normalised name -> the layout's name, for every sensor name of the layout."""
    from kymata_core.io.sensors import normalise_channel_name

    return MappingProxyType({normalise_channel_name(n): n for n in sensor_names_in_layout(layout) or ()})


def match_layout_names(names: Iterable[str], layout: SensorLayout) -> dict[str, str]:
    """Which of a recording's channel names are sensors of the layout, matched the MNE way.

    Names are compared after :func:`kymata_core.io.sensors.normalise_channel_name`, so that
    ``"MEG 0113"`` and ``"MEG0113"``, ``"EEG 001"`` and ``"EEG001"``, ``"MLC53-2908"`` and
    ``"MLC53"`` match. As MNE does, names that normalise to the same name as another of the given
    names are ambiguous and match nothing.

    Parameters
    ----------
    names : iterable of str
        Channel names as the recording (or a SensorExpressionSet) has them.
    layout : SensorLayout

    Returns
    -------
    dict
        Given name to the layout's name for it (as in :func:`sensor_names_in_layout`), for the
        names that are in the layout, in the given order.
    """
    from kymata_core.io.sensors import normalise_channel_name

    names = [str(n) for n in names]
    normalised = [normalise_channel_name(n) for n in names]
    counts = Counter(normalised)
    index = _normalised_index(layout)
    return {
        name: index[norm]
        for name, norm in zip(names, normalised, strict=True)
        if norm in index and counts[norm] == 1
    }


def _sensors_not_in_layout(names: Sequence[str], layout: SensorLayout) -> list[str]:
    """The given names that are not sensors of the layout (none when it names no sensors), in order."""
    if sensor_names_in_layout(layout) is None:
        return []
    matched = match_layout_names(names, layout)
    return [name for name in names if name not in matched]


# SensorExpressionSet warns about sensors not in its layout through this (entities read no files).
register_layout_lookup(_sensors_not_in_layout)


def layout_sides(names: Iterable[str], layout: SensorLayout) -> dict[str, Side]:
    """The side of each of a recording's channels that the layout places (see :func:`get_sensor_hemispheres`).

    Parameters
    ----------
    names : iterable of str
        Channel names, matched as by :func:`match_layout_names`.
    layout : SensorLayout

    Returns
    -------
    dict
        Given name to ``"left"``, ``"right"`` or ``"midline"``, for the names that the layout
        has a position for (numbered EEG names have none), in the given order.
    """
    hemispheres = _hemispheres(layout)
    matched = match_layout_names(names, layout)
    return {name: hemispheres[ours] for name, ours in matched.items() if ours in hemispheres}


def layout_positions(names: Iterable[str], layout: SensorLayout) -> dict[str, tuple[float, float]]:
    """The 2-D layout position (see :func:`get_layout_positions`) of each of a recording's channels.

    Parameters
    ----------
    names : iterable of str
        Channel names, matched as by :func:`match_layout_names`.
    layout : SensorLayout

    Returns
    -------
    dict
        Given name to ``(x, y)``, for the names the layout has a position for, in the given order.
    """
    positions = get_layout_positions(layout)
    matched = match_layout_names(names, layout)
    return {name: positions[ours] for name, ours in matched.items() if ours in positions}
