"""The simulated study: layout of the files, determinism, and exactly where the effects are planted."""

from __future__ import annotations

import dataclasses
import json
from unittest import mock

import mne
import numpy as np
import pytest
import yaml

from kymata_core.io.emeg import read_evoked, read_source_estimate
from kymata_core.simulate import (
    DEMO_HIERARCHY,
    DEMO_SPEC,
    Effect,
    StudySpec,
    simulate_study,
    vectorview_sensors,
)


def tiny_spec(**changes) -> StudySpec:
    spec = StudySpec(
        participants=["p1", "p2"],
        emeg_sample_rate=200.0,
        transform_sample_rate=100.0,
        n_splits=6,
        seconds_per_split=1.0,
        emeg_t_start=-0.2,
        end_padding=1.5,
        n_reps=2,
        sensors=vectorview_sensors(2, 2),
        bad_sensors=["EEG002"],
        hexels_lh=[0, 4, 9],
        hexels_rh=[1, 2],
        transforms=["a", "b"],
        effects=[
            Effect("a", "sensor", ["MEG0111"], 0.05, 1.0),
            Effect("b", "source", [("rh", 2)], 0.12, 2.0),
        ],
        smoothness_hz=20.0,
        seed=3,
    )
    return dataclasses.replace(spec, **changes)


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_files_and_byte_identical_reruns(tmp_path):
    spec = tiny_spec()
    simulate_study(spec, tmp_path / "one")
    simulate_study(spec, tmp_path / "two")
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sorted(map(str, one)) == [
        "emeg/p1-ave.fif", "emeg/p1-lh.stc", "emeg/p1-rh.stc",
        "emeg/p2-ave.fif", "emeg/p2-lh.stc", "emeg/p2-rh.stc",
        "transforms/a.npy", "transforms/b.npy", "truth.json",
    ]  # fmt: skip
    assert one == two
    simulate_study(spec.with_seed(4), tmp_path / "three")
    assert _files(tmp_path / "three")[next(iter(one))] != one[next(iter(one))]


def test_files_do_not_depend_on_the_machine(tmp_path):
    """MNE stamps FIF files with the machine's MAC address; the simulator must not."""
    simulate_study(tiny_spec(), tmp_path / "here")
    other_machine = np.array([0x12345678, 0x0ABCDEF0], dtype=np.int32)
    with mock.patch("mne._fiff.write.get_machid", return_value=other_machine):
        simulate_study(tiny_spec(), tmp_path / "elsewhere")
    assert _files(tmp_path / "here") == _files(tmp_path / "elsewhere")


def test_refuses_to_overwrite(tmp_path):
    simulate_study(tiny_spec(), tmp_path)
    with pytest.raises(FileExistsError, match="truth.json"):
        simulate_study(tiny_spec(), tmp_path)
    simulate_study(tiny_spec(), tmp_path, overwrite=True)


def test_files_look_real(tmp_path):
    spec = tiny_spec()
    simulate_study(spec, tmp_path)
    evokeds = mne.read_evokeds(tmp_path / "emeg/p1-ave.fif", verbose="error")
    assert len(evokeds) == 2  # n_reps
    info = evokeds[0].info
    assert info["bads"] == ["EEG002"]
    assert info.get_channel_types() == ["mag", "grad", "grad", "mag", "grad", "grad", "eeg", "eeg"]
    assert info["sfreq"] == 200.0
    assert info["meas_date"].year == 2000
    data = read_evoked(tmp_path / "emeg/p1-ave.fif")
    assert data.channel_names == spec.sensors[:-1]
    assert data.values.shape == (7, 2, spec.n_emeg_samples)
    assert data.t_start == pytest.approx(-0.2)
    mag_std = data.values[0].std()
    assert 1e-14 < mag_std < 1e-12  # tesla-sized magnetometer values
    stc = read_source_estimate(tmp_path / "emeg/p1")
    assert stc.channel_names == [[0, 4, 9], [1, 2]]
    transform = np.load(tmp_path / "transforms/a.npy")
    assert transform.dtype == np.float32
    assert transform.shape == (600,)


def test_truth_json(tmp_path):
    spec = tiny_spec(stimulus_delivery_latency=0.03)
    truth = simulate_study(spec, tmp_path)
    on_disk = json.loads((tmp_path / "truth.json").read_text())
    assert on_disk == json.loads(json.dumps(truth))
    assert on_disk["transform_sample_rate"] == 100.0
    assert on_disk["participants"] == ["p1", "p2"]
    assert on_disk["stimulus_delivery_latency"] == 0.03
    assert StudySpec.from_dict(on_disk["spec"]) == spec
    a, b = on_disk["effects"]
    assert (a["transform"], a["channel_space"], a["channels"], a["latency_s"]) == (
        "a",
        "sensor",
        ["MEG0111"],
        0.05,
    )
    assert (b["channels"], b["latency_s"]) == ([["rh", 2]], pytest.approx(0.12))
    for effect in on_disk["effects"]:
        for p in ("p1", "p2"):
            planted = effect["participants"][p]
            shift = (planted["latency_s"] - effect["latency_s"]) * 200
            assert shift == pytest.approx(round(shift)) and round(shift) in (0, 1)
            assert 0.8 * effect["amplitude"] <= planted["amplitude"] <= 1.2 * effect["amplitude"]


@pytest.mark.parametrize("delivery", [0.0, 0.025])
def test_effect_is_the_transform_delayed_by_the_planted_latency(tmp_path, delivery):
    """With negligible noise, EMEG at trigger time τ equals amplitude × transform at τ − latency − delivery."""
    spec = tiny_spec(
        noise=1e-9, amplitude_jitter=0.0, latency_jitter_samples=0, stimulus_delivery_latency=delivery
    )
    simulate_study(spec, tmp_path)
    a = np.load(tmp_path / "transforms/a.npy").astype(np.float64)
    b = np.load(tmp_path / "transforms/b.npy").astype(np.float64)
    sensor = read_evoked(tmp_path / "emeg/p2-ave.fif")
    source = read_source_estimate(tmp_path / "emeg/p2")
    k = np.arange(100, 500)  # transform samples well inside the stimulus
    for data, row, transform, effect, scale in (
        (sensor, 0, a, spec.effects[0], 1e-13),
        (source, 4, b, spec.effects[1], 1.0),
    ):
        t = k / 100 + effect.latency_s + delivery  # trigger time carrying transform sample k
        n = np.round((t - data.t_start) * data.sample_rate).astype(int)
        for rep in range(data.n_reps):
            got = data.values[row, rep, n] / scale
            np.testing.assert_allclose(got, effect.amplitude * transform[k], atol=1e-4)
    # channels without an effect carry only (negligible) noise
    units = np.array(
        [1e-6 if n.startswith("EEG") else 1e-13 if n.endswith("1") else 1e-11 for n in sensor.channel_names]
    )
    assert np.abs(sensor.values[1:] / units[1:, None, None]).max() < 1e-6


def test_spec_validation_and_yaml(tmp_path):
    with pytest.raises(ValueError, match="unknown key.*colour"):
        StudySpec.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="whole multiple"):
        tiny_spec(transform_sample_rate=150.0)
    with pytest.raises(ValueError, match="unknown sensor 'MEG9999'"):
        tiny_spec(effects=[Effect("a", "sensor", ["MEG9999"], 0.1, 1.0)])
    with pytest.raises(ValueError, match="marked bad"):
        tiny_spec(effects=[Effect("a", "sensor", ["EEG002"], 0.1, 1.0)])
    with pytest.raises(ValueError, match="vertex 3 is not in hexels_lh"):
        tiny_spec(effects=[{"transform": "a", "channel_space": "source", "channels": [["lh", 3]],
                            "latency_s": 0.1, "amplitude": 1.0}])  # fmt: skip
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(tiny_spec().to_dict()))
    assert StudySpec.from_yaml(path) == tiny_spec()
    path.write_text("- just a list\n")
    with pytest.raises(ValueError, match="spec.yaml: expected a mapping"):
        StudySpec.from_yaml(path)


def test_demo_spec_is_consistent():
    spec = DEMO_SPEC
    assert len(spec.participants) == 3 and 3 <= len(spec.transforms) <= 4
    assert {e.channel_space for e in spec.effects} == {"sensor", "source"}
    assert {c[0] for e in spec.effects if e.channel_space == "source" for c in e.channels} == {"lh", "rh"}
    assert set(DEMO_HIERARCHY) - {"input"} == set(spec.transforms)
    latency = {e.transform: e.latency_s for e in spec.effects}
    for child, parents in DEMO_HIERARCHY.items():
        for parent in parents:
            if parent != "input":
                assert latency[parent] < latency[child]
