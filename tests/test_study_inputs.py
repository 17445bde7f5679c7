"""Input files are checked against the gridsearch settings before any job runs, each mistake naming its key.

Rates (600.615 Hz Neuromag, 1017.25 Hz 4D), lengths, conditions and repetitions, from the files'
headers: see kymata_core.study_inputs.
"""

from __future__ import annotations

import copy

import mne
import numpy as np
import pytest

from kymata_core.study import ConfigError
from tests.test_study_config import study_of

NEUROMAG_RATE = 600.614990234375


def write_evoked(path, rate: float, seconds: float, comments=("stimulus",), t_start: float = -0.2) -> None:
    info = mne.create_info(["MEG 0111", "EEG 001"], rate, ["mag", "eeg"])
    rng = np.random.default_rng(0)
    n = int(seconds * rate)
    evokeds = [mne.EvokedArray(rng.standard_normal((2, n)), info, tmin=t_start, comment=c, verbose="error") for c in comments]
    mne.write_evokeds(path, evokeds, overwrite=True, verbose="error")


@pytest.fixture
def study(tmp_path, monkeypatch):
    """Two participants at Neuromag's 600.615 Hz, 8 s from -0.2 s, a 6 s transform at 1000 Hz."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for p in ("p1", "p2"):
        write_evoked(tmp_path / f"data/{p}-ave.fif.gz", NEUROMAG_RATE, 8.0, comments=("Left Auditory", "Right Auditory"))
    np.save(tmp_path / "data/loudness.npy", np.random.default_rng(1).standard_normal(6000))
    return {
        "dataset": "files",
        "participants": ["p1", "p2"],
        "channel_space": "sensor",
        "emeg": {"sensor": "data/{participant}-ave.fif.gz", "condition": "Left Auditory"},
        "transforms": {"sample_rate": 1000, "files": {"loudness": "data/loudness.npy"}},
        "gridsearch": {"n_splits": 6, "stimulus_delivery_latency": 0.0},
    }


def refused(config, *fragments):
    with pytest.raises(ConfigError) as error:
        study_of(config)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)
    return str(error.value)


def test_a_real_rate_and_the_default_resample_are_accepted(study):
    (warning,) = study_of(study).warnings  # 6 splits: too few for trustworthy p-values
    assert warning.startswith("gridsearch.n_splits: only 6 splits, 24 fewer than the 30")
    study["gridsearch"]["resample"] = "emeg"
    study_of(study)


def test_a_rate_that_is_not_near_a_whole_fraction_names_the_key_and_the_rates_that_would_do(study, tmp_path):
    for p in ("p1", "p2"):
        write_evoked(tmp_path / f"data/{p}-ave.fif.gz", 1017.25, 8.0, comments=("Left Auditory",))
    message = refused(study, "config key 'gridsearch.resample'", "1017.25 Hz", "203.45", "'emeg'")
    assert "data/p1-ave.fif.gz" in message
    study["gridsearch"]["resample"] = None
    refused(study, "config key 'transforms.sample_rate' (or set gridsearch.resample)", "1017.25")
    study["gridsearch"]["resample"] = 203.45
    study_of(study)


def test_conditions_and_repetitions_are_checked_in_every_participant(study, tmp_path):
    config = copy.deepcopy(study)
    del config["emeg"]["condition"]
    refused(config, "config key 'emeg.condition'", "p1-ave.fif.gz holds 2 different conditions", "'Left Auditory'")
    config["emeg"]["condition"] = "Left visual"
    refused(config, "has no condition 'Left visual'; it holds ['Left Auditory', 'Right Auditory']")
    config["emeg"]["condition"] = "Left Auditory"
    config["gridsearch"]["n_reps"] = 2
    refused(config, "config key 'gridsearch.n_reps' is 2", "p1-ave.fif.gz has 1 repetition(s) of condition 'Left Auditory'")
    config["emeg"]["condition"] = ["Left Auditory", "Right Auditory"]
    assert study_of(config).condition == ["Left Auditory", "Right Auditory"]


def test_a_recording_too_short_for_the_splits_is_refused_in_seconds(study):
    study["gridsearch"]["n_splits"] = 8  # needs 8 splits + a window: 9 s from -0.2 s; the files last 8 s
    refused(study, "config key 'gridsearch'", "data/p1-ave.fif.gz", "after the trigger", "n_splits")


def test_a_transform_too_short_or_at_a_rate_its_file_contradicts(study, tmp_path):
    np.save(tmp_path / "data/loudness.npy", np.zeros(5000))
    refused(study, "config key 'transforms.files.loudness'", "lasts 5 s", "need 5.99")
    np.savez(tmp_path / "data/stim.npz", loudness=np.ones(12000), sample_rate=np.array(2000.0))
    study["transforms"] = {"sample_rate": 1000, "npz": "data/stim.npz"}
    refused(study, "config key 'transforms.sample_rate' is 1000 Hz", "records sample_rate 2000 Hz")


def test_a_transform_far_longer_than_the_recordings_gets_a_warning(study, tmp_path):
    np.save(tmp_path / "data/loudness.npy", np.zeros(60_000))  # 60 s "at 1000 Hz" for 8 s recordings
    warning, _ = study_of(study).warnings
    assert "'loudness' lasts 60 s" in warning and "is the sample rate right?" in warning


def test_participants_at_different_rates_cannot_be_averaged(study, tmp_path):
    write_evoked(tmp_path / "data/p2-ave.fif.gz", 1000.0, 8.0, comments=("Left Auditory",))
    refused(study, "group average needs every participant at one sample rate", "group_average: false")
    study["group_average"] = False
    study_of(study)


def test_too_few_splits_are_warned_about_in_the_gridsearch_log_and_the_participants_summary(study, tmp_path, caplog):
    from kymata_core.cli import main

    shard = tmp_path / "loudness.scalp.nkg"
    argv = [
        "gridsearch", "--emeg", "data/p1-ave.fif.gz", "--condition", "Left Auditory", "--hemi", "scalp",
        "--transform", "data/loudness.npy", "--transform-rate", "1000", "--resample", "200", "--n-splits", "6",
        "--stimulus-delivery-latency", "0", "--out", str(shard),
    ]  # fmt: skip
    with caplog.at_level("WARNING"):
        assert main(argv) == 0
    assert "only 6 splits, 24 fewer than the 30" in caplog.text
    combined = tmp_path / "expression-sensor.nkg"
    assert main(["combine", "--out", str(combined), str(shard)]) == 0
    text = tmp_path / "summary.txt"
    assert main(["summary", "--participant", "p1", "--text", str(text), str(combined)]) == 0
    assert "WARNING: only 6 splits" in text.read_text()
