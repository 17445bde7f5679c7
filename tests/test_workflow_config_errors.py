"""Each kind of configuration mistake stops the workflow before any job, naming the key or file."""

from __future__ import annotations

import copy

import mne
import numpy as np
import pytest

from tests.workflow_utils import copy_workflow, run_snakemake, write_config

GOOD = {
    "dataset": "files",
    "participants": ["p1"],
    "channel_space": "sensor",
    "emeg": {"sensor": "data/{participant}-ave.fif"},
    "transforms": {"sample_rate": 200, "files": {"a": "data/a.npy"}},
    "gridsearch": {"n_splits": 4, "stimulus_delivery_latency": 0.0},
    "ippm": {"hierarchy": {"input": [], "a": ["input"]}, "denoisers": ["maxpool"]},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("config-errors"))
    (root / "data").mkdir()
    info = mne.create_info(["MEG0111", "EEG001"], 200.0, ["mag", "eeg"])
    evoked = mne.EvokedArray(np.zeros((2, 1400)), info, tmin=-0.2, verbose="error")  # 7 s: 4 splits of 1 s fit
    evoked.save(root / "data/p1-ave.fif", verbose="error")
    np.save(root / "data/a.npy", np.zeros(1000, dtype=np.float32))
    np.savez(root / "data/stim.npz", a=np.zeros(1000), b=np.ones(1000))
    return root


def dry_run(workdir, config):
    return run_snakemake(workdir, "--dry-run", "--configfile", str(write_config(workdir, config)), check=False)


def assert_refused(result, *fragments):
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output[-3000:]}"
    assert "rule gridsearch:" not in result.stdout  # nothing was scheduled


def test_the_good_config_is_accepted(workdir):
    result = dry_run(workdir, GOOD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "gridsearch" in result.stdout


def test_missing_key(workdir):
    config = copy.deepcopy(GOOD)
    del config["emeg"]
    assert_refused(dry_run(workdir, config), "'emeg' is a required property")


def test_wrong_type(workdir):
    config = copy.deepcopy(GOOD)
    config["gridsearch"] = {"n_splits": "many"}
    assert_refused(dry_run(workdir, config), "'many' is not of type 'integer'", "n_splits")


def test_misspelt_key(workdir):
    config = copy.deepcopy(GOOD)
    config["gridsearch"] = {"n_split": 10}
    result = dry_run(workdir, config)
    assert_refused(result, "config key 'gridsearch.n_split' is not a known key", "did you mean 'n_splits'?")
    assert "stimulus_shift_correction" in result.stdout + result.stderr  # the keys allowed there are listed
    assert "$schema" not in result.stdout + result.stderr  # ... but not the whole schema


def test_value_out_of_range(workdir):
    config = copy.deepcopy(GOOD)
    config["gridsearch"] = {"n_derangements": 0}
    assert_refused(dry_run(workdir, config), "n_derangements")


def test_missing_emeg_file(workdir):
    config = copy.deepcopy(GOOD)
    config["participants"] = ["p1", "p2"]
    assert_refused(dry_run(workdir, config), "emeg.sensor: data/p2-ave.fif")


def test_missing_transform_file(workdir):
    config = copy.deepcopy(GOOD)
    config["transforms"]["files"]["b"] = "data/b.npy"
    assert_refused(dry_run(workdir, config), "transforms.files.b: data/b.npy")


def test_unknown_transform_in_the_npz_names(workdir):
    config = copy.deepcopy(GOOD)
    config["transforms"] = {"sample_rate": 200, "npz": "data/stim.npz", "names": ["a", "pitch"]}
    assert_refused(dry_run(workdir, config), "transforms.names", "'pitch'")


def test_unknown_transform_in_the_hierarchy(workdir):
    config = copy.deepcopy(GOOD)
    config["ippm"]["hierarchy"] = {"input": [], "a": ["input"], "pitch": ["a"]}
    assert_refused(dry_run(workdir, config), "ippm.hierarchy", "'pitch'")


def test_participants_tsv_without_the_id_column(workdir):
    (workdir / "participants.tsv").write_text("id\tage\np1\t30\n")
    config = copy.deepcopy(GOOD)
    config["participants"] = "participants.tsv"
    assert_refused(dry_run(workdir, config), "participants.tsv needs a 'participant_id' column")


def test_participants_tsv(workdir):
    (workdir / "participants.tsv").write_text("participant_id\tage\np1\t30\n")
    config = copy.deepcopy(GOOD)
    config["participants"] = "participants.tsv"
    result = dry_run(workdir, config)
    assert result.returncode == 0, result.stderr[-3000:]


def test_group_is_reserved(workdir):
    config = copy.deepcopy(GOOD)
    config["participants"] = ["group"]
    assert_refused(dry_run(workdir, config), "'group' is reserved")


def test_denoisers_without_a_hierarchy(workdir):
    config = copy.deepcopy(GOOD)
    del config["ippm"]["hierarchy"]
    assert_refused(dry_run(workdir, config), "'ippm.hierarchy' is needed", "denoisers: []")
