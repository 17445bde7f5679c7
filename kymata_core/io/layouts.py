"""Sensor layouts: which MEG and EEG sensor arrays a sensor-space ExpressionSet was recorded with.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Literal

import numpy as np


class MEGLayout(StrEnum):
    """MEG sensor layouts, under the names the ``.nkg`` format stores."""

    Vectorview = "Vectorview"
    CTF275 = "CTF275"
    KIT_AD = "KIT-AD"


class EEGLayout(StrEnum):
    """EEG sensor layouts, under the names the ``.nkg`` format stores."""

    Easycap = "Easycap"


@dataclass(frozen=True)
class SensorLayout:
    """The MEG and EEG layouts of a recording; either may be None (not recorded or not known).

    Parameters
    ----------
    meg : MEGLayout or str or None
    eeg : EEGLayout or str or None
    """

    meg: MEGLayout | None = None
    eeg: EEGLayout | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "meg", _coerce(MEGLayout, self.meg, "MEG"))
        object.__setattr__(self, "eeg", _coerce(EEGLayout, self.eeg, "EEG"))


def _coerce(enum: type[StrEnum], value, kind: str):
    if value is None or isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"unknown {kind} layout {value!r}; known layouts: {allowed}") from None


Hemisphere = Literal["left", "right", "midline"]

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


@cache
def _meg_positions(layout: MEGLayout) -> MappingProxyType:
    import mne

    mne_layout = mne.channels.read_layout(_MNE_MEG_LAYOUT_NAMES[layout])
    centres = mne_layout.pos[:, :2] + mne_layout.pos[:, 2:4] / 2  # the layout stores boxes
    xy = {
        _normalise_meg_name(layout, name): (float(x), float(y))
        for name, (x, y) in zip(mne_layout.names, centres, strict=True)
    }
    return MappingProxyType(_centred(xy))


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


def get_sensor_hemispheres(layout: SensorLayout) -> dict[str, Hemisphere]:
    """Which side of the head each positioned sensor of the layout is on.

    A sensor is ``"midline"`` when its x is within 1 % of the layout's half-width of the centre,
    otherwise ``"left"`` (x < 0) or ``"right"`` (x > 0). MEG and EEG are judged each against
    their own centre. Sensors without a default position (numbered EEG names) are not included.
    """
    return dict(_hemispheres(layout))


@cache
def _hemispheres(layout: SensorLayout) -> MappingProxyType:
    result: dict[str, Hemisphere] = {}
    for name, (x, _) in get_layout_positions(layout).items():
        if abs(x) <= _MIDLINE_TOLERANCE:
            result[name] = "midline"
        else:
            result[name] = "left" if x < 0 else "right"
    return MappingProxyType(result)
