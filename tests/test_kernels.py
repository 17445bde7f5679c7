"""The gridsearch's compiled kernels against plain float64 numpy (gridsearch/kernels.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kymata_core.gridsearch.kernels import (
    ATANH_COEFFICIENTS,
    ATANH_POLY_BOUND,
    R_MAX,
    SIGMA_FLOOR,
    cut_windows,
    fisher_z_sums,
)


def _windows_and_inv_sigma(line, offsets, step, n_lat, n_window):
    windows = np.empty((len(offsets), n_window), dtype=np.float32)
    inv_sigma = np.empty((len(offsets), n_lat), dtype=np.float32)
    cut_windows(line, np.asarray(offsets, dtype=np.intp), step, n_lat, windows, inv_sigma)
    return windows, inv_sigma


def _expected_windows(line, offsets, step, n_window):
    rows = np.stack([line[o : o + step * n_window : step].astype(np.float64) for o in offsets])
    rows -= rows.mean(axis=1, keepdims=True)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _expected_inv_sigma(windows, n_lat):
    x = windows.astype(np.float64)
    stretches = np.lib.stride_tricks.sliding_window_view(x, n_lat, axis=1)[:, :n_lat]
    sigma = np.linalg.norm(stretches - stretches.mean(axis=2, keepdims=True), axis=2)
    return 1.0 / np.where(sigma < SIGMA_FLOOR, 1.0, sigma)  # a constant stretch (every one when L = 1) gets sigma 1


@pytest.mark.parametrize(("n_lat", "step"), [(1000, 1), (201, 1), (50, 3), (1, 1), (2, 1), (3, 2)])
def test_cut_windows_centres_scales_and_measures_every_lag(n_lat, step):
    rng = np.random.default_rng(n_lat)
    n_window = 2 * n_lat
    offsets = [0, 7, 3 * n_lat, 5 * n_lat + 1]
    # an offset of 1e3 against unit noise: the moments must not lose it
    line = (1e3 + rng.standard_normal(step * (6 * n_lat + n_window + 2))).astype(np.float32)
    windows, inv_sigma = _windows_and_inv_sigma(line, offsets, step, n_lat, n_window)
    np.testing.assert_allclose(windows, _expected_windows(line, offsets, step, n_window), atol=3e-6)
    np.testing.assert_allclose(inv_sigma, _expected_inv_sigma(windows, n_lat), rtol=1e-6)


def test_cut_windows_constant_stretch_gets_unit_sigma_and_constant_window_zero():
    n_lat = 100
    line = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    line[200:300] = 5.0  # the stretch at lag 0 of the window at 200
    line[500:700] = -2.0  # a whole constant window
    windows, inv_sigma = _windows_and_inv_sigma(line, [200, 500], 1, n_lat, 2 * n_lat)
    assert inv_sigma[0, 0] == 1.0
    assert np.all(inv_sigma[0, 1:] != 1.0)
    assert np.all(windows[1] == 0.0)
    assert np.all(inv_sigma[1] == 1.0)


def test_cut_windows_rows_do_not_depend_on_the_other_windows_of_the_block():
    rng = np.random.default_rng(1)
    n_lat = 300
    line = rng.standard_normal(5000).astype(np.float32)
    offsets = [0, 1000, 2000, 3000, 4000 - 2 * n_lat]
    windows, inv_sigma = _windows_and_inv_sigma(line, offsets, 1, n_lat, 2 * n_lat)
    for i, offset in enumerate(offsets):
        alone_w, alone_s = _windows_and_inv_sigma(line, [offset], 1, n_lat, 2 * n_lat)
        assert np.array_equal(alone_w[0], windows[i])
        assert np.array_equal(alone_s[0], inv_sigma[i])


def test_atanh_polynomial_is_as_accurate_as_float32():
    x = np.linspace(-ATANH_POLY_BOUND, ATANH_POLY_BOUND, 200_001).astype(np.float32)
    t = x * x
    p = np.zeros_like(x)
    for c in ATANH_COEFFICIENTS[::-1]:
        p = p * t + c
    exact = np.arctanh(x.astype(np.float64))
    nonzero = x != 0
    assert np.max(np.abs(x * p - exact)[nonzero] / np.abs(exact[nonzero])) < 3e-7


@pytest.mark.parametrize("rows_per_channel", [40, 41, 1])
def test_fisher_z_sums_match_float64_atanh_per_channel_and_lag(rows_per_channel):
    rng = np.random.default_rng(2)
    n_channels, n_lat = 3, 64
    n_rows = n_channels * rows_per_channel
    inv_sigma = (1.0 / rng.uniform(0.5, 2.0, (n_rows, n_lat))).astype(np.float32)
    r = rng.uniform(-0.3, 0.3, (n_rows, n_lat))
    r[0, :10] = np.linspace(0.65, 0.999, 10)  # beyond the polynomial's range: the log path
    r[-1, 3] = -0.9  # an odd channel's last row is taken on its own
    r[n_rows // 2, 7] = 1.0 + 1e-3  # |r| > 1 after rounding: clipped
    corr = np.zeros((n_rows, 2 * n_lat), dtype=np.float32)  # the inverse FFT's row: L lags used of W
    corr[:, :n_lat] = r / inv_sigma
    corr[:, n_lat:] = 1e6  # never read
    z_sum = np.full((n_channels, n_lat), 1.5)  # added to
    z_sumsq = np.zeros((n_channels, n_lat))
    fisher_z_sums(corr, inv_sigma, rows_per_channel, ATANH_COEFFICIENTS, z_sum, z_sumsq)

    r_seen = np.clip(corr[:, :n_lat].astype(np.float64) * inv_sigma, -R_MAX, R_MAX)
    z = np.arctanh(r_seen).reshape(n_channels, rows_per_channel, n_lat)
    np.testing.assert_allclose(z_sum, 1.5 + z.sum(axis=1), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(z_sumsq, (z**2).sum(axis=1), rtol=2e-6)
    assert np.all(np.isfinite(z_sum))
