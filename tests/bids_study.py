"""A small BIDS dataset written with mne-bids from real MEG noise, with a planted effect.

Two participants, each recorded while a 60 s story was presented three times (a trigger with value 5,
"story", at each start; events.tsv and a stimulus channel both carry it). The recordings use the real
Neuromag VectorView geometry of tests/data/real-meg (its magnetometers and EEG, 600.614990234375 Hz)
and its real noise, lengthened; the story's transform is planted at ``LATENCY`` in a few sensors of each
presentation. The transform lives in the dataset's ``stimuli/`` folder. :func:`write_derivatives` adds
a fake mne-bids-pipeline derivatives folder (each participant's averaged evoked and inverse operator).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from kymata_core.planted import BandLimitedSignal, lengthen_recording
from tests.real_meg import NEUROMAG, real_source

TASK = "listening"
TRIGGER = 5
STORY = 60.0
GAP = 5.0
FIRST_ONSET = 2.0
PRESENTATIONS = 3
LATENCY = 0.08
PARTICIPANTS = ("01", "02")
PLANTED = ("MEG 0141", "MEG 0241", "EEG 015")
STIM = "STI 014"


@dataclass(frozen=True)
class BidsStudy:
    root: Path
    info: mne.Info  # the recorded brain channels (without the stimulus channel)
    onsets: tuple[float, ...]  # seconds from the recording's start


def onsets() -> tuple[float, ...]:
    return tuple(FIRST_ONSET + k * (STORY + GAP) for k in range(PRESENTATIONS))


def write_bids_study(root: Path, *, participants=PARTICIPANTS, seconds_after_last: float = 3.0) -> BidsStudy:
    from mne_bids import BIDSPath, write_raw_bids

    source = real_source(NEUROMAG)
    keep = mne.pick_types(source.info, meg="mag", eeg=True)
    brain = mne.pick_info(source.info, keep)
    rate = source.sample_rate
    starts = onsets()
    total = starts[-1] + STORY + seconds_after_last
    n = int(total * rate)
    signal = BandLimitedSignal(cutoff_hz=30.0, seed=21)
    stimuli = root / "stimuli"
    stimuli.mkdir(parents=True, exist_ok=True)
    np.save(stimuli / "story_loudness.npy", signal.sampled(1000.0, STORY).astype(np.float32))
    info = mne.create_info([*brain.ch_names, STIM], rate, [*brain.get_channel_types(), "stim"])
    with info._unlock():
        info["chs"][: len(brain.ch_names)] = brain["chs"]
        info["dig"] = brain["dig"]
        info["dev_head_t"] = brain["dev_head_t"]
        info["meas_date"] = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        info["line_freq"] = 50.0
    times = np.arange(n) / rate
    rows = [brain.ch_names.index(name) for name in PLANTED]
    for i, subject in enumerate(participants):
        data = lengthen_recording(source.data[keep], n, seed=40 + i)
        stim = np.zeros(n)
        story = np.zeros(n)
        for onset in starts:
            t = times - onset - LATENCY
            inside = (t >= 0) & (t < STORY)
            story[inside] = signal.at(t[inside])
            stim[int(round(onset * rate)) : int(round(onset * rate)) + 10] = TRIGGER
        for r in rows:
            data[r] += 0.5 * data[r].std() * story
        raw = mne.io.RawArray(np.vstack([data, stim]), info, verbose="error")
        events = mne.find_events(raw, stim_channel=STIM, verbose="error")
        bids_path = BIDSPath(subject=subject, task=TASK, datatype="meg", root=root)
        write_raw_bids(raw, bids_path, events=events, event_id={"story": TRIGGER}, allow_preload=True,
                       format="FIF", overwrite=True, verbose="error")  # fmt: skip
    return BidsStudy(root, brain, starts)
