"""Reading, averaging and writing EMEG (MNE evoked FIF and source estimates)."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from kymata_core.io.emeg import (
    EMEGData,
    grand_average,
    read_emeg,
    read_evoked,
    read_source_estimate,
    write_evoked,
    write_source_estimate,
)
from kymata_core.io.layouts import EEGLayout, MEGLayout

NAMES = ["MEG0111", "MEG0112", "MEG0113", "EEG001", "EEG002", "STI101"]
TYPES = ["mag", "grad", "grad", "eeg", "eeg", "stim"]
SFREQ = 100.0
TMIN = -0.2


def _info(names=NAMES, types=TYPES, sfreq=SFREQ, bads=()):
    info = mne.create_info(list(names), sfreq, list(types))
    info["bads"] = list(bads)
    return info


def _write_evokeds(path, datas, info, tmin=TMIN):
    evokeds = [mne.EvokedArray(d, info, tmin=tmin, nave=1, comment="stimulus") for d in datas]
    mne.write_evokeds(path, evokeds, overwrite=True, verbose="error")
    return path


def _data(seed, n_channels=6, n_times=50):
    return np.random.default_rng(seed).standard_normal((n_channels, n_times))


def _write_stc(stem, data, lh, rh, tmin=TMIN, sfreq=SFREQ, ftype="stc"):
    stc = mne.SourceEstimate(data, vertices=[np.array(lh), np.array(rh)], tmin=tmin, tstep=1 / sfreq)
    stc.save(stem, ftype=ftype, overwrite=True, verbose="error")
    return stem


# ----------------------------------------------------------------------------------------- evoked


def test_read_evoked_repetitions_bads_and_picks(tmp_path):
    reps = [_data(1), _data(2)]
    path = _write_evokeds(tmp_path / "p-ave.fif", reps, _info(bads=["MEG0112"]))
    data = read_evoked(path)
    kept = [0, 2, 3, 4]  # the bad gradiometer and the stim channel are dropped
    assert data.channel_names == [NAMES[i] for i in kept]
    assert data.values.shape == (4, 2, 50)
    assert data.values.dtype == np.float32
    for r in range(2):
        np.testing.assert_allclose(data.values[:, r, :], reps[r][kept], rtol=1e-6)
    assert data.sample_rate == SFREQ
    assert data.t_start == pytest.approx(TMIN, abs=1e-12)
    assert data.channel_space == "sensor"
    assert data.sensor_layout.meg == MEGLayout.Vectorview
    assert data.sensor_layout.eeg == EEGLayout.Easycap
    assert data.source == path


def test_read_evoked_keeps_bads_when_asked_and_picks_eeg_only(tmp_path):
    path = _write_evokeds(tmp_path / "p-ave.fif", [_data(1)], _info(bads=["MEG0112"]))
    assert read_evoked(path, exclude_bads=False).channel_names == NAMES[:5]
    eeg = read_evoked(path, picks=("eeg",))
    assert eeg.channel_names == ["EEG001", "EEG002"]
    assert eeg.sensor_layout.meg is None


def test_read_evoked_unknown_names_give_no_layout(tmp_path):
    info = _info(names=["A1", "B2"], types=["eeg", "eeg"])
    path = _write_evokeds(tmp_path / "p-ave.fif", [_data(1, n_channels=2)], info)
    assert read_evoked(path).sensor_layout is None


def test_read_evoked_no_channels_left(tmp_path):
    path = _write_evokeds(tmp_path / "p-ave.fif", [_data(1)], _info(bads=["EEG001", "EEG002"]))
    with pytest.raises(ValueError, match="no channels left"):
        read_evoked(path, picks=("eeg",))


def test_read_evoked_mismatched_repetitions(tmp_path):
    path = tmp_path / "p-ave.fif"
    a = mne.EvokedArray(_data(1), _info(), tmin=TMIN)
    b = mne.EvokedArray(_data(2, n_times=40), _info(), tmin=TMIN)
    mne.write_evokeds(path, [a, b], verbose="error")
    with pytest.raises(ValueError, match="p-ave.fif.*times differ"):
        read_evoked(path)


def test_read_evoked_missing_and_nan(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere-ave.fif"):
        read_evoked(tmp_path / "nothere-ave.fif")
    d = _data(1)
    d[3, 7] = np.nan
    path = _write_evokeds(tmp_path / "nan-ave.fif", [d], _info())
    with pytest.raises(ValueError, match="nan-ave.fif.*EEG001.*sample 7"):
        read_evoked(path)


def test_read_evoked_not_a_fif(tmp_path):
    path = tmp_path / "junk-ave.fif"
    path.write_bytes(b"not a fif file")
    with pytest.raises(ValueError, match="junk-ave.fif"):
        read_evoked(path)


# ----------------------------------------------------------------------------------------- source estimates


@pytest.mark.parametrize("ftype", ["stc", "h5"])
def test_read_source_estimate_and_hemi(tmp_path, ftype):
    if ftype == "h5":
        pytest.importorskip("h5io")  # MNE's HDF5 source estimate I/O
    lh, rh = [3, 10, 42], [0, 7]
    values = _data(5, n_channels=5)
    stem = _write_stc(tmp_path / "p", values, lh, rh, ftype=ftype)
    given = (
        [stem, tmp_path / "p-stc.h5"]
        if ftype == "h5"
        else [stem, tmp_path / "p-lh.stc", tmp_path / "p-rh.stc"]
    )
    for path in given:
        data = read_source_estimate(path)
        assert data.channel_names == [lh, rh]
        assert data.values.shape == (5, 1, 50)
        np.testing.assert_allclose(data.values[:, 0], values, rtol=1e-6)
        assert data.sample_rate == SFREQ
        assert data.t_start == pytest.approx(TMIN, abs=1e-12)
        assert data.channel_space == "source"
    left = read_source_estimate(stem, hemi="lh")
    assert left.channel_names == [lh, []]
    np.testing.assert_allclose(left.values[:, 0], values[:3], rtol=1e-6)
    right = read_emeg(stem, "source", hemi="rh")
    assert right.channel_names == [[], rh]
    np.testing.assert_allclose(right.values[:, 0], values[3:], rtol=1e-6)


def test_read_source_estimate_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        read_source_estimate(tmp_path / "nope")
    _write_stc(tmp_path / "half", _data(1, n_channels=2), [1], [2])
    (tmp_path / "half-rh.stc").unlink()
    with pytest.raises(FileNotFoundError, match="half-rh.stc"):
        read_source_estimate(tmp_path / "half-lh.stc")


def test_read_source_estimate_corrupt_or_mismatched_pair(tmp_path):
    _write_stc(tmp_path / "a", _data(1, n_channels=3), [1, 2], [3])
    _write_stc(tmp_path / "b", _data(1, n_channels=3, n_times=40), [1, 2], [3])
    (tmp_path / "a-rh.stc").write_bytes((tmp_path / "b-rh.stc").read_bytes())
    with pytest.raises(ValueError, match="a-rh.stc: times differ"):
        read_source_estimate(tmp_path / "a")
    truncated = (tmp_path / "b-lh.stc").read_bytes()[:-4]
    (tmp_path / "b-lh.stc").write_bytes(truncated)
    with pytest.raises(ValueError, match="b-lh.stc: not a valid source estimate"):
        read_source_estimate(tmp_path / "b", hemi="lh")


def test_read_emeg_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="channel space"):
        read_emeg(tmp_path / "x", "volume")
    with pytest.raises(ValueError, match="hemi"):
        read_source_estimate(tmp_path / "x", hemi="both")


# ----------------------------------------------------------------------------------------- averaging


def test_grand_average_sensor_averages_what_each_participant_analyses(tmp_path):
    """Repetition r of the average is the mean of the participants' repetitions r (the first n_reps)."""
    a = _write_evokeds(tmp_path / "a-ave.fif", [_data(1), _data(2)], _info())
    b = _write_evokeds(tmp_path / "b-ave.fif", [_data(3), _data(4), _data(5)], _info())
    two = grand_average([a, b], "sensor", n_reps=2)
    assert two.values.shape == (5, 2, 50)
    np.testing.assert_allclose(two.values[:, 0], ((_data(1) + _data(3)) / 2)[:5], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two.values[:, 1], ((_data(2) + _data(4)) / 2)[:5], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="a-ave.fif: 2 repetition"):
        grand_average([a, b], "sensor", n_reps=3)
    avg = grand_average([a, b], "sensor")
    expected = (_data(1) + _data(3)) / 2
    assert avg.values.shape == (5, 1, 50)
    np.testing.assert_allclose(avg.values[:, 0], expected[:5], rtol=1e-5, atol=1e-6)
    out = write_evoked(avg, tmp_path / "avg-ave.fif")
    back = read_evoked(out)
    assert back.channel_names == avg.channel_names
    np.testing.assert_allclose(back.values, avg.values, rtol=1e-6)
    assert back.t_start == pytest.approx(TMIN)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-ave.fif", "avg-ave.fif", "b-ave.fif"]
    with pytest.raises(FileExistsError, match="avg-ave.fif"):
        write_evoked(avg, out)


def test_grand_average_keeps_the_channels_good_in_every_participant(tmp_path, caplog):
    a = _write_evokeds(tmp_path / "a-ave.fif", [_data(1)], _info(bads=["MEG0112"]))
    b = _write_evokeds(tmp_path / "b-ave.fif", [_data(2), _data(3)], _info(bads=["EEG002"]))
    c = _write_evokeds(tmp_path / "c-ave.fif", [_data(4)], _info())
    with caplog.at_level("INFO", logger="kymata_core.io.emeg"):
        avg = grand_average([a, b, c], "sensor")
    assert avg.channel_names == ["MEG0111", "MEG0113", "EEG001"]
    rows = [0, 2, 3]
    expected = (_data(1)[rows] + _data(2)[rows] + _data(4)[rows]) / 3
    np.testing.assert_allclose(avg.values[:, 0], expected, rtol=1e-5, atol=1e-6)
    assert "['EEG002', 'MEG0112']" in caplog.text
    back = read_evoked(write_evoked(avg, tmp_path / "avg-ave.fif"))
    assert back.channel_names == avg.channel_names and back.info["bads"] == []
    every = _write_evokeds(tmp_path / "d-ave.fif", [_data(5)], _info(bads=["MEG0111", "MEG0113", "EEG001"]))
    with pytest.raises(ValueError, match="no channel is good in all"):
        grand_average([a, b, every], "sensor")


def test_grand_average_sensor_mismatches(tmp_path):
    a = _write_evokeds(tmp_path / "a-ave.fif", [_data(1)], _info())
    other = _write_evokeds(
        tmp_path / "b-ave.fif", [_data(1, n_channels=5)], _info(names=[*NAMES[:4], "STI101"], types=[*TYPES[:4], "stim"])
    )
    with pytest.raises(ValueError, match="b-ave.fif: sensor names differ"):
        grand_average([a, other], "sensor")
    rate = _write_evokeds(tmp_path / "c-ave.fif", [_data(1)], _info(sfreq=200.0))
    with pytest.raises(ValueError, match="c-ave.fif: sample rate 200"):
        grand_average([a, rate], "sensor")
    times = _write_evokeds(tmp_path / "d-ave.fif", [_data(1)], _info(), tmin=-0.1)
    with pytest.raises(ValueError, match="d-ave.fif: times differ"):
        grand_average([a, times], "sensor")
    with pytest.raises(ValueError, match="at least one"):
        grand_average([], "sensor")


def test_grand_average_source_and_write(tmp_path):
    lh, rh = [1, 2], [5]
    a = _write_stc(tmp_path / "a", _data(1, n_channels=3), lh, rh)
    b = _write_stc(tmp_path / "b", _data(2, n_channels=3), lh, rh)
    avg = grand_average([tmp_path / "a-lh.stc", b], "source")
    np.testing.assert_allclose(avg.values[:, 0], (_data(1, 3) + _data(2, 3)) / 2, rtol=1e-5, atol=1e-6)
    written = write_source_estimate(avg, tmp_path / "avg-rh.stc")
    assert [p.name for p in written] == ["avg-lh.stc", "avg-rh.stc"]
    back = read_source_estimate(tmp_path / "avg")
    assert back.channel_names == [lh, rh]
    np.testing.assert_allclose(back.values, avg.values, rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    moved = _write_stc(tmp_path / "c", _data(2, n_channels=3), lh, [6])
    with pytest.raises(ValueError, match="c-lh.stc: vertex ids differ"):
        grand_average([a, moved], "source")
    with pytest.raises(FileExistsError):
        write_source_estimate(avg, tmp_path / "avg")


def test_write_evoked_without_info_guesses_types(tmp_path):
    data = EMEGData(
        values=np.ones((3, 2, 10), dtype=np.float32),
        channel_names=["MEG0111", "MEG0112", "EEG001"],
        sample_rate=250.0,
        t_start=-0.1,
        channel_space="sensor",
        sensor_layout=None,
        source=tmp_path,
    )
    path = write_evoked(data, tmp_path / "x-ave.fif")
    evokeds = mne.read_evokeds(path, verbose="error")
    assert len(evokeds) == 2
    assert evokeds[0].get_channel_types() == ["mag", "grad", "eeg"]
    assert read_evoked(path).values.shape == (3, 2, 10)
