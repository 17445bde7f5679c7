"""Source space from an inverse operator: the premorphed operator, and hexels formed on the fly.

On real MNE objects built offline (tests/source_space.py): the operator must reproduce
``apply_inverse(..., pick_ori="normal")`` followed by the morph, a gridsearch through it must equal
the gridsearch of a source estimate written from the same data, and a transform planted in a source
patch must be found there.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest

from kymata_core.cli import main
from kymata_core.io.emeg import (
    EMEGData,
    grand_average_projected,
    read_projected_sources,
    write_source_estimate,
)
from kymata_core.io.nkg import load_expression_set
from kymata_core.io.projected import ProjectedSources
from kymata_core.io.source_operator import (
    MorphSpec,
    SourceOperatorError,
    build_source_operator,
    read_source_operator,
    read_source_operator_header,
    write_source_operator,
)
from kymata_core.planted import BandLimitedSignal, lengthen_recording
from tests.real_meg import NEUROMAG, real_source
from tests.source_space import (
    SNR,
    TARGET,
    build_source_setup,
    plant_in_patch,
    strongest_left_patch,
    vertex_distance,
)

RATE = 200.0
SECONDS = 42.0


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("source-space")
    setup = build_source_setup(root)
    morph = setup.morph(spacing=3)
    morph.save(root / "sub-morph.h5", overwrite=True, verbose="error")
    return setup, morph


def evoked_file(setup, path, data, comment="stimulus", nave=1):
    """An evoked file on the setup's channels, at RATE Hz from -0.2 s."""
    info = setup.info.copy()
    with info._unlock():
        info["sfreq"] = RATE
        info["lowpass"] = RATE / 2
    mne.EvokedArray(data, info, tmin=-0.2, comment=comment, nave=nave, verbose="error").save(path, overwrite=True, verbose="error")
    return path


def noise(setup, seconds=SECONDS, seed=0):
    source = real_source(NEUROMAG)
    rows = [source.info.ch_names.index(name) for name in setup.info.ch_names]
    return lengthen_recording(source.data[rows], int(seconds * RATE), seed=seed)


def test_the_operator_is_apply_inverse_then_the_morph(setup, tmp_path):
    setup, morph = setup
    data = noise(setup, seconds=3.0)
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", data, nave=7)
    operator = build_source_operator(evoked, setup.inverse_path, snr=SNR, morph=setup.root / "sub-morph.h5")
    ev = mne.read_evokeds(evoked, condition=0, verbose="error")
    stc = mne.minimum_norm.apply_inverse(ev, setup.inverse, lambda2=1 / SNR**2, method="MNE", pick_ori="normal", verbose="error")
    expected = morph.apply(stc)
    assert operator.morphed and operator.subject == TARGET and operator.attrs["nave"] == 7
    assert operator.vertices[0] == expected.vertices[0].tolist() and operator.vertices[1] == expected.vertices[1].tolist()
    projected = read_projected_sources(evoked, _written(operator, tmp_path / "op.h5"))
    rng = np.random.default_rng(0)
    rows = rng.choice(projected.n_channels, size=300, replace=False)
    formed = np.stack([projected.values[r, 0, :] for r in rows])
    scale = np.abs(expected.data).max()
    np.testing.assert_allclose(formed, expected.data[rows], rtol=0, atol=2e-6 * scale)  # float32 precision


def _written(operator, path):
    write_source_operator(operator, path, overwrite=True)
    return path


def test_dspm_and_an_unmorphed_operator_are_linear_too(setup, tmp_path):
    setup, _ = setup
    data = noise(setup, seconds=2.0, seed=3)
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", data, nave=4)
    operator = build_source_operator(evoked, setup.inverse_path, snr=3.0, method="dSPM")
    ev = mne.read_evokeds(evoked, condition=0, verbose="error")
    stc = mne.minimum_norm.apply_inverse(ev, setup.inverse, lambda2=1 / 9, method="dSPM", pick_ori="normal", verbose="error")
    assert not operator.morphed and operator.subject == "sub"
    np.testing.assert_allclose(operator.matrix @ ev.data, stc.data, rtol=0, atol=2e-6 * np.abs(stc.data).max())


def test_files_round_trip_a_hemisphere_at_a_time_and_are_byte_stable(setup, tmp_path):
    setup, _ = setup
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", noise(setup, seconds=1.0))
    operator = build_source_operator(evoked, setup.inverse_path, morph=setup.root / "sub-morph.h5")
    a, b = _written(operator, tmp_path / "a.h5"), _written(operator, tmp_path / "b.h5")
    assert a.read_bytes() == b.read_bytes()
    header = read_source_operator_header(a)
    assert (header.n_lh, header.n_rh) == tuple(len(v) for v in operator.vertices)
    left = read_source_operator(a, hemi="lh")
    right = read_source_operator(a, hemi="rh")
    np.testing.assert_array_equal(np.vstack([left.matrix, right.matrix]), operator.matrix)
    assert left.vertices == (operator.vertices[0], []) and right.vertices == ([], operator.vertices[1])


def test_projected_sources_read_like_an_array(setup):
    rng = np.random.default_rng(1)
    op, sensors = rng.standard_normal((30, 8)).astype(np.float32), rng.standard_normal((8, 2, 50)).astype(np.float32)
    lazy = ProjectedSources(op, sensors)
    whole = np.einsum("hc,crt->hrt", op, sensors)
    assert lazy.shape == (30, 2, 50)
    np.testing.assert_allclose(np.asarray(lazy), whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lazy[5:9, :1, 10:20], whole[5:9, :1, 10:20], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lazy[3, 1, :], whole[3, 1, :], rtol=1e-5, atol=1e-5)
    with pytest.raises(IndexError):
        lazy[[1, 2]]


def test_a_gridsearch_through_the_operator_equals_one_of_the_source_estimate(setup, tmp_path):
    setup, _ = setup
    data = noise(setup, seed=5)
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", data)
    operator = _written(build_source_operator(evoked, setup.inverse_path, morph=setup.root / "sub-morph.h5"), tmp_path / "op.h5")
    signal = BandLimitedSignal(30.0, seed=2)
    np.save(tmp_path / "x.npy", signal.sampled(RATE, SECONDS).astype(np.float32))
    projected = read_projected_sources(evoked, operator)
    write_source_estimate(
        EMEGData(np.asarray(projected.values), projected.channel_names, RATE, projected.t_start, "source", None, evoked),
        tmp_path / "p",
    )
    common = ["--transform", str(tmp_path / "x.npy"), "--transform-rate", str(RATE), "--n-splits", "40",
              "--n-derangements", "3", "--stimulus-delivery-latency", "0", "--memory-budget-mb", "64"]  # fmt: skip
    for hemi in ("lh", "rh"):
        assert main(["gridsearch", "--emeg", str(evoked), "--operator", str(operator), "--hemi", hemi,
                     "--out", str(tmp_path / f"op.{hemi}.nkg"), *common]) == 0  # fmt: skip
        assert main(["gridsearch", "--emeg", str(tmp_path / "p-lh.stc"), "--hemi", hemi,
                     "--out", str(tmp_path / f"stc.{hemi}.nkg"), *common]) == 0  # fmt: skip
        through, from_stc = (load_expression_set(tmp_path / f"{kind}.{hemi}.nkg") for kind in ("op", "stc"))
        block = "left" if hemi == "lh" else "right"
        a, b = through.coo(block), from_stc.coo(block)
        assert a.shape == b.shape and np.array_equal(a.coords, b.coords)
        np.testing.assert_allclose(a.data, b.data, rtol=1e-3, atol=1e-3)


def test_a_transform_planted_in_a_source_patch_is_found_there(setup, tmp_path):
    """Through the forward model into the real sensors, with real noise; found at the patch (after the
    morph) and at its latency, the other hemisphere's best (leakage) much weaker."""
    setup, _ = setup
    centre, patch = strongest_left_patch(setup)
    signal = BandLimitedSignal(30.0, seed=4)
    times = -0.2 + np.arange(int(SECONDS * RATE)) / RATE - 0.1  # planted at 100 ms
    sensors = plant_in_patch(setup, noise(setup, seed=6), np.where(times >= 0, signal.at(times), 0.0), patch)
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", sensors)
    operator = _written(build_source_operator(evoked, setup.inverse_path, morph=setup.root / "sub-morph.h5"), tmp_path / "op.h5")
    np.save(tmp_path / "x.npy", signal.sampled(RATE, SECONDS).astype(np.float32))
    best = {}
    for hemi in ("lh", "rh"):
        out = tmp_path / f"{hemi}.nkg"
        assert main(["gridsearch", "--emeg", str(evoked), "--operator", str(operator), "--hemi", hemi,
                     "--transform", str(tmp_path / "x.npy"), "--transform-rate", str(RATE), "--n-splits", "40",
                     "--stimulus-delivery-latency", "0", "--out", str(out)]) == 0  # fmt: skip
        points = load_expression_set(out).best_transforms()[0 if hemi == "lh" else 1]
        best[hemi] = min(points, key=lambda p: p.logp_value)
    # a minimum-norm estimate blurs a patch over a centimetre or two: its peak must lie within that
    assert vertex_distance(setup, best["lh"].channel, centre) < 0.02, best["lh"]
    assert abs(best["lh"].latency - 0.1) <= 1 / RATE + 1e-9
    assert best["rh"].logp_value > 0.5 * best["lh"].logp_value  # leakage: far weaker


def test_channels_the_inverse_needs_must_be_good_in_the_evoked(setup, tmp_path):
    setup, _ = setup
    info = setup.info.copy()
    info["bads"] = ["MEG 0113", "EEG 004"]
    with info._unlock():
        info["sfreq"] = RATE
    path = tmp_path / "p-ave.fif"
    mne.EvokedArray(noise(setup, seconds=1.0), info, tmin=-0.2, verbose="error").save(path, verbose="error")
    with pytest.raises(SourceOperatorError, match=r"uses 2 channel\(s\) that are not good brain channels of .*p-ave.fif: \['MEG 0113', 'EEG 004'\]"):
        build_source_operator(path, setup.inverse_path)
    with pytest.raises(SourceOperatorError, match="not one of"):
        build_source_operator(path, setup.inverse_path, method="MxNE")
    with pytest.raises(SourceOperatorError, match="cannot morph"):
        build_source_operator(evoked_file(setup, tmp_path / "q-ave.fif", noise(setup, seconds=1.0)), setup.inverse_path,
                              morph=MorphSpec("nobody", str(setup.subjects_dir)))  # fmt: skip


def test_the_group_average_needs_one_common_subject(setup, tmp_path):
    setup, _ = setup
    evokeds = [evoked_file(setup, tmp_path / f"p{i}-ave.fif", noise(setup, seconds=1.0, seed=i)) for i in range(2)]
    morphed = _written(build_source_operator(evokeds[0], setup.inverse_path, morph=setup.root / "sub-morph.h5"), tmp_path / "a.h5")
    own = _written(build_source_operator(evokeds[1], setup.inverse_path), tmp_path / "b.h5")
    with pytest.raises(ValueError, match="one common subject"):
        grand_average_projected(evokeds, [morphed, own])
    other = _written(build_source_operator(evokeds[1], setup.inverse_path, morph=setup.root / "sub-morph.h5"), tmp_path / "c.h5")
    group = grand_average_projected(evokeds, [morphed, other])
    one = read_projected_sources(evokeds[0], morphed)
    two = read_projected_sources(evokeds[1], other)
    np.testing.assert_allclose(group.values, (np.asarray(one.values) + np.asarray(two.values)) / 2, rtol=1e-5, atol=1e-6 * np.abs(group.values).max())


def test_the_operator_command_and_the_memory_estimate_of_a_job_through_it(setup, tmp_path, capsys):
    setup, _ = setup
    evoked = evoked_file(setup, tmp_path / "p-ave.fif", noise(setup, seconds=SECONDS))
    out = tmp_path / "op.h5"
    argv = ["operator", "--evoked", str(evoked), "--inverse", str(setup.inverse_path), "--morph",
            str(setup.root / "sub-morph.h5"), "--snr", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    header = read_source_operator_header(out)
    assert header.attrs["snr"] == 3.0 and header.morphed
    assert main(argv) == 2 and "already exists" in capsys.readouterr().err  # nothing overwritten unasked
    np.save(tmp_path / "x.npy", np.zeros(int(SECONDS * RATE), dtype=np.float32))
    estimates = {}
    for budget in ("64", "256"):
        assert main(["gridsearch", "--estimate-memory", "--emeg", str(evoked), "--operator", str(out), "--hemi", "lh",
                     "--transform", str(tmp_path / "x.npy"), "--transform-rate", str(RATE), "--n-splits", "40",
                     "--memory-budget-mb", budget]) == 0  # fmt: skip
        estimates[budget] = float(capsys.readouterr().out)
    # the process (256 MB), the chunk budget at most, the sensors and the left rows (~13 MB): the full-cortex
    # figures are in benchmarks/README.md
    assert 256 < estimates["64"] <= estimates["256"] < 256 + 256 + 16 + 13 + 32
