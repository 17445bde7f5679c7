"""Welch's t-test of the gridsearch, with two-tailed log10 p-values computed in log space.

The reference implementation evaluates ``log(t.sf(|t|, df))``, which underflows to ``-inf`` for
strong effects with few splits. Here the t-distribution tail is evaluated as a logarithm
throughout: :func:`scipy.stats.t.logsf` where it is finite and well inside the double range, and
a continued fraction for the regularised incomplete beta function, summed in log space, beyond.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

LN10 = float(np.log(10.0))
LN2 = float(np.log(2.0))

#: The reference uses the t distribution for every cell when the smallest df of the run is at most this.
T_BRANCH_MAX_DF = 300.0

# Below this natural-log tail probability scipy's logsf is not trusted (it underflows near -745).
_SCIPY_LOGSF_FLOOR = -600.0
_TINY = 1e-300


def welch_t(
    mean_true: ArrayLike,
    var_true: ArrayLike,
    n_true: int,
    mean_null: ArrayLike,
    var_null: ArrayLike,
    n_null: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Welch's t statistic and Welch–Satterthwaite degrees of freedom.

    Parameters
    ----------
    mean_true, var_true : array_like
        Mean and variance (ddof 1) of the true sample, size ``n_true``.
    mean_null, var_null : array_like
        Mean and variance (ddof 1) of the null sample, size ``n_null``; broadcast against the true.

    Returns
    -------
    t, df : ndarray of float64
        Where both variances are 0 the statistic is undefined; ``t`` is then 0 and ``df`` is
        ``n_true + n_null - 2`` so that the cell gets p = 1.
    """
    mean_true = np.asarray(mean_true, dtype=np.float64)
    mean_null = np.asarray(mean_null, dtype=np.float64)
    a = np.asarray(var_true, dtype=np.float64) / n_true
    b = np.asarray(var_null, dtype=np.float64) / n_null
    a, b = np.broadcast_arrays(a, b)
    se2 = a + b
    degenerate = ~(se2 > 0)
    safe_se2 = np.where(degenerate, 1.0, se2)
    t = np.where(degenerate, 0.0, (mean_true - mean_null) / np.sqrt(safe_se2))
    denom = a * a / (n_true - 1) + b * b / (n_null - 1)
    df = np.where(degenerate | ~(denom > 0), float(n_true + n_null - 2), se2 * se2 / np.where(denom > 0, denom, 1.0))
    return t, df


def _log_betainc_cf(a: NDArray, b: float, x: NDArray, log1mx: NDArray, max_iter: int = 20000) -> NDArray:
    """Natural log of the regularised incomplete beta ``I_x(a, b)`` by its continued fraction.

    Accurate where ``x < (a + 1) / (a + b + 2)``, the region where the continued fraction converges
    quickly; ``log1mx`` is ``log(1 - x)`` supplied by the caller to avoid cancellation.
    """
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    for m in range(1, max_iter + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        h = np.where(active, h * d * c, h)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        step = d * c
        h = np.where(active, h * step, h)
        active &= np.abs(step - 1.0) > 1e-15
        if not active.any():
            break
    log_front = a * np.log(x) + b * log1mx - special.betaln(a, b) - np.log(a)
    return log_front + np.log(h)


def t_logsf(t: ArrayLike, df: ArrayLike) -> NDArray[np.float64]:
    """Natural log of the upper tail ``P(T > t)`` of Student's t, finite for every finite ``t``.

    Computes what :func:`scipy.stats.t.logsf` computes (from :func:`scipy.special.stdtr`) where that is finite
    and above ``exp(-600)``; beyond, the
    identity ``P(T > t) = I_x(df/2, 1/2) / 2`` with ``x = df / (df + t**2)`` evaluated in log space.
    """
    t = np.asarray(t, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    t, df = np.broadcast_arrays(t, df)
    with np.errstate(all="ignore"):
        # scipy.stats.t.logsf's own arithmetic, from scipy.special: importing scipy.stats costs each job ~0.5 s
        out = np.where(t > 0, np.log(special.stdtr(df, -t)), np.log1p(-special.stdtr(df, t)))
    bad = (~np.isfinite(out) | (out < _SCIPY_LOGSF_FLOOR)) & np.isfinite(t) & (t > 0)
    if bad.any():
        tb = t[bad]
        nu = df[bad]
        t2 = tb * tb
        x = nu / (nu + t2)
        log1mx = np.log(t2) - np.log(nu + t2)
        out[bad] = np.log(0.5) + _log_betainc_cf(nu / 2.0, 0.5, x, log1mx)
    return out


def log10_p_two_tailed(t: ArrayLike, df: ArrayLike, use_t: bool) -> NDArray[np.float64]:
    """``log10(2 * P(T > |t|))`` under the t distribution (``use_t``) or the standard normal."""
    abs_t = np.abs(np.asarray(t, dtype=np.float64))
    if use_t:
        log_sf = t_logsf(abs_t, df)
    else:
        log_sf = special.log_ndtr(-abs_t)
    return np.minimum((LN2 + log_sf) / LN10, 0.0)


def welch_log10_p(
    true_sum: NDArray,
    true_sumsq: NDArray,
    n_true: int,
    null_sum: NDArray,
    null_sumsq: NDArray,
    n_null: int,
    exact_t: bool = False,
    block_rows: int = 1024,
    n_null_welch: int | None = None,
) -> NDArray[np.float64]:
    """Two-tailed log10 p of the gridsearch's Welch t-test from accumulated sums.

    Parameters
    ----------
    true_sum, true_sumsq : ndarray (channels, latencies)
        Sum and sum of squares of the true Fisher z over the splits (``n_true`` of them).
    null_sum, null_sumsq : ndarray (channels,)
        Sum and sum of squares of the null Fisher z over derangements, splits and lags (``n_null``).
    exact_t : bool
        Use the t distribution for every cell. Otherwise, as the reference, use it for every cell
        when the smallest df of the run is at most 300, and the normal approximation otherwise.
    block_rows : int
        Channels per block of the computation (bounds its temporaries; no effect on the result).
    n_null_welch : int, optional
        Null size used in the standard error and the Welch–Satterthwaite df (default ``n_null``).
        The gridsearch passes the reference's count, which includes the identity pairing: see
        :func:`kymata_core.gridsearch.plain.do_gridsearch`.
    """
    n_rows = np.shape(true_sum)[0]
    n_null_welch = n_null if n_null_welch is None else n_null_welch

    def block(r0: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        rows = slice(r0, r0 + block_rows)
        mean_true, var_true = _mean_var(true_sum[rows], true_sumsq[rows], n_true)
        mean_null, var_null = _mean_var(null_sum[rows], null_sumsq[rows], n_null)
        return welch_t(mean_true, var_true, n_true, mean_null[:, None], var_null[:, None], n_null_welch)

    # Blocks of rows bound the temporaries; the branch depends on the smallest df of the whole run.
    starts = range(0, n_rows, block_rows)
    use_t = exact_t or (n_rows > 0 and min(float(np.min(block(r0)[1])) for r0 in starts) <= T_BRANCH_MAX_DF)
    out = np.empty(np.shape(true_sum), dtype=np.float64)
    for r0 in starts:
        t, df = block(r0)
        out[r0 : r0 + block_rows] = log10_p_two_tailed(t, df, use_t)
    return out


def _mean_var(total: NDArray, total_sq: NDArray, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    total = np.asarray(total, dtype=np.float64)
    mean = total / n
    var = (np.asarray(total_sq, dtype=np.float64) - total * mean) / (n - 1)
    return mean, np.maximum(var, 0.0)
