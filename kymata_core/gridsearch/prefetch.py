"""Reading the chunks of a lazily read EMEG array ahead of the gridsearch threads that process them.

An EMEG array that does not fit in memory (an ``h5py.Dataset``, hexels projected from sensors on the
fly) is read chunk by chunk. Read in the processing threads, each chunk's reading stalls its thread;
here one background thread reads the next chunks while the others compute. h5py and numpy release
the GIL while they read or project, so the reading overlaps the FFTs (on the full-cortex benchmark,
reading from the page cache took 2 s of 55 s, and from disk 14 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

#: Chunks read beyond those being processed: each one costs a chunk's rows in memory
#: (:func:`~kymata_core.gridsearch.memory.estimate_gridsearch_memory` counts it).
CHUNKS_AHEAD = 1

T = TypeVar("T")


class ChunkPrefetcher(Generic[T]):
    """``read(start)`` for each of ``starts``, done in one background thread, in order, ahead of :meth:`get`.

    A context manager; on exit, reads not yet started are cancelled. Errors of a read are raised by
    the :meth:`get` of its chunk.
    """

    def __init__(self, read: Callable[[int], T], starts: Sequence[int], ahead: int = CHUNKS_AHEAD):
        self._read = read
        self._starts = list(starts)
        self._ahead = ahead
        self._futures: dict[int, Future[T]] = {}
        self._submitted = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridsearch-read")

    def get(self, index: int) -> T:
        """The chunk ``starts[index]``, waiting for its read; starts the reads up to ``index + ahead``."""
        with self._lock:
            last = min(len(self._starts) - 1, index + self._ahead)
            while self._submitted <= last:
                self._futures[self._submitted] = self._pool.submit(self._read, self._starts[self._submitted])
                self._submitted += 1
            future = self._futures.pop(index)
        return future.result()

    def __enter__(self) -> ChunkPrefetcher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
