"""Derangements: the shuffled pairings of stimulus splits that make the gridsearch's null distribution."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Rejection draws before repairing one: with 1 or 2 repetitions (acceptance about 1/e and 1/e^2) a draw is
# accepted well within this, so the derangements of a seed are those plain rejection gives.
_MAX_TRIES = 200


def generate_derangement(n: int, mod: int | None = None, rng: np.random.Generator | None = None) -> NDArray[np.int64]:
    """A random permutation ``p`` of ``range(n)`` with ``p[i] % mod != i % mod`` for every ``i``.

    With ``mod = n`` this is an ordinary derangement (no fixed point). With ``mod`` equal to the
    number of splits of a stimulus that was presented ``n // mod`` times, no split is paired with
    itself or with another repetition of itself.

    Parameters
    ----------
    n : int
        Length of the permutation.
    mod : int, optional
        Modulus for the "same item" test; defaults to ``n``.
    rng : numpy.random.Generator, optional
        Source of randomness; a fresh unseeded generator if None.

    Raises
    ------
    ValueError
        If no such permutation exists (``mod == 1``, or ``n < 2``).
    """
    mod = n if mod is None else mod
    if n < 2 or mod < 2:
        raise ValueError(f"no derangement exists for n={n} items with modulus {mod}")
    rng = np.random.default_rng() if rng is None else rng
    identity = np.arange(n) % mod
    for _ in range(_MAX_TRIES):
        perm = rng.permutation(n)
        if not np.any(perm % mod == identity):
            return perm.astype(np.int64)
    # Rejection almost never succeeds when each item has many repetitions (few splits, many reps: the
    # chance is about exp(-n / mod)); repair the last draw by swaps instead.
    return _repaired(perm, mod, rng)


def _repaired(perm: NDArray, mod: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """``perm`` made a derangement modulo ``mod`` by swapping each clashing entry with a random partner
    such that neither position clashes after the swap (one always exists when ``mod >= 2``)."""
    perm = perm.astype(np.int64)
    positions = np.arange(len(perm)) % mod
    for i in np.flatnonzero(perm % mod == positions):
        if perm[i] % mod != positions[i]:
            continue  # mended by an earlier swap
        partners = np.flatnonzero((perm % mod != positions[i]) & (perm[i] % mod != positions))
        j = int(rng.choice(partners))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def generate_derangements(
    n_derangements: int, n: int, mod: int | None = None, seed: int | np.random.Generator | None = None
) -> NDArray[np.int64]:
    """``n_derangements`` independent derangements as an int64 array of shape ``(n_derangements, n)``.

    The same ``seed`` always gives the same array.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return np.stack([generate_derangement(n, mod, rng) for _ in range(n_derangements)]).reshape(n_derangements, n)


def is_derangement(perm: NDArray, mod: int | None = None) -> bool:
    """True when ``perm`` is a permutation of ``range(len(perm))`` with no item paired with itself modulo ``mod``."""
    perm = np.asarray(perm)
    n = perm.shape[0]
    mod = n if mod is None else mod
    return bool(
        perm.ndim == 1 and np.array_equal(np.sort(perm), np.arange(n)) and not np.any(perm % mod == np.arange(n) % mod)
    )
