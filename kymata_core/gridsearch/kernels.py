"""Compiled inner loops of the gridsearch: cutting the EMEG windows of a block and their sliding norms.

Everything else in the gridsearch runs at numpy's or pocketfft's vectorised speed. These two steps
do not vectorise in numpy: gathering a block's windows, centring and scaling each, and the sliding
centred norms ``sigma`` (a running sum per row, which ``numpy.cumsum`` computes one element at a
time) took a third of a sensor gridsearch's time in a dozen passes over memory. Here they are one
pass per window, compiled with numba (a dependency already, through ``sparse``), cached on disk
(``cache=True``: a new process loads the machine code instead of compiling it) and run without the
GIL, so the gridsearch's threads run them side by side. The loops keep a fixed order of operations,
so the result is the same on every call, whatever the chunking or number of threads.
"""

from __future__ import annotations

import numba
import numpy as np

#: A window's centred norm below this is taken as a constant stretch (docs/gridsearch.md, step 3).
SIGMA_FLOOR = 1e-12


@numba.njit(cache=True, nogil=True, boundscheck=False)
def cut_windows(
    line: np.ndarray,
    offsets: np.ndarray,
    step: int,
    n_lat: int,
    windows: np.ndarray,
    sigma: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through the gridsearch
    """Cut, normalise and measure the windows of one channel's block.

    Parameters
    ----------
    line : float32 array
        One channel's samples (its repetitions one after the other).
    offsets : int array (n,)
        First sample of each window in ``line``.
    step : int
        Samples between a window's points (the down-sampling factor ``d``).
    n_lat : int
        Latencies ``L``; each window has ``windows.shape[1]`` (``W``) points.
    windows : float32 array (n, W), written
        The window ``line[offset + step * j]``, centred and divided by its Euclidean norm (a
        constant window becomes zero).
    sigma : float32 array (n, L), written
        ``sigma[s, l]`` = centred norm of ``windows[s, l : l + L]``; 1 where it is below
        :data:`SIGMA_FLOOR` (a constant stretch, whose correlation with a centred split is 0).
    """
    n_window = windows.shape[1]
    inv_lat = 1.0 / n_lat
    lanes = 4  # independent partial sums, so that the additions overlap instead of waiting on each other
    whole = n_window - n_window % lanes
    part1 = np.zeros(lanes)
    part2 = np.zeros(lanes)
    for s in range(offsets.shape[0]):
        start = offsets[s]
        # mean and centred norm in one pass, about the first value (exact for any offset of the data)
        shift = np.float64(line[start])
        part1[:] = 0.0
        part2[:] = 0.0
        for j in range(0, whole, lanes):
            for k in range(lanes):
                v = line[start + step * (j + k)] - shift
                part1[k] += v
                part2[k] += v * v
        total = part1.sum()
        sumsq = part2.sum()
        for j in range(whole, n_window):
            v = line[start + step * j] - shift
            total += v
            sumsq += v * v
        mean_shifted = total / n_window
        sumsq -= total * mean_shifted
        mean = shift + mean_shifted
        scale = 1.0 / np.sqrt(sumsq) if sumsq > 0.0 else 1.0
        row = windows[s]
        if step == 1:  # contiguous: vectorised
            segment = line[start : start + n_window]
            for j in range(n_window):
                row[j] = (segment[j] - mean) * scale
        else:
            for j in range(n_window):
                row[j] = (line[start + step * j] - mean) * scale
        # running sums of x and x^2 over x[l : l + L], as float64 of the float32 values the FFT sees
        s1 = 0.0
        s2 = 0.0
        for j in range(n_lat):
            v = np.float64(row[j])
            s1 += v
            s2 += v * v
        out = sigma[s]
        for lag in range(n_lat):
            if lag > 0:
                incoming = np.float64(row[lag + n_lat - 1])
                outgoing = np.float64(row[lag - 1])
                s1 += incoming - outgoing
                s2 += incoming * incoming - outgoing * outgoing
            variance = s2 - s1 * s1 * inv_lat
            norm = np.sqrt(variance) if variance > 0.0 else 0.0
            out[lag] = norm if norm >= SIGMA_FLOOR else 1.0
