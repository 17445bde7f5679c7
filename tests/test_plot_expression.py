"""Tests of the expression plot, its minimaps and ``kymata-core plot expression``.

Image comparisons use the baselines in ``tests/baseline_images``. To (re)write them after an
intended change, run ``KYMATA_REGENERATE_BASELINES=1 .venv/bin/pytest tests/test_plot_expression.py
tests/test_plot_ippm.py`` and look at every image before committing it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex, to_rgba  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from kymata_core.cli import main as cli_main  # noqa: E402
from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet  # noqa: E402
from kymata_core.io.layouts import SensorLayout, get_layout_positions, get_sensor_hemispheres  # noqa: E402
from kymata_core.io.sensors import brain_channel_picks, guess_sensor_layout, sensor_sides  # noqa: E402
from kymata_core.math.probability import p_threshold_for_sigmas  # noqa: E402
from kymata_core.plot.colors import INSIGNIFICANT_COLOR, PALETTE  # noqa: E402
from kymata_core.plot.expression import expression_plot, legend_display_dict  # noqa: E402
from kymata_core.plot.points import best_points  # noqa: E402
from tests.paths import REAL_MEG_DIR  # noqa: E402

BASELINES = Path(__file__).parent / "baseline_images"
REGENERATE = os.environ.get("KYMATA_REGENERATE_BASELINES") == "1"
LAYOUT = SensorLayout(meg="Vectorview", eeg="Easycap")
LATENCIES = [-0.1, 0.0, 0.1, 0.2, 0.3]


@pytest.fixture(autouse=True)
def _fixed_style():
    with matplotlib.style.context("default"), matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        yield
    plt.close("all")


def check_baseline(fig, name: str, tmp_path: Path, tol: float = 3.0) -> None:
    """Compare ``fig`` with ``baseline_images/<name>.png`` (or write it when regenerating)."""
    baseline = BASELINES / f"{name}.png"
    if REGENERATE:
        fig.savefig(baseline, dpi=80, metadata={"Software": None})
        return
    assert baseline.is_file(), f"missing baseline {baseline}; run with KYMATA_REGENERATE_BASELINES=1"
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=80, metadata={"Software": None})
    result = compare_images(str(baseline), str(actual), tol=tol)
    assert result is None, result


# --- data ---------------------------------------------------------------------------------------


def small_hexel_set() -> HexelExpressionSet:
    """Known best points: see EXPECTED_* below. 6 + 6 hexels, 5 latencies, 2 transforms."""
    left = np.zeros((6, 5, 2))
    right = np.zeros((6, 5, 2))
    left[0, 2, 0] = -20.0  # a, 100 ms
    left[1, 3, 1] = -15.0  # b, 200 ms
    left[2, 1, 0] = -3.0  # a, 0 ms, not significant
    right[0, 4, 1] = -30.0  # b, 300 ms
    right[1, 2, 0] = -12.0  # a, 100 ms
    right[1, 2, 1] = -5.0  # b loses to a at hexel 1
    return HexelExpressionSet(["a", "b"], np.arange(6), np.arange(6), LATENCIES, left, right)


def demo_hexel_set(n: int = 300) -> HexelExpressionSet:
    rng = np.random.default_rng(3)
    lat = np.round(np.arange(-0.2, 0.8001, 0.01), 6)
    names = ["loudness", "pitch", "tonotopy"]
    blocks = []
    for hemi in range(2):
        d = rng.uniform(-4, 0, (n, len(lat), len(names)))
        for t in range(len(names)):
            rows = rng.choice(n, 25, replace=False)
            peak = 25 + 12 * t + 3 * hemi
            d[rows, peak + rng.integers(-3, 4, 25), t] = -rng.uniform(12, 40 - 6 * t, 25)
        blocks.append(d)
    return HexelExpressionSet(names, np.arange(n), np.arange(n), lat, blocks[0], blocks[1])


def demo_sensor_set() -> SensorExpressionSet:
    positions = get_layout_positions(LAYOUT)
    names = sorted(positions)
    rng = np.random.default_rng(5)
    lat = np.round(np.arange(-0.2, 0.8001, 0.01), 6)
    d = rng.uniform(-4, 0, (len(names), len(lat), 3))
    for i, name in enumerate(names):
        x, y = positions[name]
        if y > 0.4:
            d[i, 40 + rng.integers(-2, 3), 0] = -18 - 15 * y
        if x < -0.6:
            d[i, 55 + rng.integers(-2, 3), 1] = -20 + 5 * x
        if x > 0.6:
            d[i, 65 + rng.integers(-2, 3), 2] = -14 - 5 * x
    return SensorExpressionSet(["loudness", "pitch", "tonotopy"], names, lat, d, sensor_layout=LAYOUT)


def collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) <= 1
    return found[0] if found else None


def offsets(ax, gid) -> list[tuple[float, float]]:
    c = collection(ax, gid)
    return [] if c is None else sorted(map(tuple, np.asarray(c.get_offsets()).tolist()))


def all_axes(fig):
    found = list(fig.axes) + [ax for sub in fig.subfigs for ax in all_axes(sub)]
    return list(dict.fromkeys(found))


def expression_axes(fig):
    """The expression axes, top first (those with an alpha line)."""
    return [ax for ax in all_axes(fig) if any(line.get_gid() == "alpha-line" for line in ax.lines)]


def sidak_logp(alpha: float, n: int) -> float:
    return float(np.log10(1 - (1 - alpha) ** (1 / n)))


# --- content ------------------------------------------------------------------------------------


def test_points_at_latency_ms_and_logp_on_paired_axes():
    fig = expression_plot(small_hexel_set())
    top, bottom = expression_axes(fig)
    assert offsets(top, "significant") == [(100.0, -20.0), (200.0, -15.0)]
    assert offsets(top, "insignificant") == [(0.0, -3.0)]
    assert offsets(bottom, "significant") == [(100.0, -12.0), (300.0, -30.0)]
    assert offsets(bottom, "insignificant") == []


def test_colours_per_transform_default_and_mapping():
    fig = expression_plot(small_hexel_set())
    top = expression_axes(fig)[0]
    sig = collection(top, "significant")
    by_x = {round(x): to_hex(c) for (x, _), c in zip(sig.get_offsets(), sig.get_facecolors(), strict=True)}
    assert by_x == {100: PALETTE[0], 200: PALETTE[1]}
    insig = collection(top, "insignificant")
    assert to_hex(insig.get_facecolors()[0]) == INSIGNIFICANT_COLOR

    fig = expression_plot(small_hexel_set(), color={"b": "#123456"})
    sig = collection(expression_axes(fig)[0], "significant")
    by_x = {round(x): to_hex(c) for (x, _), c in zip(sig.get_offsets(), sig.get_facecolors(), strict=True)}
    assert by_x == {100: PALETTE[0], 200: "#123456"}

    fig = expression_plot(small_hexel_set(), color="red")
    assert {to_hex(c) for c in collection(expression_axes(fig)[1], "significant").get_facecolors()} == {
        "#ff0000"
    }


def test_alpha_line_is_sidak_corrected_over_channels_latencies_transforms():
    es = small_hexel_set()
    fig = expression_plot(es, alpha=0.05)
    expected = sidak_logp(0.05, 12 * 5 * 2)
    for ax in expression_axes(fig):
        (line,) = [ln for ln in ax.lines if ln.get_gid() == "alpha-line"]
        assert line.get_ydata()[0] == pytest.approx(expected, rel=1e-9)
    # with one transform shown, n counts one transform
    fig = expression_plot(es, alpha=0.05, show_only="a")
    (line,) = [ln for ln in expression_axes(fig)[0].lines if ln.get_gid() == "alpha-line"]
    assert line.get_ydata()[0] == pytest.approx(sidak_logp(0.05, 12 * 5), rel=1e-9)


def test_significance_threshold_splits_points():
    es = small_hexel_set()
    # threshold between -12 and -15: right hexel 1 (-12) becomes insignificant, left hexel 1 (-15) stays
    alpha = 1 - (1 - 10.0**-13.5) ** (12 * 5 * 2)
    fig = expression_plot(es, alpha=alpha)
    top, bottom = expression_axes(fig)
    assert offsets(top, "significant") == [(100.0, -20.0), (200.0, -15.0)]
    assert offsets(bottom, "significant") == [(300.0, -30.0)]
    assert offsets(bottom, "insignificant") == [(100.0, -12.0)]


def test_show_only_chooses_best_among_shown_transforms():
    fig = expression_plot(small_hexel_set(), show_only=["b"])
    top, bottom = expression_axes(fig)
    assert offsets(top, "significant") == [(200.0, -15.0)]
    # right hexel 1: b at -5 is now its best
    assert offsets(bottom, "significant") + offsets(bottom, "insignificant") == [
        (300.0, -30.0),
        (100.0, -5.0),
    ]
    with pytest.raises(ValueError, match="nope"):
        expression_plot(small_hexel_set(), show_only="nope")


def test_axis_limits_and_mirroring():
    fig = expression_plot(small_hexel_set(), ylim=-40)
    top, bottom = expression_axes(fig)
    assert top.get_xlim() == (-100.0, 800.0)
    assert top.get_ylim() == (0.0, -40.0)
    assert bottom.get_ylim() == (-40.0, 0.0)
    fig = expression_plot(small_hexel_set(), xlims=(None, 500))
    assert expression_axes(fig)[0].get_xlim() == (-100.0, 500.0)
    # automatic ylim reaches beyond the most significant point
    fig = expression_plot(small_hexel_set())
    assert expression_axes(fig)[1].get_ylim()[0] <= -30
    with pytest.raises(ValueError, match="ylim"):
        expression_plot(small_hexel_set(), ylim=5)


def test_axis_labels_and_title():
    fig = expression_plot(small_hexel_set(), title="My title")
    top, bottom = expression_axes(fig)
    assert top.get_title() == "My title"
    assert bottom.get_xlabel() == "Latency (ms)"
    assert "5-sigma" in fig._supylabel.get_text() and "Šidák" in fig._supylabel.get_text()
    assert top.yaxis.get_major_formatter()(-20, 0) == "10⁻²⁰"


def test_legend_entries_grouping_and_hidden():
    es = small_hexel_set()
    fig = expression_plot(es)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]
    fig = expression_plot(es, show_only="a", hidden_transforms_in_legend=False)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a"]
    fig = expression_plot(es, show_only="a", hidden_transforms_in_legend=True)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]
    fig = expression_plot(es, legend_display=legend_display_dict(["a", "b"], "both"))
    labels = fig.legends[0].get_texts()
    assert [t.get_text() for t in labels] == ["both"]
    assert to_hex(fig.legends[0].legend_handles[0].get_color()) == PALETTE[0]
    # grouped transforms share the group's colour
    assert {to_hex(c) for c in collection(expression_axes(fig)[0], "significant").get_facecolors()} == {
        PALETTE[0]
    }
    fig = expression_plot(es, show_legend=False)
    assert fig.legends == []


def test_legend_display_dict():
    assert legend_display_dict(["x", "y"], "XY") == {"x": "XY", "y": "XY"}


def test_plot_top_n_and_single_axis():
    es = demo_hexel_set(60)
    fig = expression_plot(es, plot_top_n=2, paired_axes=False)
    (ax,) = expression_axes(fig)
    pts = [c for c in ax.collections if c.get_gid() in ("significant", "insignificant")]
    assert sum(len(c.get_offsets()) for c in pts) <= 2 * 3
    sig = collection(ax, "significant")
    counts = {}
    for c in sig.get_facecolors():
        counts[to_hex(c)] = counts.get(to_hex(c), 0) + 1
    assert all(v <= 2 for v in counts.values()) and len(counts) == 3


def test_minimap_latency_range_is_shaded_in_ms():
    fig = expression_plot(small_hexel_set(), minimap_latency_range=(0.05, None))
    for ax in expression_axes(fig):
        (span,) = [p for p in ax.patches if p.get_gid() == "minimap-latency-range"]
        assert span.get_x() == pytest.approx(50.0)
        assert span.get_x() + span.get_width() == pytest.approx(800.0)


def test_best_points_matches_best_transforms():
    es = demo_hexel_set(80)
    for block, expected in zip(("left", "right"), es.best_transforms(), strict=True):
        got = best_points(es, block)
        assert [
            (c, la, t, lp)
            for c, la, t, lp in zip(got.channels, got.latencies, got.transforms, got.logps, strict=True)
        ] == [tuple(p) for p in expected]


def test_save_overwrite_and_file_exists(tmp_path):
    out = tmp_path / "fig.png"
    expression_plot(small_hexel_set(), save_to=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        expression_plot(small_hexel_set(), save_to=out, overwrite=False)
    assert out.read_bytes() == b"keep"
    expression_plot(small_hexel_set(), save_to=out, overwrite=True)
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # no temporary file left behind


def test_save_is_reproducible(tmp_path):
    for suffix in ("png", "svg"):
        a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
        expression_plot(small_hexel_set(), save_to=a, fig_size=(5, 3))
        expression_plot(small_hexel_set(), save_to=b, fig_size=(5, 3))
        assert a.read_bytes() == b.read_bytes()


# --- sensors ------------------------------------------------------------------------------------


def one_sensor_each_side() -> tuple[str, str, str]:
    hemispheres = get_sensor_hemispheres(LAYOUT)
    pick = {
        side: sorted(n for n, s in hemispheres.items() if s == side)[0]
        for side in ("left", "right", "midline")
    }
    return pick["left"], pick["right"], pick["midline"]


def test_sensor_hemispheres_from_layout_midline_hollow_on_both():
    left, right, mid = one_sensor_each_side()
    d = np.zeros((3, 5, 1))
    d[0, 2, 0], d[1, 3, 0], d[2, 4, 0] = -20, -25, -30
    es = SensorExpressionSet(["a"], [left, right, mid], LATENCIES, d, sensor_layout=LAYOUT)
    top, bottom = expression_axes(expression_plot(es))
    assert offsets(top, "significant") == [(100.0, -20.0)]
    assert offsets(bottom, "significant") == [(200.0, -25.0)]
    for ax in (top, bottom):
        assert offsets(ax, "midline") == [(300.0, -30.0)]
        hollow = collection(ax, "midline")
        assert len(hollow.get_facecolors()) == 0 or hollow.get_facecolors()[0][3] == 0
        assert to_hex(hollow.get_edgecolors()[0]) == PALETTE[0]


def test_sensor_set_without_layout_uses_one_axis():
    left, right, mid = one_sensor_each_side()
    d = np.zeros((3, 5, 1))
    d[:, 2, 0] = -20
    es = SensorExpressionSet(["a"], [left, right, mid], LATENCIES, d)
    assert len(expression_axes(expression_plot(es))) == 1


def test_show_only_sensors():
    eeg = sorted(get_layout_positions(SensorLayout(eeg=LAYOUT.eeg)))[:1]
    meg = sorted(get_layout_positions(SensorLayout(meg=LAYOUT.meg)))[:1]
    assert eeg and meg
    d = np.zeros((2, 5, 1))
    d[0, 1, 0], d[1, 3, 0] = -20, -20
    es = SensorExpressionSet(["a"], [meg[0], eeg[0]], LATENCIES, d, sensor_layout=LAYOUT)
    xs_meg = [
        x
        for ax in expression_axes(expression_plot(es, show_only_sensors="meg"))
        for c in ax.collections
        for x, _ in c.get_offsets()
    ]
    xs_eeg = [
        x
        for ax in expression_axes(expression_plot(es, show_only_sensors="eeg"))
        for c in ax.collections
        for x, _ in c.get_offsets()
    ]
    assert set(xs_meg) == {0.0} and set(xs_eeg) == {200.0}


def test_show_only_sensors_on_hexel_set_raises():
    with pytest.raises(ValueError, match="SensorExpressionSet"):
        expression_plot(small_hexel_set(), show_only_sensors="meg")


def test_sensor_minimap_colours_significant_sensors():
    left, right, mid = one_sensor_each_side()
    d = np.zeros((3, 5, 2))
    d[0, 2, 0], d[1, 3, 1] = -20, -25
    es = SensorExpressionSet(["a", "b"], [left, right, mid], LATENCIES, d, sensor_layout=LAYOUT)
    fig = expression_plot(es, minimap="standard")
    (mini,) = [ax for ax in all_axes(fig) if collection(ax, "minimap-sensors") is not None]
    positions = get_layout_positions(LAYOUT)
    assert offsets(mini, "minimap:a") == [tuple(positions[left])]
    assert offsets(mini, "minimap:b") == [tuple(positions[right])]
    # restricted to a window that holds only b's peak (200 ms)
    fig = expression_plot(es, minimap="large", minimap_latency_range=(0.15, 0.25))
    (mini,) = [ax for ax in all_axes(fig) if collection(ax, "minimap-sensors") is not None]
    assert offsets(mini, "minimap:a") == [] and len(offsets(mini, "minimap:b")) == 1


# --- sensor sides from real recordings -----------------------------------------------------------


def real_info(vendor: str):
    import mne

    if vendor == "vectorview":
        return mne.read_evokeds(REAL_MEG_DIR / "neuromag-sample-ave.fif.gz", condition=0, verbose="error").info
    name = {"kit": "kit-raw.fif", "ctf": "ctf-comp-raw.fif"}[vendor]
    return mne.io.read_raw_fif(REAL_MEG_DIR / name, verbose="error").info


def vendor_set(vendor: str, with_sides: bool = True) -> SensorExpressionSet:
    """Every brain sensor of a real recording significant once, with a log10 p that identifies it."""
    info = real_info(vendor)
    names = [info.ch_names[p] for p in brain_channel_picks(info)]
    layout = guess_sensor_layout(info)
    sides = sensor_sides(info, layout) if with_sides else None
    data = np.zeros((len(names), len(LATENCIES), 1))
    for i in range(len(names)):
        data[i, i % len(LATENCIES), 0] = -(20.0 + 0.01 * i)
    return SensorExpressionSet(["a"], names, LATENCIES, data, layout, sensor_sides=sides)


def sensors_on(ax, es: SensorExpressionSet, gid: str) -> list[str]:
    """The sensors behind the points of one scatter, identified by their log10 p (see vendor_set)."""
    return [str(es.sensors[round((-y - 20.0) / 0.01)]) for _, y in offsets(ax, gid)]


@pytest.mark.parametrize("vendor", ["vectorview", "ctf", "kit"])
def test_every_real_sensor_is_drawn_on_its_sides_axis(vendor):
    es = vendor_set(vendor)
    sides = dict(es.sensor_sides)
    assert set(sides) == set(es.sensors.tolist())  # every sensor of these files has a side
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no sensor is left without a side
        top, bottom = expression_axes(expression_plot(es))
    on_top, on_bottom = sensors_on(top, es, "significant"), sensors_on(bottom, es, "significant")
    assert sorted(on_top) == sorted(s for s, side in sides.items() if side == "left")
    assert sorted(on_bottom) == sorted(s for s, side in sides.items() if side == "right")
    midline = sorted(s for s, side in sides.items() if side == "midline")
    assert midline and sorted(sensors_on(top, es, "midline")) == sorted(sensors_on(bottom, es, "midline")) == midline
    assert len(on_top) + len(on_bottom) + len(midline) == len(es.sensors)
    assert on_top and on_bottom


def test_real_names_match_the_layout_without_sides():
    """Without stored sides, MNE's "MEG 0113" names are matched to the Vectorview layout."""
    es = vendor_set("vectorview", with_sides=False)
    with pytest.warns(UserWarning, match=r"60 sensor\(s\) have no known side") as caught:
        top, bottom = expression_axes(expression_plot(es))
    assert "EEG 001" in str(caught[0].message)  # numbered EEG: no default position in Easycap
    meg_midline = {f"MEG {loc}{k}" for loc in ("062", "081", "082", "101", "211", "212") for k in "123"}
    hollow = set(sensors_on(top, es, "midline"))
    assert hollow == set(sensors_on(bottom, es, "midline"))
    assert hollow == meg_midline | {s for s in es.sensors.tolist() if s.startswith("EEG")}
    assert "MEG 0111" in sensors_on(top, es, "significant") and "MEG 1311" in sensors_on(bottom, es, "significant")
    assert len(sensors_on(top, es, "significant")) + len(sensors_on(bottom, es, "significant")) == 306 - 18


def test_stored_sides_come_before_the_layout():
    left, right, mid = one_sensor_each_side()
    d = np.zeros((3, 5, 1))
    d[0, 2, 0], d[1, 3, 0], d[2, 4, 0] = -20, -25, -30
    es = SensorExpressionSet(["a"], [left, right, mid], LATENCIES, d, LAYOUT, sensor_sides={left: "right"})
    top, bottom = expression_axes(expression_plot(es))
    assert offsets(top, "significant") == []
    assert offsets(bottom, "significant") == [(100.0, -20.0), (200.0, -25.0)]
    # sides without a layout: still two axes
    es = SensorExpressionSet(["a"], ["X1", "X2", "X3"], LATENCIES, d, sensor_sides={"X1": "left", "X2": "right"})
    with pytest.warns(UserWarning, match=r"1 sensor\(s\) have no known side.*X3"):
        top, bottom = expression_axes(expression_plot(es))
    assert offsets(top, "significant") == [(100.0, -20.0)] and offsets(bottom, "significant") == [(200.0, -25.0)]
    assert offsets(top, "midline") == offsets(bottom, "midline") == [(300.0, -30.0)]


# --- x range ------------------------------------------------------------------------------------


def hexel_set_at(latencies_s: list[float], points: dict[int, float]) -> HexelExpressionSet:
    """One transform; hexel i significant at latency ``points[i]`` (s), nothing else."""
    d = np.zeros((len(points), len(latencies_s), 1))
    for i, latency in points.items():
        d[i, latencies_s.index(latency), 0] = -20
    return HexelExpressionSet("a", np.arange(len(points)), [], latencies_s, d, None)


def test_default_xlims_take_in_every_point():
    lat = [round(x, 3) for x in np.arange(-0.3, 0.901, 0.05)]
    es = hexel_set_at(lat, {0: -0.25, 1: 0.1, 2: 0.85})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = expression_axes(expression_plot(es))[0]
    assert ax.get_xlim() == (-260.0, 860.0)
    # the usual case keeps the reference's range when no point lies outside it
    lat = [round(x, 3) for x in np.arange(-0.2, 0.801, 0.05)]
    ax = expression_axes(expression_plot(hexel_set_at(lat, {0: -0.1, 1: 0.1, 2: 0.8})))[0]
    assert ax.get_xlim() == (-100.0, 800.0)
    # a None entry takes the widened default
    ax = expression_axes(expression_plot(hexel_set_at(lat, {0: -0.2, 1: 0.1}), xlims=(None, 300)))[0]
    assert ax.get_xlim() == (-210.0, 300.0)


def test_explicit_xlims_that_hide_points_warn():
    lat = [round(x, 3) for x in np.arange(-0.2, 0.801, 0.05)]
    es = hexel_set_at(lat, {0: -0.2, 1: 0.1, 2: 0.6})
    with pytest.warns(UserWarning, match=r"xlims=\(-100, 500\) ms hide 2 of the 3 plotted point\(s\)"):
        ax = expression_axes(expression_plot(es, xlims=(-100, 500)))[0]
    assert ax.get_xlim() == (-100.0, 500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expression_plot(es, xlims=(-200, 600))
    with pytest.raises(ValueError, match="increasing"):
        expression_plot(es, xlims=(500, 100))


# --- hexel minimap ------------------------------------------------------------------------------


def test_hexel_minimap_without_fsaverage_raises(tmp_path, monkeypatch):
    monkeypatch.delenv("SUBJECTS_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="fsaverage.*fetch_fsaverage.*network|SUBJECTS_DIR"):
        expression_plot(small_hexel_set(), minimap="standard")
    with pytest.raises(FileNotFoundError, match=r"lh\.inflated.*fetch_fsaverage.*network"):
        expression_plot(small_hexel_set(), minimap="standard", minimap_kwargs={"subjects_dir": tmp_path})
    out = tmp_path / "never.png"
    with pytest.raises(FileNotFoundError):
        expression_plot(
            small_hexel_set(), minimap="standard", minimap_kwargs={"subjects_dir": tmp_path}, save_to=out
        )
    assert not out.exists()


def write_freesurfer_surface(path: Path, rr: np.ndarray, faces: np.ndarray) -> None:
    """FreeSurfer triangle format: magic FF FF FE, a comment ending in two newlines, counts, big-endian data."""
    with open(path, "wb") as f:
        f.write(b"\xff\xff\xfe" + b"created by the kymata tests\n\n")
        f.write(np.array([len(rr), len(faces)], dtype=">i4").tobytes())
        f.write(np.asarray(rr, dtype=">f4").tobytes())
        f.write(np.asarray(faces, dtype=">i4").tobytes())


def fake_fsaverage(root: Path, n: int = 120) -> Path:
    """A tiny stand-in for fsaverage: a triangulated sphere per hemisphere."""
    from scipy.spatial import ConvexHull

    i = np.arange(n) + 0.5
    phi, theta = np.arccos(1 - 2 * i / n), np.pi * (1 + 5**0.5) * i
    rr = np.column_stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)]) * 50
    faces = ConvexHull(rr).simplices
    surf = root / "fsaverage" / "surf"
    surf.mkdir(parents=True)
    for hemi, shift in (("lh", -60), ("rh", 60)):
        write_freesurfer_surface(surf / f"{hemi}.inflated", rr + [shift, 0, 0], faces)
    return rr, faces


def test_hexel_minimap_on_surface(tmp_path, monkeypatch):
    rr, faces = fake_fsaverage(tmp_path)
    monkeypatch.setenv("SUBJECTS_DIR", str(tmp_path))
    n = len(rr)
    # every vertex is a hexel, so each face takes the colour of its own first vertex
    h_a, h_b = int(faces[0, 0]), int(faces[-1, 0])
    assert h_a != h_b
    left = np.zeros((n, 5, 2))
    left[h_a, 1, 0] = -30
    left[h_b, 2, 1] = -30
    es = HexelExpressionSet(["a", "b"], np.arange(n), np.arange(n), LATENCIES, left, np.zeros((n, 5, 2)))
    fig = expression_plot(es, minimap="standard")
    surfaces = {
        c.get_gid(): c
        for ax in all_axes(fig)
        for c in ax.collections
        if str(c.get_gid()).startswith("minimap")
    }
    assert set(surfaces) == {"minimap-surface:left", "minimap-surface:right"}
    fc = np.asarray(surfaces["minimap-surface:left"].get_facecolor())
    for hexel, colour in ((h_a, PALETTE[0]), (h_b, PALETTE[1])):
        assert np.all(np.isclose(fc, to_rgba(colour)), axis=1).sum() == (faces[:, 0] == hexel).sum()
    right = np.asarray(surfaces["minimap-surface:right"].get_facecolor())
    assert np.all(np.isclose(right, to_rgba(INSIGNIFICANT_COLOR)), axis=1).all()
    with pytest.raises(NotImplementedError):
        expression_plot(es, minimap="standard", minimap_type="volumetric")


# --- images -------------------------------------------------------------------------------------


def test_image_sensor_set_with_layout(tmp_path):
    fig = expression_plot(
        demo_sensor_set(),
        title="Sensor set (Vectorview + Easycap)",
        minimap="standard",
        minimap_latency_range=(0.15, 0.25),
        fig_size=(12, 6),
    )
    check_baseline(fig, "expression_sensor", tmp_path)


def test_image_hexel_set(tmp_path):
    fig = expression_plot(
        demo_hexel_set(),
        title="Hexel set",
        fig_size=(12, 6),
        legend_display={"pitch": "pitch / tonotopy", "tonotopy": "pitch / tonotopy"},
    )
    check_baseline(fig, "expression_hexel", tmp_path)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_plot_expression(tmp_path, capsys):
    from kymata_core.io.nkg import save_expression_set

    nkg = tmp_path / "e.nkg"
    save_expression_set(small_hexel_set(), nkg)
    out = tmp_path / "plots" / "e.svg"
    assert (
        cli_main(
            [
                "plot",
                "expression",
                "--expression",
                str(nkg),
                "--out",
                str(out),
                "--options",
                '{"title": "CLI", "xlims": [-50, 400], "show_only": ["a"]}',
            ]
        )
        == 0
    )
    text = out.read_text()
    assert "<svg" in text and "CLI" in text
    assert cli_main(["plot", "expression", "--expression", str(nkg), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    opts = tmp_path / "opts.json"
    opts.write_text('{"bogus": 1}')
    assert (
        cli_main(
            [
                "plot",
                "expression",
                "--expression",
                str(nkg),
                "--out",
                str(out),
                "--overwrite",
                "--options",
                str(opts),
            ]
        )
        == 2
    )
    assert "bogus" in capsys.readouterr().err
    assert cli_main(["plot", "expression", "--expression", str(nkg), "--out", str(tmp_path / "x.gif")]) == 2
    assert (
        cli_main(
            [
                "plot",
                "expression",
                "--expression",
                str(nkg),
                "--out",
                str(tmp_path / "x.png"),
                "--options",
                '{"show_only_sensors": "meg"}',
            ]
        )
        == 2
    )
    assert "SensorExpressionSet" in capsys.readouterr().err


def test_default_alpha_is_five_sigma():
    import inspect

    assert inspect.signature(expression_plot).parameters["alpha"].default == p_threshold_for_sigmas(5)
