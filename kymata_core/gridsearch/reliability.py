"""When the gridsearch's p-values can be trusted: a warning for too few splits (docs/statistics.md).

The gridsearch's Welch test compares the ``S = n_splits * n_reps`` true Fisher z of a cell with a
null pooled over derangements, splits and latencies. With few splits, the S true values of some
cell agree closely by chance; their small sample variance then makes the Welch–Satterthwaite
degrees of freedom jump from about ``S - 1`` to thousands, and the cell gets a p-value far smaller
than chance allows. Measured on real MEG noise with random transforms (``benchmarks/
bench_null_calibration.py``): with 4 splits, 0.4 % of channels pass the pipeline's 5-sigma Šidák
threshold with no effect present (nominal: about 1e-9), with log10 p down to −136; the measured
cell rates at p < 1e-5 and 1e-7 match an idealised model of the test at every split count, and
that model puts the rate at the 5-sigma Šidák level within 25 % of nominal from S = 20 and within
6 % from S = 30 (6 derangements, 200 latencies, sensor space). Repetitions count exactly like
splits.
"""

from __future__ import annotations

import numbers

__all__ = ["MIN_TOTAL_SPLITS", "few_splits_warning"]

#: Fewest splits in all (``n_splits * n_reps``) for which the gridsearch's p-values are trusted at the
#: 5-sigma Šidák level. Below it the false-positive rate there exceeds nominal: by 1.2× at 20 splits,
#: 1.9× at 15, 22× at 10, 340× at 8 and 3 million × at 4 (the model of docs/statistics.md, which has
#: no free parameter and matches every rate measured on real noise; observed directly at 4 splits). 30
#: leaves a margin: the excess stays under 1.5× also with 1 derangement, 0.25 s splits or a full
#: cortical source space.
MIN_TOTAL_SPLITS = 30


def few_splits_warning(n_splits: int, n_reps: int = 1) -> str | None:
    """A one-sentence warning when a gridsearch has too few splits for trustworthy p-values.

    Parameters
    ----------
    n_splits : int
        Number of splits of the stimulus.
    n_reps : int
        Repetitions used as extra splits; a repetition counts like a split.

    Returns
    -------
    str or None
        The warning, or None when ``n_splits * n_reps`` is at least :data:`MIN_TOTAL_SPLITS`.

    Raises
    ------
    ValueError
        If ``n_splits`` or ``n_reps`` is not a positive integer.
    """
    for name, value in (("n_splits", n_splits), ("n_reps", n_reps)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    total = int(n_splits) * int(n_reps)
    if total >= MIN_TOTAL_SPLITS:
        return None
    detail = f" in all ({int(n_splits)} splits × {int(n_reps)} repetitions)" if n_reps > 1 else ""
    return (
        f"only {total} split{'s' if total != 1 else ''}{detail}, {MIN_TOTAL_SPLITS - total} fewer than the "
        f"{MIN_TOTAL_SPLITS} the gridsearch's p-values need: with fewer they can come out far too small "
        f"(at 4 splits, channels with no effect pass the 5-sigma threshold); use more splits of a longer "
        f"stimulus, a shorter seconds_per_split (at most {total}/{MIN_TOTAL_SPLITS} of the present one for "
        f"the same stimulus), or more repetitions (n_reps)"
    )
