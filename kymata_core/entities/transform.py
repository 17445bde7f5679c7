"""A transform: a time series computed from the stimulus, at a known sample rate."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

#: Largest drift of the sample times, in output samples over the whole transform, that
#: :meth:`Transform.resampled` accepts from approximating the rate ratio by a fraction.
RESAMPLE_MAX_DRIFT = 1e-3

# Past this denominator, resample_poly's filter (20 taps per unit of max(up, down)) gets too large.
_MAX_DENOMINATOR = 10**6


def resampling_fraction(rate_in: float, rate_out: float, n_samples: int) -> Fraction:
    """``up / down`` close to ``rate_out / rate_in``, with the smallest denominator (by decades) that keeps
    the drift of ``n_samples`` resampled samples below :data:`RESAMPLE_MAX_DRIFT` samples."""
    ratio = rate_out / rate_in
    n_out = max(1.0, n_samples * ratio)
    denominator = 10
    while True:
        fraction = Fraction(ratio).limit_denominator(denominator)
        drift = abs(float(fraction) - ratio) / ratio * n_out
        if drift <= RESAMPLE_MAX_DRIFT or denominator >= _MAX_DENOMINATOR:
            return fraction
        denominator *= 10


@dataclass(frozen=True, eq=False)
class Transform:
    """A named stimulus transform sampled at ``sample_rate`` Hz, starting at stimulus onset.

    Parameters
    ----------
    name : str
        The transform's name, as it appears in ExpressionSets.
    values : array_like
        One-dimensional values; stored as a read-only float array (the caller's array is copied).
    sample_rate : float
        Samples per second.
    """

    name: str
    values: NDArray[np.floating]
    sample_rate: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a transform needs a non-empty string name, got {self.name!r}")
        values = np.array(self.values, dtype=np.result_type(np.asarray(self.values).dtype, np.float32), copy=True)
        if values.ndim != 1:
            raise ValueError(f"transform {self.name!r}: values must be one-dimensional, got shape {values.shape}")
        if not np.isfinite(self.sample_rate) or self.sample_rate <= 0:
            raise ValueError(f"transform {self.name!r}: sample rate must be a positive number, got {self.sample_rate}")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "sample_rate", float(self.sample_rate))

    @property
    def time_step(self) -> float:
        """Seconds between samples."""
        return 1.0 / self.sample_rate

    @property
    def duration(self) -> float:
        """Length of the transform in seconds."""
        return len(self.values) / self.sample_rate

    def resampled(self, rate: float) -> Transform:
        """A copy at ``rate`` Hz, sample ``k`` at ``k / rate`` seconds.

        A whole-number down-sampling ratio takes every ``d``-th sample, exactly as the gridsearch
        down-samples EMEG, so that both stay aligned. Any other ratio uses polyphase filtering
        (:func:`scipy.signal.resample_poly`, which low-passes below the lower Nyquist frequency) with
        the ratio as a fraction ``up / down`` close enough that the sample times drift by less than
        :data:`RESAMPLE_MAX_DRIFT` samples over the whole transform (a non-whole rate such as
        600.614990234375 Hz has no small exact fraction).
        """
        if rate <= 0 or not np.isfinite(rate):
            raise ValueError(f"transform {self.name!r}: target rate must be positive, got {rate}")
        if rate == self.sample_rate:
            return Transform(self.name, self.values, self.sample_rate)
        ratio = self.sample_rate / rate
        if ratio > 1 and float(ratio).is_integer():
            return Transform(self.name, self.values[:: int(ratio)], rate)
        from scipy.signal import resample_poly  # slow to import; rarely needed

        fraction = resampling_fraction(self.sample_rate, rate, len(self.values))
        values = resample_poly(self.values.astype(np.float64), fraction.numerator, fraction.denominator)
        return Transform(self.name, values.astype(self.values.dtype), rate)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transform):
            return NotImplemented
        return (
            self.name == other.name
            and self.sample_rate == other.sample_rate
            and np.array_equal(self.values, other.values)
        )

    def __repr__(self) -> str:
        return f"Transform({self.name!r}, {len(self.values)} samples at {self.sample_rate:g} Hz)"
