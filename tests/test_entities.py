"""ExpressionSet entities and the math helpers (probability, derangements)."""

from __future__ import annotations

import ast
import warnings
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pytest
import sparse

from kymata_core.entities.expression import (
    ExpressionPoint,
    HexelExpressionSet,
    PositiveLogPWarning,
    SensorExpressionSet,
    combine,
    get_n_channels,
    get_n_comparisons,
    group_points_by_transform,
)
from kymata_core.entities.hemispheres import block_of_hemi, hemi_of_block, side_of_x
from kymata_core.math.combinatorics import generate_derangement, generate_derangements, is_derangement
from kymata_core.math.probability import (
    bonferroni_correct,
    logp_threshold_for_sigmas,
    logp_to_p,
    p_threshold_for_sigmas,
    p_to_logp,
    sidak_correct,
    sidak_logp_threshold,
)

LAT = [0.0, 0.05, 0.10]


def sensor_set(transforms, data, sensors=("0", "1", "2", "3"), latencies=LAT) -> SensorExpressionSet:
    return SensorExpressionSet(transforms, list(sensors), latencies, data)


def hexel_set(transforms, lh, rh, data_lh, data_rh, latencies=LAT) -> HexelExpressionSet:
    return HexelExpressionSet(transforms, lh, rh, latencies, data_lh, data_rh)


# --- best_transforms -------------------------------------------------------------------------------

E1_A = np.array([[1, 0.1, 1], [1, 1, 0.2], [0.1, 1, 1], [0.2, 1, 1]])
E1_B = np.array([[1, 1, 0.2], [1, 0.1, 1], [1, 0.2, 1], [1, 1, 0.1]])


def test_best_transforms_worked_example_e1():
    es = sensor_set(["a", "b"], [np.log10(E1_A), np.log10(E1_B)])
    assert es.best_transforms() == [
        ExpressionPoint("0", 0.05, "a", -1.0),
        ExpressionPoint("1", 0.05, "b", -1.0),
        ExpressionPoint("2", 0.0, "a", -1.0),
        ExpressionPoint("3", 0.10, "b", -1.0),
    ]


@pytest.mark.parametrize("fill", [1.0, np.nan])
def test_best_transforms_omits_channels_with_p_one(fill):
    a, b = E1_A.copy(), E1_B.copy()
    a[0], b[0] = fill, fill
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = sensor_set(["a", "b"], [np.log10(a), np.log10(b)])
    assert [p.channel for p in es.best_transforms()] == ["1", "2", "3"]


def test_best_transforms_ties_prefer_first_transform_then_earliest_latency():
    a = np.log10([[1, 0.1, 0.1]])
    b = np.log10([[0.1, 1, 1]])
    es = sensor_set(["a", "b"], [a, b], sensors=["s"])
    assert es.best_transforms() == [ExpressionPoint("s", 0.05, "a", -1.0)]
    es = sensor_set(["b", "a"], [b, a], sensors=["s"])
    assert es.best_transforms() == [ExpressionPoint("s", 0.0, "b", -1.0)]


def test_hexel_best_transforms_per_hemisphere():
    es = hexel_set(["f"], [10, 11], [20], np.log10([[1, 0.5, 1], [1, 1, 1]]), np.log10([[0.01, 1, 1]]))
    left, right = es.best_transforms()
    assert left == [ExpressionPoint(10, 0.05, "f", np.log10(0.5))]
    assert right == [ExpressionPoint(20, 0.0, "f", -2.0)]


# --- construction ----------------------------------------------------------------------------------


def test_dense_input_keeps_each_channels_best_latency_and_leaves_caller_array_alone():
    data = np.log10(E1_A)[:, :, None].copy()
    data[0, 0, 0] = np.nan
    before = data.copy()
    with pytest.warns(RuntimeWarning, match="1 NaN"):
        es = sensor_set("a", data)
    np.testing.assert_array_equal(data, before)  # NaN still there: not mutated
    coo = es.coo("scalp")
    assert coo.coords.tolist() == [[0, 1, 2, 3], [1, 2, 0, 0], [0, 0, 0, 0]]
    assert coo.data.tolist() == pytest.approx([-1, np.log10(0.2), -1, np.log10(0.2)])


def test_nan_warning_is_raised_once_for_many_nans():
    data = np.full((4, 3), np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        es = sensor_set("a", data)
    assert len(caught) == 1 and "12 NaN" in str(caught[0].message)
    assert es.coo("scalp").nnz == 0


def test_sparse_input_is_kept_as_given():
    coo = sparse.COO(
        np.array([[0, 0], [0, 2], [0, 0]]), np.array([-3.0, -3.0]), shape=(4, 3, 1), fill_value=0.0
    )
    es = sensor_set("a", coo)
    assert es.coo("scalp").nnz == 2


def test_positive_log_p_is_kept_with_one_warning_naming_the_count():
    with pytest.warns(PositiveLogPWarning, match="^12 log10 p-value") as caught:
        es = sensor_set("a", E1_A)  # p-values passed by mistake: every one of the 12 is above 0
    assert len(caught) == 1
    coo = es.coo("scalp")  # each row keeps its minimum, though above 0
    assert coo.coords.tolist() == [[0, 1, 2, 3], [1, 2, 0, 0], [0, 0, 0, 0]]
    assert coo.data.tolist() == [0.1, 0.2, 0.1, 0.2]
    assert es.best_transforms() == []  # values above 0 are never evidence


# --- crop, rename, getitem, ==, copy ----------------------------------------------------------------


def _abc() -> SensorExpressionSet:
    rng = np.random.default_rng(1)
    return sensor_set(["a", "b", "c"], -rng.exponential(2, (4, 3, 3)))


def test_crop():
    es = _abc()
    cropped = es.crop(0.04, None)
    np.testing.assert_array_equal(cropped.latencies, [0.05, 0.10])
    kept = es.coo("scalp").coords[1] >= 1
    assert cropped.coo("scalp").nnz == kept.sum()
    np.testing.assert_array_equal(cropped.coo("scalp").data, es.coo("scalp").data[kept])
    assert es.crop(None, None) == es
    with pytest.raises(ValueError, match="no latency"):
        es.crop(1.0, 2.0)


def test_rename():
    es = _abc()
    data = es.coo("scalp").data.copy()
    es.rename(transforms={"b": "beta"}, channels={"0": "zero"})  # longer than any old name
    assert es.transforms == ["a", "beta", "c"]
    assert es.sensors.tolist() == ["zero", "1", "2", "3"]
    np.testing.assert_array_equal(es.coo("scalp").data, data)
    with pytest.raises(KeyError):
        es.rename(transforms={"nope": "x"})
    with pytest.raises(ValueError, match="duplicate"):
        es.rename(transforms={"a": "c"})


def test_getitem_keeps_the_sets_order():
    es = _abc()
    sub = es[["c", "a"]]
    assert sub.transforms == ["a", "c"]
    assert sub == combine([es["a"], es["c"]])
    assert es["b"].transforms == ["b"]
    with pytest.raises(KeyError):
        es["z"]


def test_equality_and_copy():
    es = _abc()
    other = es.copy()
    assert other == es and other is not es
    other.rename(transforms={"a": "x"})
    assert other != es and es.transforms == ["a", "b", "c"]
    assert es != hexel_set(["a", "b", "c"], [], [], np.zeros((0, 3, 3)), None)


# --- combine -------------------------------------------------------------------------------------------


def test_combine_unions_transforms_in_first_appearance_order():
    es = _abc()
    combined = combine([es["b"], es[["a", "c"]]])
    assert combined.transforms == ["b", "a", "c"]
    for t in "abc":
        assert combined[t] == es[t]
    assert es["b"] + es["a"] == combined[["b", "a"]]
    assert combine([es["a"], es["b"], es["c"]]) == (es["a"] + es["b"]) + es["c"]


def test_combine_merges_hemisphere_shards():
    left = hexel_set("f", [1, 2], [], np.log10([[0.1, 1, 1], [1, 0.2, 1]]), None)
    right = hexel_set("f", [], [7], None, np.log10([[1, 1, 0.3]]))
    merged = combine([left, right])
    assert merged.hexels_left.tolist() == [1, 2] and merged.hexels_right.tolist() == [7]
    left_best, right_best = merged.best_transforms()
    assert [p.channel for p in left_best] == [1, 2] and right_best[0].latency == 0.10
    assert get_n_channels(merged) == 3
    g = hexel_set("g", [1, 2], [7], np.zeros((2, 3)), np.zeros((1, 3)))
    assert combine([left, right, g]).transforms == ["f", "g"]


def test_combine_refusals():
    es = _abc()
    with pytest.raises(ValueError, match="both set"):
        combine([es["a"], es[["a", "b"]]])
    with pytest.raises(ValueError, match="latencies"):
        combine([es["a"], sensor_set("z", np.zeros((4, 2)), latencies=[0.0, 0.05])])
    with pytest.raises(ValueError, match="channels"):
        combine([es["a"], sensor_set("z", np.zeros((3, 3)), sensors=["0", "1", "2"])])
    with pytest.raises(ValueError, match="cannot combine"):
        combine([es["a"], hexel_set("z", [0], [0], np.zeros((1, 3)), np.zeros((1, 3)))])
    left_only = hexel_set("f", [1], [], -np.ones((1, 3)), None)
    assert combine([left_only]) == left_only  # an empty hemisphere is allowed
    with pytest.raises(ValueError, match="no set provides block 'right'"):
        combine([left_only, hexel_set("g", [1], [5], np.zeros((1, 3)), np.zeros((1, 3)))])
    with pytest.raises(ValueError):
        combine([])


def test_group_points_by_transform():
    points = [
        ExpressionPoint("s", 0.1, "b", -2),
        ExpressionPoint("s", 0.2, "a", -3),
        ExpressionPoint("t", 0.1, "b", -4),
    ]
    grouped = group_points_by_transform(points)
    assert list(grouped) == ["b", "a"] and [p.channel for p in grouped["b"]] == ["s", "t"]


# --- probability ------------------------------------------------------------------------------------------


def _sidak_exact(alpha: float, n: int) -> float:
    getcontext().prec = 60
    a = Decimal(alpha)
    return float(1 - ((1 - a).ln() / n).exp())


@pytest.mark.parametrize("n", [1, 2, 48, 416, 40_000_000, 1_000_000_000])
@pytest.mark.parametrize("alpha", [0.05, 1e-7])
def test_sidak_is_accurate(alpha, n):
    assert sidak_correct(alpha, n) == pytest.approx(_sidak_exact(alpha, n), rel=1e-12)


def test_sidak_and_bonferroni_edges():
    assert sidak_correct(0.05, 1) == pytest.approx(0.05, rel=1e-15)
    assert bonferroni_correct(0.05, 1_000_000_000) == pytest.approx(5e-11)
    with pytest.raises(ValueError):
        sidak_correct(0.05, 0)
    with pytest.raises(ValueError):
        sidak_correct(1.5, 10)


def test_sigma_thresholds():
    assert p_threshold_for_sigmas(5) == pytest.approx(2.866515718e-7, rel=1e-9)
    assert p_threshold_for_sigmas(3) == pytest.approx(1.349898032e-3, rel=1e-9)
    assert logp_threshold_for_sigmas(5) == pytest.approx(np.log10(2.866515718e-7), abs=1e-8)
    # far tail, where p underflows float64: the asymptotic series of the normal tail at 40 sigma
    x = 40.0
    ln_tail = -x * x / 2 - np.log(x) - 0.5 * np.log(2 * np.pi) + np.log1p(-1 / x**2 + 3 / x**4 - 15 / x**6)
    assert logp_threshold_for_sigmas(40) == pytest.approx(ln_tail / np.log(10), abs=1e-9)


def test_p_logp_round_trip():
    p = np.array([1.0, 0.5, 1e-300, 0.0])
    logp = p_to_logp(p)
    assert logp[0] == 0 and logp[-1] == -np.inf
    np.testing.assert_allclose(logp_to_p(logp[:-1]), p[:-1], rtol=1e-14)


# --- derangements -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "mod"), [(2, None), (10, None), (400, None), (800, 400), (12, 3), (40, 4), (60, 2), (4000, 400)]
)
def test_generate_derangement(n, mod):
    """(40, 4), (60, 2), (4000, 400): few splits with many repetitions, where rejection alone never succeeds."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        perm = generate_derangement(n, mod, rng)
        assert is_derangement(perm, mod)
        assert not np.any(perm % (mod or n) == np.arange(n) % (mod or n))


def test_derangements_of_many_repetitions_pair_each_split_with_every_other_split():
    """Repaired draws are still spread over all partners: 4 splits x 10 repetitions, 200 draws."""
    draws = generate_derangements(200, 40, mod=4, seed=0)
    pairs = np.zeros((4, 4), dtype=int)
    for perm in draws:
        np.add.at(pairs, (np.arange(40) % 4, perm % 4), 1)
    assert np.all(np.diag(pairs) == 0)
    off = pairs[~np.eye(4, dtype=bool)]
    assert off.min() > 0.5 * off.mean()


def test_generate_derangements_is_seeded_and_shaped():
    a = generate_derangements(5, 50, seed=42)
    b = generate_derangements(5, 50, seed=42)
    assert a.shape == (5, 50) and a.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, generate_derangements(5, 50, seed=43))


def test_derangement_refusals_and_checks():
    with pytest.raises(ValueError):
        generate_derangement(1)
    with pytest.raises(ValueError):
        generate_derangement(10, mod=1)
    assert not is_derangement(np.array([0, 2, 1]))
    assert not is_derangement(np.array([1, 1, 0]))
    assert is_derangement(np.array([1, 2, 0]))


# --- one home per concept: best points, the threshold, the hemisphere vocabulary, no io in entities --


def test_best_points_ties_filters_and_per_transform():
    data = np.zeros((3, 3, 3))
    data[0, 2, 0] = data[0, 1, 1] = data[0, 0, 2] = -5.0  # a tie over transforms: the first wins
    data[1, :, 1] = -2.0  # a tie over latencies: the earliest wins (kept as one entry when sparsified)
    data[1, 2, 2] = -1.0
    data[2, 1, 0] = 3.0  # above 0: never a best point
    es = sensor_set(["a", "b", "c"], data, sensors=("s0", "s1", "s2"))
    best = es.best_points("scalp")
    assert best.channels.tolist() == ["s0", "s1"] and best.transforms.tolist() == ["a", "b"]
    assert best.latencies.tolist() == [0.10, 0.0] and best.logps.tolist() == [-5.0, -2.0]
    assert [tuple(p) for p in es.best_transforms()] == list(
        zip(best.channels, best.latencies, best.transforms, best.logps, strict=True)
    )
    only_c = es.best_points("scalp", ["c"])
    assert only_c.channels.tolist() == ["s0", "s1"] and only_c.transforms.tolist() == ["c", "c"]
    assert es.best_points("scalp", latency_range=(None, 0.05)).transforms.tolist() == ["b", "b"]
    per = es.best_points("scalp", per_transform=True)
    assert list(zip(per.channels, per.transforms, strict=True)) == [
        ("s0", "a"), ("s0", "b"), ("s0", "c"), ("s1", "b"), ("s1", "c")
    ]
    assert len(es.best_points("scalp", latency_range=(0.2, None))) == 0


def test_the_significance_threshold_is_sidak_over_the_comparisons():
    es = sensor_set(["a", "b"], np.zeros((4, 3, 2)))
    assert get_n_comparisons(es) == 4 * 3 * 2 and get_n_comparisons(es, ["a"]) == 4 * 3
    alpha = p_threshold_for_sigmas(5)
    assert sidak_logp_threshold(alpha, 24) == np.log10(sidak_correct(alpha, 24))
    assert sidak_logp_threshold(alpha, 0) == sidak_logp_threshold(alpha, 1)
    assert sidak_logp_threshold(0.0, 10) == -np.inf


def test_hemisphere_vocabulary():
    assert [hemi_of_block(b) for b in ("left", "right", "scalp", "merged")] == ["lh", "rh", None, None]
    assert [block_of_hemi(h) for h in ("lh", "rh", "left", "scalp", "merged")] == [
        "left", "right", "left", "scalp", "merged"
    ]
    with pytest.raises(ValueError, match="unknown hemisphere"):
        block_of_hemi("both")
    assert [side_of_x(x, 0.01) for x in (-0.02, -0.01, 0.0, 0.01, 0.011)] == [
        "left", "midline", "midline", "midline", "right"
    ]


def _imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, anywhere in it (relative imports resolved)."""
    package = "kymata_core.entities"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_no_entities_module_imports_io():
    entities = Path(__file__).resolve().parents[1] / "kymata_core" / "entities"
    modules = sorted(entities.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        io_imports = sorted(
            m for m in _imported_modules(path) if m == "kymata_core.io" or m.startswith("kymata_core.io.")
        )
        assert not io_imports, f"{path.name} imports {io_imports}: entities must not depend on kymata_core.io"
