"""The default colours of transforms, shared by the expression plot and the IPPM plot.

A transform gets the same colour in both figures when both are drawn from the same transform
order (the ExpressionSet's), so a figure pair from one run can be read together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
from matplotlib import colors as mcolors

from kymata_core.errors import UsageError

# A fixed qualitative palette: matplotlib's "tab20" reordered so the ten strong colours come first,
# with its greys removed (grey is reserved for insignificant points).
_TAB20 = [mcolors.to_hex(c) for c in matplotlib.colormaps["tab20"].colors]
PALETTE: tuple[str, ...] = tuple(c for c in _TAB20[0::2] + _TAB20[1::2] if c not in ("#7f7f7f", "#c7c7c7"))

INSIGNIFICANT_COLOR = "#c8c8c8"
"""Colour of points that do not reach the corrected significance threshold."""

INPUT_COLOR = "#000000"
"""Colour of IPPM input transforms that have no colour of their own."""


def default_transform_colors(transforms: Sequence[str]) -> dict[str, str]:
    """Map each transform to a colour of :data:`PALETTE`, in the given order (cycling after 18).

    Parameters
    ----------
    transforms : sequence of str
        Transform names, in the order that fixes their colours (an ExpressionSet's order).

    Returns
    -------
    dict[str, str]
        Transform name to hex colour.
    """
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(transforms)}


def resolve_transform_colors(
    color: str | Sequence[str] | Mapping[str, str] | None, transforms: Sequence[str], shown: Sequence[str]
) -> dict[str, str]:
    """Colours of every transform from the ``color`` argument of the plots.

    Parameters
    ----------
    color : str, list of str, dict or None
        None: the default palette over ``transforms``. A str: that colour for all. A list: assigned
        to the ``shown`` transforms in order (cycled when shorter). A dict: overrides of the default
        palette for the transforms it names.
    transforms : sequence of str
        All transforms, in the order that fixes default colours.
    shown : sequence of str
        The transforms being plotted.

    Raises
    ------
    ValueError
        When a colour is not a matplotlib colour, or the list is empty.
    """
    result = default_transform_colors(transforms)
    if color is None:
        return result
    if isinstance(color, str):
        _check_color(color, "color")
        return dict.fromkeys(result, color)
    if isinstance(color, Mapping):
        for name, c in color.items():
            _check_color(c, f"color[{name!r}]")
        result.update(color)
        return result
    colors = list(color)
    if not colors:
        raise UsageError("color: an empty list of colours was given")
    for i, c in enumerate(colors):
        _check_color(c, f"color[{i}]")
    for i, t in enumerate(shown):
        result[t] = colors[i % len(colors)]
    return result


def _check_color(value, where: str) -> None:
    if not isinstance(value, str) or not mcolors.is_color_like(value):
        raise UsageError(f"{where}: {value!r} is not a matplotlib colour (expected e.g. '#1f77b4' or 'red')")
