"""Memory model of the gridsearch: how many channels fit in a chunk, and the peak memory of a call.

The gridsearch streams channels in chunks. A chunk holds the EMEG rows it reads (a copy only when
the EMEG is read lazily, e.g. from HDF5) and the per-channel sums of the true Fisher z. Within a
chunk, windows are processed in blocks of :func:`block_shape` (channels × splits), whose buffers
(windows, spectra, inverse FFTs, sliding-norm and Fisher z temporaries) are the same size whatever
the number of channels. Everything else (the transform spectra of every pairing, the window
index, accumulated sums, the dense log p) is counted once. The workflow asks the cluster for
:func:`estimate_gridsearch_memory` megabytes, so the model errs on the side of too much.
"""

from __future__ import annotations

import math

import psutil

from kymata_core.gridsearch.prefetch import CHUNKS_AHEAD
from kymata_core.gridsearch.rates import downsampling_factor

#: Resident memory of a Python process with numpy, scipy, mne, xarray, sparse, h5py and matplotlib
#: imported, plus the JIT code that building the first ExpressionSet compiles: measured 236 MB
#: (``VmHWM``, Linux x86-64, Python 3.11) after a tiny gridsearch, rounded up.
PROCESS_OVERHEAD_BYTES = 256 * 1024**2

#: Scratch of scipy.fft plans, Python objects and allocator slack per call (the block buffers are
#: counted by :func:`block_working_bytes`).
FIXED_WORKING_BYTES = 16 * 1024**2

#: The default budget is this fraction of available memory, capped at DEFAULT_BUDGET_CAP.
DEFAULT_BUDGET_FRACTION = 0.25
DEFAULT_BUDGET_CAP = 2 * 1024**3

#: Chunks are kept near this working set even under a larger budget: the per-pairing arrays then stay
#: below glibc's mmap threshold (32 MB) and are reused instead of being faulted in afresh, and fit
#: better in cache. The budget remains the upper bound.
TARGET_CHUNK_BYTES = 128 * 1024**2

#: Window samples per block of the chunk loop (1.6 MB of float32): a block's buffers stay in cache
#: through every pairing. Larger blocks were slower, smaller ones pay more Python overhead.
BLOCK_ELEMENTS = 400_000

#: Byte size assumed for EMEG values by the estimate: float64, as MNE returns them (an upper bound).
DEFAULT_EMEG_ITEMSIZE = 8


def default_memory_budget() -> int:
    """Default chunk budget in bytes: ``min(25% of available memory, 2 GB)``."""
    return int(min(DEFAULT_BUDGET_FRACTION * psutil.virtual_memory().available, DEFAULT_BUDGET_CAP))


def block_shape(n_window: int, n_splits_total: int) -> tuple[int, int]:
    """``(channels, splits)`` per block of the chunk loop: about :data:`BLOCK_ELEMENTS` window samples.

    A block is a range of one channel's splits, or, when all the splits of a channel are fewer
    than that, all the splits of a group of channels. Depends only on the geometry, so the order of
    every float operation, hence the result, is the same whatever the chunk size or number of threads.
    """
    rows = max(1, BLOCK_ELEMENTS // n_window)
    if rows >= n_splits_total:
        return rows // n_splits_total, n_splits_total
    return 1, rows


def aligned_chunk_size(chunk_size: int, n_window: int, n_splits_total: int) -> int:
    """``chunk_size`` rounded down to a whole number of block groups (at least one group)."""
    group = block_shape(n_window, n_splits_total)[0]
    return max(group, chunk_size // group * group)


def split_geometry(seconds_per_split: float, emeg_sample_rate: float, transform_sample_rate: float) -> tuple[int, int, int]:
    """``(d, W, L)``: down-sampling factor, window samples and latencies (docs/gridsearch.md, "Geometry").

    A split lasts ``L * d`` EMEG samples, ``L * d / emeg_sample_rate`` seconds: ``seconds_per_split``
    rounded down to a whole number of transform samples.
    """
    d = downsampling_factor(emeg_sample_rate, transform_sample_rate)
    n_window = int(seconds_per_split * emeg_sample_rate * 2 // d)
    return d, n_window, n_window // 2


def bytes_per_channel(
    n_splits_total: int, n_window: int, n_latencies: int, n_reps: int, span: int, emeg_itemsize: int,
    raw_copy: bool = True,
) -> int:
    """Bytes one channel adds to a chunk.

    ``n_splits_total`` is ``n_splits * n_reps``; ``span`` the EMEG samples per repetition read
    for the chunk; ``emeg_itemsize`` the byte size of the caller's EMEG values. ``raw_copy``: the
    chunk's rows are a copy (lazily read EMEG), not a view of an in-memory array.
    """
    del n_splits_total, n_window  # the per-split work is done in fixed-size blocks (block_working_bytes)
    raw = n_reps * span * (emeg_itemsize + 1) if raw_copy else 0  # the rows read + their isfinite mask
    return int(raw + 2 * 8 * n_latencies)  # + the chunk's true-z sum and sum of squares (float64)


def block_working_bytes(n_splits_total: int, n_window: int, n_latencies: int, n_reps: int, span: int) -> int:
    """Bytes of one chunk in flight that do not grow with its channels: the float32 rows of one
    block's channels and the buffers of one block."""
    group, splits = block_shape(n_window, n_splits_total)
    rows = group * splits
    n_freq = n_window // 2 + 1
    per_row = (
        4 * n_window  # windows
        + 8 * n_freq * 2  # spectra and the product of one pairing
        + 4 * n_window  # the inverse FFT of one pairing
        + 4 * n_latencies  # 1 / sigma
    )
    null_per_lag = group * 2 * 8 * n_latencies  # the group's null sums per lag (float64)
    return int(rows * per_row + null_per_lag + group * 4 * n_reps * span)


def chunk_size_for_budget(
    n_channels: int,
    n_splits_total: int,
    n_window: int,
    n_latencies: int,
    n_reps: int,
    span: int,
    memory_budget: int | None = None,
    emeg_itemsize: int = 4,
    raw_copy: bool = True,
) -> int:
    """Number of channels per chunk so that a chunk's per-channel bytes stay within ``memory_budget``.

    At least one channel per chunk, whatever the budget; at most ``n_channels``. A budget above
    :data:`TARGET_CHUNK_BYTES` is not used in full (larger chunks are not faster).
    """
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    budget = min(budget, TARGET_CHUNK_BYTES)
    per_channel = bytes_per_channel(n_splits_total, n_window, n_latencies, n_reps, span, emeg_itemsize, raw_copy)
    return max(1, min(max(n_channels, 1), budget // max(per_channel, 1)))


def parallel_chunk_cap(n_channels: int, n_jobs: int) -> int:
    """Most channels per chunk with ``n_jobs`` threads: at least 4 chunks per thread, for balance."""
    return max(1, math.ceil(n_channels / (4 * max(1, n_jobs))))


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
    raw_copy = not emeg_in_memory
    chunk = chunk_size_for_budget(
        n_channels, s_total, n_window, n_lat, n_reps, span, budget // n_jobs, emeg_itemsize, raw_copy
    )
    chunk = aligned_chunk_size(min(chunk, parallel_chunk_cap(n_channels, n_jobs)), n_window, s_total)
    in_flight = min(n_jobs, math.ceil(n_channels / chunk)) if n_channels else 0
    working = in_flight * (
        chunk * bytes_per_channel(s_total, n_window, n_lat, n_reps, span, emeg_itemsize, raw_copy)
        + block_working_bytes(s_total, n_window, n_lat, n_reps, span)
    )
    if raw_copy:  # the chunks read ahead (gridsearch/prefetch.py): their rows and isfinite mask
        working += CHUNKS_AHEAD * chunk * n_reps * span * (emeg_itemsize + 1)
    emeg = n_channels * n_reps * n_times * emeg_itemsize if emeg_in_memory else 0
    n_freq = n_window // 2 + 1
    # transform values and splits, the spectra of every pairing (complex64), the window offsets (intp)
    transform = (
        int(n_splits * seconds_per_split * transform_sample_rate + 1) * 8
        + n_splits * n_window * 12
        + (n_derangements + 1) * s_total * n_freq * 8
        + s_total * 8
    )
    # channels × latencies float64 arrays: while chunks run, the two true-z sums; at the end, those,
    # the dense log p and the ExpressionSet built from it (2 more; the t-test's temporaries are blocked).
    per_array = n_channels * n_lat * 8
    peak_phase = max(working + 2 * per_array, 5 * per_array)
    return int(PROCESS_OVERHEAD_BYTES + FIXED_WORKING_BYTES + emeg + transform + peak_phase)
