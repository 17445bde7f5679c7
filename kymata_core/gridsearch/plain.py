"""The gridsearch: evidence that EMEG follows a transform, per channel and latency (docs/gridsearch.md).

Channels are streamed in chunks sized from a memory budget (chunks run in ``n_jobs`` threads).
Within a chunk, each channel's splits are taken in cache-sized blocks: the block's EMEG windows are
cut and normalised and their sliding norms computed (gridsearch/kernels.py, compiled), the windows
are Fourier-transformed once, and each pairing (the identity, then every derangement) is one
complex product with the transform spectra, one batched inverse FFT, and the Fisher z of the first
L lags added into float64 sums (compiled), all while the block stays in cache. Every channel is
computed on its own, so the result does not depend on chunking or threads. Only sums are kept: per
(channel, latency) the sum and sum of squares of the true Fisher z over splits, and per channel the
sum and sum of squares of the null Fisher z over derangements, splits and lags. The full
correlation array of the reference is never held.

A derangement ``p`` pairs EMEG window ``p(s)`` with transform split ``s``. Since the null pools
every split, the same pairs are visited by keeping the windows in place and giving window ``w``
the transform split ``p⁻¹(w)``: only the small transform-spectrum array is permuted.

:func:`do_gridsearch` keeps the reference's signature and is a thin wrapper over the steps, each usable
on its own: :func:`check_gridsearch_inputs` (checks, plan, derangements), :func:`run_gridsearch` (the
algorithm: the sums and log10 p), :func:`gridsearch_expression_set` (the result as an ExpressionSet),
and the optional outputs :func:`write_dense_output` (HDF5) and :func:`write_qc_plot`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from kymata_core.entities.expression import ExpressionSet, HexelExpressionSet, SensorExpressionSet
from kymata_core.entities.transform import Transform
from kymata_core.gridsearch.geometry import SplitWindows
from kymata_core.gridsearch.kernels import ATANH_COEFFICIENTS, cut_windows, fisher_z_sums
from kymata_core.gridsearch.memory import (
    aligned_chunk_size,
    block_shape,
    chunk_size_for_budget,
    default_memory_budget,
    estimate_gridsearch_memory,
    parallel_chunk_cap,
)
from kymata_core.gridsearch.prefetch import ChunkPrefetcher
from kymata_core.gridsearch.progress import ChunkProgress
from kymata_core.gridsearch.stats import welch_log10_p
from kymata_core.io.atomic import check_overwrite
from kymata_core.math.combinatorics import generate_derangements, is_derangement

__all__ = [
    "do_gridsearch",
    "check_gridsearch_inputs",
    "run_gridsearch",
    "gridsearch_expression_set",
    "write_dense_output",
    "write_qc_plot",
    "estimate_gridsearch_memory",
    "GridsearchPlan",
    "GridsearchSetup",
    "GridsearchResult",
]

_log = logging.getLogger(__name__)

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

    def window_offsets(self) -> NDArray[np.intp]:
        """(S,) first sample of every window in one channel's ``(n_reps, t_hi - t_lo)`` rows, flattened.

        Window ``s`` is split ``s % n_splits`` of repetition ``s // n_splits`` (docs/gridsearch.md, step 2);
        its points are ``d`` samples apart.
        """
        split = np.arange(self.n_total) % self.n_splits
        rep = np.arange(self.n_total) // self.n_splits
        return (rep * (self.t_hi - self.t_lo) + (self.starts - self.t_lo)[split]).astype(np.intp)


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
        _refuse_non_finite(block, c0, plan.t_lo, names)


def _refuse_non_finite(block: NDArray, c0: int, t_lo: int, names: list) -> None:
    """ValueError naming the first non-finite value of ``block`` (EMEG rows from channel ``c0``, samples from ``t_lo``)."""
    if not np.isfinite(block).all():
        c, rep, t = np.argwhere(~np.isfinite(block))[0]
        raise ValueError(
            f"EMEG has non-finite values, first at channel {c0 + c} ({names[c0 + c]!r}), repetition {rep}, "
            f"sample {t_lo + t}"
        )


def _process_chunk(
    chunk: NDArray,
    plan: GridsearchPlan,
    offsets: NDArray[np.intp],
    transform_sets: list[NDArray[np.complex64]],
    fft_workers: int,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Sums of one chunk: true (sum, sumsq) per (channel, lag) and null (sum, sumsq) per channel.

    Windows are taken in blocks of :func:`~kymata_core.gridsearch.memory.block_shape` (a group of
    channels × a range of splits), small enough that a block's windows, spectra, inverse FFTs and
    Fisher z stay in cache through every pairing. Chunks start at multiples of the group size, so
    every block, hence every float operation, is the same whatever the chunking.
    The null sums are kept per lag while a group is processed, and summed over lags at its end.
    """
    n_c = chunk.shape[0]
    n_lat, n_win, n_total = plan.n_lat, plan.n_window, plan.n_total
    n_freq = n_win // 2 + 1
    group, rows = block_shape(n_win, n_total)
    true_sum = np.zeros((n_c, n_lat))
    true_sumsq = np.zeros((n_c, n_lat))
    null_sum = np.zeros(n_c)
    null_sumsq = np.zeros(n_c)
    null_lag_sum = np.empty((group, n_lat))
    null_lag_sumsq = np.empty((group, n_lat))
    cap = group * rows
    x_buf = np.empty((cap, n_win), dtype=np.float32)
    inv_sigma_buf = np.empty((cap, n_lat), dtype=np.float32)
    product_buf = np.empty((cap, n_freq), dtype=np.complex64)
    for g0 in range(0, n_c, group):
        g1 = min(n_c, g0 + group)
        n_g = g1 - g0
        null_lag_sum[:n_g] = 0.0
        null_lag_sumsq[:n_g] = 0.0
        # each channel's (reps, span) rows as one float32 line
        series = [np.ascontiguousarray(chunk[c], dtype=np.float32).reshape(-1) for c in range(g0, g1)]
        for s0 in range(0, n_total, rows):
            s1 = min(n_total, s0 + rows)
            n_s = s1 - s0
            m = n_g * n_s
            x = x_buf[:m]
            inv_sigma = inv_sigma_buf[:m]
            for i, line in enumerate(series):
                own = slice(i * n_s, (i + 1) * n_s)
                cut_windows(line, offsets[s0:s1], plan.d, n_lat, x[own], inv_sigma[own])
            spectra = scipy.fft.rfft(x, axis=-1, workers=fft_workers).reshape(n_g, n_s, n_freq)
            product = product_buf[:m]
            for k, y in enumerate(transform_sets):
                np.multiply(spectra, y[s0:s1], out=product.reshape(n_g, n_s, n_freq))
                corr = scipy.fft.irfft(product, n=n_win, axis=-1, workers=fft_workers, overwrite_x=True)
                if k == 0:
                    sums, squares = true_sum[g0:g1], true_sumsq[g0:g1]
                else:
                    sums, squares = null_lag_sum[:n_g], null_lag_sumsq[:n_g]
                fisher_z_sums(corr, inv_sigma, n_s, ATANH_COEFFICIENTS, sums, squares)
        null_sum[g0:g1] = null_lag_sum[:n_g].sum(axis=1)
        null_sumsq[g0:g1] = null_lag_sumsq[:n_g].sum(axis=1)
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

    The reference's signature (kymata-core 1.0.6) with keyword-only additions; it checks every input
    and output first, then runs :func:`run_gridsearch` and writes the optional outputs.

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
    setup = check_gridsearch_inputs(
        emeg_values, transform, channel_names, channel_space, start_latency, emeg_t_start,
        stimulus_shift_correction, stimulus_delivery_latency, emeg_sample_rate, n_derangements,
        seconds_per_split, n_splits, n_reps, seed=seed, derangements=derangements, n_jobs=n_jobs,
    )  # fmt: skip
    # every output is checked before the work
    plot_path = None
    if plot_top_five_channels and plot_location is not None:
        from kymata_core.gridsearch.qc_plot import resolve_plot_path

        plot_path = resolve_plot_path(plot_location, transform.name, overwrite)
    if dense_out is not None:
        check_overwrite(dense_out, overwrite)

    result = run_gridsearch(setup, memory_budget=memory_budget, n_jobs=n_jobs, exact_t=exact_t, progress=progress)
    es = gridsearch_expression_set(setup, result.logp, emeg_layout=emeg_layout, sensor_sides=sensor_sides)
    if dense_out is not None:
        write_dense_output(dense_out, setup, result, overwrite=overwrite)
    if plot_path is not None:
        write_qc_plot(plot_path, setup, result, overwrite=overwrite)

    _log.info("gridsearch %r done in %.1f s", transform.name, time.monotonic() - started)
    if return_dense:
        return es, result.logp
    return es


@dataclass(frozen=True)
class GridsearchSetup:
    """Checked inputs of one gridsearch (:func:`check_gridsearch_inputs`): what :func:`run_gridsearch` runs.

    Attributes
    ----------
    emeg_values : array-like (channels, reps, time)
    transform : Transform
    plan : GridsearchPlan
        Rates, windows, split starts and latencies.
    derangements : int array (n_derangements, n_splits*n_reps)
        The pairings of the null (identity not included).
    channel_space : {"sensor", "source"}
    left, right : list
        Sensor names (``right`` empty), or left and right hexel ids; rows are ``left + right``.
    parameters : dict
        The parameters as given (floats), recorded with the dense output.
    """

    emeg_values: Any
    transform: Transform
    plan: GridsearchPlan
    derangements: NDArray[np.int64]
    channel_space: str
    left: list
    right: list
    parameters: dict[str, Any]

    @property
    def n_derangements(self) -> int:
        return len(self.derangements)

    @property
    def channel_names(self) -> list:
        """One name (or hexel id) per row of the EMEG."""
        return self.left + self.right if self.channel_space == "source" else self.left


@dataclass(frozen=True)
class GridsearchResult:
    """What the gridsearch computes (:func:`run_gridsearch`), per channel and latency.

    Attributes
    ----------
    true_sum, true_sumsq : float64 (channels, latencies)
        Sum and sum of squares over splits of the true pairing's Fisher z.
    null_sum, null_sumsq : float64 (channels,)
        Sum and sum of squares of the null Fisher z over derangements, splits and lags.
    logp : float64 (channels, latencies)
        The log10 p-values.
    exact_t : bool
        Whether the t distribution was used for every cell.
    """

    true_sum: NDArray[np.float64]
    true_sumsq: NDArray[np.float64]
    null_sum: NDArray[np.float64]
    null_sumsq: NDArray[np.float64]
    logp: NDArray[np.float64]
    exact_t: bool = False


def check_gridsearch_inputs(
    emeg_values: NDArray,
    transform: Transform,
    channel_names: list,
    channel_space: str,
    start_latency: float,
    emeg_t_start: float,
    stimulus_shift_correction: float,
    stimulus_delivery_latency: float,
    emeg_sample_rate: float,
    n_derangements: int = 1,
    seconds_per_split: float = 1,
    n_splits: int = 400,
    n_reps: int = 1,
    *,
    seed: int | np.random.Generator | None = None,
    derangements: NDArray | None = None,
    n_jobs: int = 1,
) -> GridsearchSetup:
    """Check a gridsearch's inputs (ValueError naming the first problem), plan it and draw its derangements.

    Parameters as :func:`do_gridsearch`'s; ``n_jobs`` is only checked. An in-memory EMEG array is
    checked for non-finite values here; a lazy one, chunk by chunk as it is read.
    """
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
    parameters = dict(
        start_latency=start_latency,
        emeg_t_start=emeg_t_start,
        emeg_sample_rate=emeg_sample_rate,
        seconds_per_split=seconds_per_split,
        stimulus_shift_correction=stimulus_shift_correction,
        stimulus_delivery_latency=stimulus_delivery_latency,
    )
    setup = GridsearchSetup(emeg_values, transform, plan, perms, channel_space, left, right, parameters)
    if isinstance(emeg_values, np.ndarray):
        _check_emeg_finite(emeg_values, plan, setup.channel_names)
    return setup


def run_gridsearch(
    setup: GridsearchSetup,
    *,
    memory_budget: int | None = None,
    n_jobs: int = 1,
    exact_t: bool = False,
    progress: bool | str | None = None,
) -> GridsearchResult:
    """The gridsearch itself: the sums of every chunk of channels, then the Welch t-test's log10 p.

    Parameters ``memory_budget``, ``n_jobs``, ``exact_t`` and ``progress`` as :func:`do_gridsearch`'s.
    """
    plan, transform, emeg_values = setup.plan, setup.transform, setup.emeg_values
    n_channels, n_derangements, names_flat = plan.n_channels, setup.n_derangements, setup.channel_names

    # Transform spectra per pairing: window w gets transform split p^-1(w) mod n_splits.
    base = plan.transform_spectra
    identity_split = np.arange(plan.n_total) % plan.n_splits
    transform_sets = [np.ascontiguousarray(base[identity_split])]
    for p in setup.derangements:
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
    offsets = plan.window_offsets()

    def read(c0: int) -> NDArray:
        chunk = np.asarray(emeg_values[c0 : c0 + chunk_size, : plan.n_reps, plan.t_lo : plan.t_hi])
        if lazy_input:
            _refuse_non_finite(chunk, c0, plan.t_lo, names_flat)
        return chunk

    # A lazy array's chunks are read by a background thread ahead of the threads processing them.
    with ExitStack() as stack:
        reader = stack.enter_context(ChunkPrefetcher(read, chunk_starts)) if lazy_input else None

        def work(index: int) -> tuple[int, int, tuple]:
            c0 = chunk_starts[index]
            chunk = reader.get(index) if reader is not None else read(c0)
            return c0, c0 + chunk.shape[0], _process_chunk(chunk, plan, offsets, transform_sets, 1)

        bar = stack.enter_context(
            ChunkProgress(len(chunk_starts), mode=progress, description=f"gridsearch {transform.name}")
        )
        indices = range(len(chunk_starts))
        if n_jobs == 1:
            results = map(work, indices)
            pool = None
        else:
            pool = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="gridsearch")
            results = pool.map(work, indices)
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
    return GridsearchResult(true_sum, true_sumsq, null_sum, null_sumsq, logp, exact_t=bool(exact_t))


def gridsearch_expression_set(
    setup: GridsearchSetup,
    logp: NDArray[np.float64],
    emeg_layout=None,
    sensor_sides: Mapping[str, str] | None = None,
) -> ExpressionSet:
    """The ExpressionSet of a gridsearch's log10 p (channels × latencies): sensor or hexel, one transform.

    ``emeg_layout`` and ``sensor_sides`` as :func:`do_gridsearch`'s.
    """
    left, right, latencies, name = setup.left, setup.right, setup.plan.latencies, setup.transform.name
    if setup.channel_space == "sensor":
        sides = {name: sensor_sides[name] for name in left if name in sensor_sides} if sensor_sides else None
        return SensorExpressionSet(
            transforms=name,
            sensors=left,
            latencies=latencies,
            data=[logp],
            sensor_layout=emeg_layout,
            sensor_sides=sides or None,
        )
    n_left = len(left)
    return HexelExpressionSet(
        transforms=name,
        hexels_lh=left,
        hexels_rh=right,
        latencies=latencies,
        data_lh=[logp[:n_left]] if left else None,
        data_rh=[logp[n_left:]] if right else None,
    )


def write_dense_output(
    path: Path | str, setup: GridsearchSetup, result: GridsearchResult, overwrite: bool = True
) -> Path:
    """Write the dense log10 p (channels × latencies) and the run's parameters to HDF5 (gridsearch/dense.py)."""
    from kymata_core.gridsearch.dense import write_dense_logp

    plan, given = setup.plan, setup.parameters
    return write_dense_logp(
        path,
        result.logp,
        plan.latencies,
        setup.channel_names,
        transform_name=setup.transform.name,
        attrs=dict(
            channel_space=setup.channel_space,
            n_left=len(setup.left) if setup.channel_space == "source" else -1,
            start_latency=float(given["start_latency"]),
            emeg_t_start=float(given["emeg_t_start"]),
            emeg_sample_rate=float(given["emeg_sample_rate"]),
            transform_sample_rate=float(setup.transform.sample_rate),
            seconds_per_split=float(given["seconds_per_split"]),
            n_splits=plan.n_splits,
            n_reps=plan.n_reps,
            n_derangements=setup.n_derangements,
            stimulus_shift_correction=float(given["stimulus_shift_correction"]),
            stimulus_delivery_latency=float(given["stimulus_delivery_latency"]),
            exact_t=result.exact_t,
        ),
        overwrite=overwrite,
    )


def write_qc_plot(path: Path, setup: GridsearchSetup, result: GridsearchResult, overwrite: bool = True) -> None:
    """Plot the log p and mean Fisher z of the five most significant channels (gridsearch/qc_plot.py)."""
    from kymata_core.gridsearch.qc_plot import plot_top_five

    plan = setup.plan
    plot_top_five(
        result.logp, result.true_sum / plan.n_total, plan.latencies, setup.channel_names, path,
        setup.transform.name, overwrite,
    )  # fmt: skip
