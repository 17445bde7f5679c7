"""Sample rates of a gridsearch: the rate the transform is tested at, for a given EMEG rate.

The gridsearch reads every ``d``-th EMEG sample, so the transform must be at ``f / d`` Hz for a
whole number ``d``, where ``f`` is the EMEG rate. Real recordings rarely have round rates
(Neuromag 600.614990234375 Hz, 4D 1017.25 Hz), so a requested transform rate is resolved against
the EMEG rate:

* ``None``: the transform file's own rate, which must already be ``f / d``;
* ``"emeg"``: the EMEG rate itself (``d = 1``);
* a number ``r``: ``f / d`` with ``d = round(f / r)``, accepted when it is within
  :data:`RATE_TOLERANCE` of ``r`` (``200`` at 600.615 Hz gives 200.205 Hz, ``d = 3``).

Latencies are labelled at the resolved rate, so they are exact whatever rate was asked for.
"""

from __future__ import annotations

import math

from kymata_core.errors import KymataError

#: A requested transform rate ``r`` is taken to mean ``f / d`` when the two differ by at most this
#: fraction of ``r``.
RATE_TOLERANCE = 0.01

#: The value of ``resample`` that asks for the EMEG's own rate.
EMEG_RATE = "emeg"

# Rates closer than this (relative) are the same rate: MNE stores rates as float64, but source
# estimates store the sample step as float32 milliseconds.
_SAME_RATE = 1e-6


class SampleRateError(KymataError, ValueError):
    """A transform rate that does not fit the EMEG rate; the message says which rates would."""


def downsampling_factor(emeg_sample_rate: float, transform_sample_rate: float) -> int:
    """``d`` such that ``emeg_sample_rate == d * transform_sample_rate``.

    Raises
    ------
    SampleRateError
        If the ratio is not a whole number (within float rounding), naming both rates and the
        transform rates that would fit.
    """
    ratio = emeg_sample_rate / transform_sample_rate
    d = int(round(ratio))
    if d < 1 or not math.isclose(ratio, d, rel_tol=_SAME_RATE):
        raise SampleRateError(
            f"the EMEG sample rate ({emeg_sample_rate:g} Hz) is not a whole multiple of the transform sample "
            f"rate ({transform_sample_rate:g} Hz); {_suggestion(emeg_sample_rate, transform_sample_rate)}"
        )
    return d


def resolve_transform_rate(
    requested: float | str | None, emeg_sample_rate: float, transform_sample_rate: float
) -> float:
    """The rate the transform is tested at, ``emeg_sample_rate / d`` for a whole number ``d``.

    Parameters
    ----------
    requested : float, "emeg" or None
        The requested rate (the ``resample`` setting): see the module docstring.
    emeg_sample_rate : float
        The EMEG's sample rate, Hz.
    transform_sample_rate : float
        The transform file's sample rate, Hz.

    Returns
    -------
    float
        ``emeg_sample_rate / d``; exactly ``transform_sample_rate`` when no resampling is needed.

    Raises
    ------
    SampleRateError
        If the requested rate (or, for None, the file's rate) is not close to ``emeg_sample_rate / d``.
    """
    if requested is None:
        downsampling_factor(emeg_sample_rate, transform_sample_rate)
        return float(transform_sample_rate)
    if isinstance(requested, str):
        if requested != EMEG_RATE:
            raise SampleRateError(f"a transform rate must be a number of Hz or {EMEG_RATE!r}, got {requested!r}")
        return float(emeg_sample_rate)
    requested = float(requested)
    if not requested > 0:
        raise SampleRateError(f"a transform rate must be positive, got {requested:g}")
    d = max(1, int(round(emeg_sample_rate / requested)))
    rate = emeg_sample_rate / d
    if abs(rate - requested) > RATE_TOLERANCE * requested:
        raise SampleRateError(
            f"{requested:g} Hz is not within {RATE_TOLERANCE:.0%} of a whole fraction of the EMEG sample rate "
            f"({emeg_sample_rate:g} Hz); {_suggestion(emeg_sample_rate, requested)}"
        )
    if math.isclose(rate, transform_sample_rate, rel_tol=_SAME_RATE):
        return float(transform_sample_rate)
    return rate


def _suggestion(emeg_sample_rate: float, rate: float) -> str:
    lower = emeg_sample_rate / math.ceil(emeg_sample_rate / rate)
    upper = emeg_sample_rate / max(1, math.floor(emeg_sample_rate / rate))
    options = sorted({f"{r:.6g}" for r in (lower, upper)}, key=float)
    return f"resample to {' or '.join(options)} Hz, or to {EMEG_RATE!r} (the EMEG's own rate)"
