"""The gridsearch: evidence that EMEG follows a transform, per channel and latency (docs/gridsearch.md).

Channels are streamed in chunks sized from a memory budget (chunks run in ``n_jobs`` threads).
Within a chunk, each channel's splits are taken in cache-sized blocks: the block's EMEG windows are
cut, normalised and Fourier-transformed once, their sliding norms computed once, and each pairing
(the identity, then every derangement) is one complex product with the transform spectra, one
batched inverse FFT and the Fisher z of the first L lags, all while the block stays in cache.
Every channel is computed on its own, so the result does not depend on chunking or threads.
Only sums are kept: per
(channel, latency) the sum and sum of squares of the true Fisher z over splits, and per channel
the sum and sum of squares of the null Fisher z over derangements, splits and lags. The full
correlation array of the reference is never held.

A derangement ``p`` pairs EMEG window ``p(s)`` with transform split ``s``. Since the null pools
every split, the same pairs are visited by keeping the windows in place and giving window ``w``
the transform split ``p⁻¹(w)``: only the small transform-spectrum array is permuted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from kymata_core.entities.expression import ExpressionSet, HexelExpressionSet, SensorExpressionSet
from kymata_core.entities.transform import Transform
from kymata_core.gridsearch.geometry import SplitWindows
from kymata_core.gridsearch.memory import (
    aligned_chunk_size,
    block_shape,
    chunk_size_for_budget,
    default_memory_budget,
    estimate_gridsearch_memory,
    parallel_chunk_cap,
)
from kymata_core.gridsearch.progress import ChunkProgress
from kymata_core.gridsearch.stats import welch_log10_p
from kymata_core.math.combinatorics import generate_derangements, is_derangement

__all__ = ["do_gridsearch", "estimate_gridsearch_memory", "GridsearchPlan"]

_log = logging.getLogger(__name__)

# |r| is clipped just below 1 so that a perfect correlation gives a large finite Fisher z.
_R_MAX = np.float32(1.0 - 2.0**-23)
_NAN_SCAN_BYTES = 64 * 1024**2


class GridsearchPlan:
    """Validated geometry of one gridsearch: rates, window sizes, split starts and latencies."""

    def __init__(
        self,
        n_channels: int,
        n_reps_available: int,
        n_times: int,
        transform: Transform,
        start_latency: float,
        emeg_t_start: float,
        stimulus_shift_correction: float,
        stimulus_delivery_latency: float,
        emeg_sample_rate: float,
        seconds_per_split: float,
        n_splits: int,
        n_reps: int,
    ):
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2 (a derangement needs two splits), got {n_splits}")
        if n_reps < 1:
            raise ValueError(f"n_reps must be at least 1, got {n_reps}")
        if n_reps > n_reps_available:
            raise ValueError(f"n_reps={n_reps} but the EMEG array has only {n_reps_available} repetition(s)")
        windows = SplitWindows(
            n_times,
            emeg_t_start,
            emeg_sample_rate,
            transform.sample_rate,
            start_latency,
            seconds_per_split,
            n_splits,
            stimulus_shift_correction,
            stimulus_delivery_latency,
        )
        self.d, self.n_window, self.n_lat = windows.d, windows.n_window, windows.n_lat
        self.split_period, self.starts = windows.split_period, windows.starts
        self.t_lo, self.t_hi, self.latencies = windows.t_lo, windows.t_hi, windows.latencies
        self.n_splits = int(n_splits)
        self.n_reps = int(n_reps)
        self.n_total = self.n_splits * self.n_reps
        self.n_channels = int(n_channels)
        self.transform_spectra = _transform_spectra(transform, self.n_splits, self.n_lat, self.n_window, seconds_per_split)

    def window_index(self) -> NDArray[np.intp]:
        """(S, W) indices of every window's samples in one channel's ``(n_reps, t_hi - t_lo)`` rows, flattened.

        Window ``s`` is split ``s % n_splits`` of repetition ``s // n_splits`` (docs/gridsearch.md, step 2).
        """
        split = np.arange(self.n_total) % self.n_splits
        rep = np.arange(self.n_total) // self.n_splits
        offsets = rep * (self.t_hi - self.t_lo) + (self.starts - self.t_lo)[split]
        return (offsets[:, None] + self.d * np.arange(self.n_window, dtype=np.intp)[None, :]).astype(np.intp)


def _transform_spectra(
    transform: Transform, n_splits: int, n_lat: int, n_window: int, seconds_per_split: float
) -> NDArray[np.complex64]:
    """Conjugate spectra (n_splits, W//2+1) of the normalised transform splits (docs/gridsearch.md, step 1)."""
    values = np.asarray(transform.values)
    nan_at = np.flatnonzero(np.isnan(values))
    if nan_at.size:
        raise ValueError(
            f"transform {transform.name!r} has {nan_at.size} NaN value(s), first at sample {nan_at[0]} "
            f"({nan_at[0] / transform.sample_rate:.3f} s); fill them (NaN policy 'zero' or 'mean') before the gridsearch"
        )
    needed = n_splits * n_lat
    if values.shape[0] < needed:
        raise ValueError(
            f"transform {transform.name!r} is too short: {n_splits} splits of {n_lat} samples need "
            f"{needed / transform.sample_rate:g} s but it has {values.shape[0] / transform.sample_rate:g} s"
        )
    splits = values[:needed].astype(np.float64).reshape(n_splits, n_lat)
    constant = np.flatnonzero(np.ptp(splits, axis=1) == 0)
    if constant.size:
        raise ValueError(
            f"transform {transform.name!r} is constant in split {constant[0]} "
            f"({constant.size} constant split(s) in all); it cannot be correlated. "
            f"Use a longer seconds_per_split (now {seconds_per_split:g} s)"
        )
    splits -= splits.mean(axis=1, keepdims=True)
    splits /= np.linalg.norm(splits, axis=1, keepdims=True)
    spectra = np.conj(scipy.fft.rfft(splits.astype(np.float32), n=n_window, axis=-1))
    return spectra.astype(np.complex64)


def _check_derangements(derangements: object, n_derangements: int, n_total: int, n_splits: int) -> NDArray[np.int64]:
    arr = np.asarray(derangements)
    if arr.ndim != 2 or arr.shape != (n_derangements, n_total):
        raise ValueError(
            f"derangements must be an integer array of shape (n_derangements, n_splits*n_reps) = "
            f"({n_derangements}, {n_total}), got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"derangements must be integers, got dtype {arr.dtype}")
    for k, row in enumerate(arr):
        if not is_derangement(row, mod=n_splits):
            raise ValueError(
                f"derangements row {k} is not a derangement of {n_total} splits: it must be a permutation of "
                f"0..{n_total - 1} with p[s] % {n_splits} != s % {n_splits} for every s"
            )
    return arr.astype(np.int64)


def _check_channels(channel_names: Sequence, channel_space: str, n_channels: int) -> tuple[list, list]:
    if channel_space == "sensor":
        names = list(channel_names)
        if len(names) != n_channels:
            raise ValueError(f"{len(names)} channel names given for {n_channels} EMEG channels (rows)")
        return names, []
    if channel_space == "source":
        if len(channel_names) != 2:
            raise ValueError("for channel_space 'source', channel_names must be [left hexel ids, right hexel ids]")
        left, right = list(channel_names[0]), list(channel_names[1])
        if len(left) + len(right) != n_channels:
            raise ValueError(
                f"{len(left)} left + {len(right)} right hexel ids given for {n_channels} EMEG channels (rows)"
            )
        return left, right
    raise ValueError(f"channel_space must be 'sensor' or 'source', got {channel_space!r}")


def _check_emeg_finite(emeg: NDArray, plan: GridsearchPlan, names: list) -> None:
    """Refuse NaNs in the part of an in-memory EMEG array the gridsearch reads, naming where."""
    row_bytes = max(1, plan.n_reps * (plan.t_hi - plan.t_lo) * emeg.itemsize)
    step = max(1, _NAN_SCAN_BYTES // row_bytes)
    for c0 in range(0, plan.n_channels, step):
        block = emeg[c0 : c0 + step, : plan.n_reps, plan.t_lo : plan.t_hi]
        if not np.isfinite(block).all():
            c, rep, t = np.argwhere(~np.isfinite(block))[0]
            raise ValueError(
                f"EMEG has non-finite values, first at channel {c0 + c} ({names[c0 + c]!r}), repetition {rep}, "
                f"sample {plan.t_lo + t}"
            )


def _normalise_rows(x: NDArray[np.float32]) -> None:
    """Centre each row and divide it by its Euclidean norm, in place (a zero row stays zero)."""
    x -= x.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("sw,sw->s", x, x))
    norm[~(norm > 0)] = 1.0
    x /= norm[:, None]


def _window_sigma(x: NDArray[np.float32], n_lat: int, out: NDArray[np.float32]) -> NDArray[np.float32]:
    """sigma (rows, L): centred norm of ``x[:, l:l+L]`` (docs/gridsearch.md, step 3); 1 where that norm is 0.

    Sliding sums in float64: ``S[0]`` directly, then ``S[l] = S[l-1] + x[l+L-1] - x[l-1]`` as one
    cumulative sum over the differences (half the length of a cumulative sum over the window).
    A zero norm means a constant stretch, whose correlation with a centred split is 0: any
    positive sigma then gives r = 0, and 1 avoids 0/0.
    """
    m = x.shape[0]
    x64 = x[:, : 2 * n_lat - 1].astype(np.float64)
    sums = np.empty((2, m, n_lat))
    for k in range(2):
        if k == 1:
            np.square(x64, out=x64)
        np.add.reduce(x64[:, :n_lat], axis=1, out=sums[k, :, 0])
        np.subtract(x64[:, n_lat:], x64[:, : n_lat - 1], out=sums[k, :, 1:])
    np.cumsum(sums, axis=-1, out=sums)
    s1, s2 = sums
    np.square(s1, out=s1)
    s1 *= 1.0 / n_lat
    s2 -= s1
    np.copyto(out, s2, casting="same_kind")
    with np.errstate(invalid="ignore"):
        np.sqrt(out, out=out)  # a variance rounded below 0 gives NaN here, replaced by 1 below
    out[~(out >= 1e-12)] = 1.0
    return out


def _twice_fisher_z(corr: NDArray[np.float32], sigma: NDArray[np.float32], out: NDArray, tmp: NDArray) -> NDArray:
    """``2 atanh(corr / sigma) = log((sigma + corr) / (sigma - corr))`` into ``out`` (4 passes, no clip).

    Non-finite where ``|corr| >= sigma`` (a perfect correlation, after rounding); see :func:`_twice_fisher_z_safe`.
    """
    np.add(sigma, corr, out=out)
    np.subtract(sigma, corr, out=tmp)
    with np.errstate(divide="ignore", invalid="ignore"):
        out /= tmp
        np.log(out, out=out)
    return out


def _twice_fisher_z_safe(corr: NDArray[np.float32], sigma: NDArray[np.float32], out: NDArray) -> NDArray:
    """As :func:`_twice_fisher_z` with r clipped to ``±(1 - 2**-23)``, so a perfect correlation stays finite."""
    np.divide(corr, sigma, out=out)
    np.clip(out, -_R_MAX, _R_MAX, out=out)
    return 2.0 * np.arctanh(out, out=out)


def _process_chunk(
    chunk: NDArray,
    plan: GridsearchPlan,
    index: NDArray[np.intp],
    transform_sets: list[NDArray[np.complex64]],
    fft_workers: int,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Sums of one chunk: true (sum, sumsq) per (channel, lag) and null (sum, sumsq) per channel.

    Windows are taken in blocks of :func:`~kymata_core.gridsearch.memory.block_shape` (a group of
    channels × a range of splits), small enough that a block's windows, spectra, inverse FFTs and
    Fisher z stay in cache through every pairing. Chunks start at multiples of the group size, so
    every block, hence every float operation, is the same whatever the chunking.
    Works with ``u = 2z`` and halves/quarters the sums at the end, which saves a pass.
    """
    n_c = chunk.shape[0]
    n_lat, n_win, n_total = plan.n_lat, plan.n_window, plan.n_total
    n_freq = n_win // 2 + 1
    group, rows = block_shape(n_win, n_total)
    true_sum = np.zeros((n_c, n_lat))
    true_sumsq = np.zeros((n_c, n_lat))
    null_sum = np.zeros(n_c)
    null_sumsq = np.zeros(n_c)
    cap = group * rows
    x_buf = np.empty((cap, n_win), dtype=np.float32)
    sigma_buf = np.empty((cap, n_lat), dtype=np.float32)
    product_buf = np.empty((cap, n_freq), dtype=np.complex64)
    u_buf = np.empty((cap, n_lat), dtype=np.float32)
    tmp_buf = np.empty((cap, n_lat), dtype=np.float32)
    for g0 in range(0, n_c, group):
        g1 = min(n_c, g0 + group)
        n_g = g1 - g0
        # each channel's (reps, span) rows as one float32 line
        series = [np.ascontiguousarray(chunk[c], dtype=np.float32).reshape(-1) for c in range(g0, g1)]
        for s0 in range(0, n_total, rows):
            s1 = min(n_total, s0 + rows)
            n_s = s1 - s0
            m = n_g * n_s
            x = x_buf[:m]
            for i, line in enumerate(series):
                np.take(line, index[s0:s1], out=x[i * n_s : (i + 1) * n_s])
            _normalise_rows(x)
            sigma = _window_sigma(x, n_lat, sigma_buf[:m])
            spectra = scipy.fft.rfft(x, axis=-1, workers=fft_workers).reshape(n_g, n_s, n_freq)
            product = product_buf[:m]
            u = u_buf[:m]
            tmp = tmp_buf[:m]
            for k, y in enumerate(transform_sets):
                np.multiply(spectra, y[s0:s1], out=product.reshape(n_g, n_s, n_freq))
                corr = scipy.fft.irfft(product, n=n_win, axis=-1, workers=fft_workers, overwrite_x=True)
                r = corr[:, :n_lat]
                _twice_fisher_z(r, sigma, u, tmp)
                row_sum = u.sum(axis=-1)
                if not np.isfinite(row_sum).all():
                    _twice_fisher_z_safe(r, sigma, u)
                    row_sum = u.sum(axis=-1)
                if k == 0:
                    true_sum[g0:g1] += np.add.reduce(u.reshape(n_g, n_s, n_lat), axis=1, dtype=np.float64)
                    np.square(u, out=tmp)
                    true_sumsq[g0:g1] += np.add.reduce(tmp.reshape(n_g, n_s, n_lat), axis=1, dtype=np.float64)
                else:
                    null_sum[g0:g1] += row_sum.reshape(n_g, n_s).sum(axis=1, dtype=np.float64)
                    null_sumsq[g0:g1] += np.einsum("sl,sl->s", u, u).reshape(n_g, n_s).sum(axis=1, dtype=np.float64)
    true_sum *= 0.5
    true_sumsq *= 0.25
    null_sum *= 0.5
    null_sumsq *= 0.25
    return true_sum, true_sumsq, null_sum, null_sumsq


def do_gridsearch(
    emeg_values: NDArray,
    transform: Transform,
    channel_names: list,
    channel_space: str,
    start_latency: float,
    emeg_t_start: float,
    stimulus_shift_correction: float,
    stimulus_delivery_latency: float,
    emeg_sample_rate: float,
    emeg_layout=None,
    plot_location: Path | None = None,
    n_derangements: int = 1,
    seconds_per_split: float = 1,
    n_splits: int = 400,
    n_reps: int = 1,
    plot_top_five_channels: bool = False,
    overwrite: bool = True,
    *,
    seed: int | np.random.Generator | None = None,
    derangements: NDArray | None = None,
    memory_budget: int | None = None,
    n_jobs: int = 1,
    exact_t: bool = False,
    dense_out: Path | str | None = None,
    return_dense: bool = False,
    progress: bool | str | None = None,
    sensor_sides: Mapping[str, str] | None = None,
) -> ExpressionSet | tuple[ExpressionSet, NDArray[np.float64]]:
    """Gridsearch of one transform against EMEG at every channel and latency (docs/gridsearch.md).

    Parameters
    ----------
    emeg_values : array (channels, reps, time)
        EMEG at ``emeg_sample_rate`` Hz, first sample at ``emeg_t_start`` s. A numpy array, or any
        array-like supporting ``a[c0:c1, :r, t0:t1]`` and ``.shape`` (``numpy.memmap``,
        ``h5py.Dataset``): only one chunk of channels is read at a time.
    transform : Transform
        The stimulus transform; ``emeg_sample_rate`` must be a whole multiple of its rate.
    channel_names : list
        ``channel_space='sensor'``: sensor names, one per row. ``'source'``: ``[left ids, right ids]``,
        the first ``len(left)`` rows being the left hemisphere; either list may be empty.
    channel_space : {'sensor', 'source'}
    start_latency, emeg_t_start, stimulus_shift_correction, stimulus_delivery_latency, emeg_sample_rate
        As in docs/gridsearch.md, "Inputs" (seconds, seconds per second, Hz).
    emeg_layout : SensorLayout, optional
        Passed to the SensorExpressionSet as its ``sensor_layout``.
    plot_location : Path, optional
        Directory or ``.png`` path for the top-five plot.
    n_derangements, seconds_per_split, n_splits, n_reps
        As in docs/gridsearch.md, "Inputs".
    plot_top_five_channels : bool
        Save the log p and mean-z curves of the five most significant channels to ``plot_location``.
    overwrite : bool
        Overwrite an existing plot / dense file (else FileExistsError).
    seed : int or Generator, optional
        Seed for drawing the derangements (``numpy.random.default_rng``); same seed, same output.
    derangements : int array (n_derangements, n_splits*n_reps), optional
        Explicit derangements (identity not included); overrides ``seed``.
    memory_budget : int, optional
        Bytes for the chunk working set; default ``min(25% of available memory, 2 GB)``.
    n_jobs : int
        Threads: chunks are processed ``n_jobs`` at a time, each with ``budget / n_jobs`` bytes.
        The result does not depend on ``n_jobs``.
    exact_t : bool
        Use the t distribution for every cell (default: the reference's rule, see docs/gridsearch.md, step 7).
    dense_out : path, optional
        Write the dense log10 p (channels × latencies) to this HDF5 file.
    return_dense : bool
        Return ``(expression_set, dense_logp)`` with ``dense_logp`` float64 (channels, latencies).
    progress : None, bool or {'bar', 'log'}
        None: a tqdm bar on a terminal, else log lines. False: silent.
    sensor_sides : mapping, optional
        Sensor space: sensor name to ``"left"``, ``"right"`` or ``"midline"``, kept in the result
        (sensors not in ``channel_names`` are ignored).

    Returns
    -------
    SensorExpressionSet or HexelExpressionSet, or a tuple with the dense log10 p
    """
    started = time.monotonic()
    shape = getattr(emeg_values, "shape", None)
    if shape is None or len(shape) != 3:
        raise ValueError(f"emeg_values must be a 3-D array (channels, reps, time), got shape {shape}")
    if not isinstance(transform, Transform):
        raise ValueError(f"transform must be a Transform, got {type(transform).__name__}")
    if int(n_derangements) != n_derangements or n_derangements < 1:
        raise ValueError(f"n_derangements must be a whole number of at least 1, got {n_derangements}")
    n_derangements = int(n_derangements)
    n_channels, n_reps_available, n_times = (int(v) for v in shape)
    left, right = _check_channels(channel_names, channel_space, n_channels)
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1, got {n_jobs}")
    plan = GridsearchPlan(
        n_channels,
        n_reps_available,
        n_times,
        transform,
        start_latency,
        emeg_t_start,
        stimulus_shift_correction,
        stimulus_delivery_latency,
        emeg_sample_rate,
        seconds_per_split,
        n_splits,
        n_reps,
    )
    if derangements is not None:
        perms = _check_derangements(derangements, n_derangements, plan.n_total, plan.n_splits)
    else:
        perms = generate_derangements(n_derangements, plan.n_total, mod=plan.n_splits, seed=seed)
    names_flat = left + right if channel_space == "source" else left
    if isinstance(emeg_values, np.ndarray):
        _check_emeg_finite(emeg_values, plan, names_flat)
    plot_path = None
    if plot_top_five_channels and plot_location is not None:
        from kymata_core.gridsearch.qc_plot import resolve_plot_path

        plot_path = resolve_plot_path(plot_location, transform.name, overwrite)
    if dense_out is not None and Path(dense_out).exists() and not overwrite:
        raise FileExistsError(f"dense output {dense_out} exists; pass overwrite=True to replace it")

    # Transform spectra per pairing: window w gets transform split p^-1(w) mod n_splits.
    base = plan.transform_spectra
    identity_split = np.arange(plan.n_total) % plan.n_splits
    transform_sets = [np.ascontiguousarray(base[identity_split])]
    for p in perms:
        inverse = np.empty_like(p)
        inverse[p] = np.arange(plan.n_total)
        transform_sets.append(np.ascontiguousarray(base[inverse % plan.n_splits]))

    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    itemsize = int(getattr(getattr(emeg_values, "dtype", None), "itemsize", 8) or 8)
    lazy_input = not isinstance(emeg_values, np.ndarray)
    # n_jobs chunks are in flight at once, each in its own thread, so each gets a share of the budget.
    # The result does not depend on the chunk size: every channel is computed on its own.
    chunk_size = chunk_size_for_budget(
        n_channels, plan.n_total, plan.n_window, plan.n_lat, plan.n_reps, plan.t_hi - plan.t_lo,
        budget // n_jobs, itemsize, raw_copy=lazy_input,
    )
    chunk_size = min(chunk_size, parallel_chunk_cap(n_channels, n_jobs))
    chunk_size = aligned_chunk_size(chunk_size, plan.n_window, plan.n_total)
    chunk_starts = list(range(0, n_channels, chunk_size))
    _log.info(
        "gridsearch %r: %d channels, %d splits x %d reps, %d derangements, %d latencies, %d chunk(s) of <= %d channels",
        transform.name, n_channels, plan.n_splits, plan.n_reps, n_derangements, plan.n_lat, len(chunk_starts),
        chunk_size,
    )

    true_sum = np.zeros((n_channels, plan.n_lat), dtype=np.float64)
    true_sumsq = np.zeros((n_channels, plan.n_lat), dtype=np.float64)
    null_sum = np.zeros(n_channels, dtype=np.float64)
    null_sumsq = np.zeros(n_channels, dtype=np.float64)
    index = plan.window_index()

    def work(c0: int) -> tuple[int, int, tuple]:
        c1 = min(n_channels, c0 + chunk_size)
        chunk = np.asarray(emeg_values[c0:c1, : plan.n_reps, plan.t_lo : plan.t_hi])
        if lazy_input and not np.isfinite(chunk).all():
            c, rep, t = np.argwhere(~np.isfinite(chunk))[0]
            raise ValueError(
                f"EMEG has non-finite values, first at channel {c0 + c} ({names_flat[c0 + c]!r}), "
                f"repetition {rep}, sample {plan.t_lo + t}"
            )
        return c0, c1, _process_chunk(chunk, plan, index, transform_sets, 1)

    with ChunkProgress(len(chunk_starts), mode=progress, description=f"gridsearch {transform.name}") as bar:
        if n_jobs == 1:
            results = map(work, chunk_starts)
            pool = None
        else:
            pool = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="gridsearch")
            results = pool.map(work, chunk_starts)
        try:
            for c0, c1, (ts, tq, ns, nq) in results:
                true_sum[c0:c1], true_sumsq[c0:c1], null_sum[c0:c1], null_sumsq[c0:c1] = ts, tq, ns, nq
                bar.update(1)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    n_null = plan.n_total * n_derangements * plan.n_lat
    # The null mean and variance are over the n_null null values, but, as in the reference (whose
    # count of "derangements" there includes the identity), the Welch standard error and df use
    # S * (n_derangements + 1) * L. This reproduces the reference's log p to ~1e-6 instead of ~1e-3.
    logp = welch_log10_p(
        true_sum, true_sumsq, plan.n_total, null_sum, null_sumsq, n_null, exact_t=exact_t,
        n_null_welch=plan.n_total * (n_derangements + 1) * plan.n_lat,
    )
    latencies = plan.latencies

    if channel_space == "sensor":
        sides = {name: sensor_sides[name] for name in left if name in sensor_sides} if sensor_sides else None
        es: ExpressionSet = SensorExpressionSet(
            transforms=transform.name,
            sensors=left,
            latencies=latencies,
            data=[logp],
            sensor_layout=emeg_layout,
            sensor_sides=sides or None,
        )
    else:
        n_left = len(left)
        es = HexelExpressionSet(
            transforms=transform.name,
            hexels_lh=left,
            hexels_rh=right,
            latencies=latencies,
            data_lh=[logp[:n_left]] if left else None,
            data_rh=[logp[n_left:]] if right else None,
        )

    if dense_out is not None:
        from kymata_core.gridsearch.dense import write_dense_logp

        write_dense_logp(
            dense_out,
            logp,
            latencies,
            names_flat,
            transform_name=transform.name,
            attrs=dict(
                channel_space=channel_space,
                n_left=len(left) if channel_space == "source" else -1,
                start_latency=float(start_latency),
                emeg_t_start=float(emeg_t_start),
                emeg_sample_rate=float(emeg_sample_rate),
                transform_sample_rate=float(transform.sample_rate),
                seconds_per_split=float(seconds_per_split),
                n_splits=plan.n_splits,
                n_reps=plan.n_reps,
                n_derangements=n_derangements,
                stimulus_shift_correction=float(stimulus_shift_correction),
                stimulus_delivery_latency=float(stimulus_delivery_latency),
                exact_t=bool(exact_t),
            ),
            overwrite=overwrite,
        )
    if plot_path is not None:
        from kymata_core.gridsearch.qc_plot import plot_top_five

        plot_top_five(logp, true_sum / plan.n_total, latencies, names_flat, plot_path, transform.name, overwrite)

    _log.info("gridsearch %r done in %.1f s", transform.name, time.monotonic() - started)
    if return_dense:
        return es, logp
    return es
