"""Chunks of a lazily read EMEG array are read ahead in a background thread (gridsearch/prefetch.py)."""

from __future__ import annotations

import threading

import h5py
import numpy as np
import pytest

from kymata_core.gridsearch.prefetch import ChunkPrefetcher
from tests.test_gridsearch import make_case, run


def test_reads_in_order_in_one_thread_and_never_more_than_one_chunk_ahead():
    reads: list[tuple[int, str]] = []
    starts = [0, 10, 20, 30, 40]
    with ChunkPrefetcher(lambda c0: reads.append((c0, threading.current_thread().name)) or c0, starts) as reader:
        for index, start in enumerate(starts):
            assert reader.get(index) == start
            # chunk index + 1 may have started, nothing further
            assert max(c0 for c0, _ in reads) <= starts[min(index + 1, len(starts) - 1)]
    assert [c0 for c0, _ in reads] == starts
    assert {name for _, name in reads} == {"gridsearch-read_0"}


def test_a_read_error_is_raised_by_the_get_of_its_chunk():
    def read(c0: int) -> int:
        if c0 == 20:
            raise ValueError("EMEG has non-finite values at channel 20")
        return c0

    with ChunkPrefetcher(read, [0, 10, 20, 30]) as reader:
        assert reader.get(0) == 0
        assert reader.get(1) == 10
        with pytest.raises(ValueError, match="channel 20"):
            reader.get(2)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_gridsearch_of_an_hdf5_dataset_equals_the_in_memory_one(tmp_path, n_jobs):
    emeg, transform = make_case(200, 200, n_channels=9, n_splits=20)
    with h5py.File(tmp_path / "emeg.h5", "w") as f:
        f["emeg"] = emeg
    _, in_memory = run(emeg, transform, 200, n_splits=20, memory_budget=1)
    with h5py.File(tmp_path / "emeg.h5", "r") as f:
        _, lazy = run(f["emeg"], transform, 200, n_splits=20, memory_budget=1, n_jobs=n_jobs)
    assert lazy.tobytes() == in_memory.tobytes()


def test_non_finite_value_in_a_later_chunk_of_an_hdf5_dataset_is_named(tmp_path):
    emeg, transform = make_case(200, 200, n_channels=9, n_splits=20)
    emeg[7, 0, 150] = np.nan
    with h5py.File(tmp_path / "emeg.h5", "w") as f:
        f["emeg"] = emeg
    with h5py.File(tmp_path / "emeg.h5", "r") as f:
        with pytest.raises(ValueError, match=r"non-finite values, first at channel 7 \('CH7'\)"):
            run(f["emeg"], transform, 200, n_splits=20, memory_budget=1, n_jobs=2)
