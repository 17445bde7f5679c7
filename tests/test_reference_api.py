"""Code written against kymata-core 1.0.6 runs on kymata_core with only the import renamed (issue #12).

The reference's users and its own tests build sets from ``np.random.randn`` (so about half the
values are above 0), crop to windows that may hold no latency, pass the significance level as
``alpha_p``, name the CBU data locations, and call the public classes with keywords. Each of those
is exercised here, together with everything downstream of a set holding values above 0.
"""

from __future__ import annotations

import copy
import inspect
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from kymata_core.entities.expression import (  # noqa: E402
    ExpressionPoint,
    ExpressionSet,
    HexelExpressionSet,
    NoLatenciesInRangeError,
    PositiveLogPWarning,
    SensorExpressionSet,
    combine,
    get_n_channels,
    group_points_by_transform,
)
from kymata_core.gridsearch.plain import do_gridsearch  # noqa: E402
from kymata_core.io.config import get_root_dir, load_config, modify_param_config  # noqa: E402
from kymata_core.io.nkg import load_expression_set, save_expression_set  # noqa: E402
from kymata_core.ippm.graph import IPPMGraph  # noqa: E402
from kymata_core.ippm.ippm import IPPM  # noqa: E402
from kymata_core.math.probability import bonferroni_correct, sidak_correct  # noqa: E402
from kymata_core.plot.expression import expression_plot, legend_display_dict  # noqa: E402
from kymata_core.plot.ippm import plot_ippm, xlims_from_expressionset  # noqa: E402

LATENCIES = np.round(np.arange(-0.1, 0.4001, 0.05), 6)  # 11 latencies, seconds
TRANSFORMS = ["first", "second"]


def standard_normal(seed: int, n_channels: int) -> np.ndarray:
    """(channel, latency, transform) values like the reference's tests use: about half above 0."""
    return np.random.default_rng(seed).standard_normal((n_channels, len(LATENCIES), len(TRANSFORMS)))


def build(kind: str, blocks: list[np.ndarray]) -> ExpressionSet:
    """A set of ``kind`` (sensor/hexel, sequence/contiguous data) from dense blocks, by keyword."""
    shape, layout = kind.split("-")

    def arg(block: np.ndarray):
        return [block[:, :, t] for t in range(block.shape[2])] if layout == "sequence" else block

    if shape == "sensor":
        (scalp,) = blocks
        names = [f"S{i}" for i in range(len(scalp))]
        return SensorExpressionSet(transforms=TRANSFORMS, sensors=names, latencies=LATENCIES, data=arg(scalp))
    left, right = blocks
    return HexelExpressionSet(
        transforms=TRANSFORMS,
        hexels_lh=range(len(left)),
        hexels_rh=range(100, 100 + len(right)),
        latencies=LATENCIES,
        data_lh=arg(left),
        data_rh=arg(right),
    )


def quietly(make):
    """Call ``make()`` ignoring the warning about values above 0 (for tests about something else)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PositiveLogPWarning)
        return make()


def positive_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, PositiveLogPWarning)]


def stored(coo) -> dict[tuple[int, int, int], float]:
    return {tuple(int(i) for i in c): float(v) for c, v in zip(coo.coords.T, coo.data, strict=True)}


def row_minima(dense: np.ndarray) -> dict[tuple[int, int, int], float]:
    """Brute force: each (channel, transform) row's minimum at its latency, whatever its sign (0 is fill)."""
    kept = {}
    for c in range(dense.shape[0]):
        for t in range(dense.shape[2]):
            lat = int(np.argmin(dense[c, :, t]))
            if dense[c, lat, t] != 0:
                kept[(c, lat, t)] = float(dense[c, lat, t])
    return kept


def best_by_brute_force(dense: np.ndarray, channels) -> list[ExpressionPoint]:
    """Per channel: the smallest value over (latency, transform) if below 0, else no point."""
    points = []
    for c, channel in enumerate(channels):
        lat, t = np.unravel_index(np.argmin(dense[c]), dense[c].shape)
        if dense[c, lat, t] < 0:
            points.append(
                ExpressionPoint(channel, float(LATENCIES[lat]), TRANSFORMS[t], float(dense[c, lat, t]))
            )
    return points


KINDS = ["sensor-sequence", "sensor-contiguous", "hexel-sequence", "hexel-contiguous"]


def blocks_for(kind: str, seed: int = 0) -> list[np.ndarray]:
    """Random blocks; in the first, the last channel's second transform is above 0 at every latency.

    (A random row's minimum is above 0 only once in 2**11 rows, so one is made on purpose.)
    """
    if kind.startswith("sensor"):
        blocks = [standard_normal(seed, 6)]
    else:
        blocks = [standard_normal(seed, 5), standard_normal(seed + 1, 7)]
    blocks[0][-1, :, 1] = np.abs(blocks[0][-1, :, 1]) + 0.05
    return blocks


# --- 1. sets from random values ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_random_values_are_accepted_with_one_warning_naming_how_many_are_above_zero(kind):
    blocks = blocks_for(kind)
    n_above = sum(int((b > 0).sum()) for b in blocks)
    assert n_above > 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(kind, blocks)
    messages = positive_warnings(caught)
    assert len(messages) == 1  # one for the whole set, not one per block or per transform
    assert messages[0].startswith(f"{n_above} log10 p-value(s) are above 0")
    assert issubclass(PositiveLogPWarning, UserWarning)
    assert [w.filename for w in caught] == [__file__]  # it points at the caller's line


def test_values_at_or_below_zero_give_no_warning():
    dense = -np.abs(standard_normal(1, 4))
    dense[0] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build("sensor-contiguous", [dense])


@pytest.mark.parametrize("kind", KINDS)
def test_each_row_keeps_its_minimum_even_when_above_zero(kind):
    blocks = blocks_for(kind, seed=4)
    blocks[0][1, :, 0] = np.linspace(0.5, 3.0, len(LATENCIES))  # a row all above 0: its minimum 0.5 stays
    blocks[0][2, :, 1] = 0.0  # a row of p = 1: nothing stored
    before = [b.copy() for b in blocks]
    es = quietly(lambda: build(kind, blocks))
    for block, dense in zip(es.block_names, blocks, strict=True):
        assert stored(es.coo(block)) == row_minima(dense)
    assert stored(es.coo(es.block_names[0]))[(1, 0, 0)] == 0.5
    assert not any(key[0] == 2 and key[2] == 1 for key in stored(es.coo(es.block_names[0])))
    for b, original in zip(blocks, before, strict=True):
        np.testing.assert_array_equal(b, original)  # the caller's arrays are left alone


@pytest.mark.parametrize("kind", ["sensor-sequence", "hexel-contiguous"])
def test_best_transforms_of_random_values_count_only_values_below_zero(kind):
    blocks = blocks_for(kind, seed=7)
    blocks[0][0] = np.abs(blocks[0][0]) + 0.1  # channel 0: every value above 0, so no point
    es = quietly(lambda: build(kind, blocks))
    expected = [
        best_by_brute_force(dense, es.channels(b).tolist())
        for b, dense in zip(es.block_names, blocks, strict=True)
    ]
    best = es.best_transforms()
    assert (list(best) if isinstance(best, tuple) else [best]) == expected
    assert es.channels(es.block_names[0])[0] not in {p.channel for p in expected[0]}
    assert all(p.logp_value < 0 for points in expected for p in points)


def test_sets_made_from_a_set_do_not_warn_again():
    left, right = blocks_for("hexel-contiguous", seed=2)
    es = quietly(lambda: build("hexel-contiguous", [left, right]))
    other = copy.copy(es)
    other.rename(transforms={"first": "third", "second": "fourth"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        derived = [
            es.crop(0.0, 0.2),
            es["second"],
            copy.copy(es),
            copy.deepcopy(es),
            combine([es, other]),
            es + other,
        ]
    assert positive_warnings(caught) == []
    assert derived[2] == es and derived[3] == es
    assert derived[4].transforms == ["first", "second", "third", "fourth"]
    # the crop keeps exactly the stored entries inside the window, positive ones included
    window = np.flatnonzero((LATENCIES >= 0.0) & (LATENCIES <= 0.2))
    expected = {
        (c, lat - window[0], t): v for (c, lat, t), v in stored(es.coo("left")).items() if lat in window
    }
    assert stored(derived[0].coo("left")) == expected
    assert any(v > 0 for v in expected.values())


@pytest.mark.parametrize("kind", ["sensor-contiguous", "hexel-sequence"])
def test_nkg_round_trip_keeps_values_above_zero_and_names_the_file_in_the_warning(kind, tmp_path):
    es = quietly(lambda: build(kind, blocks_for(kind, seed=3)))
    path = tmp_path / "random-values.nkg"
    save_expression_set(es, path)
    with pytest.warns(PositiveLogPWarning, match="random-values.nkg"):
        loaded = load_expression_set(path)
    assert loaded == es
    assert loaded.best_transforms() == es.best_transforms()
    assert any((loaded.coo(b).data > 0).any() for b in loaded.block_names)


def drawn_points(ax) -> set[tuple[float, float]]:
    offsets = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    return {(round(float(x), 6), round(float(y), 9)) for o in offsets for x, y in o}


def test_expression_plot_of_random_values_draws_each_hemispheres_best_points_below_zero():
    left, right = blocks_for("hexel-contiguous", seed=5)
    left[0] = np.abs(left[0]) + 0.1  # hexel 0: nothing below 0, so nothing drawn
    es = quietly(lambda: build("hexel-contiguous", [left, right]))
    assert 0 not in {p.channel for p in es.best_transforms()[0]}
    fig = expression_plot(es)
    try:
        for ax, points in zip(fig.axes[:2], es.best_transforms(), strict=True):
            expected = {(round(p.latency * 1000, 6), round(p.logp_value, 9)) for p in points}
            assert expected and drawn_points(ax) == expected
            assert all(y < 0 for _, y in drawn_points(ax))
    finally:
        plt.close(fig)


# --- 2. crop to a window with no latency --------------------------------------------------------------


def small_sets() -> list[ExpressionSet]:
    dense = -np.abs(standard_normal(8, 3))
    return [
        SensorExpressionSet(TRANSFORMS, ["a", "b", "c"], LATENCIES, dense),
        HexelExpressionSet(TRANSFORMS, [1, 2, 3], [4, 5, 6], LATENCIES, dense, dense),
    ]


@pytest.mark.parametrize(
    "window", [(0.01, 0.02), (-1.0, -0.5), (0.5, 2.0)], ids=["between", "before", "after"]
)
@pytest.mark.parametrize("es", small_sets(), ids=["sensor", "hexel"])
def test_crop_to_no_latency_is_both_an_index_error_and_a_value_error(es, window):
    with pytest.raises(IndexError, match="leaves no latency") as as_index_error:
        es.crop(*window)
    with pytest.raises(ValueError, match="leaves no latency") as as_value_error:
        es.crop(latency_start=window[0], latency_stop=window[1])
    for info in (as_index_error, as_value_error):
        assert type(info.value) is NoLatenciesInRangeError
        assert f"[{window[0]}, {window[1]}]" in str(info.value)  # the window asked for
        assert "-0.1 to 0.4 s" in str(info.value)  # and the latencies the set has


def test_crop_to_a_single_latency_still_works():
    es = small_sets()[0]
    assert es.crop(0.349, 0.351).latencies.tolist() == [0.35]
    assert es.crop(latency_start=0.4, latency_stop=None).latencies.tolist() == [0.4]


# --- 3. alpha_p -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 10, 500])
def test_corrections_take_the_reference_keyword_alpha_p(n):
    assert bonferroni_correct(alpha_p=0.05, n_comparisons=n) == pytest.approx(0.05 / n, rel=1e-15)
    assert sidak_correct(alpha_p=0.05, n_comparisons=n) == pytest.approx(1 - 0.95 ** (1 / n), rel=1e-12)
    assert sidak_correct(0.05, n) == sidak_correct(alpha_p=0.05, n_comparisons=n)  # positional as before


def test_alpha_p_out_of_range_is_named():
    with pytest.raises(ValueError, match="alpha_p"):
        sidak_correct(alpha_p=1.5, n_comparisons=3)
    with pytest.raises(ValueError, match="alpha_p"):
        bonferroni_correct(alpha_p=-0.1, n_comparisons=3)


# --- 4. data locations -------------------------------------------------------------------------------


def test_get_root_dir_knows_the_three_locations_of_the_reference(monkeypatch, tmp_path):
    monkeypatch.setenv("KYMATA_DATA_ROOT", str(tmp_path))
    config_path = tmp_path / "config.yaml"
    config_path.write_text("data_location: local\n")
    local = get_root_dir(config=load_config(config_location=config_path))
    assert local == str(tmp_path / "emeg_study_data") + os.sep  # ends with a separator, as the reference's
    modify_param_config(config_location=config_path, key="data_location", value="cbu")
    assert get_root_dir(load_config(config_path)) == "/imaging/projects/cbu/kymata/data/"
    assert get_root_dir({"data_location": "cbu-local"}) == "//cbsu/data/imaging/projects/cbu/kymata/data/"
    with pytest.raises(ValueError, match="cbu, cbu-local, local"):
        get_root_dir({"data_location": "cbu_local"})


# --- 5. the reference's parameter names ---------------------------------------------------------------

# Parameter names as the reference's API documentation (kymata-core 1.0.6, "Code Reference") gives them,
# and for IPPMGraph and the corrections, as its source names them.
REFERENCE_PARAMETERS = {
    expression_plot: "expression_set show_only paired_axes alpha color ylim xlims hidden_transforms_in_legend "
    "title fig_size minimap minimap_type minimap_view show_only_sensors minimap_latency_range plot_top_n "
    "save_to overwrite show_legend legend_display minimap_kwargs",
    legend_display_dict: "transforms display_name",
    do_gridsearch: "emeg_values transform channel_names channel_space start_latency emeg_t_start "
    "stimulus_shift_correction stimulus_delivery_latency emeg_sample_rate emeg_layout plot_location "
    "n_derangements seconds_per_split n_splits n_reps plot_top_five_channels overwrite",
    load_expression_set: "from_path_or_file",
    save_expression_set: "expression_set to_path_or_file compression overwrite",
    get_root_dir: "config",
    load_config: "config_location",
    modify_param_config: "config_location key value",
    plot_ippm: "ippm colors title xlims_s y_ordinate_style connection_style scale_nodes figheight figwidth "
    "arrowhead_dims linewidth show_labels relabel avoid_collinearity _test_hemisphere_colors",
    xlims_from_expressionset: "es padding",
    IPPM: "expression_set candidate_transform_list denoiser merge_before_denoising",
    IPPM.set_kids: "self transform_kids verify_against_api",
    ExpressionSet: "transforms latencies data_blocks channel_coord_name channel_coord_dtype channel_coord_values",
    ExpressionSet.crop: "self latency_start latency_stop",
    ExpressionSet.rename: "self transforms channels",
    HexelExpressionSet: "transforms hexels_lh hexels_rh latencies data_lh data_rh",
    SensorExpressionSet: "transforms sensors latencies data sensor_layout",
    combine: "expression_sets",
    get_n_channels: "es",
    group_points_by_transform: "points",
    IPPMGraph: "ctl points_by_block",
    IPPMGraph.edges_between_transforms: "self upstream_transform downstream_transform connection_style",
    bonferroni_correct: "alpha_p n_comparisons",
    sidak_correct: "alpha_p n_comparisons",
}


@pytest.mark.parametrize("target", list(REFERENCE_PARAMETERS), ids=lambda f: f.__qualname__)
def test_leading_parameters_are_the_references_in_its_order(target):
    """Positional and keyword calls written for the reference bind to the same parameters here."""
    expected = REFERENCE_PARAMETERS[target].split()
    params = list(inspect.signature(target).parameters.values())
    assert [p.name for p in params[: len(expected)]] == expected
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params[: len(expected)])


def test_ippm_graph_built_and_queried_by_keyword():
    ctl = {"input": [], "A": ["input"], "B": ["A"]}
    points = [
        ExpressionPoint("s1", 0.05, "A", -9.0),
        ExpressionPoint("s2", 0.08, "A", -7.0),
        ExpressionPoint("s3", 0.12, "B", -8.0),
    ]
    graph = IPPMGraph(ctl=ctl, points_by_block={"scalp": points})
    last = graph.edges_between_transforms(
        upstream_transform="A", downstream_transform="B", connection_style="last-to-first"
    )
    first = graph.edges_between_transforms(
        upstream_transform="A", downstream_transform="B", connection_style="first-to-first"
    )
    assert [(u.channel, v.channel) for u, v in last] == [("s2", "s3")]
    assert [(u.channel, v.channel) for u, v in first] == [("s1", "s3")]
    assert graph == IPPMGraph(ctl, {"scalp": points})


def test_library_calls_by_keyword_as_written_for_the_reference(tmp_path):
    dense = np.zeros((3, len(LATENCIES), 2))
    dense[0, 3, 0], dense[1, 5, 1], dense[2, 6, 1] = -30.0, -25.0, -40.0
    es = SensorExpressionSet(
        transforms=["A", "B"], sensors=["s1", "s2", "s3"], latencies=LATENCIES, data=dense
    )
    path = tmp_path / "set.nkg"
    save_expression_set(expression_set=es, to_path_or_file=path, overwrite=False)
    loaded = load_expression_set(from_path_or_file=path)
    assert loaded == es
    assert get_n_channels(es=loaded) == 3
    grouped = group_points_by_transform(points=loaded.best_transforms())
    assert {t: [p.channel for p in ps] for t, ps in grouped.items()} == {"A": ["s1"], "B": ["s2", "s3"]}
    renamed = loaded.copy()
    renamed.rename(transforms={"A": "C", "B": "D"}, channels=None)
    assert combine(expression_sets=[loaded, renamed]).transforms == ["A", "B", "C", "D"]
    assert legend_display_dict(transforms=["A", "B"], display_name="both") == {"A": "both", "B": "both"}
    ippm = IPPM(
        expression_set=loaded,
        candidate_transform_list={"input": [], "A": ["input"], "B": ["A"]},
        denoiser=None,
        merge_before_denoising=False,
    )
    assert {n.channel for n in ippm.graph.nodes if not n.is_input} == {"s1", "s2", "s3"}
    lo, hi = xlims_from_expressionset(es=loaded, padding=0.01)
    assert lo < 0.05 < 0.2 < hi
    fig = plot_ippm(ippm=ippm, colors={"input": "#000000", "A": "#ff0000", "B": "#0000ff"}, title="keywords")
    plt.close(fig)
