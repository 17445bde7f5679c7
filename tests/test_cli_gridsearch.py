"""End to end through the command line: simulate a tiny study, average it, gridsearch it, and check
that every planted effect is found where and when it was planted, and nothing else is."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from kymata_core.cli import main
from kymata_core.io.emeg import read_evoked, read_source_estimate
from kymata_core.io.nkg import load_expression_set, read_provenance
from kymata_core.math.probability import p_threshold_for_sigmas, sidak_correct
from kymata_core.provenance import sha256_of
from kymata_core.simulate import vectorview_sensors

TRANSFORM_RATE = 100.0
N_SPLITS = 20

SPEC = {
    "participants": ["p1", "p2"],
    "emeg_sample_rate": 200.0,
    "transform_sample_rate": TRANSFORM_RATE,
    "n_splits": N_SPLITS,
    "seconds_per_split": 1.0,
    "sensors": vectorview_sensors(3, 2),
    "bad_sensors": ["EEG002"],
    "hexels_lh": list(range(0, 80, 10)),
    "hexels_rh": list(range(5, 85, 10)),
    "transforms": ["a", "b"],
    "effects": [
        {"transform": "a", "channel_space": "sensor", "channels": ["MEG0111", "EEG001"], "latency_s": 0.05, "amplitude": 0.7},
        {"transform": "b", "channel_space": "sensor", "channels": ["MEG0212"], "latency_s": 0.13, "amplitude": 0.7},
        {"transform": "a", "channel_space": "source", "channels": [["lh", 20]], "latency_s": 0.08, "amplitude": 0.7},
        {"transform": "b", "channel_space": "source", "channels": [["lh", 50], ["rh", 15]], "latency_s": 0.11, "amplitude": 0.7},
    ],
    "smoothness_hz": 25.0,
    "seed": 11,
}  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    spec_path = root / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(SPEC))
    assert main(["simulate", "--out", str(root / "data"), "--spec", str(spec_path)]) == 0
    return root


def _gridsearch(study, emeg, space, transform, out, *extra):
    argv = [
        "gridsearch", "--emeg", str(emeg), "--space", space, "--transform", str(study / "data/transforms" / f"{transform}.npy"),
        "--transform-rate", str(TRANSFORM_RATE), "--n-splits", str(N_SPLITS), "--n-derangements", "3", "--seed", "1",
        "--out", str(out), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return load_expression_set(out)


def _significant(block, channels, threshold):
    """(channel, best latency, log p) of every channel whose best log p passes the threshold."""
    dense = np.asarray(block.data.todense())[:, :, 0]
    best = dense.min(axis=1)
    found = {}
    for i in np.flatnonzero(best < threshold):
        found[channels[i].item()] = (float(block.latency.values[dense[i].argmin()]), float(best[i]))
    return found


def _threshold(n_channels, n_latencies):
    return np.log10(sidak_correct(p_threshold_for_sigmas(5), n_channels * n_latencies))


def _planted(truth, space, transform, participant, hemi=None):
    out = {}
    for e, asked in zip(truth["effects"], SPEC["effects"], strict=True):
        assert e["latency_s"] == pytest.approx(asked["latency_s"])  # planted where the spec said
        if e["channel_space"] == space and e["transform"] == transform:
            for ch in e["channels"]:
                if space == "sensor":
                    out[ch] = e["participants"][participant]["latency_s"]
                elif ch[0] == hemi:
                    out[ch[1]] = e["participants"][participant]["latency_s"]
    return out


@pytest.mark.parametrize("transform", ["a", "b"])
def test_sensor_effects_recovered_exactly(study, transform):
    truth = json.loads((study / "data/truth.json").read_text())
    out = study / f"p1-{transform}.scalp.nkg"
    es = _gridsearch(study, study / "data/emeg/p1-ave.fif", "sensor", transform, out, "--hemi", "scalp")
    assert es.transforms == [transform]
    assert "EEG002" not in list(es.sensors)  # bad channel excluded
    threshold = _threshold(len(es.sensors), len(es.latencies))
    found = _significant(es.scalp, list(es.sensors), threshold)
    planted = _planted(truth, "sensor", transform, "p1")
    assert set(found) == set(planted)  # every planted channel, and no false positives
    for channel, latency in planted.items():
        assert abs(found[channel][0] - latency) <= 1 / TRANSFORM_RATE + 1e-9


def test_source_one_hemisphere_recovered(study):
    truth = json.loads((study / "data/truth.json").read_text())
    for transform in ("a", "b"):
        es = _gridsearch(
            study,
            study / "data/emeg/p2-lh.stc",
            "source",
            transform,
            study / f"p2-{transform}.lh.nkg",
            "--hemi",
            "lh",
        )
        assert list(es.hexels_right) == [] and list(es.hexels_left) == SPEC["hexels_lh"]
        threshold = _threshold(len(es.hexels_left), len(es.latencies))
        found = _significant(es.left, list(es.hexels_left), threshold)
        planted = _planted(truth, "source", transform, "p2", hemi="lh")
        assert planted and set(found) == set(planted)
        for hexel, latency in planted.items():
            assert abs(found[hexel][0] - latency) <= 1 / TRANSFORM_RATE + 1e-9


def test_provenance_and_reproducibility(study, tmp_path):
    emeg = study / "data/emeg/p1-lh.stc"
    first = tmp_path / "one.nkg"
    _gridsearch(study, emeg, "source", "a", first, "--hemi", "rh", "--n-reps", "1")
    prov = read_provenance(first)
    assert prov["step"] == "gridsearch" and prov["seed"] == 1
    assert prov["parameters"]["n_splits"] == N_SPLITS and prov["parameters"]["hemi"] == "rh"
    assert prov["inputs"]["emeg"] == [
        {"name": "p1-lh.stc", "sha256": sha256_of(study / "data/emeg/p1-lh.stc")},
        {"name": "p1-rh.stc", "sha256": sha256_of(study / "data/emeg/p1-rh.stc")},
    ]
    assert prov["inputs"]["transform"]["sha256"] == sha256_of(study / "data/transforms/a.npy")
    second = tmp_path / "two.nkg"
    _gridsearch(study, emeg, "source", "a", second, "--hemi", "rh", "--n-reps", "1")
    assert first.read_bytes() == second.read_bytes()
    # The workflow leaves --space out: --hemi implies it (rh: source), with the same result.
    third = tmp_path / "three.nkg"
    argv = [
        "gridsearch", "--emeg", str(emeg), "--hemi", "rh", "--transform", str(study / "data/transforms/a.npy"),
        "--transform-rate", str(TRANSFORM_RATE), "--n-splits", str(N_SPLITS), "--n-derangements", "3", "--seed", "1",
        "--n-reps", "1", "--out", str(third),
    ]  # fmt: skip
    assert main(argv) == 0
    assert third.read_bytes() == first.read_bytes()


def test_average_command(study, tmp_path, capsys):
    emeg = study / "data/emeg"
    out = tmp_path / "avg-ave.fif"
    inputs = [emeg / "p1-ave.fif", emeg / "p2-ave.fif"]
    assert main(["average", "--space", "sensor", "--n-reps", "1", "--out", str(out), *map(str, inputs)]) == 0
    expected = sum(read_evoked(p).values[:, :1] for p in inputs) / 2
    np.testing.assert_allclose(read_evoked(out).values, expected, rtol=1e-5, atol=1e-20)
    inputs = [emeg / "p1", emeg / "p2-rh.stc"]
    assert main(["average", "--space", "source", "--out", str(tmp_path / "avg"), *map(str, inputs)]) == 0
    expected = (read_source_estimate(emeg / "p1").values + read_source_estimate(emeg / "p2").values) / 2
    np.testing.assert_allclose(read_source_estimate(tmp_path / "avg").values, expected, rtol=1e-5, atol=1e-6)
    assert main(["average", "--space", "sensor", "--out", str(out), str(emeg / "p1-ave.fif")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_estimate_memory_and_user_errors(study, tmp_path, capsys):
    common = [
        "--transform",
        str(study / "data/transforms/a.npy"),
        *"--transform-rate 100 --n-splits 20".split(),
    ]
    stc = str(study / "data/emeg/p1-lh.stc")
    assert main(["gridsearch", "--estimate-memory", "--emeg", stc, "--space", "source", *common]) == 0
    mb = float(capsys.readouterr().out.strip())
    assert 100 < mb < 10_000
    existing = tmp_path / "x.nkg"
    existing.write_bytes(b"")
    cases = [
        (["--emeg", str(study / "data/emeg/p1-ave.fif"), "--space", "sensor", "--hemi", "lh", "--out", str(tmp_path / "y.nkg")], "--hemi lh"),
        (["--emeg", str(study / "data/emeg/p1-ave.fif"), "--space", "sensor", "--out", str(existing)], "already exists"),
        (["--emeg", str(study / "data/emeg/missing-ave.fif"), "--space", "sensor", "--out", str(tmp_path / "y.nkg")], "missing-ave.fif"),
        (["--emeg", str(study / "data/emeg/p1-ave.fif"), "--space", "sensor", "--out", str(tmp_path / "y.txt")], ".nkg"),
        (["--emeg", str(study / "data/emeg/p1-ave.fif"), "--space", "sensor"], "--out is required"),
        (["--emeg", str(study / "data/emeg/p1-ave.fif"), "--out", str(tmp_path / "y.nkg")], "--space is required"),
        (["--emeg", stc, "--hemi", "scalp", "--space", "source", "--out", str(tmp_path / "y.nkg")], "--hemi scalp is for sensor"),
    ]  # fmt: skip
    for argv, message in cases:
        assert main(["gridsearch", *argv, *common]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "y.nkg").exists()


def test_help_texts(capsys):
    for command in ("simulate", "average", "gridsearch"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_simulate_dump_spec_round_trips(tmp_path, capsys):
    from kymata_core.simulate import DEMO_SPEC, StudySpec

    assert main(["simulate", "--dump-spec"]) == 0
    path = tmp_path / "demo.yaml"
    path.write_text(capsys.readouterr().out)
    assert StudySpec.from_yaml(path) == DEMO_SPEC
    assert main(["simulate", "--spec", str(path)]) == 2
    assert "--out is required" in capsys.readouterr().err
