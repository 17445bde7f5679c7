"""The IPPM plot: nodes at (latency, row), rows per transform, edges as curves with arrowheads.

Implements ``docs/ippm.md`` §10. The layout is deterministic: hemispheres and CTL components are
ordered by name, and nothing random is involved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ArrowStyle, FancyArrowPatch
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox, Transform
from scipy.interpolate import BSpline

from kymata_core.entities.expression import ExpressionSet
from kymata_core.entities.hemispheres import BLOCK_LEFT, BLOCK_MERGED, BLOCK_RIGHT, BLOCK_SCALP
from kymata_core.errors import UsageError
from kymata_core.ippm.graph import IPPMConnectionStyle, IPPMGraph, IPPMNode, load_ippm_json
from kymata_core.plot.colors import INPUT_COLOR, default_transform_colors

_Y_STYLES = ("centered", "progressive")
_NODE_AREA = 150.0
_HEMISPHERE_TEST_COLORS = {BLOCK_LEFT: "#d62728", BLOCK_RIGHT: "#2ca02c", BLOCK_SCALP: "#1f77b4", BLOCK_MERGED: "#9467bd"}
_LABEL_GAP_PT = 2.0  # between a node's hexagon and its label
_LABEL_CLEARANCE_PT = 1.5  # kept free around lines, nodes and other text
_LABEL_MASK = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}

NOTHING_TO_DRAW = "no significant expression: nothing to draw"
"""The message drawn in place of an IPPM (or one hemisphere of it) with no significant node."""


def xlims_from_expressionset(es: ExpressionSet, padding: float = 0.05) -> tuple[float, float]:
    """x limits (seconds) for an IPPM plot of ``es``: its latency range widened by ``padding`` each side.

    Parameters
    ----------
    es : ExpressionSet
    padding : float
        Seconds added either side (default 0.05, i.e. 50 ms).

    Returns
    -------
    tuple[float, float]
        ``(min latency - padding, max latency + padding)``.
    """
    latencies = es.latencies
    return float(latencies.min() - padding), float(latencies.max() + padding)


def plot_ippm(
    ippm,
    colors: Mapping[str, str],
    title: str | None = None,
    xlims_s: tuple[float | None, float | None] = (None, None),
    y_ordinate_style: str = "centered",
    connection_style: str = "last-to-first",
    scale_nodes: bool = False,
    figheight: float | None = 5,
    figwidth: float = 10,
    arrowhead_dims: tuple[float, float] | None = None,
    linewidth: float = 3,
    show_labels: bool = True,
    relabel: Mapping[str, str] | None = None,
    avoid_collinearity: bool = False,
    _test_hemisphere_colors: bool = False,
    *,
    ax: Axes | None = None,
    vertical_spacing: float = 11,
) -> Figure:
    """Plot an IPPM graph, always including every hemisphere (block) it has.

    Parameters
    ----------
    ippm : IPPM or IPPMGraph
        The IPPM (or its ``graph``) to plot.
    colors : dict
        Transform name to colour. Inputs without a colour are black; any other missing transform
        raises KeyError.
    title : str, optional
        Figure title (default "IPPM Graph").
    xlims_s : tuple of (float or None)
        x limits in seconds; a None end is matplotlib's automatic limit widened to include every
        node (and 20 ms beyond the last).
    y_ordinate_style : {"centered", "progressive"}
        Row layout: "centered" lays each CTL component out step by step (transforms without
        nodes keep their gap); "progressive" stacks the transforms with nodes by serial step.
    connection_style : {"last-to-first", "first-to-first"}
        Which edges of the IPPM to draw ("full" raises NotImplementedError).
    scale_nodes : bool
        Node area 30 + 270·(−log p)/max(−log p) over finite data nodes (inputs and p = 0: 300)
        instead of a fixed 150.
    figheight, figwidth : float
        Figure size in inches (default 10 × 5). ``figheight=None`` sizes the height from the
        rows: (ylim range / 25) · (figwidth / 10).
    arrowhead_dims : tuple of float, optional
        Arrowhead (length, width) in points (default (12, 12)).
    linewidth : float
        Width of edges and terminal lines.
    show_labels : bool
        Label every node that has incoming edges with its transform, just above or below the
        node where no line, node or other label is in the way. Where rows are too close for
        that, the label sits on a white mask over the lines.
    relabel : dict, optional
        Transform name to label (default ``name + "()"``).
    avoid_collinearity : bool
        Centered style: shift rows by a quarter of ``vertical_spacing`` so that nodes of one
        serial step are not collinear with the previous step.
    _test_hemisphere_colors : bool
        Colour by hemisphere instead of transform (to check the vertical separation).
    ax : Axes, optional
        Draw into this axes (the figure is not resized).
    vertical_spacing : float
        Distance between rows.

    Returns
    -------
    matplotlib.figure.Figure
        With nothing significant anywhere (no data nodes, pseudo-inputs aside) the figure holds
        the title and the centred message :data:`NOTHING_TO_DRAW`; a hemisphere with nothing
        significant among others gets a band of its own holding that message.

    Raises
    ------
    ValueError
        Unknown ``y_ordinate_style`` or ``connection_style``.
    NotImplementedError
        ``connection_style="full"``.
    KeyError
        A non-input transform without a colour.
    """
    if y_ordinate_style not in _Y_STYLES:
        raise UsageError(f"y_ordinate_style must be one of {_Y_STYLES}, got {y_ordinate_style!r}")
    style = IPPMConnectionStyle(connection_style)
    if style == IPPMConnectionStyle.full:
        raise NotImplementedError(
            "plot_ippm cannot draw connection_style='full'; use 'last-to-first' or 'first-to-first'"
        )
    if arrowhead_dims is None:
        arrowhead_dims = (12.0, 12.0)
    s = float(vertical_spacing)

    ippm_graph: IPPMGraph = getattr(ippm, "graph", ippm)
    graph = ippm_graph.graph_with_connection_style(style)
    hemispheres = sorted(set(ippm_graph.blocks) | {n.hemisphere for n in graph.nodes})
    significant = {n.hemisphere for n in graph.nodes if not n.is_input}
    empty = [h for h in hemispheres if h not in significant]
    # an empty hemisphere's pseudo-inputs are not drawn: its band holds the message instead
    nodes: list[IPPMNode] = [n for n in graph.nodes if n.hemisphere in significant]
    node_colors = _node_colors(nodes, colors, _test_hemisphere_colors)

    if ax is None:
        fig, ax = plt.subplots(figsize=(figwidth, 5 if figheight is None else figheight))
        own_figure = True
    else:
        fig = ax.figure
        own_figure = False
    ax.set_title("IPPM Graph" if title is None else title)
    if not nodes:
        _say_nothing_to_draw(ax, ax.transAxes, 0.5, gid="empty")
        ax.set_axis_off()
        return fig

    y_of, bands = _row_positions(
        nodes, ippm_graph.candidate_transform_list, y_ordinate_style, s, avoid_collinearity, hemispheres
    )
    for h in empty:
        _say_nothing_to_draw(ax, ax.get_yaxis_transform(), bands[h][0], gid=f"empty:{h}")
    _draw_edges(ax, graph, y_of, node_colors, linewidth, arrowhead_dims)
    _draw_terminal_lines(ax, graph, nodes, y_of, node_colors, linewidth)
    sizes = _node_sizes(nodes, scale_nodes)
    _draw_nodes(ax, nodes, y_of, sizes, node_colors)
    if {BLOCK_LEFT, BLOCK_RIGHT} <= set(hemispheres):
        _draw_midline(ax, (bands[BLOCK_RIGHT][1] + bands[BLOCK_LEFT][0]) / 2, s)

    y_min = min(lo for lo, _ in bands.values())
    y_max = max(hi for _, hi in bands.values())
    _format_axes(ax, xlims_s, [n.latency for n in nodes], (y_min - s, y_max + s))
    if own_figure and figheight is None:
        fig.set_size_inches(figwidth, ((y_max + s) - (y_min - s)) / 25 * (figwidth / 10))

    if show_labels:
        # last, once the axes limits, figure size and layout are final: placement works in display space,
        # and only a draw lays the figure out and sizes the arrowheads (in points) there
        fig.draw_without_rendering()
        labelled = [(n, size) for n, size in zip(nodes, sizes, strict=True) if graph.in_degree(n) > 0]
        _place_labels(ax, labelled, y_of, dict(relabel or {}))
    return fig


def plot_ippm_json(
    path: str | os.PathLike,
    colors: Mapping[str, str] | None = None,
    candidate_transform_list: Any = None,
    transform_order: Sequence[str] | None = None,
    **kwargs: Any,
) -> Figure:
    """Plot an IPPM JSON file as written by ``kymata-core ippm`` (``IPPM.to_json``).

    Parameters
    ----------
    path : path
        The JSON file.
    colors : dict, optional
        Transform to colour; transforms it does not name get the default palette.
    candidate_transform_list : CandidateTransformList or dict, optional
        The hierarchy the IPPM was built with. Without it the hierarchy is inferred from the
        edges (see :meth:`IPPMGraph.from_json`), which can change the centered layout when a
        transform has no nodes.
    transform_order : sequence of str, optional
        Order fixing the default colours; pass the ExpressionSet's ``transforms`` so each
        transform gets the same colour as in :func:`expression_plot`. Default: sorted names.
    **kwargs
        Passed to :func:`plot_ippm`.

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`plot_ippm` draws it (with its message where nothing is significant).
    """
    graph = load_ippm_json(path, candidate_transform_list)
    order = list(transform_order) if transform_order is not None else sorted(graph.transforms)
    order += sorted(set(graph.transforms) - set(order))
    palette = default_transform_colors(order)
    palette.update(colors or {})
    return plot_ippm(graph, palette, **kwargs)


# --- layout -------------------------------------------------------------------------------------


def _row_positions(
    nodes: list[IPPMNode], ctl, style: str, s: float, avoid_collinearity: bool, hemispheres: list[str]
) -> tuple[dict[tuple[str, str], float], dict[str, tuple[float, float]]]:
    """y of each (hemisphere, transform) row, stacked per docs/ippm.md §10, and each hemisphere's (lowest, highest) y.

    ``hemispheres`` (sorted) may name hemispheres without nodes: each gets a band of one row.
    """
    per_hemisphere = {
        h: _hemisphere_rows(nodes, h, h_index, ctl, style, s, avoid_collinearity)
        for h_index, h in enumerate(hemispheres)
    }
    positions: dict[tuple[str, str], float] = {}
    bands: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for h in reversed(hemispheres):
        rows = [ys for ys in per_hemisphere[h] if ys]
        if not rows:
            bands[h] = (offset, offset)
            offset += 2 * s
            continue
        band = []
        for ys in rows:
            for t, y in ys.items():
                positions[(h, t)] = y + offset
                band.append(y + offset)
            offset += (max(ys.values()) - min(ys.values())) + s
        bands[h] = (min(band), max(band))
        offset += s
    return positions, bands


def _hemisphere_rows(
    nodes: list[IPPMNode], h: str, h_index: int, ctl, style: str, s: float, avoid_collinearity: bool
) -> list[dict[str, float]]:
    """One {transform: y} per CTL component of hemisphere ``h`` (none if it has no nodes)."""
    with_nodes = {n.transform for n in nodes if n.hemisphere == h}
    if not with_nodes:
        return []
    components = sorted(ctl.connected_components, key=min)
    sequence = ctl.serial_sequence
    rows: list[dict[str, float]] = []
    if style == "centered":
        ordered = components[::-1] if h_index == 1 else components
        nu = 0.25 if avoid_collinearity else 0.0
        for comp in ordered:
            steps = [sorted(step & comp) for step in sequence if step & comp]
            height = (max(len(st) for st in steps) - 1) * s
            ys = {}
            for st in steps:
                for i, t in enumerate(st):
                    ys[t] = (height - (len(st) - 1) * s) / 2 + (i + nu) * s
            rows.append(ys)
        return rows
    step_of = {t: k for k, step in enumerate(sequence) for t in step}
    input_transforms = {n.transform for n in nodes if n.is_input}
    for comp in components:
        present = comp & with_nodes
        if not present:
            continue
        inputs = sorted(present & input_transforms, reverse=True)
        others = sorted(present - input_transforms, reverse=True)
        others.sort(key=lambda t: step_of.get(t, 0), reverse=True)  # stable
        ys = {t: i * s for i, t in enumerate(inputs)}
        ys.update({t: i * s for i, t in enumerate(others)})
        rows.append(ys)
    return rows


def _node_colors(
    nodes: list[IPPMNode], colors: Mapping[str, str], by_hemisphere: bool
) -> dict[IPPMNode, str]:
    result = {}
    for n in nodes:
        if by_hemisphere:
            result[n] = _HEMISPHERE_TEST_COLORS.get(n.hemisphere, INPUT_COLOR)
        elif n.transform in colors:
            result[n] = colors[n.transform]
        elif n.is_input:
            result[n] = INPUT_COLOR
        else:
            raise KeyError(f"no colour given for transform {n.transform!r}")
    return result


def _node_sizes(nodes: list[IPPMNode], scale_nodes: bool) -> list[float]:
    if not scale_nodes:
        return [_NODE_AREA] * len(nodes)
    finite = [-n.logp_value for n in nodes if not n.is_input and np.isfinite(n.logp_value)]
    top = max(finite, default=0.0)
    sizes = []
    for n in nodes:
        if n.is_input or not np.isfinite(n.logp_value):
            sizes.append(300.0)
        else:
            sizes.append(30.0 + (270.0 * (-n.logp_value) / top if top > 0 else 0.0))
    return sizes


def _edge_curve(x0: float, y0: float, x1: float, y1: float, n: int = 60) -> np.ndarray:
    """Points of an edge: straight within a row, else a clamped cubic B-spline between rows (docs/ippm.md §10)."""
    if y0 == y1:
        return np.array([[x0, y0], [x1, y1]], dtype=float)
    dx = x1 - x0
    offsets = (min(0.005, dx / 5), min(0.01, 2 * dx / 5), min(0.02, 3 * dx / 5), min(0.03, 4 * dx / 5))
    control = np.array(
        [
            [x0, y0],
            [x0 + offsets[0], y0],
            [x0 + offsets[1], y0],
            [x0 + offsets[2], y1],
            [x0 + offsets[3], y1],
            [x1, y1],
        ],
        dtype=float,
    )
    # The points are the control polygon of a clamped (open-uniform) cubic B-spline: the curve starts and
    # ends on the nodes, leaves and enters them horizontally, and stays within the polygon's hull (no overshoot).
    degree = 3
    inner = np.linspace(0, 1, len(control) - degree + 1)[1:-1]
    knots = np.concatenate([np.zeros(degree + 1), inner, np.ones(degree + 1)])
    return BSpline(knots, control, degree)(np.linspace(0, 1, n))


def _arrowhead(ax: Axes, curve: np.ndarray, color: str, dims: tuple[float, float]) -> None:
    end = curve[-1]
    # direction from the last point that differs enough from the end
    tail = None
    for point in curve[-6::-1] if len(curve) > 6 else curve[-2::-1]:
        if np.hypot(*(end - point)) > 1e-9:
            tail = point
            break
    if tail is None:
        tail = end - np.array([1e-6, 0.0])
    length, width = dims
    ax.add_patch(
        FancyArrowPatch(
            posA=tuple(tail),
            posB=tuple(end),
            arrowstyle=ArrowStyle("-|>", head_length=length, head_width=width / 2),
            mutation_scale=1,
            color=color,
            linewidth=0,
            shrinkA=0,
            shrinkB=0,
            zorder=2,
        )
    )


# --- drawing ------------------------------------------------------------------------------------


def _say_nothing_to_draw(ax: Axes, transform: Transform, y: float, gid: str) -> None:
    """Write :data:`NOTHING_TO_DRAW` centred across ``ax`` at height ``y`` (in ``transform``'s y)."""
    ax.text(
        0.5,
        y,
        NOTHING_TO_DRAW,
        transform=transform,
        ha="center",
        va="center",
        color="0.35",
        style="italic",
        gid=gid,
    )


def _draw_edges(
    ax: Axes,
    graph,
    y_of: Mapping[tuple[str, str], float],
    node_colors: Mapping[IPPMNode, str],
    linewidth: float,
    arrowhead_dims: tuple[float, float],
) -> None:
    """One curve per edge between drawn nodes, in the target's colour, stopping short of it."""
    xs = [n.latency for n in node_colors]
    shorten = (max(xs) - min(xs)) / 28
    for u, v in graph.edges:
        if u not in node_colors or v not in node_colors:
            continue
        color = node_colors[v]
        x0, y0 = u.latency, y_of[(u.hemisphere, u.transform)]
        x1, y1 = v.latency - shorten, y_of[(v.hemisphere, v.transform)]
        curve = _edge_curve(x0, y0, x1, y1)
        ax.plot(
            curve[:, 0],
            curve[:, 1],
            color=color,
            linewidth=linewidth,
            zorder=1,
            solid_capstyle="butt",
            gid=f"edge:{u.node_id}->{v.node_id}",
        )
        _arrowhead(ax, curve, color, arrowhead_dims)


def _draw_terminal_lines(
    ax: Axes,
    graph,
    nodes: list[IPPMNode],
    y_of: Mapping[tuple[str, str], float],
    node_colors: Mapping[IPPMNode, str],
    linewidth: float,
) -> None:
    """Solid to just past the last node (inputs: past 20 ms), then dotted, for nodes without successors."""
    x_max = max(n.latency for n in nodes)
    for n in nodes:
        if graph.out_degree(n) > 0:
            continue
        end = (0.02 if n.is_input else x_max) + 0.01
        y = y_of[(n.hemisphere, n.transform)]
        common = {"color": node_colors[n], "linewidth": linewidth, "zorder": 1}
        ax.plot([n.latency, end], [y, y], gid=f"terminal:{n.node_id}", **common)
        ax.plot([end, end + 0.01], [y, y], linestyle="dotted", gid=f"terminal-dotted:{n.node_id}", **common)


def _draw_nodes(
    ax: Axes,
    nodes: list[IPPMNode],
    y_of: Mapping[tuple[str, str], float],
    sizes: list[float],
    node_colors: Mapping[IPPMNode, str],
) -> None:
    """Hexagons, one scatter per transform."""
    for t in dict.fromkeys(n.transform for n in nodes):
        idx = [i for i, n in enumerate(nodes) if n.transform == t]
        ax.scatter(
            [nodes[i].latency for i in idx],
            [y_of[(nodes[i].hemisphere, t)] for i in idx],
            s=[sizes[i] for i in idx],
            c=[node_colors[nodes[i]] for i in idx],
            marker="H",
            linewidths=0,
            zorder=3,
            gid=f"nodes:{t}",
        )


def _draw_midline(ax: Axes, y: float, s: float) -> None:
    """The short black line between the left (above) and right (below) hemispheres."""
    ax.plot([0, 0.05], [y, y], color="black", linewidth=1, gid="midline")
    ax.text(0.025, y + 0.3 * s, "left", ha="center", va="center", gid="midline-left")
    ax.text(0.025, y - 0.3 * s, "right", ha="center", va="center", gid="midline-right")


def _format_axes(
    ax: Axes, xlims_s: tuple[float | None, float | None], xs: list[float], ylim: tuple[float, float]
) -> None:
    """Limits (automatic x ends widened to the nodes), millisecond ticks, no y axis, bottom spine only."""
    ax.set_ylim(*ylim)
    auto_lo, auto_hi = ax.get_xlim()
    lo = min(auto_lo, min(xs)) if xlims_s[0] is None else xlims_s[0]
    hi = max(auto_hi, max(xs) + 0.02) if xlims_s[1] is None else xlims_s[1]
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda tick, _pos: f"{round(1000 * tick)}"))
    ax.set_xlabel("Latency (ms)")
    ax.yaxis.set_visible(False)
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)


# --- labels -------------------------------------------------------------------------------------


@dataclass
class _Obstacles:
    """What a label must keep clear of, in display coordinates (pixels).

    ``strokes`` are stroked lines, each with half its width; ``areas`` are filled paths
    (arrowheads); ``texts`` and ``nodes`` are rectangles, one row of (x0, y0, x1, y1) each,
    already grown by the clearance; ``bounds`` is the axes area labels should stay within;
    ``clearance`` is the margin a label keeps from lines and arrowheads.
    """

    strokes: list[tuple[Path, float]]
    areas: list[Path]
    texts: np.ndarray
    nodes: np.ndarray
    bounds: Bbox
    clearance: float
    reach: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # each path's extents, grown as far as it can reach, so that a label is tested only against paths near it
        boxes = [p.get_extents().padded(half + self.clearance) for p, half in self.strokes]
        boxes += [p.get_extents().padded(self.clearance) for p in self.areas]
        self.reach = np.array([b.extents for b in boxes], dtype=float).reshape(-1, 4)

    def add_text(self, box: Bbox) -> None:
        """Keep later labels off ``box``."""
        self.texts = np.vstack([self.texts, box.padded(self.clearance).extents])

    def cost(self, box: Bbox) -> tuple[int, int]:
        """How badly a label at ``box`` collides: (text overlaps and leaving the axes, line crossings and node overlaps).

        Text over text is unreadable, so it weighs more than text over a line or a node, which
        the label's halo keeps legible.
        """
        x0, y0, x1, y1 = box.extents
        outside = not (self.bounds.contains(x0, y0) and self.bounds.contains(x1, y1))
        texts = int(_overlapping(self.texts, box).sum())
        nodes = int(_overlapping(self.nodes, box).sum())
        return texts + outside, self.crossings(box, self.clearance) + nodes

    def crossings(self, box: Bbox, clearance: float = 0.0) -> int:
        """How many lines and arrowheads come within ``clearance`` of ``box``."""
        n_strokes = len(self.strokes)
        crossings = 0
        for i in np.flatnonzero(_overlapping(self.reach, box)):
            if i < n_strokes:
                path, half = self.strokes[i]
                crossings += path.intersects_bbox(box.padded(half + clearance), filled=False)
            else:
                crossings += self.areas[i - n_strokes].intersects_bbox(box.padded(clearance), filled=True)
        return crossings


def _overlapping(extents: np.ndarray, box: Bbox) -> np.ndarray:
    """Which rows of ``extents`` (x0, y0, x1, y1) overlap ``box``."""
    x0, y0, x1, y1 = box.extents
    return (extents[:, 0] < x1) & (extents[:, 2] > x0) & (extents[:, 1] < y1) & (extents[:, 3] > y0)


def _obstacles(ax: Axes) -> _Obstacles:
    """Everything already drawn in ``ax``: its lines, patches, texts and scatter markers."""
    px_per_pt = ax.figure.dpi / 72
    clearance = _LABEL_CLEARANCE_PT * px_per_pt
    strokes = [
        (ln.get_transform().transform_path(ln.get_path()), ln.get_linewidth() * px_per_pt / 2)
        for ln in ax.lines
    ]
    # via polygons: a transformed CLOSEPOLY keeps a dummy vertex that intersects_bbox would join up to
    areas = [
        Path(polygon)
        for patch in ax.patches
        for polygon in patch.get_transform().transform_path(patch.get_path()).to_polygons()
    ]
    texts = [t.get_window_extent().padded(clearance).extents for t in ax.texts if t.get_visible()]
    nodes = []
    for c in ax.collections:
        centres = c.get_offset_transform().transform(c.get_offsets())
        halves = np.sqrt(np.broadcast_to(c.get_sizes(), len(centres))) / 2 * px_per_pt + clearance
        nodes += [(x - d, y - d, x + d, y + d) for (x, y), d in zip(centres, halves, strict=True)]
    return _Obstacles(
        strokes,
        areas,
        np.array(texts, dtype=float).reshape(-1, 4),
        np.array(nodes, dtype=float).reshape(-1, 4),
        ax.bbox,
        clearance,
    )


def _label_offsets(radius_pt: float, width_pt: float) -> list[tuple[float, float, str]]:
    """Candidate (dx, dy, va) offsets in points of a label's centre from its node, best first.

    Lines leave and enter a node horizontally, so the spaces just above and below it are the
    ones its own edges keep clear of. The label is tried centred there, then flush with the
    node's left or right side, then diagonally off its corners: always touching the node's
    column, so that a label is never read as another node's.
    """
    rise = radius_pt + _LABEL_GAP_PT
    flush = max(width_pt / 2 - radius_pt, 0.0)
    corner = width_pt / 2 + radius_pt
    offsets = []
    for slide in (0.0, -flush, flush, -corner, corner):
        offsets += [(slide, rise, "bottom"), (slide, -rise, "top")]
    return offsets


def _place_labels(
    ax: Axes,
    labelled: list[tuple[IPPMNode, float]],
    y_of: Mapping[tuple[str, str], float],
    relabel: Mapping[str, str],
) -> None:
    """Label each (node, area) of ``labelled`` with its transform, next to the node where nothing else is drawn.

    Each label takes the first offset of :func:`_label_offsets` that touches no line, arrowhead,
    node, text or earlier label and stays in the axes. Where every offset collides (rows closer
    than a label's height, or a node where another edge passes), it takes the least bad one
    (see :meth:`_Obstacles.cost`) on a white mask that hides the lines under it. Placement works
    in display space, for the figure as drawn: resizing it afterwards moves the rows but not the
    labels' offsets in points.
    """
    px_per_pt = ax.figure.dpi / 72
    obstacles = _obstacles(ax)
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    for n, area in labelled:
        xy = (n.latency, y_of[(n.hemisphere, n.transform)])
        label = ax.annotate(
            relabel.get(n.transform, n.transform + "()"),
            xy=xy,
            xytext=(0, 0),
            textcoords="offset points",
            ha="center",
            va="bottom",
            zorder=4,
            path_effects=halo,
            annotation_clip=False,
            gid=f"label:{n.node_id}",
        )
        extent = label.get_window_extent()
        candidates = [
            (dx, dy, va, _label_box(ax.transData.transform(xy), dx, dy, va, extent, px_per_pt))
            for dx, dy, va in _label_offsets(np.sqrt(area) / 2, extent.width / px_per_pt)
        ]
        dx, dy, va, box = _least_colliding(candidates, obstacles)
        label.xyann = (dx, dy)
        label.set_va(va)
        if obstacles.crossings(box):
            label.set_bbox(_LABEL_MASK)
        obstacles.add_text(box)


def _label_box(anchor: np.ndarray, dx: float, dy: float, va: str, extent: Bbox, px_per_pt: float) -> Bbox:
    """Display box of a label of ``extent``'s size, centred ``dx`` points right of ``anchor``, ``dy`` points up."""
    x = anchor[0] + dx * px_per_pt
    y = anchor[1] + dy * px_per_pt
    bottom = y if va == "bottom" else y - extent.height
    return Bbox.from_extents(x - extent.width / 2, bottom, x + extent.width / 2, bottom + extent.height)


def _least_colliding(
    candidates: list[tuple[float, float, str, Bbox]], obstacles: _Obstacles
) -> tuple[float, float, str, Bbox]:
    """The first candidate (dx, dy, va, box) free of obstacles, else the first of those colliding least."""
    best, best_cost = candidates[0], None
    for candidate in candidates:
        cost = obstacles.cost(candidate[3])
        if cost == (0, 0):
            return candidate
        if best_cost is None or cost < best_cost:
            best, best_cost = candidate, cost
    return best


__all__ = ["plot_ippm", "plot_ippm_json", "xlims_from_expressionset"]
