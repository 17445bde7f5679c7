"""A BIDS dataset runs with a five-line config: raw recordings, or mne-bids-pipeline's derivatives.

The dataset (tests/bids_study.py) is written with mne-bids from real Neuromag noise: two participants,
three presentations of a 60 s story each, the story's transform planted at 80 ms in three sensors and
kept in the dataset's stimuli/ folder. The workflow cuts each recording into its presentations, averages
them and must find the planted effect in every participant and the group; the same from a fake
mne-bids-pipeline derivatives folder (evoked files and inverse operators). Each misuse is refused
before any job, naming what is wrong.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import mne
import numpy as np
import pytest

from kymata_core.io.bids import BidsSpec, EpochSettings, presentation_evokeds
from kymata_core.study import ConfigError
from tests.bids_study import LATENCY, PLANTED, STORY, TASK, TRIGGER, write_bids_study
from tests.source_space import build_source_setup
from tests.test_study_config import study_of
from tests.workflow_utils import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.slow

STEP = 3 / 600.614990234375  # resample 200 at 600.615 Hz


def bids_config(root) -> dict:
    """The five lines a user writes (plus what is tested)."""
    return {
        "dataset": "bids",
        "bids": {"root": str(root), "task": TASK, "trigger": TRIGGER},
        "channel_space": "sensor",
        "transforms": {"sample_rate": 1000, "files": {"loudness": "story_loudness.npy"}},
        "gridsearch": {"n_splits": 58, "stimulus_delivery_latency": 0.0},
    }


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_bids_study(tmp_path_factory.mktemp("bids") / "ds")


def assert_found(root, participant):
    summary = json.loads((root / f"results/{participant}/summary.json").read_text())["spaces"]["sensor"]
    best = summary["transforms"]["loudness"]["best"]
    assert best["channel"] in PLANTED, (participant, best)
    assert abs(best["latency_s"] - LATENCY) <= 1.5 * STEP, (participant, best)
    assert best["logp"] < summary["threshold_logp"]


def test_a_bids_dataset_runs_from_five_lines_and_the_effect_is_found(dataset, tmp_path):
    root = copy_workflow(tmp_path / "work")
    run_snakemake(root, "--configfile", str(write_config(root, bids_config(dataset.root))), timeout=1500)
    for participant in ("sub-01", "sub-02", "group"):
        assert_found(root, participant)
    evoked = mne.read_evokeds(root / "results/sub-01/emeg/sub-01-ave.fif", verbose="error")
    assert [(ev.comment, ev.nave) for ev in evoked] == [("presentation", 3)]  # three presentations averaged
    provenance = json.loads(evoked[0].info["description"])
    assert provenance["step"] == "evoked" and provenance["parameters"]["trigger"] == TRIGGER


def test_presentations_are_the_triggers_of_events_tsv_or_the_stimulus_channel(dataset):
    spec = BidsSpec(str(dataset.root), TASK)
    by_events = presentation_evokeds(spec, "sub-02", EpochSettings(trigger="story", duration=STORY, keep_repetitions=True))
    by_channel = presentation_evokeds(spec, "02", EpochSettings(trigger=TRIGGER, duration=STORY, keep_repetitions=True, stim_channel="STI 014"))
    assert len(by_events) == len(by_channel) == 3
    for a, b in zip(by_events, by_channel, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    averaged = presentation_evokeds(spec, "sub-02", EpochSettings(trigger=TRIGGER, duration=STORY))
    np.testing.assert_allclose(averaged[0].data, np.mean([ev.data for ev in by_events], axis=0), rtol=1e-6)
    assert by_events[0].times[0] == pytest.approx(-0.5, abs=1 / 600)


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda c: c["bids"].update(task="rest"), ["config key 'bids.task'", "no recording with task 'rest'", "['listening']"]),
        (lambda c: c["bids"].update(session="02"), ["config key 'bids.session'", "session '02'"]),
        (lambda c: c["bids"].update(participants=["01", "03"]), ["config key 'bids.participants'", "['sub-03'] not in the BIDS dataset"]),
        (lambda c: c["bids"].update(trigger=7), ["config key 'bids.trigger'", "no event with the trigger 7", "story (5)"]),
        (lambda c: c["bids"].update(stimulus_duration=64.0), ["config key 'bids.stimulus_duration'", "presentation 3 of 3", "shorter than the stimulus"]),
        (lambda c: c["gridsearch"].update(n_reps=4), ["config key 'gridsearch.n_reps' is 4", "3 presentation(s)"]),
        (lambda c: c["bids"].pop("trigger"), ["config key 'bids.trigger' is needed"]),
        (lambda c: c["transforms"]["files"].update(loudness="nothing.npy"), ["stimuli/nothing.npy"]),
    ],
)
def test_each_misuse_is_refused_naming_what_is_wrong(dataset, change, fragments):
    config = copy.deepcopy(bids_config(dataset.root))
    change(config)
    with pytest.raises(ConfigError) as error:
        study_of(config)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_mne_bids_pipeline_derivatives_feed_sensor_and_source_space(dataset, tmp_path):
    """Evoked files and inverse operators from a (fake) mne-bids-pipeline output folder."""
    derivatives = tmp_path / "derivatives/mne-bids-pipeline"
    spec = BidsSpec(str(dataset.root), TASK, derivatives=str(derivatives))
    setup = build_source_setup(tmp_path / "mri", info=dataset.info)
    setup.morph(spacing=3).save(tmp_path / "sub-morph.h5", overwrite=True, verbose="error")
    for participant in ("sub-01", "sub-02"):
        evoked = presentation_evokeds(spec, participant, EpochSettings(trigger=TRIGGER, duration=STORY))[0]
        evoked.comment = "story"  # mne-bids-pipeline names evokeds after its conditions
        evoked.set_eeg_reference(projection=True, verbose="error")
        ave = spec.derivative(participant, "ave")
        inv = spec.derivative(participant, "inv")
        Path(ave).parent.mkdir(parents=True, exist_ok=True)
        mne.write_evokeds(ave, [evoked], overwrite=True, verbose="error")
        shutil.copyfile(setup.inverse_path, inv)
        shutil.copyfile(tmp_path / "sub-morph.h5", tmp_path / f"{participant}-morph.h5")
    root = copy_workflow(tmp_path / "work")
    config = bids_config(dataset.root)
    config["bids"] = {"root": str(dataset.root), "task": TASK, "derivatives": str(derivatives)}
    config["channel_space"] = ["sensor", "source"]
    config["emeg"] = {"condition": "story", "morph": str(tmp_path / "{participant}-morph.h5")}
    run_snakemake(root, "--configfile", str(write_config(root, config)), timeout=1500)
    for participant in ("sub-01", "sub-02", "group"):
        assert_found(root, participant)
        source = json.loads((root / f"results/{participant}/summary.json").read_text())["spaces"]["source"]
        assert source["transforms"]["loudness"]["best"]["logp"] < source["threshold_logp"]
    assert (root / "results/sub-01/operator/source-operator.h5").is_file()
    assert not (root / "results/sub-01/emeg").exists()  # nothing epoched: the derivatives' evoked files are used
