"""Quality-control plot of a gridsearch: log p and mean Fisher z curves of the five most significant channels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kymata_core.io.atomic import atomic_path, check_overwrite


def resolve_plot_path(plot_location: Path | str, transform_name: str, overwrite: bool) -> Path:
    """The PNG path for ``plot_location`` (a ``.png`` file, or a directory to put ``<transform>_gridsearch.png`` in).

    Raises FileExistsError if the file exists and ``overwrite`` is False.
    """
    location = Path(plot_location)
    path = location if location.suffix.lower() == ".png" else location / f"{transform_name}_gridsearch.png"
    check_overwrite(path, overwrite)
    return path


def top_channels(logp: NDArray, n: int = 5) -> NDArray[np.int64]:
    """Indices of the ``n`` channels with the lowest minimum log p, most significant first (ties by index)."""
    best = np.min(np.asarray(logp), axis=1)
    return np.argsort(best, kind="stable")[:n]


def plot_top_five(
    logp: NDArray,
    mean_z: NDArray,
    latencies: NDArray,
    channel_names: Sequence,
    path: Path | str,
    transform_name: str,
    overwrite: bool = True,
) -> list:
    """Save a two-panel PNG of log10 p and mean true Fisher z against latency (ms) for the top five channels.

    Returns the names of the plotted channels, most significant first. Written atomically.
    """
    # An explicit Agg canvas: no pyplot, no change to the process's global backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    check_overwrite(path, overwrite)
    chosen = top_channels(logp)
    names = [channel_names[i] for i in chosen]
    ms = np.asarray(latencies) * 1000.0
    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    ax_p, ax_z = fig.subplots(2, 1, sharex=True)
    for i, name in zip(chosen, names, strict=True):
        ax_p.plot(ms, logp[i], label=str(name))
        ax_z.plot(ms, mean_z[i], label=str(name))
    ax_p.set_ylabel("log10 p")
    ax_z.set_ylabel("mean Fisher z (true pairing)")
    ax_z.set_xlabel("latency (ms)")
    ax_p.set_title(f"{transform_name}: five most significant channels")
    ax_p.legend(loc="lower right", fontsize="small")
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return names
