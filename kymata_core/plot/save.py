"""Saving figures atomically and reproducibly, with the format taken from the file suffix."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from kymata_core.errors import UsageError
from kymata_core.io.atomic import atomic_write

SUPPORTED_FORMATS = ("png", "svg", "pdf")


def figure_format(path: str | Path) -> str:
    """The image format of ``path`` from its suffix (png, svg or pdf).

    Raises
    ------
    UsageError
        For any other suffix (a :class:`ValueError`).
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in SUPPORTED_FORMATS:
        raise UsageError(f"{path}: unsupported figure format {suffix!r}; use one of .png, .svg, .pdf")
    return suffix


def save_figure(
    fig: Figure, path: str | Path, overwrite: bool = False, dpi: float = 150, bbox_inches: str | None = None
) -> None:
    """Write ``fig`` to ``path`` through a temporary file, without timestamps in the metadata.

    ``bbox_inches="tight"`` crops (or grows) the image to what is drawn, for figures whose size is
    set from their content (the IPPM plot's automatic height).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        For a suffix other than .png, .svg or .pdf.
    """
    fmt = figure_format(path)
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    with matplotlib.rc_context({"svg.hashsalt": "kymata"}), atomic_write(path, overwrite=overwrite) as f:
        fig.savefig(f, format=fmt, dpi=dpi, metadata=metadata, bbox_inches=bbox_inches)
