"""Loading transforms from .npy, .npz and .mat files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from kymata_core.io.transform import load_transform, load_transforms_npz, transform_length

VALUES = np.arange(12, dtype=np.float64) * 0.5


def test_npy_needs_rate_and_takes_stem_name(tmp_path):
    path = tmp_path / "loudness.npy"
    np.save(path, VALUES.astype(np.float32))
    t = load_transform(path, sample_rate=100)
    assert t.name == "loudness"
    assert t.sample_rate == 100.0
    np.testing.assert_array_equal(t.values, VALUES)
    assert load_transform(path, name="other", sample_rate=100).name == "other"
    with pytest.raises(ValueError, match="loudness.npy.*sample rate"):
        load_transform(path)
    assert transform_length(path) == 12


def test_npz_keys_and_rates(tmp_path):
    path = tmp_path / "stimulisig.npz"
    np.savez(path, a=VALUES, b=VALUES * 2)
    b = load_transform(path, name="b", sample_rate=1000)
    np.testing.assert_array_equal(b.values, VALUES * 2)
    assert (b.name, b.sample_rate) == ("b", 1000.0)
    with pytest.raises(ValueError, match="holds 2 transforms"):
        load_transform(path, sample_rate=1000)
    with pytest.raises(KeyError, match="stimulisig.npz.*'c'.*available"):
        load_transform(path, name="c", sample_rate=1000)
    with pytest.raises(ValueError, match="sample_rate"):
        load_transform(path, name="a")
    both = load_transforms_npz(path, sample_rate=500)
    assert [t.name for t in both] == ["a", "b"]
    with pytest.raises(KeyError, match="'zz'"):
        load_transforms_npz(path, names=["a", "zz"], sample_rate=500)


def test_npz_stored_rate_and_caller_precedence(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, x=VALUES, sample_rate=np.array(250.0))
    assert load_transform(path).sample_rate == 250.0  # the only transform, rate from the file
    assert load_transform(path, name="x", sample_rate=100).sample_rate == 100.0
    assert [t.name for t in load_transforms_npz(path)] == ["x"]


def test_mat_variable(tmp_path):
    path = tmp_path / "sig.mat"
    savemat(path, {"pitch": VALUES[np.newaxis, :], "other": np.zeros((3, 3))})
    t = load_transform(path, name="pitch", sample_rate=10)
    np.testing.assert_array_equal(t.values, VALUES)
    with pytest.raises(ValueError, match=r"'other'.*shape \(3, 3\)"):
        load_transform(path, name="other", sample_rate=10)
    with pytest.raises(KeyError, match="'missing'.*available.*other.*pitch"):
        load_transform(path, name="missing", sample_rate=10)
    with pytest.raises(ValueError, match="name of the variable"):
        load_transform(path, sample_rate=10)


def test_shapes(tmp_path):
    column = tmp_path / "col.npy"
    np.save(column, VALUES[:, np.newaxis])
    np.testing.assert_array_equal(load_transform(column, sample_rate=1).values, VALUES)
    square = tmp_path / "sq.npy"
    np.save(square, VALUES.reshape(3, 4))
    with pytest.raises(ValueError, match=r"sq.npy.*shape \(3, 4\)"):
        load_transform(square, sample_rate=1)
    cube = tmp_path / "cube.npy"
    np.save(cube, VALUES.reshape(1, 3, 4))
    with pytest.raises(ValueError, match="one-dimensional"):
        load_transform(cube, sample_rate=1)


def test_nan_policies(tmp_path):
    path = tmp_path / "n.npy"
    v = np.array([1.0, np.nan, 3.0, np.nan, 5.0])
    np.save(path, v)
    with pytest.raises(ValueError, match=r"n.npy.*2 NaN.*index 1"):
        load_transform(path, sample_rate=1)
    np.testing.assert_array_equal(
        load_transform(path, sample_rate=1, nan_policy="zero").values, [1, 0, 3, 0, 5]
    )
    np.testing.assert_array_equal(
        load_transform(path, sample_rate=1, nan_policy="mean").values, [1, 3, 3, 3, 5]
    )
    with pytest.raises(ValueError, match="nan_policy"):
        load_transform(path, sample_rate=1, nan_policy="drop")


def test_resampling(tmp_path):
    path = tmp_path / "r.npy"
    np.save(path, VALUES)
    down = load_transform(path, sample_rate=1000, resample_to=500)
    assert down.sample_rate == 500.0
    np.testing.assert_array_equal(down.values, VALUES[::2])
    up = load_transform(path, sample_rate=100, resample_to=300)
    assert up.sample_rate == 300.0
    assert len(up.values) == 36


def test_refuses_pickles_missing_files_and_unknown_types(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="obj.npy"):
        load_transform(path, sample_rate=1)
    with pytest.raises(FileNotFoundError, match="gone.npy"):
        load_transform(tmp_path / "gone.npy", sample_rate=1)
    txt = tmp_path / "t.txt"
    txt.write_text("1 2 3")
    with pytest.raises(ValueError, match=r"\.txt"):
        load_transform(txt, sample_rate=1)
