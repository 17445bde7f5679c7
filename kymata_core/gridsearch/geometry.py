"""Where a gridsearch's EMEG windows lie: the split geometry, from the rates and the timing parameters.

Needs only the shape and timing of the EMEG, not its values, so the workflow checks every
participant's recording against the gridsearch settings (from the file headers) before any job
runs, with the same arithmetic the gridsearch then uses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kymata_core.gridsearch.memory import split_geometry


class SplitWindows:
    """The EMEG windows of every split, checked to lie inside the recording (docs/gridsearch.md, steps 2 and 8).

    Split ``i`` starts ``i * L`` transform samples into the stimulus, ``i * L * d`` EMEG samples: the
    same instant at every rate, including rates that are not whole numbers of samples per
    ``seconds_per_split`` (docs/gridsearch.md, step 2, "Exact alignment"). Where ``f * seconds_per_split`` is a whole multiple of
    ``d`` this is the reference's ``round(i * f * seconds_per_split)``, so its numbers do not change.

    Parameters
    ----------
    n_times : int
        Samples in the recording (per repetition).
    emeg_t_start, emeg_sample_rate : float
        Time of the first sample relative to the trigger (s), and the EMEG rate (Hz).
    transform_sample_rate : float
        Rate the transform is tested at; ``emeg_sample_rate`` must be a whole multiple of it.
    start_latency, seconds_per_split : float
    n_splits : int
    stimulus_shift_correction, stimulus_delivery_latency : float

    Attributes
    ----------
    d, n_window, n_lat : int
        Down-sampling factor, window samples and latencies (``W`` and ``L`` of docs/gridsearch.md, "Geometry").
    split_period : int
        EMEG samples from one split's start to the next (``L * d``).
    starts : int array (n_splits,)
        First EMEG sample of each split's window.
    t_lo, t_hi : int
        The samples ``t_lo .. t_hi - 1`` hold every window.
    latencies : float array (n_lat,)
        Seconds, ``start_latency + l / transform_sample_rate``.

    Raises
    ------
    ValueError
        If a window falls outside the recording (naming the split and the times needed), or the
        split is too short for two latencies.
    """

    def __init__(
        self,
        n_times: int,
        emeg_t_start: float,
        emeg_sample_rate: float,
        transform_sample_rate: float,
        start_latency: float,
        seconds_per_split: float,
        n_splits: int,
        stimulus_shift_correction: float = 0.0,
        stimulus_delivery_latency: float = 0.0,
    ):
        if not seconds_per_split > 0:
            raise ValueError(f"seconds_per_split must be positive, got {seconds_per_split}")
        self.d, self.n_window, self.n_lat = split_geometry(seconds_per_split, emeg_sample_rate, transform_sample_rate)
        if self.n_lat < 2:
            raise ValueError(
                f"seconds_per_split={seconds_per_split:g} s gives {self.n_lat} latency sample(s) at "
                f"{transform_sample_rate:g} Hz; use a longer seconds_per_split"
            )
        f = float(emeg_sample_rate)
        self.split_period = self.n_lat * self.d
        offset = start_latency * f - emeg_t_start * f
        delivery = round(stimulus_delivery_latency * f)
        self.starts = np.array(
            [
                int(offset + round(i * self.split_period * (1 + stimulus_shift_correction)) + delivery)
                for i in range(int(n_splits))
            ],
            dtype=np.int64,
        )
        last_needed = (self.n_window - 1) * self.d  # offset of the last sample used in a window
        for i, s in enumerate(self.starts):
            if s < 0 or s + last_needed >= n_times:
                seconds = (emeg_t_start + s / f, emeg_t_start + (s + last_needed) / f)
                have = (emeg_t_start, emeg_t_start + (n_times - 1) / f)
                raise ValueError(
                    f"the EMEG window of split {i} needs samples {s}..{s + last_needed} ({seconds[0]:.3f} s to "
                    f"{seconds[1]:.3f} s after the trigger) but the recording has samples 0..{n_times - 1} "
                    f"({have[0]:.3f} s to {have[1]:.3f} s); check start_latency, n_splits, seconds_per_split "
                    "and the delays"
                )
        self.t_lo = int(self.starts.min())
        self.t_hi = int(self.starts.max() + last_needed + 1)
        self.latencies: NDArray[np.float64] = start_latency + np.arange(self.n_lat, dtype=np.float64) / transform_sample_rate

    @property
    def transform_samples_needed(self) -> int:
        """Samples of the transform the splits use (``n_splits * L``)."""
        return len(self.starts) * self.n_lat
