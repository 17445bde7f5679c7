"""Real recordings for the tests: the three MEG systems of ``tests/data/real-meg``, made long enough.

Each recording is a few seconds of real data; :func:`study_recording` lengthens its brain channels
with :func:`kymata_core.planted.lengthen_recording` (real spectra, real scales, real channel names
and geometry) and plants a known transform in chosen channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mne
import numpy as np
from numpy.typing import NDArray

from kymata_core.planted import BandLimitedSignal, lengthen_recording, plant
from tests.paths import REAL_MEG_DIR

NEUROMAG = "neuromag"
KIT = "kit"
CTF = "ctf"
SYSTEMS = (NEUROMAG, KIT, CTF)
NEUROMAG_FILE = REAL_MEG_DIR / "neuromag-sample-ave.fif.gz"


@dataclass(frozen=True)
class RealSource:
    """A real recording's brain channels: the data to lengthen and the info that describes them."""

    system: str
    data: NDArray[np.float64]  # (channels, samples)
    info: mne.Info
    full_info: mne.Info  # every channel of the file: reference, stimulus, EOG, misc too
    brain: tuple[int, ...]  # the rows of ``info`` within ``full_info``

    def with_other_channels(self, data: NDArray, seed: int = 0) -> NDArray[np.float64]:
        """``data`` (brain channels) inside an array of every channel of the file; the others get random
        values of a size that would dominate any analysis they were wrongly part of."""
        rng = np.random.default_rng(seed)
        full = rng.standard_normal((len(self.full_info.ch_names), data.shape[-1])) * np.abs(data).max()
        full[list(self.brain)] = data
        return full

    @property
    def sample_rate(self) -> float:
        return float(self.info["sfreq"])


@cache
def real_source(system: str) -> RealSource:
    """The brain channels (MEG without reference sensors, EEG) of one system's real recording.

    Neuromag: the four conditions of MNE's sample evoked file, one after the other. KIT, CTF: the raw
    recording.
    """
    if system == NEUROMAG:
        evokeds = mne.read_evokeds(NEUROMAG_FILE, verbose="error")
        info = evokeds[0].info
        picks = mne.pick_types(info, meg=True, eeg=True, ref_meg=False, exclude="bads")
        data = np.concatenate([ev.data[picks] for ev in evokeds], axis=1)
    else:
        raw = mne.io.read_raw_fif(REAL_MEG_DIR / f"{system}-{'raw' if system == KIT else 'comp-raw'}.fif", verbose="error")
        info = raw.info
        picks = mne.pick_types(info, meg=True, eeg=True, ref_meg=False, exclude="bads")
        data = raw.get_data(picks)
    return RealSource(system, data, mne.pick_info(info, picks), info, tuple(int(i) for i in picks))


@dataclass(frozen=True)
class Planted:
    """Where and when a transform was planted, and the transform file's values."""

    channels: tuple[str, ...]
    latency: float
    transform: NDArray[np.float64]
    transform_rate: float


def study_recording(
    source: RealSource,
    seconds: float,
    *,
    planted_channels: tuple[int, ...],
    latency: float = 0.08,
    snr: float = 0.5,
    sample_rate: float | None = None,
    t_start: float = -0.2,
    seed: int = 0,
    signal_seed: int = 3,
    transform_rate: float = 1000.0,
    stimulus_delivery_latency: float = 0.0,
    stimulus_shift_correction: float = 0.0,
) -> tuple[NDArray[np.float64], Planted]:
    """``seconds`` of the source's noise, with a band-limited transform planted at ``latency``.

    ``sample_rate`` relabels the recording (the same samples at another rate); the transform is
    planted at the rate the recording is labelled with, and returned sampled at ``transform_rate``.
    """
    rate = source.sample_rate if sample_rate is None else sample_rate
    noise = lengthen_recording(source.data, int(seconds * rate), seed=seed)
    signal = BandLimitedSignal(cutoff_hz=10.0, seed=signal_seed)
    data = plant(
        noise,
        planted_channels,
        signal,
        sample_rate=rate,
        t_start=t_start,
        latency=latency,
        snr=snr,
        stimulus_delivery_latency=stimulus_delivery_latency,
        stimulus_shift_correction=stimulus_shift_correction,
    )
    names = tuple(source.info.ch_names[c] for c in planted_channels)
    return data, Planted(names, latency, signal.sampled(transform_rate, seconds), transform_rate)


def write_evoked(path: Path, info: mne.Info, recordings: list[tuple[str, NDArray]], t_start: float = -0.2) -> Path:
    """An evoked FIF file with one evoked per (comment, data) pair, as a lab's pipeline would write it."""
    evokeds = [
        mne.EvokedArray(data, info, tmin=t_start, comment=comment, nave=1, verbose="error")
        for comment, data in recordings
    ]
    mne.write_evokeds(path, evokeds, overwrite=True, verbose="error")
    return path


def relabelled(info: mne.Info, sample_rate: float) -> mne.Info:
    """A copy of ``info`` claiming another sample rate."""
    info = info.copy()
    with info._unlock():
        info["sfreq"] = float(sample_rate)
        info["lowpass"] = min(info["lowpass"], sample_rate / 2)
    return info
