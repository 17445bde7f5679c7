"""The expression plot: where and when each transform is expressed, as log10 p against latency.

Each channel (hexel or sensor) contributes one point: its best transform among those shown, at
that transform's best latency (:meth:`ExpressionSet.best_transforms`). Points below the Šidák-corrected
significance threshold are coloured by transform; the rest are light grey.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator
from scipy import special

from kymata_core.entities.expression import (
    ExpressionSet,
    HexelExpressionSet,
    SensorExpressionSet,
    get_n_comparisons,
)
from kymata_core.entities.hemispheres import BLOCK_SCALP, HEMISPHERE_BLOCKS, SIDE_LEFT, SIDE_RIGHT
from kymata_core.errors import UsageError
from kymata_core.io.atomic import check_overwrite
from kymata_core.io.layouts import SensorLayout, get_layout_positions, layout_sides
from kymata_core.math.probability import p_threshold_for_sigmas, sidak_logp_threshold
from kymata_core.plot.colors import INSIGNIFICANT_COLOR, resolve_transform_colors
from kymata_core.plot.points import BestPoints, best_points
from kymata_core.plot.save import save_figure

DEFAULT_XLIMS_MS: tuple[float, float] = (-100.0, 800.0)
_MINIMAP_CHOICES = ("standard", "large")
_RASTERIZE_ABOVE = 5000  # points; above this, scatters are rasterised even in vector formats
_XLIM_MARGIN_MS = 5.0  # room for a marker beyond a point outside the default x range


def legend_display_dict(transforms: list[str], display_name: str) -> dict[str, str]:
    """Map each transform to one display name, to group them under one legend item.

    Parameters
    ----------
    transforms : list of str
        Transform names to group.
    display_name : str
        The legend label shared by all of them.

    Returns
    -------
    dict[str, str]
        Transform name to ``display_name``; pass it (or a union of several) as ``legend_display``
        to :func:`expression_plot`.
    """
    return dict.fromkeys(transforms, display_name)


def expression_plot(
    expression_set: ExpressionSet,
    show_only: str | Sequence[str] | None = None,
    paired_axes: bool = True,
    alpha: float = p_threshold_for_sigmas(5),
    color: str | dict[str, str] | list[str] | None = None,
    ylim: float | None = None,
    xlims: tuple[float | None, float | None] | None = None,
    hidden_transforms_in_legend: bool = True,
    title: str | None = None,
    fig_size: tuple[float, float] = (12, 7),
    minimap: str | None = None,
    minimap_type: str = "inflated",
    minimap_view: str | None = None,
    show_only_sensors: Literal["eeg", "meg"] | None = None,
    minimap_latency_range: tuple[float | None, float | None] | None = None,
    plot_top_n: int | None = None,
    save_to: Path | str | None = None,
    overwrite: bool = True,
    show_legend: bool = True,
    legend_display: dict[str, str] | None = None,
    minimap_kwargs: dict | None = None,
) -> Figure:
    """Plot transform expression over time: log10 p of each channel's best transform against latency.

    Parameters
    ----------
    expression_set : ExpressionSet
        The evidence to plot (HexelExpressionSet or SensorExpressionSet).
    show_only : str or sequence of str, optional
        Transforms to plot (default all). Each channel's best transform is chosen among these
        (the reference chose among all transforms and then dropped channels won by hidden ones).
    paired_axes : bool
        Two axes: left hemisphere above, right below, the lower one mirrored so that evidence grows
        away from the middle. For a sensor set, each sensor is drawn once, on the axis of its side:
        the side in the set's ``sensor_sides``, else its side in the set's layout (names matched
        the MNE way, so ``"MEG 0113"`` is ``MEG0113``); midline sensors, and sensors whose side is
        not known (with a warning), are drawn hollow on both axes. A sensor set with neither sides
        nor a layout is drawn on a single axis. False draws every point on one axis.
    alpha : float
        Family-wise significance level, Šidák-corrected over
        n = channels × latencies × transforms (the plotted channels and transforms, and every
        latency of the set), as the reference computes it: n counts all channels of the set,
        also those removed by ``show_only_sensors``. A point is significant when
        log10 p <= log10 of the corrected threshold. Default: the one-tailed 5-sigma p-value.
    color : str, list of str or dict, optional
        One colour for all, a list assigned to the shown transforms in order, or a mapping from
        transform to colour (others keep their default). Default: a fixed qualitative palette in
        the set's transform order (:func:`kymata_core.plot.colors.default_transform_colors`).
    ylim : float, optional
        log10 of the smallest p-value shown (e.g. -100 for 10^-100); negative. Default: just
        beyond the smallest of the plotted points and the threshold.
    xlims : tuple of (float or None), optional
        x limits in milliseconds; None, or a None entry, uses the default: (-100, 800) as the
        reference, widened to take in every plotted point. A warning says how many points
        limits given here leave out.
    hidden_transforms_in_legend : bool
        Also list the set's transforms that are not plotted.
    title : str, optional
        Title over the top axis.
    fig_size : tuple of float
        Figure size in inches.
    minimap : {"standard", "large"}, optional
        Add a map of the significant channels beside the plot: a topographic sensor map for sensor
        sets, views of the fsaverage cortical surface for hexel sets. "large" gives the map more
        room than the expression plot.
    minimap_type : str
        Hexel sets: the FreeSurfer surface to draw ("inflated", "white", "pial", …).
        "volumetric" is not implemented (NotImplementedError).
    minimap_view : str, optional
        Hexel sets: the camera ("lateral" by default, "medial", "rostral", "caudal", "dorsal",
        "ventral", "frontal", "parietal", "axial", "sagittal", "coronal").
    show_only_sensors : {"meg", "eeg"}, optional
        Sensor sets only: keep the EEG sensors (names starting with "EEG", or named in the set's
        EEG layout) or the MEG sensors (all others).
    minimap_latency_range : tuple of (float or None), optional
        (start, stop) in **seconds**: the minimap shows only the best points in this window, and
        the window is shaded on the expression plot. None entries are open ends.
    plot_top_n : int, optional
        Per transform and axis, plot only the N points with the smallest p-values.
    save_to : path, optional
        Save the figure there (format from the suffix), written atomically.
    overwrite : bool
        Replace an existing ``save_to``; otherwise FileExistsError (checked before drawing).
    show_legend : bool
        Draw the legend.
    legend_display : dict, optional
        Transform name to legend label; transforms sharing a label share one legend item
        (see :func:`legend_display_dict`) and, unless ``color`` names them, its colour.
    minimap_kwargs : dict, optional
        Minimap options: ``subjects_dir`` (FreeSurfer subjects directory holding ``fsaverage``;
        default the ``SUBJECTS_DIR`` environment variable).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    FileExistsError
        If ``save_to`` exists and ``overwrite`` is False.
    ValueError
        For unknown transforms in ``show_only``, a bad ``ylim``, ``minimap`` or colour, or
        ``show_only_sensors`` with anything but a SensorExpressionSet.
    FileNotFoundError
        For a hexel-set minimap when the fsaverage subject cannot be found.
    """
    # --- validate everything before drawing ---------------------------------------------------
    if save_to is not None:
        save_to = Path(save_to)
        check_overwrite(save_to, overwrite)
    shown = _resolve_show_only(expression_set, show_only)
    colors = resolve_transform_colors(color, expression_set.transforms, shown)
    if legend_display:
        colors = _group_colors(colors, expression_set.transforms, legend_display, color)
    if show_only_sensors is not None:
        if not isinstance(expression_set, SensorExpressionSet):
            raise UsageError(
                f"show_only_sensors={show_only_sensors!r} needs a SensorExpressionSet, "
                f"got a {type(expression_set).__name__}"
            )
        if show_only_sensors not in ("meg", "eeg"):
            raise UsageError(f"show_only_sensors must be 'meg', 'eeg' or None, got {show_only_sensors!r}")
    if ylim is not None and not ylim < 0:
        raise UsageError(f"ylim is log10 of the smallest p-value shown and must be negative, got {ylim}")
    if minimap is not None and minimap not in _MINIMAP_CHOICES:
        raise UsageError(f"minimap must be one of {_MINIMAP_CHOICES} or None, got {minimap!r}")
    if plot_top_n is not None and plot_top_n < 1:
        raise UsageError(f"plot_top_n must be a positive integer, got {plot_top_n}")
    _check_xlims(xlims)
    minimap_kwargs = dict(minimap_kwargs or {})
    minimap_plan = None
    if minimap is not None:
        from kymata_core.plot import minimap as _minimap

        minimap_plan = _minimap.prepare(expression_set, minimap_type, minimap_view, minimap_kwargs)

    # --- data ---------------------------------------------------------------------------------
    sensor_filter = _sensor_filter(show_only_sensors, getattr(expression_set, "sensor_layout", None))
    axes_points, axis_names = _points_by_axis(expression_set, shown, paired_axes, sensor_filter)
    # As the reference: every channel of the set (before show_only_sensors), every latency, the shown transforms.
    alpha_logp = sidak_logp_threshold(alpha, get_n_comparisons(expression_set, shown))
    if plot_top_n is not None:
        axes_points = [_top_n(p, plot_top_n) for p in axes_points]
    xlims_ms = _resolve_xlims(xlims, axes_points)

    if ylim is None:
        ylim = _auto_ylim(axes_points, alpha_logp)

    # --- figure -------------------------------------------------------------------------------
    fig = plt.figure(figsize=fig_size, layout="constrained")
    n_rows = len(axes_points)
    if minimap_plan is not None:
        ratios = [1.0, 2.6] if minimap == "standard" else [3.0, 2.0]
        minimap_fig, expr_fig = fig.subfigures(1, 2, width_ratios=ratios)
    else:
        minimap_fig, expr_fig = None, fig
    axes: list[Axes] = list(np.atleast_1d(expr_fig.subplots(n_rows, 1, sharex=True, squeeze=False)[:, 0]))
    fig.get_layout_engine().set(h_pad=0, hspace=0, rect=(0, 0, 1, 0.985))  # paired axes touch; a margin on top

    total_points = sum(len(p) for p in axes_points)
    rasterize = total_points > _RASTERIZE_ABOVE
    for ax, points in zip(axes, axes_points, strict=True):
        _draw_points(ax, points, shown, colors, alpha_logp, rasterize, floor=ylim)
        ax.axhline(alpha_logp, color="black", linestyle="dotted", linewidth=1, gid="alpha-line")
        ax.axvline(0, color="black", linewidth=0.6, alpha=0.5, zorder=0)
        if minimap_latency_range is not None:
            start, stop = minimap_latency_range
            ax.axvspan(
                xlims_ms[0] if start is None else start * 1000.0,
                xlims_ms[1] if stop is None else stop * 1000.0,
                color="#ffe9a8",
                alpha=0.5,
                zorder=0,
                gid="minimap-latency-range",
            )
        ax.set_xlim(*xlims_ms)
        ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)

    # y axes: the top axis grows upward, a mirrored lower axis grows downward.
    axes[0].set_ylim(0, ylim)
    axes[0].yaxis.set_major_locator(
        MaxNLocator(nbins=5, integer=True, prune="upper" if n_rows == 2 else None)
    )
    if n_rows == 2:
        axes[1].set_ylim(ylim, 0)
        axes[1].yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axes[0].tick_params(axis="x", labelbottom=False)
        axes[0].spines["bottom"].set_linewidth(0.6)
        axes[1].spines["top"].set_visible(False)
    for ax, name in zip(axes, axis_names, strict=True):
        if name:
            ax.text(
                0.01,
                0.96 if ax is axes[0] else 0.04,
                name,
                transform=ax.transAxes,
                va="top" if ax is axes[0] else "bottom",
                ha="left",
                fontsize="small",
                color="#444444",
            )
    axes[-1].set_xlabel("Latency (ms)")
    expr_fig.supylabel(f"p-value (with α at {_alpha_description(alpha)}, Šidák corrected)", fontsize="medium")
    if title is not None:
        axes[0].set_title(title)

    if show_legend:
        _add_legend(
            expr_fig,
            expression_set.transforms if hidden_transforms_in_legend else shown,
            colors,
            legend_display,
        )

    if minimap_plan is not None:
        minimap_plan.draw(
            minimap_fig, expression_set, shown, colors, alpha_logp, minimap_latency_range, sensor_filter
        )

    if save_to is not None:
        save_figure(fig, save_to, overwrite=overwrite)
    return fig


# --- helpers ------------------------------------------------------------------------------------


def _resolve_show_only(es: ExpressionSet, show_only: str | Sequence[str] | None) -> list[str]:
    if show_only is None:
        return es.transforms
    names = [show_only] if isinstance(show_only, str) else list(show_only)
    unknown = [t for t in names if t not in es.transforms]
    if unknown:
        raise UsageError(
            f"show_only: transform(s) {unknown} not in the ExpressionSet (it has {es.transforms})"
        )
    if not names:
        raise UsageError("show_only: an empty list of transforms was given")
    return list(dict.fromkeys(names))


def _check_xlims(xlims: tuple[float | None, float | None] | None) -> None:
    """ValueError unless ``xlims`` is None or an increasing pair (either entry may be None)."""
    if xlims is None:
        return
    lo, hi = xlims
    if lo is not None and hi is not None and not float(lo) < float(hi):
        raise UsageError(f"xlims must be increasing (ms), got {(lo, hi)}")


def _resolve_xlims(
    xlims: tuple[float | None, float | None] | None, axes_points: list[BestPoints]
) -> tuple[float, float]:
    """x limits (ms): the caller's, else the default widened to the plotted points (warning if some are hidden)."""
    lo_given, hi_given = xlims if xlims is not None else (None, None)
    latencies_ms = _plotted_latencies_ms(axes_points)
    lo, hi = _default_xlims(latencies_ms)
    lo = lo if lo_given is None else float(lo_given)
    hi = hi if hi_given is None else float(hi_given)
    if not lo < hi:
        raise UsageError(f"xlims {(lo, hi)} ms are not increasing once the default fills the None entry")
    hidden = int(np.count_nonzero((latencies_ms < lo) | (latencies_ms > hi)))
    if hidden:
        warnings.warn(
            f"xlims=({lo:g}, {hi:g}) ms hide {hidden} of the {len(latencies_ms)} plotted point(s), "
            f"whose latencies span {latencies_ms.min():g} to {latencies_ms.max():g} ms",
            UserWarning,
            stacklevel=3,
        )
    return lo, hi


def _plotted_latencies_ms(axes_points: list[BestPoints]) -> np.ndarray:
    """The latency (ms) of every plotted point, each once (a midline sensor's copy on the lower axis is left out)."""
    parts = [axes_points[0].latencies] + [p.latencies[~p.hollow] for p in axes_points[1:]]
    return np.concatenate(parts) * 1000.0


def _default_xlims(latencies_ms: np.ndarray) -> tuple[float, float]:
    """The reference's (-100, 800) ms, widened to a multiple of 10 ms beyond any point outside it."""
    lo, hi = DEFAULT_XLIMS_MS
    if latencies_ms.size:
        if latencies_ms.min() < lo:
            lo = math.floor((latencies_ms.min() - _XLIM_MARGIN_MS) / 10.0) * 10.0
        if latencies_ms.max() > hi:
            hi = math.ceil((latencies_ms.max() + _XLIM_MARGIN_MS) / 10.0) * 10.0
    return float(lo), float(hi)


def _sensor_filter(show_only_sensors: str | None, layout: SensorLayout | None):
    """A predicate on sensor names, or None. EEG sensors: names "EEG…" and the EEG layout's names."""
    if show_only_sensors is None:
        return None
    eeg_names: set[str] = set()
    if layout is not None and layout.eeg is not None:
        eeg_names = set(get_layout_positions(SensorLayout(eeg=layout.eeg)))
    want_eeg = show_only_sensors == "eeg"

    def keep(name) -> bool:
        is_eeg = str(name).upper().startswith("EEG") or name in eeg_names
        return is_eeg == want_eeg

    return keep


def _points_by_axis(
    es: ExpressionSet, shown: list[str], paired_axes: bool, sensor_filter
) -> tuple[list[BestPoints], list[str]]:
    """The points of each axis (top first) and the axes' names."""
    if isinstance(es, HexelExpressionSet):
        left, right = (best_points(es, b, shown) for b in HEMISPHERE_BLOCKS)
        if paired_axes:
            return [left, right], ["left hemisphere", "right hemisphere"]
        return [BestPoints.concat([left, right])], [""]
    if isinstance(es, SensorExpressionSet):
        points = best_points(es, BLOCK_SCALP, shown)
        if sensor_filter is not None:
            points = points.select(np.array([bool(sensor_filter(c)) for c in points.channels], dtype=bool))
        sides_known = _sensor_sides_for_plot(es) if paired_axes else None
        if sides_known is None:
            return [points], [""]
        sides = np.array([sides_known.get(c, "unknown") for c in points.channels.tolist()], dtype=object)
        unplaced = points.channels[sides == "unknown"].tolist()
        if unplaced:
            warnings.warn(
                f"{len(unplaced)} sensor(s) have no known side (not in the set's sensor_sides nor in the layout "
                f"{es.sensor_layout}) and are drawn as midline sensors: {unplaced[:5]}",
                UserWarning,
                stacklevel=3,
            )
        middle = points.select((sides != SIDE_LEFT) & (sides != SIDE_RIGHT)).with_hollow(True)
        top = BestPoints.concat([points.select(sides == SIDE_LEFT), middle])
        bottom = BestPoints.concat([points.select(sides == SIDE_RIGHT), middle])
        return [top, bottom], ["left sensors", "right sensors"]
    raise TypeError(
        f"expression_plot needs a HexelExpressionSet or SensorExpressionSet, got {type(es).__name__}"
    )


def _sensor_sides_for_plot(es: SensorExpressionSet) -> dict[str, str] | None:
    """Sensor name → "left"/"right"/"midline": the set's own sides first, then its layout's.

    None when the set has neither (it is then drawn on one axis).
    """
    if es.sensor_sides is None and es.sensor_layout is None:
        return None
    sides: dict[str, str] = {}
    if es.sensor_layout is not None:
        sides.update(layout_sides(es.sensors.tolist(), es.sensor_layout))
    sides.update(es.sensor_sides or {})
    return sides


def _top_n(points: BestPoints, n: int) -> BestPoints:
    keep = np.zeros(len(points), dtype=bool)
    for t in dict.fromkeys(points.transforms.tolist()):
        idx = np.flatnonzero(points.transforms == t)
        keep[idx[np.argsort(points.logps[idx], kind="stable")[:n]]] = True
    return points.select(keep)


def _auto_ylim(axes_points: list[BestPoints], alpha_logp: float) -> float:
    finite = [float(p.logps[np.isfinite(p.logps)].min()) for p in axes_points if np.isfinite(p.logps).any()]
    lowest = min([alpha_logp, *finite]) * 1.1
    step = 10 if lowest < -20 else (5 if lowest < -5 else 1)
    return float(math.floor(lowest / step) * step)


def _draw_points(
    ax: Axes,
    points: BestPoints,
    shown: list[str],
    colors: dict[str, str],
    alpha_logp: float,
    rasterize: bool,
    floor: float,
) -> None:
    """At most three scatters per axis: insignificant (grey), significant, significant midline (hollow).

    Significant points are coloured by transform and drawn in the order of ``shown``.
    """
    if len(points) == 0:
        return
    lat_ms = points.latencies * 1000.0
    # -inf (p underflowed to 0) is drawn at the edge of the axis rather than dropped
    logp = np.where(np.isfinite(points.logps), points.logps, floor)
    significant = logp <= alpha_logp
    insignificant = ~significant
    if insignificant.any():
        ax.scatter(
            lat_ms[insignificant],
            logp[insignificant],
            s=12,
            color=INSIGNIFICANT_COLOR,
            linewidths=0,
            zorder=1,
            rasterized=rasterize,
            gid="insignificant",
        )
    rank = {t: i for i, t in enumerate(shown)}
    order = np.argsort(np.array([rank[t] for t in points.transforms], dtype=np.int64), kind="stable")
    for hollow, gid in ((False, "significant"), (True, "midline")):
        idx = order[(significant & (points.hollow == hollow))[order]]
        if not len(idx):
            continue
        point_colors = [colors[t] for t in points.transforms[idx]]
        if hollow:
            ax.scatter(
                lat_ms[idx],
                logp[idx],
                s=20,
                facecolors="none",
                edgecolors=point_colors,
                linewidths=1,
                zorder=2,
                rasterized=rasterize,
                gid=gid,
            )
        else:
            ax.scatter(
                lat_ms[idx],
                logp[idx],
                s=20,
                c=point_colors,
                linewidths=0,
                zorder=2,
                rasterized=rasterize,
                gid=gid,
            )


def _group_colors(
    colors: dict[str, str], transforms: list[str], legend_display: Mapping[str, str], color
) -> dict:
    """Transforms grouped under one legend item share its colour, unless ``color`` set theirs explicitly."""
    explicit = set(color) if isinstance(color, Mapping) else (set() if color is None else set(transforms))
    first_of_group: dict[str, str] = {}
    result = dict(colors)
    for t in transforms:
        label = legend_display.get(t, t)
        if label not in first_of_group:
            first_of_group[label] = t
        elif t not in explicit:
            result[t] = colors[first_of_group[label]]
    return result


def _add_legend(
    fig: Figure | SubFigure, transforms: list[str], colors: dict[str, str], legend_display: Mapping | None
) -> None:
    groups: dict[str, str] = {}
    for t in transforms:
        label = legend_display.get(t, t) if legend_display else t
        groups.setdefault(label, colors[t])
    handles = [
        Line2D([], [], marker="o", linestyle="none", markersize=6, color=c, label=label)
        for label, c in groups.items()
    ]
    if not handles:
        return
    height_in = fig.figure.get_size_inches()[1]
    rows_fit = max(1, int(height_in * 72 / 14))
    ncols = max(1, math.ceil(len(handles) / rows_fit))
    fig.legend(handles=handles, loc="outside right upper", fontsize="small", ncols=ncols, frameon=False)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _pos: int) -> str:
    """Tick label for a log10 p tick: ``10⁻²⁰`` (Unicode superscripts: much faster to draw than mathtext)."""
    exponent = int(round(value))
    return "1" if exponent == 0 else "10" + str(exponent).translate(_SUPERSCRIPT)


def _alpha_description(alpha: float) -> str:
    sigmas = float(-special.ndtri(alpha)) if 0 < alpha < 1 else float("nan")
    if np.isfinite(sigmas) and abs(sigmas - round(sigmas)) < 1e-6:
        return f"{round(sigmas)}-sigma"
    return f"{alpha:.3g}"


__all__ = ["expression_plot", "legend_display_dict", "DEFAULT_XLIMS_MS"]
