"""Property-based tests of the transform and EMEG readers: damaged files give documented errors only.

Whatever bytes a user's file holds, a reader either returns finite data of the right shape or raises
one of its documented error types (naming the file), never an exception from deep inside numpy,
scipy or MNE, and never unpickles.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import mne
import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kymata_core.io.emeg import read_evoked, read_source_estimate
from kymata_core.io.transform import load_transform

TRANSFORM_ERRORS = (ValueError, KeyError)
EMEG_ERRORS = (ValueError,)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_transform_bytes(suffix: str) -> bytes:
    values = np.sin(np.arange(400) / 7.0).astype(np.float32)
    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, values)
    elif suffix == ".npz":
        np.savez(buffer, loudness=values, sample_rate=np.array(200.0))
    else:
        scipy.io.savemat(buffer, {"loudness": values})
    return buffer.getvalue()


def _check_transform_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"loudness{suffix}"
        path.write_bytes(data)
        try:
            transform = load_transform(path, name="loudness", sample_rate=200.0)
        except TRANSFORM_ERRORS as e:
            assert str(path) in str(e)
            return
        assert transform.values.ndim == 1 and transform.values.size > 0
        assert np.all(np.isfinite(transform.values))


def _mutate(data: bytes, positions: list[int], values: list[int], cut: int | None) -> bytes:
    damaged = bytearray(data)
    for pos, val in zip(positions, values, strict=False):
        damaged[pos % len(damaged)] = val
    if cut is not None:
        damaged = damaged[: cut % (len(damaged) + 1)]
    return bytes(damaged)


mutations = st.tuples(
    st.lists(st.integers(0, 10**6), max_size=8),
    st.lists(st.integers(0, 255), max_size=8),
    st.one_of(st.none(), st.integers(0, 10**6)),
)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".mat"])
@FUZZ
@given(mutation=mutations)
@example(mutation=([184], [60], None))  # .mat: an unknown data type code crashed scipy's reader (segfault)
def test_damaged_transform_files(suffix, mutation):
    _check_transform_file(_mutate(_valid_transform_bytes(suffix), *mutation), suffix)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".npy", ".npz", ".mat"]))
def test_arbitrary_bytes_as_a_transform_file(data, suffix):
    _check_transform_file(data, suffix)


@FUZZ
@given(
    values=hnp.arrays(
        dtype=st.one_of(hnp.floating_dtypes(), hnp.integer_dtypes(), hnp.complex_number_dtypes(), hnp.boolean_dtypes()),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=6),
    )
)
def test_arrays_of_any_dtype_and_shape(values):
    buffer = io.BytesIO()
    np.save(buffer, values)
    _check_transform_file(buffer.getvalue(), ".npy")


def test_a_pickled_array_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="evil.npy"):
        load_transform(path, sample_rate=200.0)
    path.write_bytes(pickle.dumps([1.0, 2.0]))
    with pytest.raises(ValueError, match="evil.npy"):
        load_transform(path, sample_rate=200.0)


# --- EMEG -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emeg_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("emeg")
    rng = np.random.default_rng(0)
    info = mne.create_info(["MEG0111", "MEG0112", "EEG001"], 200.0, ["mag", "grad", "eeg"])
    evoked = mne.EvokedArray(rng.normal(size=(3, 300)) * 1e-12, info, tmin=-0.2, verbose="error")
    evoked.save(root / "p-ave.fif", verbose="error")
    stc = mne.SourceEstimate(rng.normal(size=(5, 300)), [np.arange(2), np.arange(3)], tmin=-0.2, tstep=0.005)
    stc.save(root / "p", verbose="error")
    return {name: (root / name).read_bytes() for name in ("p-ave.fif", "p-lh.stc", "p-rh.stc")}


@FUZZ
@given(mutation=mutations)
@example(mutation=([432], [1], None))  # found in CI: a damaged channel kind made MNE's pick raise KeyError
def test_damaged_evoked_files(emeg_files, mutation):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p-ave.fif"
        path.write_bytes(_mutate(emeg_files["p-ave.fif"], *mutation))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = read_evoked(path)
        except EMEG_ERRORS as e:
            assert str(path) in str(e)
            return
        assert data.values.ndim == 3 and np.all(np.isfinite(data.values))


@FUZZ
@given(mutation=mutations, hemi=st.sampled_from(["lh", "rh"]))
def test_damaged_source_estimates(emeg_files, mutation, hemi):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("p-lh.stc", "p-rh.stc"):
            data = emeg_files[name]
            if name == f"p-{hemi}.stc":
                data = _mutate(data, *mutation)
            (Path(tmp) / name).write_bytes(data)
        try:
            result = read_source_estimate(os.path.join(tmp, "p"), hemi=hemi)
        except EMEG_ERRORS as e:
            assert "p-" in str(e) and tmp in str(e)
            return
        assert result.values.ndim == 3 and np.all(np.isfinite(result.values))
