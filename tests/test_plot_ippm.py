"""Tests of the IPPM plot (docs/ippm.md §10 and E16) and ``kymata-core plot ippm``.

Baselines: see tests/test_plot_expression.py (``KYMATA_REGENERATE_BASELINES=1``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from kymata_core.cli import main as cli_main  # noqa: E402
from kymata_core.entities.expression import ExpressionPoint as P  # noqa: E402
from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet  # noqa: E402
from kymata_core.ippm.graph import IPPMGraph  # noqa: E402
from kymata_core.ippm.ippm import IPPM  # noqa: E402
from kymata_core.plot.colors import PALETTE, default_transform_colors  # noqa: E402
from kymata_core.plot.ippm import (  # noqa: E402
    NOTHING_TO_DRAW,
    plot_ippm,
    plot_ippm_json,
    xlims_from_expressionset,
)

BASELINES = Path(__file__).parent / "baseline_images"
REGENERATE = os.environ.get("KYMATA_REGENERATE_BASELINES") == "1"

CTL = {"input": [], "a": ["input"], "b": ["a"], "c": ["a"]}
E16_POINTS = [P("c1", 0.05, "a", -20.0), P("c2", 0.10, "b", -25.0), P("c3", 0.15, "c", -25.0)]
COLORS = {"a": "#1f77b4", "b": "#ff7f0e", "c": "#2ca02c"}


@pytest.fixture(autouse=True)
def _fixed_style():
    with matplotlib.style.context("default"), matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        yield
    plt.close("all")


def check_baseline(fig, name: str, tmp_path: Path, tol: float = 3.0) -> None:
    baseline = BASELINES / f"{name}.png"
    if REGENERATE:
        fig.savefig(baseline, dpi=80, metadata={"Software": None}, bbox_inches="tight")
        return
    assert baseline.is_file(), f"missing baseline {baseline}; run with KYMATA_REGENERATE_BASELINES=1"
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=80, metadata={"Software": None}, bbox_inches="tight")
    result = compare_images(str(baseline), str(actual), tol=tol)
    assert result is None, result


def e16_graph(points=E16_POINTS) -> IPPMGraph:
    return IPPMGraph(CTL, {"scalp": list(points)})


def node_positions(fig) -> dict[str, list[tuple[float, float]]]:
    ax = fig.axes[0]
    return {
        c.get_gid().split(":", 1)[1]: sorted(map(tuple, np.asarray(c.get_offsets()).tolist()))
        for c in ax.collections
        if str(c.get_gid()).startswith("nodes:")
    }


def node_y(fig) -> dict[str, float]:
    return {t: pts[0][1] for t, pts in node_positions(fig).items()}


def lines(fig, prefix: str):
    return [ln for ln in fig.axes[0].lines if str(ln.get_gid()).startswith(prefix)]


# --- E16 ----------------------------------------------------------------------------------------


def test_e16_centered_rows_ylim_and_automatic_size():
    fig = plot_ippm(e16_graph(), COLORS, figheight=None)
    assert node_y(fig) == {"input": 5.5, "a": 5.5, "b": 0.0, "c": 11.0}
    assert fig.axes[0].get_ylim() == (-11.0, 22.0)
    assert tuple(fig.get_size_inches()) == pytest.approx((10, 1.32))


def test_e16_avoid_collinearity_adds_quarter_spacing():
    fig = plot_ippm(e16_graph(), COLORS, avoid_collinearity=True)
    assert node_y(fig) == {"input": 8.25, "a": 8.25, "b": 2.75, "c": 13.75}


def test_e16_progressive_rows():
    fig = plot_ippm(e16_graph(), COLORS, y_ordinate_style="progressive")
    assert node_y(fig) == {"input": 0.0, "a": 22.0, "b": 11.0, "c": 0.0}


def test_default_size_title_and_axes():
    fig = plot_ippm(e16_graph(), COLORS)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((10, 5))
    assert ax.get_title() == "IPPM Graph"
    assert ax.get_xlabel() == "Latency (ms)"
    assert not ax.yaxis.get_visible()
    assert [ax.spines[s].get_visible() for s in ("top", "left", "right", "bottom")] == [
        False,
        False,
        False,
        True,
    ]
    assert ax.xaxis.get_major_formatter()(0.125, 0) == "125"
    # automatic x limits include every node and 20 ms beyond the last
    lo, hi = ax.get_xlim()
    assert lo <= 0.0 and hi >= 0.17
    fig = plot_ippm(e16_graph(), COLORS, xlims_s=(-0.1, 0.3), title="T")
    assert fig.axes[0].get_xlim() == (-0.1, 0.3) and fig.axes[0].get_title() == "T"


def test_node_colours_areas_and_input_default_black():
    fig = plot_ippm(e16_graph(), COLORS)
    ax = fig.axes[0]
    by_t = {c.get_gid().split(":")[1]: c for c in ax.collections if str(c.get_gid()).startswith("nodes:")}
    assert to_hex(by_t["a"].get_facecolors()[0]) == COLORS["a"]
    assert to_hex(by_t["input"].get_facecolors()[0]) == "#000000"
    assert all(c.get_sizes()[0] == 150 for c in by_t.values())
    fig = plot_ippm(e16_graph(), COLORS, scale_nodes=True)
    sizes = {
        c.get_gid().split(":")[1]: float(c.get_sizes()[0])
        for c in fig.axes[0].collections
        if str(c.get_gid()).startswith("nodes:")
    }
    assert sizes == pytest.approx({"input": 300, "a": 30 + 270 * 20 / 25, "b": 300, "c": 300})


def test_edges_labels_and_terminal_lines():
    fig = plot_ippm(e16_graph(), COLORS, relabel={"b": "Bee"})
    edges = lines(fig, "edge:")
    assert len(edges) == 3  # i1 -> a, a -> b, a -> c
    shorten = 0.15 / 28
    ends = {ln.get_gid(): (ln.get_xdata()[-1], ln.get_ydata()[-1]) for ln in edges}
    assert ends["edge:sc1->sc2"] == pytest.approx((0.10 - shorten, 0.0))
    assert to_hex(next(ln for ln in edges if ln.get_gid() == "edge:sc1->sc3").get_color()) == COLORS["c"]
    # straight within a row, curved between rows, leaving and entering horizontally
    curved = next(ln for ln in edges if ln.get_gid() == "edge:sc1->sc2")
    assert len(curved.get_xdata()) > 2
    assert curved.get_ydata()[1] == pytest.approx(5.5, abs=0.5) and curved.get_ydata()[-2] == pytest.approx(
        0, abs=0.5
    )
    assert len(fig.axes[0].patches) == 3  # arrowheads
    labels = {t.get_gid(): t for t in fig.axes[0].texts if str(t.get_gid()).startswith("label:")}
    assert {k: t.get_text() for k, t in labels.items()} == {
        "label:sc1": "a()",
        "label:sc2": "Bee",
        "label:sc3": "c()",
    }
    # anchored on its node, centred above or below it (off the row its lines run along)
    assert labels["label:sc2"].xy == pytest.approx((0.10, 0.0))
    assert labels["label:sc2"].get_ha() == "center"
    dx, dy = labels["label:sc2"].xyann
    assert dx == 0 and abs(dy) > np.sqrt(150) / 2
    # terminals: b and c (data: to max x + .01, then dotted .01 more)
    solid = {ln.get_gid(): ln for ln in lines(fig, "terminal:")}
    dotted = {ln.get_gid(): ln for ln in lines(fig, "terminal-dotted:")}
    assert set(solid) == {"terminal:sc2", "terminal:sc3"}
    assert list(solid["terminal:sc2"].get_xdata()) == pytest.approx([0.10, 0.16])
    assert list(dotted["terminal-dotted:sc2"].get_xdata()) == pytest.approx([0.16, 0.17])
    assert dotted["terminal-dotted:sc2"].get_linestyle() == ":"
    fig = plot_ippm(e16_graph(), COLORS, show_labels=False)
    assert not [t for t in fig.axes[0].texts if str(t.get_gid()).startswith("label:")]


def test_input_terminal_line_and_arrowhead_dims():
    # a second input that nothing significant follows
    graph = IPPMGraph({"in1": [], "in2": [], "a": ["in1"]}, {"scalp": [P("c1", 0.05, "a", -20.0)]})
    fig = plot_ippm(graph, COLORS)
    solid = {ln.get_gid(): ln for ln in lines(fig, "terminal:")}
    assert list(solid["terminal:i2"].get_xdata()) == pytest.approx([0.0, 0.03])
    dotted = {ln.get_gid(): ln for ln in lines(fig, "terminal-dotted:")}
    assert list(dotted["terminal-dotted:i2"].get_xdata()) == pytest.approx([0.03, 0.04])
    fig = plot_ippm(e16_graph(), COLORS, arrowhead_dims=(20, 8))
    style = fig.axes[0].patches[0].get_arrowstyle()
    assert (style.head_length, style.head_width) == (20, 4)


def test_backward_edge_one_node_and_no_nodes():
    swapped = [P("c1", 0.10, "a", -20.0), P("c2", 0.05, "b", -25.0), P("c3", 0.15, "c", -25.0)]
    fig = plot_ippm(e16_graph(swapped), COLORS)
    back = next(ln for ln in lines(fig, "edge:") if ln.get_gid() == "edge:sc1->sc2")
    assert back.get_xdata()[0] == pytest.approx(0.10) and back.get_xdata()[-1] < 0.10
    fig = plot_ippm(IPPMGraph({"a": []}, {"scalp": [P("c1", 0.05, "a", -20.0)]}), COLORS)
    assert node_positions(fig) == {"a": [(0.05, 0.0)]}
    fig = plot_ippm(IPPMGraph({"a": ["input"], "input": []}, {}), COLORS, title="Empty")
    assert fig.axes[0].get_title() == "Empty" and not fig.axes[0].collections


def test_errors():
    with pytest.raises(KeyError, match="b"):
        plot_ippm(e16_graph(), {"a": "red", "c": "blue"})
    with pytest.raises(ValueError, match="y_ordinate_style"):
        plot_ippm(e16_graph(), COLORS, y_ordinate_style="diagonal")
    with pytest.raises(NotImplementedError):
        plot_ippm(e16_graph(), COLORS, connection_style="full")
    with pytest.raises(ValueError):
        plot_ippm(e16_graph(), COLORS, connection_style="sideways")


def test_ax_argument_draws_without_resizing():
    fig, ax = plt.subplots(figsize=(3, 2))
    out = plot_ippm(e16_graph(), COLORS, ax=ax, figheight=None)
    assert out is fig and tuple(fig.get_size_inches()) == (3, 2)
    assert node_y(fig)["c"] == 11.0


def test_vertical_spacing():
    fig = plot_ippm(e16_graph(), COLORS, vertical_spacing=4)
    assert node_y(fig) == {"input": 2.0, "a": 2.0, "b": 0.0, "c": 4.0}
    assert fig.axes[0].get_ylim() == (-4.0, 8.0)


def two_hemisphere_graph() -> IPPMGraph:
    left = [P(1, 0.05, "a", -20.0), P(2, 0.08, "a", -30.0), P(3, 0.11, "b", -25.0), P(4, 0.16, "c", -40.0)]
    right = [P(5, 0.06, "a", -22.0), P(6, 0.14, "c", -28.0)]
    return IPPMGraph(CTL, {"left": left, "right": right})


def test_two_hemispheres_stacking_and_midline():
    fig = plot_ippm(two_hemisphere_graph(), COLORS)
    pos = node_positions(fig)
    # right (bottom): rows 0..11 (components reversed, one component), then offset 11 + 11 + 11 = 33 for left
    assert pos["c"] == [(0.14, 11.0), (0.16, 44.0)]
    assert pos["b"] == [(0.11, 33.0)]
    assert sorted(y for _, y in pos["input"]) == [5.5, 38.5]
    (mid,) = lines(fig, "midline")
    assert list(mid.get_ydata()) == [22.0, 22.0] and list(mid.get_xdata()) == [0, 0.05]
    texts = {t.get_gid(): t.get_position() for t in fig.axes[0].texts}
    assert texts["midline-left"] == (0.025, 22.0 + 3.3) and texts["midline-right"] == (0.025, 22.0 - 3.3)


def test_xlims_from_expressionset():
    lat = np.round(np.arange(-0.2, 0.8001, 0.1), 6)
    es = HexelExpressionSet(["a"], [0], [0], lat, np.zeros((1, len(lat))), np.zeros((1, len(lat))))
    assert xlims_from_expressionset(es) == pytest.approx((-0.25, 0.85))
    assert xlims_from_expressionset(es, padding=0.1) == pytest.approx((-0.3, 0.9))


def test_ippm_from_sensor_set_plots():
    d = np.zeros((4, 4, 3))
    d[0, 1, 0], d[1, 2, 1], d[3, 3, 2] = -20, -25, -25
    es = SensorExpressionSet(["a", "b", "c"], ["0", "1", "2", "3"], [0, 0.05, 0.10, 0.15], d)
    fig = plot_ippm(IPPM(es, CTL, denoiser=None), COLORS, figheight=None)
    assert node_y(fig) == {"input": 5.5, "a": 5.5, "b": 0.0, "c": 11.0}


# --- JSON and CLI -------------------------------------------------------------------------------


def test_plot_from_json_matches_direct_plot(tmp_path):
    ippm = IPPM(two_hemisphere_graph_es(), CTL, denoiser=None)
    path = tmp_path / "ippm.json"
    path.write_text(ippm.to_json())
    direct = node_positions(plot_ippm(ippm, COLORS))
    from_json = node_positions(plot_ippm_json(path, colors=COLORS, candidate_transform_list=CTL))
    assert from_json == direct
    # default colours: the expression plot's palette in the given transform order
    fig = plot_ippm_json(path, transform_order=["a", "b", "c"])
    by_t = {c.get_gid().split(":")[1]: to_hex(c.get_facecolors()[0]) for c in fig.axes[0].collections}
    assert by_t["a"] == PALETTE[0] and by_t["c"] == PALETTE[2]
    assert default_transform_colors(["a", "b", "c"])["b"] == PALETTE[1]


def two_hemisphere_graph_es() -> HexelExpressionSet:
    lat = [0.0, 0.05, 0.1, 0.15]
    left, right = np.zeros((3, 4, 3)), np.zeros((3, 4, 3))
    left[0, 1, 0], left[1, 2, 1], left[2, 3, 2] = -20, -25, -25
    right[0, 1, 0], right[2, 3, 2] = -22, -30
    return HexelExpressionSet(["a", "b", "c"], [0, 1, 2], [0, 1, 2], lat, left, right)


def test_cli_plot_ippm(tmp_path, capsys):
    ippm = IPPM(two_hemisphere_graph_es(), CTL, denoiser=None)
    path = tmp_path / "ippm.json"
    path.write_text(ippm.to_json())
    out = tmp_path / "ippm.png"
    hierarchy = tmp_path / "ctl.json"
    hierarchy.write_text(json.dumps(CTL))
    assert (
        cli_main(
            [
                "plot",
                "ippm",
                "--ippm",
                str(path),
                "--out",
                str(out),
                "--hierarchy",
                str(hierarchy),
                "--colors",
                json.dumps(COLORS),
                "--options",
                '{"figheight": null, "title": "CLI"}',
            ]
        )
        == 0
    )
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert cli_main(["plot", "ippm", "--ippm", str(path), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (
        cli_main(
            [
                "plot",
                "ippm",
                "--ippm",
                str(path),
                "--out",
                str(out),
                "--overwrite",
                "--options",
                '{"y_ordinate_style": "zigzag"}',
            ]
        )
        == 2
    )
    assert "y_ordinate_style" in capsys.readouterr().err


# --- nothing significant ------------------------------------------------------------------------


def messages(fig) -> list:
    return [t for t in fig.axes[0].texts if t.get_text() == NOTHING_TO_DRAW]


def hexel_es(left: np.ndarray, right: np.ndarray) -> HexelExpressionSet:
    return HexelExpressionSet(["a", "b", "c"], [0, 1, 2], [0, 1, 2], [0.0, 0.05, 0.1, 0.15], left, right)


def empty_right_es() -> HexelExpressionSet:
    left = np.zeros((3, 4, 3))
    left[0, 1, 0], left[1, 2, 1], left[2, 3, 2] = -20, -25, -25
    return hexel_es(left, np.zeros((3, 4, 3)))


NOTHING_SIGNIFICANT = {
    "no nodes": IPPMGraph({"a": ["input"], "input": []}, {}),
    "only the input": e16_graph([]),
    "hexel, both hemispheres": IPPM(hexel_es(np.zeros((3, 4, 3)), np.zeros((3, 4, 3))), CTL, denoiser=None),
}


def assert_says_nothing_to_draw(fig, title: str) -> None:
    ax = fig.axes[0]
    (text,) = messages(fig)
    assert text.get_transform() == ax.transAxes and text.get_position() == (0.5, 0.5)
    assert (text.get_ha(), text.get_va()) == ("center", "center") and text.get_visible()
    assert fig.bbox.contains(*text.get_window_extent().min) and fig.bbox.contains(
        *text.get_window_extent().max
    )
    assert ax.get_title() == title
    assert len(fig.axes) == 1 and not ax.collections and not ax.lines
    assert tuple(fig.get_size_inches()) == pytest.approx((10, 5))


@pytest.mark.parametrize("graph", NOTHING_SIGNIFICANT.values(), ids=NOTHING_SIGNIFICANT.keys())
@pytest.mark.parametrize("figheight", [5, None])
def test_nothing_significant_says_so(graph, figheight):
    fig = plot_ippm(graph, COLORS, title="Nothing", figheight=figheight)
    assert_says_nothing_to_draw(fig, "Nothing")


def test_nothing_significant_from_json_says_so(tmp_path):
    path = tmp_path / "ippm.json"
    path.write_text(NOTHING_SIGNIFICANT["hexel, both hemispheres"].to_json())
    assert_says_nothing_to_draw(plot_ippm_json(path, title="From JSON"), "From JSON")
    assert_says_nothing_to_draw(
        plot_ippm_json(path, candidate_transform_list=CTL, figheight=None), "IPPM Graph"
    )


def test_nothing_significant_into_given_axes():
    fig, ax = plt.subplots(figsize=(3, 2))
    assert plot_ippm(e16_graph([]), COLORS, ax=ax) is fig
    (text,) = messages(fig)
    assert text.axes is ax and tuple(fig.get_size_inches()) == (3, 2)


@pytest.mark.parametrize("style", ["centered", "progressive"])
def test_empty_hemisphere_says_so_in_its_band(tmp_path, style):
    ippm = IPPM(empty_right_es(), CTL, denoiser=None)
    path = tmp_path / "ippm.json"
    path.write_text(ippm.to_json())
    for fig in (
        plot_ippm(ippm, COLORS, y_ordinate_style=style),
        plot_ippm_json(path, colors=COLORS, candidate_transform_list=CTL, y_ordinate_style=style),
    ):
        ax = fig.axes[0]
        (text,) = messages(fig)
        assert text.get_gid() == "empty:right"
        (mid,) = lines(fig, "midline")
        y_mid = mid.get_ydata()[0]
        # in the lower (right) band, centred across the axes; the left hemisphere drawn above as usual
        y = text.get_position()[1]
        assert ax.get_ylim()[0] < y < y_mid - 0.3 * 11
        box = text.get_window_extent()
        assert (box.x0 + box.x1) / 2 == pytest.approx((ax.bbox.x0 + ax.bbox.x1) / 2)
        ys = [y for pts in node_positions(fig).values() for _, y in pts]
        assert set(node_positions(fig)) == {"input", "a", "b", "c"} and min(ys) > y_mid
        assert not [ln for ln in ax.lines if "right" in str(ln.get_gid())]


# --- labels -------------------------------------------------------------------------------------

# two chains from one input that meet again, with several nodes per transform, as a denoised
# IPPM of a listening study gives them
CHAINS_CTL = {
    "input_stream": [],
    "hearing_loss": ["input_stream"],
    "loudness": ["hearing_loss"],
    "sharpness": ["loudness"],
    "pitch": ["input_stream"],
    "formants": ["pitch"],
    "phoneme": ["formants", "sharpness"],
}
CHAINS_PEAKS = {  # transform -> hemisphere -> latencies (s) of its peaks
    "hearing_loss": {"left": [0.030, 0.075], "right": [0.035]},
    "loudness": {"left": [0.090, 0.130], "right": [0.080]},
    "sharpness": {"left": [0.165], "right": [0.160]},
    "pitch": {"left": [0.045], "right": [0.050, 0.095]},
    "formants": {"left": [0.110], "right": [0.135]},
    "phoneme": {"left": [0.200, 0.245], "right": [0.230]},
}


def chains_ippm() -> IPPM:
    """Each peak is a strong hexel and a weaker one at the same latency, so maxpool keeps it."""
    latencies = np.round(np.arange(-0.05, 0.3001, 0.005), 6)
    transforms = sorted(CHAINS_PEAKS)
    n_hexels = 2 * max(sum(len(p[h]) for p in CHAINS_PEAKS.values()) for h in ("left", "right"))
    blocks = {h: np.zeros((n_hexels, len(latencies), len(transforms))) for h in ("left", "right")}
    for h, block in blocks.items():
        hexel = 0
        for j, t in enumerate(transforms):
            for k, latency in enumerate(CHAINS_PEAKS[t][h]):
                i = int(np.argmin(np.abs(latencies - latency)))
                block[hexel, i, j], block[hexel + 1, i, j] = -40.0 - 3 * k, -32.0
                hexel += 2
    hexels = np.arange(n_hexels)
    es = HexelExpressionSet(transforms, hexels, hexels, latencies, blocks["left"], blocks["right"])
    return IPPM(es, CHAINS_CTL)


def chains_colors() -> dict[str, str]:
    return default_transform_colors(sorted(CHAINS_PEAKS))


def node_labels(fig) -> list:
    return [t for t in fig.axes[0].texts if str(t.get_gid()).startswith("label:")]


def sampled_display_points(path: MplPath, transform, step_px: float = 0.5) -> np.ndarray:
    """Points along ``path`` in display space, at most ``step_px`` apart."""
    vertices = transform.transform(path.vertices)
    out = [vertices[:1]]
    for a, b in zip(vertices[:-1], vertices[1:], strict=True):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step_px)), 1)
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(out)


def lines_through_labels(fig) -> list[tuple[str, str]]:
    """(label, line or arrowhead) pairs where a line drawn in the figure, stroke width included, meets a label.

    Lines are sampled every half pixel (independently of the plot's own geometry tests);
    arrowheads are tested as filled polygons.
    """
    fig.canvas.draw()  # lays out the figure and sizes the arrowheads as in the image
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72
    hits = []
    for label in node_labels(fig):
        box = label.get_window_extent(renderer)
        for ln in ax.lines:
            points = sampled_display_points(ln.get_path(), ln.get_transform())
            half = ln.get_linewidth() * px_per_pt / 2
            grown = box.padded(half)
            inside = (
                (points[:, 0] >= grown.x0)
                & (points[:, 0] <= grown.x1)
                & (points[:, 1] >= grown.y0)
                & (points[:, 1] <= grown.y1)
            )
            if inside.any():
                hits.append((label.get_gid(), ln.get_gid()))
        for patch in ax.patches:
            polygons = patch.get_transform().transform_path(patch.get_path()).to_polygons()
            if any(MplPath(p).intersects_bbox(box, filled=True) for p in polygons):
                hits.append((label.get_gid(), "arrowhead"))
    return hits


@pytest.mark.parametrize("style", ["centered", "progressive"])
@pytest.mark.parametrize("figheight", [5, None])
def test_small_ippm_labels_clear_of_every_line(style, figheight):
    fig = plot_ippm(e16_graph(), COLORS, y_ordinate_style=style, figheight=figheight)
    assert len(node_labels(fig)) == 3
    assert lines_through_labels(fig) == []
    fig = plot_ippm(
        two_hemisphere_graph(), COLORS, y_ordinate_style=style, figheight=figheight, scale_nodes=True
    )
    assert len(node_labels(fig)) == 6
    assert lines_through_labels(fig) == []


# the layouts of chains_ippm() in which every label has room beside its node
ROOMY = [
    ("centered", "last-to-first", 5),
    ("centered", "first-to-first", 5),
    ("progressive", "last-to-first", 5),
    ("progressive", "last-to-first", None),
]


@pytest.mark.parametrize(("style", "connection", "figheight"), ROOMY)
def test_labels_of_chains_clear_of_every_line(style, connection, figheight):
    fig = plot_ippm(
        chains_ippm(),
        chains_colors(),
        y_ordinate_style=style,
        connection_style=connection,
        figheight=figheight,
    )
    labels = node_labels(fig)
    assert len(labels) == 16  # every data node has an incoming edge
    assert lines_through_labels(fig) == []
    assert all(label.get_bbox_patch() is None for label in labels)  # no mask needed
    boxes = [label.get_window_extent() for label in labels]
    assert not [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[:i]) if a.overlaps(b)]
    # each label touches its node's column, just above or below the node
    radius = np.sqrt(150) / 2 * fig.dpi / 72
    for label, box in zip(labels, boxes, strict=True):
        x, y = fig.axes[0].transData.transform(label.xy)
        assert box.x0 <= x + radius + 0.5 and box.x1 >= x - radius - 0.5, label.get_gid()
        assert box.y0 >= y + radius or box.y1 <= y - radius, label.get_gid()
        assert min(abs(box.y0 - y), abs(box.y1 - y)) < radius + 3 * fig.dpi / 72, label.get_gid()


@pytest.mark.parametrize("style", ["centered", "progressive"])
@pytest.mark.parametrize("connection", ["last-to-first", "first-to-first"])
@pytest.mark.parametrize("figheight", [5, None, 2.5])
def test_labels_without_room_mask_the_lines_under_them(style, connection, figheight):
    fig = plot_ippm(
        chains_ippm(),
        chains_colors(),
        y_ordinate_style=style,
        connection_style=connection,
        figheight=figheight,
    )
    crossed = {gid for gid, _ in lines_through_labels(fig)}
    if figheight == 2.5:  # rows closer than a label is tall
        assert crossed
    top_line = max(ln.get_zorder() for ln in fig.axes[0].lines)
    for label in node_labels(fig):
        if label.get_gid() in crossed:
            mask = label.get_bbox_patch()
            assert mask is not None and to_hex(mask.get_facecolor()) == "#ffffff", label.get_gid()
            assert label.get_zorder() > top_line


def test_label_placement_is_deterministic():
    def placement():
        fig = plot_ippm(chains_ippm(), chains_colors(), connection_style="first-to-first", figheight=None)
        return [
            (t.get_gid(), tuple(t.xyann), t.get_va(), t.get_bbox_patch() is None) for t in node_labels(fig)
        ]

    first = placement()
    plt.close("all")
    assert placement() == first


# --- images -------------------------------------------------------------------------------------


def test_image_centered(tmp_path):
    fig = plot_ippm(two_hemisphere_graph(), COLORS, title="IPPM (centered)", figheight=None)
    check_baseline(fig, "ippm_centered", tmp_path)


def test_image_progressive(tmp_path):
    fig = plot_ippm(
        two_hemisphere_graph(),
        COLORS,
        title="IPPM (progressive)",
        y_ordinate_style="progressive",
        scale_nodes=True,
        figheight=None,
    )
    check_baseline(fig, "ippm_progressive", tmp_path)
