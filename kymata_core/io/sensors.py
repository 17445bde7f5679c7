"""Brain sensors of a recording: which channels they are, what they are called, which side each is on.

Everything here reads an :class:`mne.Info` and leaves the judging to MNE where MNE already judges:
channel types come from :func:`mne.pick_types`, the sensor system from
:func:`mne.channels.find_layout`, and names are compared the way MNE compares them with its
layouts. A channel's side comes from the named layout of its system when the recording has one
that the ``.nkg`` format knows (so that a sensor is on the same side for every participant), and
otherwise from where the channel was in this recording, in the head frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kymata_core.entities.hemispheres import Side, side_of_x
from kymata_core.io.layouts import (
    EEGLayout,
    MEGLayout,
    SensorLayout,
    layout_sides,
    match_layout_names,
)

if TYPE_CHECKING:
    import mne

#: Half-width, in metres, of the band around the head's midsagittal plane (x = 0 in the head
#: frame) whose sensors are "midline"; see :func:`sensor_sides`.
MIDLINE_TOLERANCE_M = 0.010

# The names under which mne.channels.find_layout reports the systems the .nkg format knows.
_MEG_LAYOUTS_BY_MNE_NAME = {
    "Vectorview-all": MEGLayout.Vectorview,
    "Vectorview-mag": MEGLayout.Vectorview,
    "Vectorview-grad": MEGLayout.Vectorview,
    "Vectorview-grad_norm": MEGLayout.Vectorview,
    "CTF-275": MEGLayout.CTF275,
    "KIT-AD": MEGLayout.KIT_AD,
}


def normalise_channel_name(name: str) -> str:
    """A channel name as MNE compares it with a layout's sensor names.

    MNE (``mne.utils._clean_names``, used by :func:`mne.channels.find_layout`) removes spaces,
    keeps what precedes the first ``-`` (CTF's system suffix) and drops a ``_v`` suffix (old
    Vectorview virtual channels). So ``"MEG 0113"`` and ``"MEG0113"``, ``"EEG 001"`` and
    ``"EEG001"``, ``"MLC53-2908"`` and ``"MLC53"`` name the same sensor.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        The normalised name; ``name`` unchanged if normalising would leave nothing.
    """
    cleaned = name.replace(" ", "").split("-", 1)[0]
    if cleaned.endswith("_v"):
        cleaned = cleaned[:-2]
    return cleaned or name


def brain_channel_picks(
    info: mne.Info,
    *,
    exclude_bads: bool = True,
    types: Sequence[str] = ("meg", "eeg"),
    exclude: Sequence[str] = (),
) -> list[int]:
    """Indices of the brain sensors of a recording: MEG magnetometers and gradiometers, and EEG.

    Never reference magnetometers or gradiometers (CTF's and KIT's ``ref_meg``), stimulus, EOG,
    ECG, EMG, misc or other non-brain channels (``mne.pick_types(..., ref_meg=False)``).

    Parameters
    ----------
    info : mne.Info
    exclude_bads : bool
        Leave out the channels listed in ``info["bads"]``.
    types : sequence of {"meg", "mag", "grad", "eeg"}
        The kinds of brain sensor wanted (default all).
    exclude : sequence of str
        Channels to leave out besides the bad ones.

    Returns
    -------
    list of int
        Channel indices into ``info["chs"]``, ascending.
    """
    import mne

    wanted = set(types)
    unknown = wanted - {"meg", "mag", "grad", "eeg"}
    if unknown:
        raise ValueError(f"unknown brain channel type(s) {sorted(unknown)}; use meg, mag, grad or eeg")
    if "meg" in wanted or {"mag", "grad"} <= wanted:
        meg: bool | str = True
    else:
        meg = "mag" if "mag" in wanted else "grad" if "grad" in wanted else False
    dropped = [*(info["bads"] if exclude_bads else []), *exclude]
    picks = mne.pick_types(info, meg=meg, eeg="eeg" in wanted, ref_meg=False, exclude=[c for c in dropped if c in info.ch_names])
    return [int(p) for p in picks]


def guess_sensor_layout(info: mne.Info) -> SensorLayout | None:
    """The named MEG and EEG layouts of a recording, among those the ``.nkg`` format knows.

    MEG: the system that :func:`mne.channels.find_layout` recognises from the channels' coil
    types (Vectorview/TRIUX, CTF, KIT), if it is one of ``Vectorview``, ``CTF275`` or ``KIT-AD``
    and every MEG channel's name is in that layout. Other systems (KIT-157, 4D Magnes, …) have
    ``meg=None``; their channels get their sides from their positions (:func:`sensor_sides`).
    EEG: ``Easycap`` when every EEG channel is named as an electrode of the easycap-M1 montage
    (``"Fp1"``, ``"Cz"``, …) or numbered ``EEG001`` … ``EEG074`` (with or without a space), as the
    reference reads Vectorview recordings; otherwise ``eeg=None``.

    Parameters
    ----------
    info : mne.Info

    Returns
    -------
    SensorLayout or None
        None when neither the MEG nor the EEG layout is recognised.
    """
    picks = brain_channel_picks(info, exclude_bads=False)
    types = info.get_channel_types(picks=picks) if picks else []
    meg_names = [info.ch_names[p] for p, t in zip(picks, types, strict=True) if t != "eeg"]
    eeg_names = [info.ch_names[p] for p, t in zip(picks, types, strict=True) if t == "eeg"]
    meg = _guess_meg_layout(info, meg_names) if meg_names else None
    eeg = (
        EEGLayout.Easycap
        if eeg_names and _all_in_layout(eeg_names, SensorLayout(eeg=EEGLayout.Easycap))
        else None
    )
    if meg is None and eeg is None:
        return None
    return SensorLayout(meg=meg, eeg=eeg)


def _guess_meg_layout(info: mne.Info, meg_names: list[str]) -> MEGLayout | None:
    import mne

    try:
        found = mne.channels.find_layout(info, ch_type="meg", exclude=())
    except (RuntimeError, ValueError, NotImplementedError, KeyError):
        return None  # MNE cannot tell the system (e.g. a legacy KIT file)
    layout = _MEG_LAYOUTS_BY_MNE_NAME.get(getattr(found, "kind", None))
    if layout is None or not _all_in_layout(meg_names, SensorLayout(meg=layout)):
        return None
    return layout


def _all_in_layout(names: list[str], layout: SensorLayout) -> bool:
    return len(match_layout_names(names, layout)) == len(names)


def sensor_sides(info: mne.Info, layout: SensorLayout | None) -> dict[str, Side]:
    """Which side of the head each brain sensor of a recording is on.

    A channel's side is, in this order:

    1. its side in the named layout (:func:`kymata_core.io.layouts.layout_sides`), when its
       name (normalised, :func:`normalise_channel_name`) is in ``layout``: the same for every
       recording made with that system, whatever the head's position in the helmet;
    2. otherwise the side of its position in this recording, in the head frame (x towards the
       right pre-auricular point, through the nasion's perpendicular): MEG sensors' ``loc[:3]``
       (device frame) through ``info["dev_head_t"]`` (the device frame itself if the file has
       no such transform), EEG electrodes' ``loc[:3]`` (head frame) or, when the channel has
       none, its digitised point (``info["dig"]`` EEG point ``k`` is the channel named
       ``EEG k``, as MNE numbers them). ``"midline"`` when ``|x| <= 10 mm``
       (:data:`MIDLINE_TOLERANCE_M`), else ``"left"`` (x < 0) or ``"right"`` (x > 0).

    The 10 mm band is about how well the head frame's x = 0 plane, fixed by three digitised
    fiducials, finds a head's midsagittal plane, and under half the spacing of neighbouring
    sensors of any common system (2–4 cm), so that it holds at most one column of sensors. In the
    real recordings of the tests it holds all of CTF's ``MZ*`` sensors (up to 8.7 mm off x = 0 in
    the head frame of a head turned by 3° in the helmet), the central column of a KIT-157
    helmet, and the middle electrodes of the Vectorview 60-channel EEG cap (within 9.2 mm).

    Parameters
    ----------
    info : mne.Info
    layout : SensorLayout or None
        The recording's named layout (e.g. from :func:`guess_sensor_layout`); None to judge every
        channel by its position.

    Returns
    -------
    dict
        Channel name, exactly as in ``info``, to ``"left"``, ``"right"`` or ``"midline"``, for
        every brain channel (:func:`brain_channel_picks`, bad channels included) in channel
        order. A channel that the layout does not place and that has no usable position (all
        zeros or not finite) has no entry.
    """
    picks = brain_channel_picks(info, exclude_bads=False)
    names = [info.ch_names[p] for p in picks]
    from_layout = layout_sides(names, layout) if layout is not None else {}
    dig_eeg = _digitised_eeg_positions(info)
    sides: dict[str, Side] = {}
    for pick, name in zip(picks, names, strict=True):
        if name in from_layout:
            sides[name] = from_layout[name]
            continue
        position = _head_position(info, pick, dig_eeg)
        if position is not None:
            sides[name] = side_of_head_x(float(position[0]))
    return sides


def side_of_head_x(x: float) -> Side:
    """The side of a point with head-frame coordinate ``x`` (metres), as :func:`sensor_sides` judges it."""
    return side_of_x(x, MIDLINE_TOLERANCE_M)


def _usable(position: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(position)) and np.any(position != 0))


def _head_position(info: mne.Info, pick: int, dig_eeg: dict[str, np.ndarray]) -> np.ndarray | None:
    """A channel's position in the head frame (metres), or None when the file gives none."""
    from mne.io.constants import FIFF
    from mne.transforms import apply_trans

    ch = info["chs"][pick]
    loc = np.asarray(ch["loc"][:3], dtype=np.float64)
    if _usable(loc):
        if ch["coord_frame"] == FIFF.FIFFV_COORD_HEAD:
            return loc
        if ch["coord_frame"] == FIFF.FIFFV_COORD_DEVICE:
            dev_head_t = info["dev_head_t"]
            return loc if dev_head_t is None else apply_trans(dev_head_t, loc)
    if ch["kind"] == FIFF.FIFFV_EEG_CH:
        return dig_eeg.get(normalise_channel_name(ch["ch_name"]))
    return None


def _digitised_eeg_positions(info: mne.Info) -> dict[str, np.ndarray]:
    """Head-frame digitised EEG points by the name MNE gives them (``EEG001`` for point 1)."""
    from mne.io.constants import FIFF

    positions: dict[str, np.ndarray] = {}
    for point in info["dig"] or ():
        if point["kind"] != FIFF.FIFFV_POINT_EEG or point["coord_frame"] != FIFF.FIFFV_COORD_HEAD:
            continue
        r = np.asarray(point["r"], dtype=np.float64)
        if point["ident"] > 0 and _usable(r):  # point 0 is the reference electrode
            positions[f"EEG{int(point['ident']):03d}"] = r
    return positions


__all__ = [
    "MIDLINE_TOLERANCE_M",
    "brain_channel_picks",
    "guess_sensor_layout",
    "normalise_channel_name",
    "sensor_sides",
    "side_of_head_x",
]
