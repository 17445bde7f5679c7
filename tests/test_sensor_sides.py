"""kymata_core.io.sensors on real recordings of three MEG systems, and sensor sides in SensorExpressionSets.

The recordings are in ``tests/data/real-meg`` (see its README). Sides are checked against what the
files and MNE's own layouts say independently of the code under test: CTF's channel names (``ML*``
left, ``MR*`` right, ``MZ*`` midline), MNE's Vectorview-all and KIT-157 layout positions, and the
head-frame positions of the sensors and of the digitised EEG electrodes.
"""

from __future__ import annotations

import warnings
from collections import Counter

import mne
import numpy as np
import pytest
from mne.io.constants import FIFF
from mne.transforms import apply_trans

from kymata_core.entities.expression import SensorExpressionSet, combine
from kymata_core.io.layouts import EEGLayout, MEGLayout, SensorLayout
from kymata_core.io.sensors import (
    MIDLINE_TOLERANCE_M,
    brain_channel_picks,
    guess_sensor_layout,
    normalise_channel_name,
    sensor_sides,
    side_of_head_x,
)
from tests.paths import REAL_MEG_DIR

NON_BRAIN_TYPES = {"ref_meg", "misc", "stim", "eog", "ecg", "emg"}


@pytest.fixture(scope="module")
def vectorview() -> mne.Info:
    evoked = mne.read_evokeds(REAL_MEG_DIR / "neuromag-sample-ave.fif.gz", condition=0, verbose="error")
    return evoked.info


@pytest.fixture(scope="module")
def kit() -> mne.Info:
    return mne.io.read_raw_fif(REAL_MEG_DIR / "kit-raw.fif", verbose="error").info


@pytest.fixture(scope="module")
def ctf() -> mne.Info:
    return mne.io.read_raw_fif(REAL_MEG_DIR / "ctf-comp-raw.fif", verbose="error").info


def head_x(info: mne.Info, names: list[str]) -> dict[str, float]:
    """Head-frame x (m) of channels, computed here with MNE's transforms, all channels at once."""
    idx = [info.ch_names.index(n) for n in names]
    locs = np.array([info["chs"][i]["loc"][:3] for i in idx])
    device = np.array([info["chs"][i]["coord_frame"] == FIFF.FIFFV_COORD_DEVICE for i in idx])
    head = locs.copy()
    head[device] = apply_trans(info["dev_head_t"], locs[device])
    return dict(zip(names, head[:, 0].tolist(), strict=True))


def layout_x(layout_name: str) -> dict[str, float]:
    """x of each sensor's box centre in one of MNE's layout files, relative to the layout's centre."""
    layout = mne.channels.read_layout(layout_name)
    x = layout.pos[:, 0] + layout.pos[:, 2] / 2
    x = x - (x.min() + x.max()) / 2
    return dict(zip(layout.names, x.tolist(), strict=True))


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MEG 0113", "MEG0113"),
        ("MEG0113", "MEG0113"),
        ("EEG 001", "EEG001"),
        ("MLC53-2908", "MLC53"),
        ("MZC01-2622", "MZC01"),
        ("MEG 001", "MEG001"),
        ("Fp1", "Fp1"),
        ("-", "-"),
    ],
)
def test_normalise_channel_name(name, expected):
    assert normalise_channel_name(name) == expected


def test_normalisation_agrees_with_mne(vectorview, kit, ctf):
    """The same result as MNE's own cleaning for every channel of the three files and of the layouts."""
    clean_names = pytest.importorskip("mne.utils")._clean_names
    names = [*vectorview.ch_names, *kit.ch_names, *ctf.ch_names]
    for layout in ("Vectorview-all", "CTF-275", "KIT-AD", "KIT-157"):
        names += mne.channels.read_layout(layout).names
    for name in names:
        assert (
            normalise_channel_name(name) == clean_names([name], remove_whitespace=True, before_dash=True)[0]
        )


# --- brain channels -----------------------------------------------------------------------------


def test_brain_channels_vectorview(vectorview):
    picks = brain_channel_picks(vectorview)
    types = Counter(vectorview.get_channel_types(picks=picks))
    assert types == {"grad": 204, "mag": 102, "eeg": 60}
    names = {vectorview.ch_names[p] for p in picks}
    assert not names & {
        n
        for n, t in zip(vectorview.ch_names, vectorview.get_channel_types(), strict=True)
        if t in NON_BRAIN_TYPES
    }
    assert "EOG 061" not in names and "STI 014" not in names and "MEG 0113" in names


def test_brain_channels_ctf_never_include_reference_magnetometers(ctf):
    picks = brain_channel_picks(ctf)
    all_types = ctf.get_channel_types()
    assert Counter(all_types[p] for p in picks) == {"mag": 274}
    assert Counter(all_types)["ref_meg"] == 29  # there are reference sensors to leave out
    for p in picks:
        assert all_types[p] not in NON_BRAIN_TYPES
        assert ctf.ch_names[p].startswith("M")  # MLxxx, MRxxx, MZxxx
    assert "BG1-2908" not in {ctf.ch_names[p] for p in picks}  # a reference magnetometer


def test_brain_channels_kit(kit):
    picks = brain_channel_picks(kit)
    assert Counter(kit.get_channel_types(picks=picks)) == {"mag": 157}
    assert all(kit.get_channel_types()[p] != "stim" for p in picks)


def test_bad_channels_are_excluded_only_when_asked(vectorview):
    info = vectorview.copy()
    info["bads"] = ["MEG 0113", "EEG 001"]
    good = brain_channel_picks(info)
    everything = brain_channel_picks(info, exclude_bads=False)
    assert len(everything) == len(good) + 2
    assert {info.ch_names[p] for p in set(everything) - set(good)} == {"MEG 0113", "EEG 001"}


# --- layouts ------------------------------------------------------------------------------------


def test_guess_sensor_layout(vectorview, kit, ctf):
    assert guess_sensor_layout(vectorview) == SensorLayout(meg=MEGLayout.Vectorview, eeg=EEGLayout.Easycap)
    assert guess_sensor_layout(ctf) == SensorLayout(meg=MEGLayout.CTF275)
    assert guess_sensor_layout(kit) is None  # KIT-157: not a layout the .nkg format knows
    eeg_only = mne.pick_info(vectorview, mne.pick_types(vectorview, meg=False, eeg=True))
    assert guess_sensor_layout(eeg_only) == SensorLayout(eeg=EEGLayout.Easycap)
    stim_only = mne.pick_info(vectorview, mne.pick_types(vectorview, meg=False, stim=True))
    assert guess_sensor_layout(stim_only) is None


def test_guess_sensor_layout_needs_the_layouts_names(vectorview):
    info = vectorview.copy()
    info.rename_channels({"MEG 0113": "MYSTERY", "EEG 001": "EEG 999"})
    assert guess_sensor_layout(info) is None
    info = vectorview.copy()
    info.rename_channels({n: n.replace(" ", "") for n in info.ch_names})  # MEG0113, EEG001
    assert guess_sensor_layout(info) == SensorLayout(meg=MEGLayout.Vectorview, eeg=EEGLayout.Easycap)


# --- sides --------------------------------------------------------------------------------------


def test_ctf_sides_from_the_named_layout(ctf):
    sides = sensor_sides(ctf, guess_sensor_layout(ctf))
    assert len(sides) == 274 and all(name.endswith("-2908") for name in sides)  # the file's own names
    expected = {"MZ": "midline", "ML": "left", "MR": "right"}
    assert {name: side for name, side in sides.items()} == {name: expected[name[:2]] for name in sides}
    assert Counter(sides.values()) == {"left": 131, "right": 132, "midline": 11}
    assert not set(sides) & {
        n for n, t in zip(ctf.ch_names, ctf.get_channel_types(), strict=True) if t in NON_BRAIN_TYPES
    }


def test_ctf_sides_from_positions(ctf):
    """Without the layout, the head-frame positions agree with the names wherever they can."""
    sides = sensor_sides(ctf, None)
    x = head_x(ctf, list(sides))
    assert all(sides[n] == "midline" for n in sides if n.startswith("MZ"))
    assert not [n for n in sides if n.startswith("ML") and sides[n] == "right"]
    assert not [n for n in sides if n.startswith("MR") and sides[n] == "left"]
    far = [n for n in sides if abs(x[n]) > MIDLINE_TOLERANCE_M]
    assert len(far) > 250
    assert all(sides[n] == ("left" if n.startswith("ML") else "right") for n in far)
    # the head is turned in the helmet: in the head frame no MZ sensor is at exactly x = 0
    assert max(abs(x[n]) for n in sides if n.startswith("MZ")) > 0.005


def test_vectorview_sides_follow_mne_vectorview_layout(vectorview):
    sides = sensor_sides(vectorview, guess_sensor_layout(vectorview))
    meg = [n for n in sides if n.startswith("MEG")]
    assert len(meg) == 306
    assert sides["MEG 0111"] == "left" and sides["MEG 1311"] == "right"
    assert {sides[f"MEG 081{k}"] for k in "123"} == {"midline"}
    # the three sensors of a location share its side
    for location in {n[:-1] for n in meg}:
        assert len({sides[location + k] for k in "123"}) == 1, location
    # a location's side is the side of its group of boxes in MNE's Vectorview-all layout
    boxes = layout_x("Vectorview-all")
    for location in {n[:-1] for n in meg}:
        centre = np.mean([min(boxes[location + k] for k in "123"), max(boxes[location + k] for k in "123")])
        if abs(centre) > 0.02:
            assert sides[location + "1"] == ("left" if centre < 0 else "right"), location
        else:
            assert sides[location + "1"] == "midline", location


def test_vectorview_midline_locations_are_on_the_helmets_midline(vectorview):
    sides = sensor_sides(vectorview, guess_sensor_layout(vectorview))
    for name, side in sides.items():
        if name.startswith("MEG"):
            device_x = vectorview["chs"][vectorview.ch_names.index(name)]["loc"][0]
            assert (side == "midline") == (abs(device_x) < 0.001), name


def test_eeg_sides_from_the_file_positions(vectorview):
    sides = sensor_sides(vectorview, guess_sensor_layout(vectorview))
    eeg = [n for n in vectorview.ch_names if n.startswith("EEG")]
    assert len(eeg) == 60 and set(eeg) <= set(sides)
    x = head_x(vectorview, eeg)
    for name in eeg:
        if abs(x[name]) > MIDLINE_TOLERANCE_M:
            assert sides[name] == ("left" if x[name] < 0 else "right"), name
        else:
            assert sides[name] == "midline", name
    assert sides["EEG 001"] == "left" and sides["EEG 004"] == "left"  # x = -37 mm, -66 mm
    assert sides["EEG 003"] == "right" and sides["EEG 016"] == "right"  # x = +12 mm, +67 mm
    assert sides["EEG 058"] == sides["EEG 060"] == "midline"  # the occipital electrodes on the midline
    assert Counter(sides[n] for n in eeg) == {"left": 31, "right": 26, "midline": 3}


def test_eeg_sides_from_the_digitisation_when_channels_have_no_position(vectorview):
    with_locs = sensor_sides(vectorview, None)
    info = vectorview.copy()
    with info._unlock():
        for ch in info["chs"]:
            if ch["kind"] == FIFF.FIFFV_EEG_CH:
                ch["loc"][:] = 0.0
    from_dig = sensor_sides(info, None)
    eeg = [n for n in info.ch_names if n.startswith("EEG")]
    assert {n: from_dig[n] for n in eeg} == {n: with_locs[n] for n in eeg}
    # digitised point k is electrode EEG k: EEG 001 is the front-left point of the digitisation
    point_1 = next(d for d in info["dig"] if d["kind"] == FIFF.FIFFV_POINT_EEG and d["ident"] == 1)
    assert point_1["r"][0] < -MIDLINE_TOLERANCE_M and from_dig["EEG 001"] == "left"
    # and without the digitisation either, EEG has no side (MEG still has)
    with info._unlock():
        info["dig"] = None
    neither = sensor_sides(info, None)
    assert not [n for n in neither if n.startswith("EEG")]
    assert len(neither) == 306


def test_kit_sides_from_head_positions(kit):
    sides = sensor_sides(kit, guess_sensor_layout(kit))
    assert len(sides) == 157
    x = head_x(kit, list(sides))
    assert sides == {n: side_of_head_x(x[n]) for n in sides}
    assert sides["MEG 157"] == "midline"  # x = 0.1 mm
    # an independent check: MNE's KIT-157 layout puts the sensors far from its midline on the same side
    boxes = layout_x("KIT-157")
    half_width = max(abs(v) for v in boxes.values())
    far = [n for n in sides if abs(boxes[n]) > 0.3 * half_width]
    assert len(far) > 100
    assert all(sides[n] == ("left" if boxes[n] < 0 else "right") for n in far)


def test_kit_sides_need_the_device_to_head_transform(kit):
    """In the device frame the head's tilt is ignored; the head frame is what decides."""
    info = kit.copy()
    with info._unlock():
        info["dev_head_t"] = None
    device = sensor_sides(info, None)
    device_x = {n: info["chs"][info.ch_names.index(n)]["loc"][0] for n in device}
    assert device == {n: side_of_head_x(device_x[n]) for n in device}
    head = sensor_sides(kit, None)
    assert device != head  # the transform is applied, not ignored


def test_channels_without_a_position_have_no_side(kit):
    info = kit.copy()
    with info._unlock():
        info["chs"][info.ch_names.index("MEG 001")]["loc"][:] = 0.0
        info["chs"][info.ch_names.index("MEG 002")]["loc"][:3] = np.nan
    sides = sensor_sides(info, None)
    assert "MEG 001" not in sides and "MEG 002" not in sides and "MEG 003" in sides


# --- sides in SensorExpressionSets --------------------------------------------------------------

LATENCIES = [0.0, 0.1, 0.2]
SENSORS = ["MEG 0111", "MEG 1311", "MEG 0811", "EEG 001"]
SIDES = {"MEG 0111": "left", "MEG 1311": "right", "MEG 0811": "midline"}


def sensor_set(transforms=("a", "b"), sides=SIDES, seed=0) -> SensorExpressionSet:
    rng = np.random.default_rng(seed)
    data = -rng.uniform(0, 10, (len(SENSORS), len(LATENCIES), len(transforms)))
    return SensorExpressionSet(list(transforms), SENSORS, LATENCIES, data, sensor_sides=sides)


def test_sides_property_is_read_only_and_in_sensor_order():
    es = sensor_set(sides={"MEG 0811": "midline", "MEG 0111": "left"})
    assert list(es.sensor_sides.items()) == [("MEG 0111", "left"), ("MEG 0811", "midline")]
    with pytest.raises(TypeError):
        es.sensor_sides["MEG 0111"] = "right"
    with pytest.raises(AttributeError):
        es.sensor_sides = {}
    assert sensor_set(sides=None).sensor_sides is None
    assert sensor_set(sides={}).sensor_sides is None


def test_positional_api_is_unchanged():
    data = np.zeros((len(SENSORS), len(LATENCIES)))
    es = SensorExpressionSet("a", SENSORS, LATENCIES, data, None)
    assert es.sensor_layout is None and es.sensor_sides is None
    with pytest.raises(TypeError):
        SensorExpressionSet("a", SENSORS, LATENCIES, data, None, SIDES)  # sides are keyword only


@pytest.mark.parametrize(
    ("sides", "match"),
    [
        ({"MEG 0111": "up"}, "unknown side"),
        ({"MEG 9999": "left"}, "not in the set"),
    ],
)
def test_bad_sides_are_refused(sides, match):
    with pytest.raises(ValueError, match=match):
        sensor_set(sides=sides)


def test_sides_survive_every_operation():
    es = sensor_set()
    assert es.crop(0.05, None).sensor_sides == SIDES
    assert es["b"].sensor_sides == SIDES
    assert es.copy().sensor_sides == SIDES
    combined = combine([sensor_set(("a",)), sensor_set(("b",))])
    assert combined.sensor_sides == SIDES and combined.transforms == ["a", "b"]


def test_combine_merges_agreeing_sides_and_refuses_conflicts():
    left_only = sensor_set(("a",), sides={"MEG 0111": "left"})
    more = sensor_set(("b",), sides={"MEG 1311": "right", "MEG 0111": "left"})
    assert dict(combine([left_only, more]).sensor_sides) == {"MEG 0111": "left", "MEG 1311": "right"}
    assert combine([sensor_set(("a",), sides=None), more]).sensor_sides == more.sensor_sides
    conflict = sensor_set(("c",), sides={"MEG 0111": "right"})
    with pytest.raises(
        ValueError, match=r"'MEG 0111' on different sides: 'left' in x\.nkg, 'right' in y\.nkg"
    ):
        combine([left_only, conflict], names=["x.nkg", "y.nkg"])


def test_sides_are_part_of_equality():
    assert sensor_set() == sensor_set()
    assert sensor_set() != sensor_set(sides={**SIDES, "MEG 0811": "left"})
    assert sensor_set() != sensor_set(sides=None)


def test_renaming_a_sensor_renames_its_side():
    es = sensor_set()
    es.rename(channels={"MEG 0111": "MEG0111"})
    assert es.sensor_sides["MEG0111"] == "left" and "MEG 0111" not in es.sensor_sides


def test_layout_warning_matches_names_the_mne_way():
    data = np.zeros((len(SENSORS), len(LATENCIES)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "MEG 0111" and "EEG 001" are in the layout
        SensorExpressionSet("a", SENSORS, LATENCIES, data, SensorLayout(meg="Vectorview", eeg="Easycap"))
    with pytest.warns(UserWarning, match=r"1 sensor\(s\) are not in the layout.*EEG 001"):
        SensorExpressionSet("a", SENSORS, LATENCIES, data, SensorLayout(meg="Vectorview"))
