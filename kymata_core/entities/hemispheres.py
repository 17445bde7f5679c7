"""The vocabulary of hemispheres, blocks, sensor sides and channel spaces, and its conversions.

Four small vocabularies name where evidence is; each is spelled here once and converted here only.

=================  =====================================  =============================================
vocabulary         names                                  where it is used
=================  =====================================  =============================================
channel space      ``"source"``, ``"sensor"``             the workflow's spaces, summaries, ``truth.json``
block              ``"left"``, ``"right"`` (hemispheres   the blocks of an ExpressionSet and of an IPPM
                   of a hexel set), ``"scalp"`` (a        (``.nkg`` members, IPPM JSON ``hemisphere``)
                   sensor set), ``"merged"`` (both
                   hemispheres pooled, in an IPPM only)
hemi               ``"lh"``, ``"rh"``, and ``"scalp"``    file names (``lh.inflated``, ``-lh.stc``),
                   for the sensor space                   the gridsearch's ``--hemi``, the workflow's
                                                          ``{hemi}`` wildcard, summaries, ``truth.json``
side               ``"left"``, ``"right"``,               the side of the head a sensor is on
                   ``"midline"``
=================  =====================================  =============================================

A hexel set's hemisphere is ``"left"`` as a block and ``"lh"`` as a hemi; :func:`hemi_of_block` and
:func:`block_of_hemi` convert between the two.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

# --- channel spaces -------------------------------------------------------------------------------

SPACE_SOURCE = "source"
"""The cortical source space: channels are hexels, in a left and a right hemisphere."""
SPACE_SENSOR = "sensor"
"""The sensor space: channels are MEG and EEG sensors, in one ``scalp`` block."""
SPACES = (SPACE_SENSOR, SPACE_SOURCE)

# --- blocks ---------------------------------------------------------------------------------------

BLOCK_LEFT = "left"
"""The left hemisphere of a hexel set (or of an IPPM)."""
BLOCK_RIGHT = "right"
"""The right hemisphere of a hexel set (or of an IPPM)."""
BLOCK_SCALP = "scalp"
"""The one block of a sensor set (or of an IPPM of a sensor set or of a list of points)."""
BLOCK_MERGED = "merged"
"""Both hemispheres of a hexel set pooled into one block: made by an IPPM only."""

HEMISPHERE_BLOCKS = (BLOCK_LEFT, BLOCK_RIGHT)
"""The blocks of a hexel set, left first."""
SENSOR_BLOCKS = (BLOCK_SCALP,)
"""The blocks of a sensor set."""
IPPM_BLOCKS = (BLOCK_LEFT, BLOCK_RIGHT, BLOCK_MERGED, BLOCK_SCALP)
"""Every block an IPPM may have, in the order IPPM graphs list them."""

# --- hemis ----------------------------------------------------------------------------------------

HEMI_LEFT = "lh"
"""The left hemisphere, as FreeSurfer and MNE name it in files (``lh.inflated``, ``-lh.stc``)."""
HEMI_RIGHT = "rh"
"""The right hemisphere, as FreeSurfer and MNE name it in files."""
HEMI_SCALP = "scalp"
"""The sensor space, where the gridsearch's ``--hemi`` and the workflow's ``{hemi}`` name a hemisphere."""
HEMIS = (HEMI_SCALP, HEMI_LEFT, HEMI_RIGHT)

HEMIS_OF_SPACE = MappingProxyType({SPACE_SENSOR: (HEMI_SCALP,), SPACE_SOURCE: (HEMI_LEFT, HEMI_RIGHT)})
"""Channel space to its hemis (the gridsearch jobs of one transform)."""
SPACE_OF_HEMI = MappingProxyType({HEMI_SCALP: SPACE_SENSOR, HEMI_LEFT: SPACE_SOURCE, HEMI_RIGHT: SPACE_SOURCE})
"""Hemi to its channel space."""

_HEMI_OF_BLOCK = MappingProxyType({BLOCK_LEFT: HEMI_LEFT, BLOCK_RIGHT: HEMI_RIGHT})
_BLOCK_OF_NAME = MappingProxyType(
    {
        HEMI_LEFT: BLOCK_LEFT,
        HEMI_RIGHT: BLOCK_RIGHT,
        **{block: block for block in IPPM_BLOCKS},
    }
)

# --- sides ----------------------------------------------------------------------------------------

Side = Literal["left", "right", "midline"]
"""The side of the head a sensor is on."""
SIDE_LEFT: Side = "left"
SIDE_RIGHT: Side = "right"
SIDE_MIDLINE: Side = "midline"
SIDES: tuple[Side, ...] = (SIDE_LEFT, SIDE_RIGHT, SIDE_MIDLINE)


# --- conversions ----------------------------------------------------------------------------------


def hemi_of_block(block: str) -> str | None:
    """The hemi (``"lh"`` or ``"rh"``) of a hemisphere block, or None for any other block.

    Parameters
    ----------
    block : str
        A block name: ``"left"``, ``"right"``, ``"scalp"`` or ``"merged"``.

    Returns
    -------
    str or None
        ``"lh"`` for ``"left"``, ``"rh"`` for ``"right"``; None otherwise (the sensor space and a
        merged block have no one hemisphere).
    """
    return _HEMI_OF_BLOCK.get(block)


def block_of_hemi(name: str) -> str:
    """The block that a hemi or block name denotes: ``"lh"`` → ``"left"``, ``"rh"`` → ``"right"``.

    Block names (``"left"``, ``"right"``, ``"scalp"``, ``"merged"``) are returned unchanged, so
    that either spelling of a hemisphere (as ``truth.json`` and the IPPM JSON have them) can be
    compared with a block.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        A block name.

    Raises
    ------
    ValueError
        If ``name`` is neither a hemi nor a block name.
    """
    try:
        return _BLOCK_OF_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown hemisphere {name!r}; expected one of {sorted(_BLOCK_OF_NAME)}"
        ) from None


def side_of_x(x: float, midline_tolerance: float) -> Side:
    """The side of the head of a point at ``x`` (left negative, right positive).

    Parameters
    ----------
    x : float
        The point's left–right coordinate, 0 on the head's midsagittal plane.
    midline_tolerance : float
        Half-width of the band about ``x = 0`` whose points are on the midline (inclusive), in the
        units of ``x``.

    Returns
    -------
    Side
        ``"midline"`` when ``|x| <= midline_tolerance``, otherwise ``"left"`` (x < 0) or
        ``"right"`` (x > 0).
    """
    if abs(x) <= midline_tolerance:
        return SIDE_MIDLINE
    return SIDE_LEFT if x < 0 else SIDE_RIGHT
