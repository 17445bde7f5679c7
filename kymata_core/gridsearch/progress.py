"""Progress reporting of the gridsearch: a tqdm bar on a terminal, log lines otherwise, peak memory at the end."""

from __future__ import annotations

import logging
import resource
import sys
import time

import psutil

_log = logging.getLogger("kymata_core.gridsearch")

#: Log a line at least every this many seconds, and at every ~10% of the chunks.
LOG_INTERVAL_S = 30.0


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss``, kilobytes on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024
    return int(max(peak * scale, psutil.Process().memory_info().rss))


class ChunkProgress:
    """Context manager counting processed chunks.

    Parameters
    ----------
    n_chunks : int
        Total number of chunks.
    mode : None, bool or {'bar', 'log'}
        None: a tqdm bar when stderr is a terminal, else log lines. True: same as None.
        False: nothing but the final peak-memory line at DEBUG level. 'bar' / 'log': forced.
    description : str
        Label of the bar and log lines.
    """

    def __init__(self, n_chunks: int, mode: bool | str | None = None, description: str = "gridsearch"):
        if mode not in (None, True, False, "bar", "log"):
            raise ValueError(f"progress must be None, True, False, 'bar' or 'log', got {mode!r}")
        if mode is None or mode is True:
            mode = "bar" if sys.stderr is not None and sys.stderr.isatty() else "log"
        self.mode = mode
        self.n_chunks = max(1, int(n_chunks))
        self.description = description
        self.done = 0
        self._bar = None
        self._started = time.monotonic()
        self._last_log = self._started
        self._next_fraction = 0.1

    def __enter__(self) -> ChunkProgress:
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.n_chunks, desc=self.description, unit="chunk", file=sys.stderr)
        return self

    def update(self, n: int = 1) -> None:
        """Record ``n`` more chunks done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        if self.mode != "log":
            return
        now = time.monotonic()
        fraction = self.done / self.n_chunks
        if fraction >= self._next_fraction or now - self._last_log >= LOG_INTERVAL_S or self.done == self.n_chunks:
            elapsed = now - self._started
            left = elapsed / self.done * (self.n_chunks - self.done) if self.done else float("nan")
            _log.info(
                "%s: %d/%d chunks, %.1f s elapsed, about %.1f s left",
                self.description, self.done, self.n_chunks, elapsed, left,
            )
            self._last_log = now
            while self._next_fraction <= fraction:
                self._next_fraction += 0.1

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
        level = logging.DEBUG if self.mode is False else logging.INFO
        _log.log(
            level,
            "%s: %d chunks in %.1f s, peak memory %.0f MB",
            self.description, self.done, time.monotonic() - self._started, peak_rss_bytes() / 1024**2,
        )
