"""Memory model of the gridsearch: how many channels fit in a chunk, and the peak memory of a call.

The gridsearch streams channels in chunks. Per channel in a chunk it holds the raw EMEG rows of
the time span in use, the windows (float32), their spectra (complex64), the reciprocal window
norms (float32), and, for one pairing at a time, the product spectrum, the inverse FFT and the
Fisher z temporaries. Everything else (transform spectra, accumulated sums, the dense log p)
is small or proportional to channels × latencies. The workflow asks the cluster for
:func:`estimate_gridsearch_memory` megabytes, so the model errs on the side of too much.
"""

from __future__ import annotations

import math

import psutil

#: Resident memory of a Python process with numpy, scipy, mne, xarray, sparse, h5py and matplotlib
#: imported (measured 230 MB on Linux x86-64, Python 3.11) plus the JIT code that building the
#: first ExpressionSet compiles (measured 285 MB in all after a tiny gridsearch), rounded up.
PROCESS_OVERHEAD_BYTES = 300 * 1024**2

#: Scratch of scipy.fft plans, Python objects and allocator slack per call.
FIXED_WORKING_BYTES = 64 * 1024**2

#: The default budget is this fraction of available memory, capped at DEFAULT_BUDGET_CAP.
DEFAULT_BUDGET_FRACTION = 0.25
DEFAULT_BUDGET_CAP = 2 * 1024**3

#: Chunks are kept near this working set even under a larger budget: the per-pairing arrays then stay
#: below glibc's mmap threshold (32 MB) and are reused instead of being faulted in afresh, and fit
#: better in cache. The budget remains the upper bound.
TARGET_CHUNK_BYTES = 128 * 1024**2

#: Byte size assumed for EMEG values by the estimate: float64, as MNE returns them (an upper bound).
DEFAULT_EMEG_ITEMSIZE = 8


def default_memory_budget() -> int:
    """Default chunk budget in bytes: ``min(25% of available memory, 2 GB)``."""
    return int(min(DEFAULT_BUDGET_FRACTION * psutil.virtual_memory().available, DEFAULT_BUDGET_CAP))


def split_geometry(seconds_per_split: float, emeg_sample_rate: float, transform_sample_rate: float) -> tuple[int, int, int]:
    """``(d, W, L)``: down-sampling factor, window samples and latencies (spec, top of *Steps*)."""
    ratio = emeg_sample_rate / transform_sample_rate
    d = int(round(ratio))
    if d < 1 or not math.isclose(ratio, d, rel_tol=0, abs_tol=1e-9):
        raise ValueError(
            f"the EMEG sample rate ({emeg_sample_rate:g} Hz) must be a whole multiple of the transform sample "
            f"rate ({transform_sample_rate:g} Hz); resample the transform first"
        )
    n_window = int(seconds_per_split * emeg_sample_rate * 2 // d)
    return d, n_window, n_window // 2


def bytes_per_channel(n_splits_total: int, n_window: int, n_latencies: int, n_reps: int, span: int, emeg_itemsize: int) -> int:
    """Working bytes one channel adds to a chunk.

    ``n_splits_total`` is ``n_splits * n_reps``; ``span`` the EMEG samples per repetition read
    for the chunk; ``emeg_itemsize`` the byte size of the caller's EMEG values.
    """
    n_freq = n_window // 2 + 1
    # The larger of the two phases of a chunk: (1) windows, their gathered copy, spectra and sigma;
    # (2) spectra, sigma, and for one pairing the product, its inverse FFT and two z buffers.
    phase_windows = 4 * n_window + emeg_itemsize * n_window + 8 * n_freq + 4 * n_latencies
    phase_pairing = 8 * n_freq + 4 * n_latencies + 8 * n_freq + 4 * n_window + 8 * n_latencies
    per_split = max(phase_windows, phase_pairing) + 8 * n_latencies  # + the true z sums' float64 temporaries
    raw = n_reps * span * emeg_itemsize  # the chunk's rows as read (a view for an in-memory array)
    return int(n_splits_total * per_split + raw)


def chunk_size_for_budget(
    n_channels: int,
    n_splits_total: int,
    n_window: int,
    n_latencies: int,
    n_reps: int,
    span: int,
    memory_budget: int | None = None,
    emeg_itemsize: int = 4,
) -> int:
    """Number of channels per chunk so that a chunk's working set stays within ``memory_budget`` bytes.

    At least one channel per chunk, whatever the budget; at most ``n_channels``. A budget above
    :data:`TARGET_CHUNK_BYTES` is not used in full (larger chunks are slower, not faster).
    """
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    budget = min(budget, TARGET_CHUNK_BYTES)
    per_channel = bytes_per_channel(n_splits_total, n_window, n_latencies, n_reps, span, emeg_itemsize)
    return max(1, min(max(n_channels, 1), budget // max(per_channel, 1)))


def estimate_gridsearch_memory(
    n_channels: int,
    n_times: int,
    n_reps: int,
    n_splits: int,
    n_derangements: int,
    seconds_per_split: float,
    emeg_sample_rate: float,
    transform_sample_rate: float,
    memory_budget: int | None = None,
    *,
    emeg_itemsize: int = DEFAULT_EMEG_ITEMSIZE,
    emeg_in_memory: bool = True,
    n_jobs: int = 1,
) -> int:
    """Upper bound, in bytes, of the peak resident memory of a process running one gridsearch.

    Parameters
    ----------
    n_channels, n_times, n_reps : int
        Shape of the EMEG array (channels, reps, times).
    n_splits, n_derangements, seconds_per_split, emeg_sample_rate, transform_sample_rate
        As for :func:`~kymata_core.gridsearch.plain.do_gridsearch`.
    memory_budget : int, optional
        The chunk budget the call will use (default: :func:`default_memory_budget`).
    emeg_itemsize : int
        Bytes per EMEG value held by the caller (8 for float64, the default, 4 for float32).
    emeg_in_memory : bool
        False when the EMEG is read lazily by rows (an ``h5py.Dataset``): it then does not count.
    n_jobs : int
        As for ``do_gridsearch``: that many chunks, each sized from ``memory_budget / n_jobs``, are in flight.

    Returns
    -------
    int
        Process overhead + EMEG input + transform + the larger of (chunk working sets in flight +
        running sums) and (the final arrays of channels × latencies).
    """
    d, n_window, n_lat = split_geometry(seconds_per_split, emeg_sample_rate, transform_sample_rate)
    s_total = n_splits * n_reps
    span = min(n_times, int((n_splits * seconds_per_split + 2 * seconds_per_split) * emeg_sample_rate) + 1)
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    n_jobs = max(1, int(n_jobs))
    chunk = chunk_size_for_budget(n_channels, s_total, n_window, n_lat, n_reps, span, budget // n_jobs, emeg_itemsize)
    in_flight = min(n_jobs, math.ceil(n_channels / chunk)) if n_channels else 0
    working = in_flight * chunk * bytes_per_channel(s_total, n_window, n_lat, n_reps, span, emeg_itemsize)
    emeg = n_channels * n_reps * n_times * emeg_itemsize if emeg_in_memory else 0
    transform = int(n_splits * seconds_per_split * transform_sample_rate + 1) * 8 + n_splits * n_window * 12
    # channels × latencies float64 arrays: while chunks run, the two true-z sums; at the end, those,
    # the dense log p and the ExpressionSet built from it (2 more; the t-test's temporaries are blocked).
    per_array = n_channels * n_lat * 8
    peak_phase = max(working + 2 * per_array, 5 * per_array)
    del n_derangements  # the null is accumulated per channel: the working set does not grow with it
    return int(PROCESS_OVERHEAD_BYTES + FIXED_WORKING_BYTES + emeg + transform + peak_phase)
