"""Known-answer, refusal, determinism, memory and output tests of kymata_core.gridsearch."""

from __future__ import annotations

import numpy as np
import pytest

from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet
from kymata_core.entities.transform import Transform
from kymata_core.gridsearch import memory as gridsearch_memory
from kymata_core.gridsearch.dense import read_dense_logp
from kymata_core.gridsearch.memory import (
    bytes_per_channel,
    chunk_size_for_budget,
    estimate_gridsearch_memory,
)
from kymata_core.gridsearch.plain import do_gridsearch
from kymata_core.gridsearch.qc_plot import top_channels
from kymata_core.gridsearch.stats import log10_p_two_tailed, t_logsf
from kymata_core.math.combinatorics import generate_derangements
from kymata_core.math.probability import p_threshold_for_sigmas, sidak_correct

START, T0 = -0.2, -0.2


def make_case(emeg_rate, transform_rate, n_channels=6, n_splits=40, seconds_per_split=0.5, planted=None, seed=0,
              noise=1.0):
    """Noise EMEG with ``transform`` added to channel c at latency s for each (c, (s, amplitude)) in ``planted``."""
    planted = {1: (0.05, 0.4), 4: (0.15, 0.4)} if planted is None else planted
    rng = np.random.default_rng(seed)
    d = int(emeg_rate // transform_rate)
    n_tr = int(n_splits * seconds_per_split * transform_rate)
    values = np.convolve(rng.standard_normal(n_tr + 8), np.ones(3) / 3, mode="same")[:n_tr]
    values = (values - values.mean()) / values.std()
    n_times = int((n_splits * seconds_per_split + 2 * seconds_per_split + 0.1) * emeg_rate)
    emeg = noise * rng.standard_normal((n_channels, 1, n_times))
    n = np.arange(n_times)
    for channel, (latency, amplitude) in planted.items():
        idx = (n - int(round((latency - T0) * emeg_rate))) // d
        ok = (idx >= 0) & (idx < n_tr)
        emeg[channel, 0, ok] += amplitude * values[idx[ok]]
    return emeg.astype(np.float32), Transform("tr", values.astype(np.float32), transform_rate)


def run(emeg, transform, emeg_rate, names=None, space="sensor", **kw):
    names = [f"CH{i}" for i in range(emeg.shape[0])] if names is None else names
    kw.setdefault("n_splits", 40)
    kw.setdefault("seconds_per_split", 0.5)
    kw.setdefault("n_derangements", 2)
    kw.setdefault("seed", 1)
    kw.setdefault("progress", False)
    return do_gridsearch(emeg, transform, names, space, START, T0, 0.0, 0.0, emeg_rate, None, return_dense=True, **kw)


def sidak_5_sigma_logp(n_comparisons):
    return np.log10(sidak_correct(p_threshold_for_sigmas(5), n_comparisons))


@pytest.mark.parametrize(
    "emeg_rate, transform_rate",
    [(1000, 1000), (1000, 200), (500, 500), (250, 250)],
)
def test_planted_effects_found_and_nothing_else(emeg_rate, transform_rate):
    planted = {1: (0.05, 0.5), 4: (0.15, 0.5)}
    emeg, transform = make_case(emeg_rate, transform_rate, planted=planted)
    es, dense = run(emeg, transform, emeg_rate)
    assert isinstance(es, SensorExpressionSet)
    n_lat = int(0.5 * transform_rate)
    np.testing.assert_allclose(es.latencies, START + np.arange(n_lat) / transform_rate, atol=1e-12)
    threshold = sidak_5_sigma_logp(dense.size)
    for c in range(emeg.shape[0]):
        if c in planted:
            assert dense[c].min() < threshold, f"planted channel {c} not significant"
            best = es.latencies[np.argmin(dense[c])]
            assert abs(best - planted[c][0]) <= 1 / transform_rate + 1e-9
        else:
            assert dense[c].min() > threshold, f"false positive at channel {c}"


@pytest.mark.parametrize("emeg_rate, transform_rate", [(500, 1000), (500, 200), (250, 200), (250, 1000)])
def test_refuses_rates_without_whole_ratio(emeg_rate, transform_rate):
    emeg = np.zeros((2, 1, 100), dtype=np.float32)
    transform = Transform("tr", np.arange(100.0), transform_rate)
    with pytest.raises(ValueError, match=rf"{emeg_rate} Hz.*{transform_rate} Hz"):
        do_gridsearch(emeg, transform, ["a", "b"], "sensor", START, T0, 0, 0, emeg_rate, None, n_splits=4)


@pytest.fixture(scope="module")
def small():
    emeg, transform = make_case(200, 200, n_channels=4, n_splits=20, planted={1: (0.05, 0.4), 3: (0.15, 0.4)})
    return emeg, transform


def _call(emeg, transform, names=None, space="sensor", rate=200, **kw):
    names = [f"CH{i}" for i in range(emeg.shape[0])] if names is None else names
    kw.setdefault("n_splits", 20)
    kw.setdefault("seconds_per_split", 0.5)
    return do_gridsearch(emeg, transform, names, space, START, T0, 0.0, 0.0, rate, None, progress=False, **kw)


def test_refuses_short_transform(small):
    emeg, transform = small
    short = Transform("short", transform.values[:500], 200)
    with pytest.raises(ValueError, match=r"'short' is too short.*need 10 s.*has 2\.5 s"):
        _call(emeg, short)


def test_refuses_constant_split(small):
    emeg, transform = small
    values = transform.values.copy()
    values[300:400] = 2.0  # split 3 (100 samples per split at 200 Hz, 0.5 s)
    with pytest.raises(ValueError, match=r"'flat' is constant in split 3.*longer seconds_per_split"):
        _call(emeg, Transform("flat", values, 200))


def test_refuses_nan_in_transform(small):
    emeg, transform = small
    values = transform.values.copy()
    values[123] = np.nan
    with pytest.raises(ValueError, match=r"'holey' has 1 NaN.*sample 123"):
        _call(emeg, Transform("holey", values, 200))


def test_refuses_nan_in_emeg(small):
    emeg, transform = small
    bad = emeg.copy()
    bad[2, 0, 500] = np.nan
    with pytest.raises(ValueError, match=r"channel 2 \('CH2'\).*sample 500"):
        _call(bad, transform)


def test_refuses_window_outside_recording(small):
    emeg, transform = small
    with pytest.raises(ValueError, match=r"split 19 needs samples .* recording has samples 0\.\.1999"):
        _call(emeg[:, :, :2000], transform)
    with pytest.raises(ValueError, match=r"split 0 needs samples -"):
        do_gridsearch(emeg, transform, ["a"] * 4, "sensor", -0.5, T0, 0, 0, 200, None, n_splits=20,
                      seconds_per_split=0.5)


def test_refuses_channel_name_mismatch(small):
    emeg, transform = small
    with pytest.raises(ValueError, match=r"3 channel names given for 4 EMEG channels"):
        _call(emeg, transform, names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"1 left \+ 2 right hexel ids given for 4"):
        _call(emeg, transform, names=[[1], [2, 3]], space="source")


def test_refuses_bad_channel_space(small):
    emeg, transform = small
    with pytest.raises(ValueError, match=r"channel_space must be 'sensor' or 'source', got 'scalp'"):
        _call(emeg, transform, space="scalp")


def test_refuses_bad_derangements(small):
    emeg, transform = small
    with pytest.raises(ValueError, match=r"= \(2, 20\), got shape \(1, 20\)"):
        _call(emeg, transform, n_derangements=2, derangements=np.roll(np.arange(20), 1)[None])
    with pytest.raises(ValueError, match=r"row 0 is not a derangement"):
        _call(emeg, transform, n_derangements=1, derangements=np.arange(20)[None])
    # two repetitions: pairing a split with its own other repetition is refused
    emeg2 = np.concatenate([emeg, emeg], axis=1)
    same_item = (np.arange(40) + 20) % 40
    with pytest.raises(ValueError, match=r"row 0 is not a derangement of 40 splits"):
        _call(emeg2, transform, n_reps=2, n_derangements=1, derangements=same_item[None])


def test_refuses_n_derangements_below_one_and_non_3d(small):
    emeg, transform = small
    with pytest.raises(ValueError, match=r"n_derangements must be .* at least 1, got 0"):
        _call(emeg, transform, n_derangements=0)
    with pytest.raises(ValueError, match=r"3-D array .* got shape \(4, \d+\)"):
        _call(emeg[:, 0, :], transform)


def test_same_seed_bit_identical_and_explicit_derangements_reproduce(small):
    emeg, transform = small
    _, a = _call(emeg, transform, n_derangements=3, seed=7, return_dense=True)
    _, b = _call(emeg, transform, n_derangements=3, seed=7, return_dense=True)
    assert a.tobytes() == b.tobytes()
    explicit = generate_derangements(3, 20, mod=20, seed=7)
    _, c = _call(emeg, transform, n_derangements=3, derangements=explicit, return_dense=True)
    assert a.tobytes() == c.tobytes()
    _, other = _call(emeg, transform, n_derangements=3, seed=8, return_dense=True)
    assert not np.array_equal(a, other)


def test_chunking_and_threads_do_not_change_results(small):
    emeg, transform = small
    _, one = _call(emeg, transform, n_derangements=2, seed=3, return_dense=True)
    _, many = _call(emeg, transform, n_derangements=2, seed=3, return_dense=True, memory_budget=1)
    _, threaded = _call(emeg, transform, n_derangements=2, seed=3, return_dense=True, memory_budget=1, n_jobs=2)
    assert one.tobytes() == many.tobytes() == threaded.tobytes()


@pytest.mark.parametrize("block_elements", [3 * 20 * 200, 7 * 200])
def test_blocks_do_not_depend_on_chunking_or_threads(monkeypatch, block_elements):
    # W = 200 and 20 splits: blocks of 3 channels x 20 splits, or of 7 splits of one channel
    emeg, transform = make_case(200, 200, n_channels=7, n_splits=20, planted={1: (0.05, 0.4), 5: (0.15, 0.4)})
    _, default_blocks = _call(emeg, transform, n_derangements=2, seed=3, return_dense=True)
    monkeypatch.setattr(gridsearch_memory, "BLOCK_ELEMENTS", block_elements)
    runs = [
        _call(emeg, transform, n_derangements=2, seed=3, return_dense=True, **kw)[1]
        for kw in ({}, {"memory_budget": 1}, {"memory_budget": 1, "n_jobs": 2}, {"n_jobs": 3})
    ]
    assert all(r.tobytes() == runs[0].tobytes() for r in runs[1:])
    # other blocks only change the order of float32 operations
    np.testing.assert_allclose(runs[0], default_blocks, rtol=1e-5, atol=1e-6)
    assert np.argmin(runs[0][1]) == np.argmin(default_blocks[1])


def test_strong_effect_with_few_splits_is_finite():
    emeg, transform = make_case(200, 200, n_channels=3, n_splits=6, planted={0: (0.05, 50.0)})
    exact = make_case(200, 200, n_channels=3, n_splits=6, planted={0: (0.05, 1.0)}, noise=0.0)[0]
    exact[1:] = np.random.default_rng(5).standard_normal(exact[1:].shape)
    for data in (emeg, exact):
        _, dense = _call(data, transform, n_splits=6, n_derangements=2, seed=0, return_dense=True)
        assert np.isfinite(dense).all()
        assert dense[0].min() < -5 and dense[0].min() < 2 * dense[1:].min()
    # the noiseless copy has the same z in every split: the reference's t.sf underflows to -inf there
    assert dense[0].min() < -300


def test_t_tail_in_log_space_beyond_scipy_underflow():
    # scipy.stats.t.logsf underflows to -inf here; the result must be finite and continue the tail smoothly.
    ts = np.array([150.0, 200.0, 400.0])
    values = t_logsf(ts, 300.0)
    assert np.isfinite(values).all()
    assert np.all(np.diff(values) < 0)
    # large df: the t tail approaches the normal tail
    assert log10_p_two_tailed(np.array([30.0]), np.array([1e9]), True)[0] == pytest.approx(
        log10_p_two_tailed(np.array([30.0]), np.array([1e9]), False)[0], rel=1e-4)


def test_source_space_returns_hexel_sets_including_one_hemisphere(small):
    emeg, transform = small
    es, dense = _call(emeg, transform, names=[[10, 11, 12], [20]], space="source", return_dense=True, seed=4)
    assert isinstance(es, HexelExpressionSet)
    assert list(es.hexels_left) == [10, 11, 12] and list(es.hexels_right) == [20]
    left_only, dense_left = _call(emeg, transform, names=[[1, 2, 3, 4], []], space="source", return_dense=True,
                                  seed=4)
    assert list(left_only.hexels_left) == [1, 2, 3, 4] and len(left_only.hexels_right) == 0
    assert dense_left.tobytes() == dense.tobytes()


def test_memory_model_monotone_and_bounded_by_budget():
    estimates = [estimate_gridsearch_memory(n, 402_000, 1, 400, 5, 1.0, 1000, 1000) for n in (10, 100, 300, 1000)]
    assert all(a < b for a, b in zip(estimates, estimates[1:], strict=False))
    per_channel = bytes_per_channel(400, 2000, 1000, 1, 402_000, 4)
    for budget in (per_channel * 3, per_channel * 10 + 5, 10**8):
        size = chunk_size_for_budget(10_000, 400, 2000, 1000, 1, 402_000, budget, 4)
        assert size * per_channel <= budget
    assert chunk_size_for_budget(10_000, 400, 2000, 1000, 1, 402_000, 1, 4) == 1
    # lazily read EMEG: the chunk's rows are copies, so a smaller budget means smaller chunks and a smaller peak
    lazy = [estimate_gridsearch_memory(300, 402_000, 1, 400, 5, 1.0, 1000, 1000, memory_budget=b, emeg_in_memory=False)
            for b in (per_channel, 10**8)]
    assert lazy[0] + 40 * per_channel < lazy[1]
    # in memory, chunks are views: the working set does not hold the EMEG rows a second time
    assert bytes_per_channel(400, 2000, 1000, 1, 402_000, 4, raw_copy=False) < per_channel // 50
    # more derangements: more transform spectra (complex64, one set per pairing) to hold
    more = estimate_gridsearch_memory(300, 402_000, 1, 400, 10, 1.0, 1000, 1000)
    assert more - estimates[2] == 5 * 400 * 1001 * 8


def test_dense_hdf5_round_trip(small, tmp_path):
    emeg, transform = small
    path = tmp_path / "out" / "dense.h5"
    es, dense = _call(emeg, transform, dense_out=path, return_dense=True, n_derangements=2, seed=2)
    logp, latencies, channels, attrs = read_dense_logp(path)
    assert logp.tobytes() == dense.tobytes()
    np.testing.assert_array_equal(latencies, es.latencies)
    assert channels == ["CH0", "CH1", "CH2", "CH3"]
    assert attrs["transform"] == "tr" and attrs["n_derangements"] == 2 and attrs["n_splits"] == 20
    with pytest.raises(FileExistsError):
        _call(emeg, transform, dense_out=path, overwrite=False)
    _call(emeg, transform, names=[[5, 6], [7, 8]], space="source", dense_out=tmp_path / "h.h5")
    assert read_dense_logp(tmp_path / "h.h5")[2] == [5, 6, 7, 8]


def test_top_five_plot_picks_the_best_channels(tmp_path):
    planted = {0: (0.05, 0.3), 2: (0.1, 0.6), 3: (0.0, 0.4), 5: (0.12, 0.5), 7: (0.02, 0.35)}
    emeg, transform = make_case(200, 200, n_channels=8, n_splits=30, planted=planted)
    names = [f"S{i}" for i in range(8)]
    _, dense = _call(emeg, transform, names=names, n_splits=30, return_dense=True,
                     plot_top_five_channels=True, plot_location=tmp_path)
    assert sorted(top_channels(dense)) == sorted(planted)
    png = tmp_path / "tr_gridsearch.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileExistsError):
        _call(emeg, transform, names=names, n_splits=30, plot_top_five_channels=True, plot_location=tmp_path,
              overwrite=False)


def test_exact_t_uses_t_distribution_where_default_uses_normal():
    # 320 splits: the smallest df exceeds 300, so by default the normal approximation is used
    emeg, transform = make_case(200, 200, n_channels=2, n_splits=320, seconds_per_split=0.25,
                                planted={0: (0.05, 0.15)})
    kw = dict(n_splits=320, seconds_per_split=0.25, n_derangements=1, seed=0, return_dense=True)
    _, normal = _call(emeg, transform, **kw)
    _, exact = _call(emeg, transform, exact_t=True, **kw)
    assert np.isfinite(normal).all() and np.isfinite(exact).all()
    best = np.argmin(normal[0])
    # heavier tails of the t distribution: the same t is less significant, slightly
    assert normal[0, best] < exact[0, best] < 0.5 * normal[0, best]


def test_repetitions_are_extra_splits():
    planted = {2: (0.1, 0.35)}
    first, transform = make_case(200, 200, n_channels=4, n_splits=20, planted=planted, seed=1)
    # the second repetition: fresh noise with the same transform planted at the same latency
    second = np.random.default_rng(9).standard_normal(first.shape).astype(np.float32)
    n = np.arange(second.shape[2])
    idx = n - int(round((0.1 - T0) * 200))
    ok = (idx >= 0) & (idx < transform.values.size)
    second[2, 0, ok] += 0.35 * transform.values[idx[ok]]
    emeg = np.concatenate([first, second], axis=1)
    _, one = _call(first, transform, n_splits=20, seed=0, return_dense=True)
    es, two = _call(emeg, transform, n_splits=20, n_reps=2, seed=0, return_dense=True)
    threshold = sidak_5_sigma_logp(two.size)
    assert two[2].min() < threshold and two[2].min() < one[2].min()
    assert abs(es.latencies[np.argmin(two[2])] - 0.1) <= 1 / 200 + 1e-9
    assert all(two[c].min() > threshold for c in (0, 1, 3))
