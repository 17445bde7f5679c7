"""kymata_core.io.layouts: sensor names, positions and hemispheres from MNE's layouts."""

from __future__ import annotations

import pytest

from kymata_core.io.layouts import (
    EEGLayout,
    MEGLayout,
    SensorLayout,
    get_layout_positions,
    get_sensor_hemispheres,
    layout_positions,
    layout_sides,
    match_layout_names,
    sensor_names_in_layout,
)


@pytest.mark.parametrize(
    ("layout", "n_sensors", "examples"),
    [
        (SensorLayout(meg="Vectorview"), 306, ["MEG0111", "MEG0112", "MEG0113", "MEG2643"]),
        (SensorLayout(meg="CTF275"), 275, ["MLC11", "MZC01", "MRT57"]),
        (SensorLayout(meg="KIT-AD"), 208, ["MEG 001", "MEG 208"]),
        (SensorLayout(eeg="Easycap"), 74, ["Fp1", "Cz", "O2"]),
    ],
)
def test_positions(layout, n_sensors, examples):
    positions = get_layout_positions(layout)
    assert len(positions) == n_sensors
    for name in examples:
        assert name in positions
    xs = [x for x, _ in positions.values()]
    assert min(xs) == pytest.approx(-1.0) and max(xs) == pytest.approx(1.0)


def test_combined_layout_and_names():
    layout = SensorLayout(meg=MEGLayout.Vectorview, eeg=EEGLayout.Easycap)
    assert len(get_layout_positions(layout)) == 306 + 74
    names = sensor_names_in_layout(layout)
    assert {"MEG0111", "Cz", "EEG001", "EEG074"} <= names
    assert "EEG075" not in names and "MEG 0111" not in names
    assert sensor_names_in_layout(SensorLayout()) is None
    assert "EEG001" not in sensor_names_in_layout(SensorLayout(meg="Vectorview"))


def test_hemispheres_easycap():
    hemispheres = get_sensor_hemispheres(SensorLayout(eeg="Easycap"))
    assert {hemispheres[n] for n in ["Fz", "Cz", "Pz", "Oz", "Fpz"]} == {"midline"}
    assert {hemispheres[n] for n in ["Fp1", "C3", "T7", "O1"]} == {"left"}
    assert {hemispheres[n] for n in ["Fp2", "C4", "T8", "O2"]} == {"right"}


def test_hemispheres_meg():
    vectorview = get_sensor_hemispheres(SensorLayout(meg="Vectorview"))
    # MEG0111 is over the left frontal-temporal area and MEG1311 over the right temporal area
    assert vectorview["MEG0111"] == "left" and vectorview["MEG1311"] == "right"
    ctf = get_sensor_hemispheres(SensorLayout(meg="CTF275"))
    assert ctf["MZC01"] == "midline" and ctf["MLC11"] == "left" and ctf["MRC11"] == "right"
    # CTF names encode the side: every MLxxx is left and every MRxxx is right
    assert all(side == "left" for name, side in ctf.items() if name.startswith("ML"))
    assert all(side == "right" for name, side in ctf.items() if name.startswith("MR"))


def test_positions_are_mirror_symmetric_for_easycap():
    positions = get_layout_positions(SensorLayout(eeg="Easycap"))
    x3, y3 = positions["C3"]
    x4, y4 = positions["C4"]
    assert x3 == pytest.approx(-x4, abs=1e-6) and y3 == pytest.approx(y4, abs=1e-6)
    assert positions["Fz"][1] > positions["Cz"][1] > positions["Pz"][1]  # nose towards +y


def test_results_are_cached_and_not_shared_mutably():
    layout = SensorLayout(meg="Vectorview")
    first = get_sensor_hemispheres(layout)
    first["MEG0111"] = "right"
    assert get_sensor_hemispheres(layout)["MEG0111"] == "left"
    assert sensor_names_in_layout(layout) is sensor_names_in_layout(SensorLayout(meg="Vectorview"))


def test_unknown_layout_name():
    with pytest.raises(ValueError, match="known layouts"):
        SensorLayout(meg="SQUID-9000")


# --- matching a recording's channel names -------------------------------------------------------


def test_match_layout_names_the_mne_way():
    vectorview = SensorLayout(meg="Vectorview", eeg="Easycap")
    matched = match_layout_names(
        ["MEG 0113", "MEG0112", "EEG 001", "EEG074", "Cz", "EEG 075", "STI 014"], vectorview
    )
    assert matched == {
        "MEG 0113": "MEG0113",
        "MEG0112": "MEG0112",
        "EEG 001": "EEG001",
        "EEG074": "EEG074",
        "Cz": "Cz",
    }
    assert match_layout_names(["MLC53-2908", "MZC01", "BG1-2908"], SensorLayout(meg="CTF275")) == {
        "MLC53-2908": "MLC53",
        "MZC01": "MZC01",
    }
    assert match_layout_names(["MEG 001", "MEG208", "MEG 209"], SensorLayout(meg="KIT-AD")) == {
        "MEG 001": "MEG 001",
        "MEG208": "MEG 208",
    }
    # two channels that normalise to one name are ambiguous, as in MNE: neither matches
    assert match_layout_names(["MEG 0113", "MEG0113", "MEG 0112"], vectorview) == {"MEG 0112": "MEG0112"}
    assert match_layout_names(["MEG 0113"], SensorLayout()) == {}


def test_layout_sides_and_positions_of_a_recordings_names():
    layout = SensorLayout(meg="Vectorview", eeg="Easycap")
    sides = layout_sides(["MEG 0111", "MEG 1311", "MEG 0811", "EEG 001", "C3", "Cz"], layout)
    # numbered EEG electrodes have no default position, so no side from the layout
    assert sides == {
        "MEG 0111": "left",
        "MEG 1311": "right",
        "MEG 0811": "midline",
        "C3": "left",
        "Cz": "midline",
    }
    positions = layout_positions(["MEG 0111", "EEG 001", "Fp1"], layout)
    assert positions == {
        "MEG 0111": get_layout_positions(layout)["MEG0111"],
        "Fp1": get_layout_positions(layout)["Fp1"],
    }


def test_vectorview_sensors_of_one_location_share_its_side():
    """Vectorview-all draws a location's gradiometers left of its magnetometer; the side is the location's."""
    hemispheres = get_sensor_hemispheres(SensorLayout(meg="Vectorview"))
    locations = {name[:-1] for name in hemispheres}
    assert len(locations) == 102
    for location in locations:
        assert len({hemispheres[location + k] for k in "123"}) == 1, location
    midline = sorted(location for location in locations if hemispheres[location + "1"] == "midline")
    assert midline == ["MEG062", "MEG081", "MEG082", "MEG101", "MEG211", "MEG212"]
    counts = {side: sum(1 for s in hemispheres.values() if s == side) for side in ("left", "right")}
    assert counts == {"left": 144, "right": 144}  # the helmet is symmetric
