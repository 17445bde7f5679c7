"""Compiled inner loops of the gridsearch: cutting a block's windows, and the Fisher z with its sums.

The FFTs and complex products run in pocketfft and numpy. What lies between them does not
vectorise well in numpy: gathering a block's windows, centring and scaling each, the sliding
centred norms ``sigma`` (running sums, which ``numpy.cumsum`` computes one element at a time), and
the Fisher z of every correlation with its sums (a ``log`` and five passes over memory). Here each
is one compiled pass (numba, a dependency already through ``sparse``), cached on disk
(``cache=True``: a new process loads the machine code instead of compiling it) and run without the
GIL, so the gridsearch's threads run them side by side.

Every window and every channel's sums are computed on their own, in a fixed order of operations, so
results are the same whatever the chunking or number of threads. The vectorised reductions
(``fastmath`` reassociation) are only used where the order cannot matter beyond float64 rounding:
the moments of a window that only centre and scale it (both cancel in the correlation), and the
first sums of the sliding norms.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

#: A window's centred norm below this is taken as a constant stretch (docs/gridsearch.md, step 3).
SIGMA_FLOOR = 1e-12
#: Where rounding makes ``|r| >= 1``, r is clipped to this (a perfect correlation gives a large finite z).
R_MAX = 1.0 - 2.0**-23

#: ``atanh(x) = x * P(x**2)`` is evaluated with a polynomial ``P`` of this degree for ``|x| <= ATANH_POLY_BOUND``
#: (every null correlation of a real study, and nearly every true one), with ``log`` beyond.
ATANH_POLY_BOUND = 0.7
ATANH_POLY_DEGREE = 8


def _atanh_over_x(t: np.ndarray) -> np.ndarray:
    """``atanh(sqrt(t)) / sqrt(t)`` (1 at t = 0)."""
    x = np.sqrt(t)
    return np.where(t > 0, np.arctanh(x) / np.where(t > 0, x, 1.0), 1.0)


def atanh_polynomial() -> np.ndarray:
    """float32 coefficients (lowest degree first) of ``P(t) ≈ atanh(sqrt t)/sqrt t`` on ``[0, ATANH_POLY_BOUND²]``.

    Chebyshev interpolation (near minimax); the relative error of ``x * P(x*x)`` evaluated in float32
    is about 1e-7, smaller than that of a float32 ``log((1 + x) / (1 - x)) / 2`` near 0 (tests/test_kernels.py).
    """
    domain = [0.0, ATANH_POLY_BOUND**2]
    fit = Chebyshev.interpolate(_atanh_over_x, ATANH_POLY_DEGREE, domain=domain)
    return fit.convert(kind=Polynomial, domain=domain, window=domain).coef.astype(np.float32)


ATANH_COEFFICIENTS = atanh_polynomial()


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", fastmath={"reassoc", "contract"})
def _shifted_moments(values: np.ndarray, shift: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """``(Σ (v - shift), Σ (v - shift)²)`` in float64, vectorised."""
    total = 0.0
    sumsq = 0.0
    for j in range(values.shape[0]):
        v = np.float64(values[j]) - shift
        total += v
        sumsq += v * v
    return total, sumsq


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def _centre_and_scale(values: np.ndarray, row: np.ndarray) -> None:  # pragma: no cover - compiled
    """``row`` = ``values`` centred and divided by their Euclidean norm (zero if they are constant)."""
    n = values.shape[0]
    # centre about the first value, so that the moments are exact for any offset of the data
    shift = np.float64(values[0])
    total, sumsq = _shifted_moments(values, shift)
    mean_shifted = total / n
    sumsq -= total * mean_shifted
    mean = shift + mean_shifted
    scale = 1.0 / np.sqrt(sumsq) if sumsq > 0.0 else 1.0
    for j in range(n):
        row[j] = (values[j] - mean) * scale


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def _running_variance(row: np.ndarray, n_lat: int, variance: np.ndarray, steps: np.ndarray) -> None:  # pragma: no cover
    """``variance[l]`` = centred sum of squares of ``row[l : l + n_lat]`` for every lag, in float64.

    Running sums: each lag adds the incoming value and drops the outgoing one. The differences are
    computed first in one vectorised pass; the running sums are then two chains, one from lag 0 and
    one from the middle lag, interleaved so that the additions of one overlap those of the other.
    """
    inv_lat = 1.0 / n_lat
    incoming = row[n_lat : 2 * n_lat - 1]
    outgoing = row[: n_lat - 1]
    d1 = steps[0]
    d2 = steps[1]
    for j in range(n_lat - 1):
        a = np.float64(incoming[j])
        b = np.float64(outgoing[j])
        d1[j] = a - b
        d2[j] = a * a - b * b
    mid = (n_lat + 1) // 2
    s1, s2 = _shifted_moments(row[:n_lat], 0.0)
    variance[0] = s2 - s1 * s1 * inv_lat
    m1, m2 = 0.0, 0.0
    if mid < n_lat:
        m1, m2 = _shifted_moments(row[mid : mid + n_lat], 0.0)
        variance[mid] = m2 - m1 * m1 * inv_lat
    for i in range(1, mid):
        s1 += d1[i - 1]
        s2 += d2[i - 1]
        variance[i] = s2 - s1 * s1 * inv_lat
        lag = mid + i
        if lag < n_lat:
            m1 += d1[lag - 1]
            m2 += d2[lag - 1]
            variance[lag] = m2 - m1 * m1 * inv_lat


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def cut_windows(
    line: np.ndarray,
    offsets: np.ndarray,
    step: int,
    n_lat: int,
    windows: np.ndarray,
    inv_sigma: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through the gridsearch and tests/test_kernels.py
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
        Latencies ``L``; each window has ``windows.shape[1]`` (``W >= 2L - 1``) points.
    windows : float32 array (n, W), written
        The window ``line[offset + step * j]``, centred and divided by its Euclidean norm (a
        constant window becomes zero).
    inv_sigma : float32 array (n, L), written
        ``1 / sigma[s, l]``, with ``sigma[s, l]`` the centred norm of ``windows[s, l : l + L]``; 1
        where sigma is below :data:`SIGMA_FLOOR` (a constant stretch, whose correlation with a
        centred split is 0).
    """
    n_window = windows.shape[1]
    floor2 = SIGMA_FLOOR * SIGMA_FLOOR
    variance = np.empty(n_lat)
    steps = np.empty((2, max(n_lat - 1, 1)))
    for s in range(offsets.shape[0]):
        start = offsets[s]
        row = windows[s]
        if step == 1:
            _centre_and_scale(line[start : start + n_window], row)
        else:  # gathered first: strided values would not vectorise
            row[:] = line[start : start + step * (n_window - 1) + 1 : step]
            _centre_and_scale(row, row)
        # the norms of the float32 values the FFT sees
        _running_variance(row, n_lat, variance, steps)
        out = inv_sigma[s]
        for lag in range(n_lat):
            v = variance[lag]
            out[lag] = np.float32(1.0) / np.sqrt(np.float32(v)) if v >= floor2 else np.float32(1.0)


@numba.njit(cache=True, inline="always")
def _atanh_poly(r, c):  # pragma: no cover - compiled
    """``atanh(r)`` as ``r * P(r²)``; ``c`` the tuple of :data:`ATANH_COEFFICIENTS`."""
    t = r * r
    return r * ((((((((c[8] * t + c[7]) * t + c[6]) * t + c[5]) * t + c[4]) * t + c[3]) * t + c[2]) * t + c[1]) * t + c[0])


@numba.njit(cache=True, inline="always")
def _atanh_beyond_poly(r_row, inv_row, bound2, z):  # pragma: no cover - compiled
    """Replace ``z`` by ``atanh(r)`` from ``log``, in float64, where ``r² > bound2``, with r clipped to ``±R_MAX``."""
    for lag in range(z.shape[0]):
        r = np.float64(r_row[lag]) * np.float64(inv_row[lag])
        if r * r > bound2:
            r = min(max(r, -R_MAX), R_MAX)
            z[lag] = 0.5 * np.log((1.0 + r) / (1.0 - r))


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", fastmath={"contract"})
def fisher_z_sums(
    corr: np.ndarray,
    inv_sigma: np.ndarray,
    rows_per_channel: int,
    coefficients: np.ndarray,
    z_sum: np.ndarray,
    z_sumsq: np.ndarray,
) -> None:  # pragma: no cover - compiled; tested through the gridsearch and tests/test_kernels.py
    """Add the Fisher z of a block's correlations, and their squares, to per-lag sums.

    Parameters
    ----------
    corr : float32 array (n, >= L)
        Numerators of the correlations (docs/gridsearch.md, step 3): lag ``l`` of window ``s`` in
        ``corr[s, l]``; rows are ``rows_per_channel`` windows of each channel in turn.
    inv_sigma : float32 array (n, L)
        ``1 / sigma`` from :func:`cut_windows`.
    rows_per_channel : int
    coefficients : float32 array (ATANH_POLY_DEGREE + 1,)
        :data:`ATANH_COEFFICIENTS`.
    z_sum, z_sumsq : float64 arrays (channels, L), updated
        ``z_sum[c, l] += Σ_s z[s, l]`` and ``z_sumsq[c, l] += Σ_s z[s, l]²`` over channel ``c``'s rows.

    Notes
    -----
    ``z = atanh(r)`` with ``r = corr * inv_sigma``, as ``r * P(r²)`` (:func:`atanh_polynomial`) where
    ``|r| <= ATANH_POLY_BOUND``, and from ``log`` in float64 for the few larger values (a second
    pass over the rows that have any). Rows are taken two at a time, which halves the updates of
    the sums; an odd last row is paired with zeros.
    """
    n_lat = inv_sigma.shape[1]
    c = (
        coefficients[0], coefficients[1], coefficients[2], coefficients[3], coefficients[4],
        coefficients[5], coefficients[6], coefficients[7], coefficients[8],
    )  # fmt: skip
    bound2 = np.float32(ATANH_POLY_BOUND * ATANH_POLY_BOUND)
    z_a = np.empty(n_lat, dtype=np.float32)
    z_b = np.empty(n_lat, dtype=np.float32)
    for channel in range(corr.shape[0] // rows_per_channel):
        sums = z_sum[channel]
        squares = z_sumsq[channel]
        last = (channel + 1) * rows_per_channel - 1
        for row in range(channel * rows_per_channel, last + 1, 2):
            other = min(row + 1, last)
            r_a, inv_a = corr[row, :n_lat], inv_sigma[row]
            r_b, inv_b = corr[other, :n_lat], inv_sigma[other]
            beyond = 0
            for lag in range(n_lat):
                a = r_a[lag] * inv_a[lag]
                b = r_b[lag] * inv_b[lag]
                z_a[lag] = _atanh_poly(a, c)
                z_b[lag] = _atanh_poly(b, c)
                beyond += (a * a > bound2) | (b * b > bound2)
            if beyond:
                _atanh_beyond_poly(r_a, inv_a, bound2, z_a)
                _atanh_beyond_poly(r_b, inv_b, bound2, z_b)
            if other == row:
                z_b[:] = 0.0
            for lag in range(n_lat):
                x = np.float64(z_a[lag])
                y = np.float64(z_b[lag])
                sums[lag] += x + y
                squares[lag] += x * x + y * y
