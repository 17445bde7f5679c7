"""Conditions are chosen, repetitions are explicit: the rules of kymata_core.io.conditions on real files.

MNE's sample evoked file holds four conditions ("Left Auditory", ...): they are not repetitions of
one stimulus, so reading it needs a choice; evokeds that share a comment are repetitions.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest

from kymata_core.io.conditions import ConditionError, condition_arg, select_recordings
from kymata_core.io.emeg import grand_average, read_evoked, write_evoked
from kymata_core.io.emeg_shape import evoked_entries, read_emeg_shape
from tests.real_meg import NEUROMAG_FILE

SAMPLE_CONDITIONS = ["Left Auditory", "Right Auditory", "Left visual", "Right visual"]


@pytest.mark.parametrize(
    ("names", "condition", "chosen"),
    [
        (["a"], None, [0]),
        (["s", "s", "s"], None, [0, 1, 2]),
        (["a", "b", "a"], "a", [0, 2]),
        (["a", "b", "c"], ["c", "a"], [2, 0]),
        (["r1", "r2", "r1"], ["r1", "r2"], [0, 2, 1]),
    ],
)
def test_which_recordings_are_the_repetitions(names, condition, chosen):
    assert select_recordings(names, condition, "f.fif") == chosen


@pytest.mark.parametrize(
    ("names", "condition", "message"),
    [
        (["a", "b"], None, "f.fif holds 2 different conditions ['a', 'b']: choose what to analyse"),
        (["a", "b"], "c", "f.fif has no condition 'c'; it holds ['a', 'b']"),
        (["a", "b"], ["a", "z"], "f.fif has no condition 'z'"),
        (["a"], [], "an empty list of conditions"),
        ([], None, "holds no evoked data"),
    ],
)
def test_each_misuse_is_refused_with_the_file_and_its_conditions(names, condition, message):
    with pytest.raises(ConditionError) as error:
        select_recordings(names, condition, "f.fif")
    assert message in str(error.value)


def test_condition_option_once_is_a_name_and_repeated_a_list():
    assert condition_arg(None) is None
    assert condition_arg(["Left Auditory"]) == "Left Auditory"
    assert condition_arg(["a", "b"]) == ["a", "b"]


def test_the_real_sample_file_needs_a_condition():
    assert [e.comment for e in evoked_entries(NEUROMAG_FILE)] == SAMPLE_CONDITIONS
    with pytest.raises(ConditionError, match="4 different conditions"):
        read_evoked(NEUROMAG_FILE)
    with pytest.raises(ConditionError, match="4 different conditions"):
        read_emeg_shape(NEUROMAG_FILE, "sensor")


def test_the_chosen_condition_is_what_is_read():
    evokeds = {ev.comment: ev for ev in mne.read_evokeds(NEUROMAG_FILE, verbose="error")}
    one = read_evoked(NEUROMAG_FILE, condition="Right Auditory")
    assert one.n_reps == 1 and one.conditions == ["Right Auditory"]
    row = one.channel_names.index("MEG 1332")
    expected = evokeds["Right Auditory"].data[evokeds["Right Auditory"].ch_names.index("MEG 1332")]
    np.testing.assert_allclose(one.values[row, 0], expected, rtol=1e-6)
    two = read_evoked(NEUROMAG_FILE, condition=["Left visual", "Left Auditory"])
    assert two.n_reps == 2 and two.conditions == ["Left visual", "Left Auditory"]
    np.testing.assert_allclose(two.values[:, 1], read_evoked(NEUROMAG_FILE, condition="Left Auditory").values[:, 0])
    shape = read_emeg_shape(NEUROMAG_FILE, "sensor", condition=["Left visual", "Left Auditory"])
    assert (shape.n_reps, shape.n_times, shape.n_channels) == (2, 421, 366)
    assert shape.t_start == pytest.approx(-120 / 600.614990234375)


def test_evokeds_with_one_comment_are_repetitions_and_the_group_average_keeps_the_selection(tmp_path):
    info = mne.create_info(["MEG0111", "MEG0112", "EEG001"], 100.0, ["mag", "grad", "eeg"])
    rng = np.random.default_rng(0)
    files, stimulus = [], []
    for p in range(2):
        reps = [rng.standard_normal((3, 50)) for _ in range(3)]
        stimulus.append(reps)
        evokeds = [mne.EvokedArray(d, info, tmin=-0.1, comment="story", verbose="error") for d in reps]
        evokeds.insert(1, mne.EvokedArray(rng.standard_normal((3, 50)) * 100, info, tmin=-0.1, comment="rest", verbose="error"))
        path = tmp_path / f"p{p}-ave.fif"
        mne.write_evokeds(path, evokeds, verbose="error")
        files.append(path)
    story = read_evoked(files[0], condition="story")
    assert story.n_reps == 3 and story.conditions == ["story"] * 3
    np.testing.assert_allclose(story.values[:, 2], stimulus[0][2], rtol=1e-6)
    group = grand_average(files, "sensor", condition="story", n_reps=2)
    for r in range(2):
        np.testing.assert_allclose(group.values[:, r], (stimulus[0][r] + stimulus[1][r]) / 2, rtol=1e-5)
    # the written average reads back as repetitions of the same condition
    back = read_evoked(write_evoked(group, tmp_path / "group-ave.fif"), condition="story")
    assert back.n_reps == 2
    with pytest.raises(ConditionError, match="'rest', 'story'|'story', 'rest'"):
        grand_average(files, "sensor", n_reps=1)
    with pytest.raises(ValueError, match="3 repetition"):
        grand_average(files, "sensor", condition="story", n_reps=4)


def test_epochs_are_repetitions_of_their_event(tmp_path):
    info = mne.create_info(["MEG0111", "EEG001"], 100.0, ["mag", "eeg"])
    rng = np.random.default_rng(1)
    data = rng.standard_normal((4, 2, 60))
    events = np.array([[0, 0, 1], [100, 0, 2], [200, 0, 1], [300, 0, 1]])
    epochs = mne.EpochsArray(data, info, events=events, tmin=-0.1, event_id={"story": 1, "rest": 2}, verbose="error")
    path = tmp_path / "p-epo.fif"
    epochs.save(path, verbose="error")
    story = read_evoked(path, condition="story")
    assert story.n_reps == 3
    np.testing.assert_allclose(story.values[:, 1], data[2], rtol=1e-6)
    assert read_emeg_shape(path, "sensor", condition="story").n_reps == 3
    with pytest.raises(ConditionError, match="'story', 'rest'"):
        read_evoked(path)
