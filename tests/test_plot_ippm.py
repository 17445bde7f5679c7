"""Tests of the IPPM plot (spec/ippm.md §10 and E16) and ``kymata-core plot ippm``.

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
from matplotlib.testing.compare import compare_images  # noqa: E402

from kymata_core.cli import main as cli_main  # noqa: E402
from kymata_core.entities.expression import ExpressionPoint as P  # noqa: E402
from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet  # noqa: E402
from kymata_core.ippm.graph import IPPMGraph  # noqa: E402
from kymata_core.ippm.ippm import IPPM  # noqa: E402
from kymata_core.plot.colors import PALETTE, default_transform_colors  # noqa: E402
from kymata_core.plot.ippm import plot_ippm, plot_ippm_json, xlims_from_expressionset  # noqa: E402

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
    assert labels["label:sc2"].get_position() == pytest.approx((0.10 - shorten - 0.01, 0.0))
    assert labels["label:sc2"].get_ha() == "right"
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
    fig = plot_ippm(e16_graph([]), COLORS)  # only the pseudo-input
    (solid,) = lines(fig, "terminal:")
    assert list(solid.get_xdata()) == pytest.approx([0.0, 0.03])
    (dotted,) = lines(fig, "terminal-dotted:")
    assert list(dotted.get_xdata()) == pytest.approx([0.03, 0.04])
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
