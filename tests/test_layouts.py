"""kymata_core.io.layouts: sensor names, positions and hemispheres from MNE's layouts."""

from __future__ import annotations

import pytest

from kymata_core.io.layouts import (
    EEGLayout,
    MEGLayout,
    SensorLayout,
    get_layout_positions,
    get_sensor_hemispheres,
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
