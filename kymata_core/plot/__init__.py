"""Figures: the expression plot (:mod:`kymata_core.plot.expression`) and the IPPM plot (:mod:`kymata_core.plot.ippm`)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "expression_plot": "kymata_core.plot.expression",
    "legend_display_dict": "kymata_core.plot.expression",
    "plot_ippm": "kymata_core.plot.ippm",
    "plot_ippm_json": "kymata_core.plot.ippm",
    "xlims_from_expressionset": "kymata_core.plot.ippm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # imported on first use: matplotlib is slow to import
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
