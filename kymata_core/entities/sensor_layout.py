"""The sensor layout of a recording: which named MEG and EEG sensor arrays it was made with.

:class:`SensorLayout` is a value: a pair of layout names. What a named layout holds (its sensors'
names, positions and sides) is read from MNE-Python's layout files by
:mod:`kymata_core.io.layouts`, which also re-exports everything here.

An ExpressionSet warns about sensors that are not in its layout (see
:func:`sensors_not_in_layout`). Entities do not read files, so the lookup of a layout's sensors
is registered here by :mod:`kymata_core.io.layouts` when it is imported; every reader of sets
that carry a layout (``.nkg``, evoked and ``.stc`` files) imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum


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

    Raises
    ------
    ValueError
        If a name is not one of the known layouts.
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


UnmatchedSensors = Callable[[Sequence[str], SensorLayout], list[str]]
"""``(names, layout) -> the names that are not sensors of the layout``, in the given order."""

_unmatched_sensors: UnmatchedSensors | None = None


def register_layout_lookup(unmatched: UnmatchedSensors) -> None:
    """Set how :func:`sensors_not_in_layout` finds the names that a layout does not have.

    Called by :mod:`kymata_core.io.layouts` when it is imported, with a function that matches
    names the MNE way against MNE's layout files.

    Parameters
    ----------
    unmatched : callable
        ``(names, layout)`` to the list of ``names`` that are not sensors of ``layout``, in the
        given order (empty when the layout names no sensors).
    """
    global _unmatched_sensors
    _unmatched_sensors = unmatched


def sensors_not_in_layout(names: Sequence[str], layout: SensorLayout) -> list[str]:
    """The given sensor names that are not sensors of ``layout``, in the given order.

    Parameters
    ----------
    names : sequence of str
    layout : SensorLayout

    Returns
    -------
    list of str
        Empty when every name is in the layout, when the layout has neither MEG nor EEG, or when no
        lookup is registered (:mod:`kymata_core.io.layouts` has not been imported).
    """
    if _unmatched_sensors is None:
        return []
    return _unmatched_sensors(names, layout)
