"""The IPPM plot: nodes at (latency, row), rows per transform, edges as curves with arrowheads.

Implements ``spec/ippm.md`` §10. The layout is deterministic: hemispheres and CTL components are
ordered by name, and nothing random is involved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ArrowStyle, FancyArrowPatch
from matplotlib.ticker import FuncFormatter
from scipy.interpolate import BSpline

from kymata_core.entities.expression import ExpressionSet
from kymata_core.ippm.graph import IPPMConnectionStyle, IPPMGraph, IPPMNode, load_ippm_json
from kymata_core.plot.colors import INPUT_COLOR, default_transform_colors

_Y_STYLES = ("centered", "progressive")
_NODE_AREA = 150.0
_HEMISPHERE_TEST_COLORS = {"left": "#d62728", "right": "#2ca02c", "scalp": "#1f77b4", "merged": "#9467bd"}


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
        Label every node that has incoming edges with its transform.
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
        raise ValueError(f"y_ordinate_style must be one of {_Y_STYLES}, got {y_ordinate_style!r}")
    style = IPPMConnectionStyle(connection_style)
    if style == IPPMConnectionStyle.full:
        raise NotImplementedError(
            "plot_ippm cannot draw connection_style='full'; use 'last-to-first' or 'first-to-first'"
        )
    if title is None:
        title = "IPPM Graph"
    if arrowhead_dims is None:
        arrowhead_dims = (12.0, 12.0)
    relabel = dict(relabel or {})
    s = float(vertical_spacing)

    ippm_graph: IPPMGraph = getattr(ippm, "graph", ippm)
    graph = ippm_graph.graph_with_connection_style(style)
    nodes: list[IPPMNode] = list(graph.nodes)

    node_colors = _node_colors(nodes, colors, _test_hemisphere_colors)

    if ax is None:
        fig, ax = plt.subplots(figsize=(figwidth, 5 if figheight is None else figheight))
        own_figure = True
    else:
        fig = ax.figure
        own_figure = False
    ax.set_title(title)
    if not nodes:
        ax.set_axis_off()
        return fig

    ctl = ippm_graph.candidate_transform_list
    y_of = _row_positions(nodes, ctl, y_ordinate_style, s, avoid_collinearity)
    all_y = np.array(list(y_of.values()), dtype=float)
    y_min, y_max = float(all_y.min()), float(all_y.max())

    xs = np.array([n.latency for n in nodes], dtype=float)
    x_min, x_max = float(xs.min()), float(xs.max())
    shorten = (x_max - x_min) / 28

    # edges
    for u, v in graph.edges:
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

    # terminal lines: solid to just past the last node (inputs: past 20 ms), then dotted
    for n in nodes:
        if graph.out_degree(n) > 0:
            continue
        end = (0.02 if n.is_input else x_max) + 0.01
        y = y_of[(n.hemisphere, n.transform)]
        ax.plot(
            [n.latency, end],
            [y, y],
            color=node_colors[n],
            linewidth=linewidth,
            zorder=1,
            gid=f"terminal:{n.node_id}",
        )
        ax.plot(
            [end, end + 0.01],
            [y, y],
            color=node_colors[n],
            linewidth=linewidth,
            linestyle="dotted",
            zorder=1,
            gid=f"terminal-dotted:{n.node_id}",
        )

    # nodes, one scatter per transform
    sizes = _node_sizes(nodes, scale_nodes)
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

    if show_labels:
        halo = [patheffects.withStroke(linewidth=3, foreground="white")]
        for n in nodes:
            if graph.in_degree(n) == 0:
                continue
            ax.text(
                n.latency - shorten - 0.01,
                y_of[(n.hemisphere, n.transform)],
                relabel.get(n.transform, n.transform + "()"),
                ha="right",
                va="center",
                zorder=4,
                path_effects=halo,
                gid=f"label:{n.node_id}",
            )

    hemispheres = {n.hemisphere for n in nodes}
    if {"left", "right"} <= hemispheres:
        mid = (y_min + y_max) / 2
        ax.plot([0, 0.05], [mid, mid], color="black", linewidth=1, gid="midline")
        ax.text(0.025, mid + 0.3 * s, "left", ha="center", va="center", gid="midline-left")
        ax.text(0.025, mid - 0.3 * s, "right", ha="center", va="center", gid="midline-right")

    # axes
    ax.set_ylim(y_min - s, y_max + s)
    auto_lo, auto_hi = ax.get_xlim()
    lo = min(auto_lo, x_min) if xlims_s[0] is None else xlims_s[0]
    hi = max(auto_hi, x_max + 0.02) if xlims_s[1] is None else xlims_s[1]
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda tick, _pos: f"{round(1000 * tick)}"))
    ax.set_xlabel("Latency (ms)")
    ax.yaxis.set_visible(False)
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)

    if own_figure and figheight is None:
        fig.set_size_inches(figwidth, ((y_max + s) - (y_min - s)) / 25 * (figwidth / 10))
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
    """
    graph = load_ippm_json(path, candidate_transform_list)
    order = list(transform_order) if transform_order is not None else sorted(graph.transforms)
    order += sorted(set(graph.transforms) - set(order))
    palette = default_transform_colors(order)
    palette.update(colors or {})
    return plot_ippm(graph, palette, **kwargs)


# --- layout -------------------------------------------------------------------------------------


def _row_positions(
    nodes: list[IPPMNode], ctl, style: str, s: float, avoid_collinearity: bool
) -> dict[tuple[str, str], float]:
    """y of each (hemisphere, transform) row, stacked per §10."""
    hemispheres = sorted({n.hemisphere for n in nodes})
    components = sorted(ctl.connected_components, key=min)
    sequence = ctl.serial_sequence
    step_of = {t: k for k, step in enumerate(sequence) for t in step}
    input_transforms = {n.transform for n in nodes if n.is_input}

    per_hemisphere: dict[str, list[dict[str, float]]] = {}
    for h_index, h in enumerate(hemispheres):
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
        else:
            with_nodes = {n.transform for n in nodes if n.hemisphere == h}
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
        per_hemisphere[h] = rows

    positions: dict[tuple[str, str], float] = {}
    offset = 0.0
    for h in reversed(hemispheres):
        for ys in per_hemisphere[h]:
            if not ys:
                continue
            for t, y in ys.items():
                positions[(h, t)] = y + offset
            offset += (max(ys.values()) - min(ys.values())) + s
        offset += s
    return positions


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
    """Points of an edge: straight within a row, else a clamped cubic B-spline between rows (§10)."""
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


__all__ = ["plot_ippm", "plot_ippm_json", "xlims_from_expressionset"]
