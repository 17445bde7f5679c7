"""Too few splits make the gridsearch's p-values too small: the warning, and the effect on real noise.

docs/statistics.md has the measurements behind :data:`MIN_TOTAL_SPLITS`
(``benchmarks/bench_null_calibration.py``); the known-answer test here repeats the decisive part in
a few seconds: with no effect present, 4 splits put channels past the pipeline's 5-sigma Šidák
threshold, far more often than a calibrated test could, and 100 splits do not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kymata_core.entities.transform import Transform
from kymata_core.gridsearch.memory import split_geometry
from kymata_core.gridsearch.plain import do_gridsearch
from kymata_core.gridsearch.reliability import MIN_TOTAL_SPLITS, few_splits_warning
from kymata_core.planted import BandLimitedSignal, lengthen_recording
from kymata_core.summary import significance_threshold
from tests.real_meg import KIT, real_source

# ---------------------------------------------------------------------------------------------------
# few_splits_warning


def test_no_warning_from_the_threshold_up():
    assert few_splits_warning(MIN_TOTAL_SPLITS) is None
    assert few_splits_warning(MIN_TOTAL_SPLITS + 1) is None
    assert few_splits_warning(400) is None  # the pipeline's default


def test_warning_one_split_below_the_threshold():
    message = few_splits_warning(MIN_TOTAL_SPLITS - 1)
    assert message is not None
    assert f"only {MIN_TOTAL_SPLITS - 1} splits, 1 fewer than the {MIN_TOTAL_SPLITS}" in message


@pytest.mark.parametrize("n_splits", [2, 4, 10])
def test_warning_at_few_splits(n_splits):
    message = few_splits_warning(n_splits)
    assert message is not None
    assert f"only {n_splits} splits, {MIN_TOTAL_SPLITS - n_splits} fewer than the {MIN_TOTAL_SPLITS}" in message


def test_repetitions_count_like_splits():
    half = math.ceil(MIN_TOTAL_SPLITS / 2)
    assert few_splits_warning(half, n_reps=2) is None
    assert few_splits_warning(1, n_reps=MIN_TOTAL_SPLITS) is None
    message = few_splits_warning(half - 1, n_reps=2)
    assert message is not None
    total = 2 * (half - 1)
    assert f"only {total} splits in all ({half - 1} splits × 2 repetitions), {MIN_TOTAL_SPLITS - total} fewer" in message
    assert few_splits_warning(MIN_TOTAL_SPLITS - 1, n_reps=1) is not None


def test_warning_is_one_sentence_that_says_what_to_do():
    message = few_splits_warning(6, n_reps=2)
    assert message is not None
    assert ". " not in message and "\n" not in message
    assert "too small" in message and "5-sigma" in message
    for remedy in ("more splits", "seconds_per_split", "n_reps"):
        assert remedy in message
    assert f"at most 12/{MIN_TOTAL_SPLITS} of the present one" in message


@pytest.mark.parametrize(("n_splits", "n_reps"), [(0, 1), (-3, 1), (4, 0), (2.5, 1), (True, 1), ("4", 1), (4, None)])
def test_nonsense_counts_are_refused(n_splits, n_reps):
    with pytest.raises(ValueError, match="must be a positive integer"):
        few_splits_warning(n_splits, n_reps)


def test_numpy_integers_are_accepted():
    assert few_splits_warning(np.int64(MIN_TOTAL_SPLITS), np.int32(1)) is None
    assert few_splits_warning(np.int64(4)) is not None


# ---------------------------------------------------------------------------------------------------
# Known answer on real noise

FEW_SPLITS = 4
MANY_SPLITS = 100
N_TRIALS = 6
SIGMA_5 = 5


def _null_gridsearches(n_splits: int) -> tuple[int, float, float]:
    """Random transforms against lengthened real KIT noise (no effect): channels past 5σ Šidák, their
    expected number under a calibrated test, and the lowest log10 p."""
    source = real_source(KIT)
    rate = source.sample_rate
    d = 5  # 1000 Hz EMEG, transform at 200 Hz
    _, _, n_lat = split_geometry(1.0, rate, rate / d)
    n_times = (n_splits - 1) * n_lat * d + int(2 * rate) + 2
    passed, expected, lowest = 0, 0.0, 0.0
    for trial in range(N_TRIALS):
        emeg = lengthen_recording(source.data, n_times, seed=100 + trial).astype(np.float32)[:, None, :]
        values = BandLimitedSignal(cutoff_hz=10.0, seed=trial).sampled(rate / d, n_splits * n_lat * d / rate)
        es, logp = do_gridsearch(
            emeg, Transform(f"random{trial}", values, rate / d), list(source.info.ch_names), "sensor",
            -0.2, -0.2, 0.0, 0.0, rate, n_derangements=6, seconds_per_split=1.0, n_splits=n_splits,
            seed=trial, return_dense=True, progress=False,
        )
        threshold = significance_threshold(es, SIGMA_5)
        minima = logp.min(axis=1)
        passed += int(np.count_nonzero(minima < threshold))
        # A calibrated test passes a channel with probability 1 - (1 - p*)^L at most, p* the per-cell threshold.
        expected += logp.shape[0] * -math.expm1(logp.shape[1] * math.log1p(-(10.0**threshold)))
        lowest = min(lowest, float(minima.min()))
    return passed, expected, lowest


def test_few_splits_make_false_5_sigma_channels_on_real_noise_and_many_do_not():
    # Below the threshold: channels with no effect pass 5 sigma after Šidák. A calibrated test would
    # expect ~1e-6 such channels in these 6 gridsearches; seeing 3 or more has probability < 1e-16.
    passed, expected, lowest = _null_gridsearches(FEW_SPLITS)
    assert expected < 1e-5
    assert passed >= 3, f"{passed} channels past 5 sigma at {FEW_SPLITS} splits (lowest log10 p {lowest:.1f})"
    assert stats.poisson.sf(passed - 1, expected) < 1e-9
    assert few_splits_warning(FEW_SPLITS) is not None  # the warning covers what was just seen

    # Well above the threshold: none, and nothing near.
    passed, expected, lowest = _null_gridsearches(MANY_SPLITS)
    assert passed == 0, f"{passed} channels past 5 sigma at {MANY_SPLITS} splits"
    assert lowest > -8.0  # the threshold is about -11 here
    assert few_splits_warning(MANY_SPLITS) is None  # and no warning where the p-values hold
