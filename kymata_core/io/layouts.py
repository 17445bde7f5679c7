"""Sensor layouts: which MEG and EEG sensor arrays a sensor-space ExpressionSet was recorded with."""

from __future__ import annotations

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


def sensor_names_in_layout(layout: SensorLayout) -> set[str] | None:
    """Names of every sensor in the layout, or None when the layout's sensor names are not known."""
    return None
