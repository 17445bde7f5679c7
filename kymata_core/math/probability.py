"""Conversions between p-values, log10 p-values and surprisal, and multiple-comparison corrections.

All functions work in float64 and stay accurate in the far tails, where the naive formulas
underflow to 0 or round to 1: a Šidák correction over a billion comparisons, or a 10-sigma
threshold, are computed without loss.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

LOG10_E = np.log10(np.e)


def p_to_logp(p: ArrayLike) -> NDArray[np.float64] | float:
    """log10 of a p-value (0 maps to -inf)."""
    with np.errstate(divide="ignore"):
        return np.log10(np.asarray(p, dtype=np.float64))[()]


def logp_to_p(logp: ArrayLike) -> NDArray[np.float64] | float:
    """p-value from its log10."""
    return np.power(10.0, np.asarray(logp, dtype=np.float64))[()]


def p_to_surprisal(p: ArrayLike) -> NDArray[np.float64] | float:
    """Surprisal (-log10 p) of a p-value."""
    return -p_to_logp(p)


def surprisal_to_p(surprisal: ArrayLike) -> NDArray[np.float64] | float:
    """p-value from a surprisal (-log10 p)."""
    return logp_to_p(-np.asarray(surprisal, dtype=np.float64))


def logp_to_surprisal(logp: ArrayLike) -> NDArray[np.float64] | float:
    """Surprisal from log10 p."""
    return -np.asarray(logp, dtype=np.float64)[()]


def surprisal_to_logp(surprisal: ArrayLike) -> NDArray[np.float64] | float:
    """log10 p from surprisal."""
    return -np.asarray(surprisal, dtype=np.float64)[()]


def p_threshold_for_sigmas(sigmas: float) -> float:
    """One-tailed p-value of a standard normal at ``sigmas`` standard deviations.

    ``p_threshold_for_sigmas(5)`` is about 2.87e-7, the physicists' "5 sigma".
    """
    return float(0.5 * special.erfc(sigmas / np.sqrt(2.0)))


def logp_threshold_for_sigmas(sigmas: float) -> float:
    """log10 of :func:`p_threshold_for_sigmas`, accurate even where the p-value underflows."""
    return float(special.log_ndtr(-float(sigmas)) * LOG10_E)


def bonferroni_correct(alpha_p: float, n_comparisons: int) -> float:
    """Bonferroni-corrected per-comparison threshold ``alpha_p / n``.

    Parameters
    ----------
    alpha_p : float
        The family-wise significance level, a p-value threshold in [0, 1].
    n_comparisons : int
        The number of comparisons corrected for (at least 1).

    Returns
    -------
    float
        The threshold each single comparison's p-value must fall below.
    """
    _check_correction_args(alpha_p, n_comparisons)
    return alpha_p / n_comparisons


def sidak_correct(alpha_p: float, n_comparisons: int) -> float:
    """Šidák-corrected per-comparison threshold ``1 - (1 - alpha_p) ** (1 / n)``.

    Computed as ``-expm1(log1p(-alpha_p) / n)``, which keeps full precision for tiny ``alpha_p``
    and for ``n`` up to 1e9 and beyond (the naive form rounds ``1 - alpha_p`` to 1).

    Parameters
    ----------
    alpha_p : float
        The family-wise significance level, a p-value threshold in [0, 1].
    n_comparisons : int
        The number of comparisons corrected for (at least 1).

    Returns
    -------
    float
        The threshold each single comparison's p-value must fall below.
    """
    _check_correction_args(alpha_p, n_comparisons)
    return float(-np.expm1(np.log1p(-alpha_p) / n_comparisons))


def sidak_logp_threshold(alpha_p: float, n_comparisons: int) -> float:
    """The significance threshold on log10 p-values: log10 of :func:`sidak_correct`.

    The one threshold of the summaries, the expression plot and the IPPM denoisers: a point is
    significant when its log10 p is below it (the expression plot also colours a point that equals
    it). They count comparisons with :func:`kymata_core.entities.expression.get_n_comparisons`.

    Parameters
    ----------
    alpha_p : float
        The family-wise significance level, a p-value threshold in [0, 1] (e.g.
        ``p_threshold_for_sigmas(5)``).
    n_comparisons : int
        The number of comparisons corrected for; fewer than 1 (a set without channels) count as 1.

    Returns
    -------
    float
        log10 of the per-comparison threshold; -inf when that threshold is 0.
    """
    corrected = sidak_correct(alpha_p, max(int(n_comparisons), 1))
    return float(np.log10(corrected)) if corrected > 0 else -np.inf


def _check_correction_args(alpha_p: float, n_comparisons: int) -> None:
    if not 0.0 <= alpha_p <= 1.0:
        raise ValueError(f"alpha_p must be a probability in [0, 1], got {alpha_p}")
    if n_comparisons < 1:
        raise ValueError(f"the number of comparisons must be at least 1, got {n_comparisons}")
