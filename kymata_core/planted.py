"""Known effects planted in real recordings: does the pipeline find what is there, where it is?

A short real recording (a few seconds of MEG) is too short for a gridsearch, but its noise is
what a study's data look like: its spectrum, its spatial correlations, its channel types and
scales. :func:`lengthen_recording` builds a recording of any length from it, and
:class:`BandLimitedSignal` is a smooth random transform defined at every instant, so it can be
sampled at the transform's rate for the transform file and at the EMEG's own (possibly non-whole)
rate for the planted copy, with no resampling in between. :func:`plant` adds the delayed copy to
chosen channels.

The tests use these with the recordings in ``tests/data/real-meg``; a lab can use them the same way
with a few seconds of its own data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class BandLimitedSignal:
    """A random signal with unit variance and no power above ``cutoff_hz``, defined at every time.

    A sum of ``n_components`` sinusoids with frequencies drawn uniformly from
    ``(0.1 * cutoff_hz, cutoff_hz)``, random phases and Rayleigh amplitudes, scaled to unit variance.

    Parameters
    ----------
    cutoff_hz : float
    seed : int
    n_components : int
    """

    cutoff_hz: float = 10.0
    seed: int = 0
    n_components: int = 200
    _frequencies: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _phases: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _amplitudes: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.cutoff_hz > 0 or self.n_components < 1:
            raise ValueError("a band-limited signal needs a positive cutoff and at least one component")
        rng = np.random.default_rng(self.seed)
        frequencies = rng.uniform(0.1 * self.cutoff_hz, self.cutoff_hz, self.n_components)
        phases = rng.uniform(0, 2 * np.pi, self.n_components)
        amplitudes = rng.rayleigh(1.0, self.n_components)
        amplitudes /= np.sqrt(np.sum(amplitudes**2) / 2)  # variance of a sum of sinusoids: sum(a^2) / 2
        object.__setattr__(self, "_frequencies", frequencies)
        object.__setattr__(self, "_phases", phases)
        object.__setattr__(self, "_amplitudes", amplitudes)

    def at(self, times: NDArray[np.floating], chunk: int = 65536) -> NDArray[np.float64]:
        """The signal at ``times`` (seconds)."""
        times = np.asarray(times, dtype=np.float64)
        out = np.empty(times.shape)
        flat_t, flat_out = times.reshape(-1), out.reshape(-1)
        omega = 2 * np.pi * self._frequencies
        for i in range(0, flat_t.size, chunk):
            t = flat_t[i : i + chunk, None]
            flat_out[i : i + chunk] = np.cos(t * omega + self._phases) @ self._amplitudes
        return out

    def sampled(self, sample_rate: float, duration_s: float) -> NDArray[np.float64]:
        """The signal at ``k / sample_rate`` for every whole ``k`` in ``[0, duration_s * sample_rate)``."""
        return self.at(np.arange(int(np.ceil(duration_s * sample_rate))) / sample_rate)


def lengthen_recording(data: NDArray, n_times: int, *, seed: int = 0) -> NDArray[np.float64]:
    """A recording of ``n_times`` samples made of pieces of ``data`` (channels × samples).

    Each piece is a random stretch of a quarter to all of ``data``, taken forwards or backwards
    in time and with its sign flipped or not (all channels alike, so the spatial structure is
    kept), with each channel's mean removed. The result has the channels' real spectra and scales
    but no structure that repeats at a fixed period.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] < 8:
        raise ValueError(f"data must be (channels, samples) with at least 8 samples, got shape {data.shape}")
    rng = np.random.default_rng(seed)
    n_source = data.shape[1]
    out = np.empty((data.shape[0], n_times))
    filled = 0
    while filled < n_times:
        length = int(rng.integers(max(2, n_source // 4), n_source + 1))
        start = int(rng.integers(0, n_source - length + 1))
        piece = data[:, start : start + length]
        if rng.random() < 0.5:
            piece = piece[:, ::-1]
        piece = piece - piece.mean(axis=1, keepdims=True)
        if rng.random() < 0.5:
            piece = -piece
        take = min(length, n_times - filled)
        out[:, filled : filled + take] = piece[:, :take]
        filled += take
    return out


def plant(
    data: NDArray,
    channels: Sequence[int],
    signal: BandLimitedSignal,
    *,
    sample_rate: float,
    t_start: float,
    latency: float,
    snr: float,
    stimulus_delivery_latency: float = 0.0,
    stimulus_shift_correction: float = 0.0,
) -> NDArray[np.float64]:
    """A copy of ``data`` with ``signal`` delayed by ``latency`` added to ``channels``.

    EMEG at trigger time ``τ`` (sample ``k``, ``τ = t_start + k / sample_rate``) gets the signal at
    stimulus time ``(τ − stimulus_delivery_latency − latency) / (1 + stimulus_shift_correction)``
    (the stimulus clock runs that much slow), scaled to ``snr`` times the channel's standard
    deviation; zero before stimulus onset. This is the latency a gridsearch with the same delivery
    latency and shift correction reports.
    """
    out = np.array(data, dtype=np.float64, copy=True)
    times = (t_start + np.arange(out.shape[-1]) / sample_rate - stimulus_delivery_latency - latency) / (
        1 + stimulus_shift_correction
    )
    delayed = np.where(times >= 0, signal.at(times), 0.0)
    for c in channels:
        out[c] += snr * out[c].std() * delayed
    return out
