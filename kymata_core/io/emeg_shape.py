"""The shape of an EMEG file from its header, without loading its data.

The workflow sizes each gridsearch job's memory request from the shape of its input, for tens of
thousands of jobs, so this reads as little as it can: the header of an ``.stc`` file, the
measurement info of a FIF file.
"""

from __future__ import annotations

import errno
import struct
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

_STC_FLOAT_BYTES = 4


class EMEGShape(NamedTuple):
    """Channels, repetitions, samples per repetition and sample rate of an EMEG recording."""

    n_channels: int
    n_reps: int
    n_times: int
    sample_rate: float


def read_emeg_shape(path: str | Path, channel_space: str, hemi: str | None = None) -> EMEGShape:
    """The shape of the EMEG data a gridsearch job would read from ``path``.

    Parameters
    ----------
    path : path
        An evoked ``-ave.fif`` (sensor space), or the ``-lh.stc``/``-rh.stc`` file of a source
        estimate or an ``-stc.h5`` file (source space).
    channel_space : {"sensor", "source"}
    hemi : {"lh", "rh"} or None
        In source space, the hemisphere that will be read (None: both).

    Raises
    ------
    FileNotFoundError
        If the file does not exist (yet).
    ValueError
        If the file is not a readable EMEG file of that space.
    """
    return _read_shape(str(path), channel_space, hemi)


@lru_cache(maxsize=1024)
def _read_shape(path: str, channel_space: str, hemi: str | None) -> EMEGShape:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(errno.ENOENT, "EMEG file not found", path)  # filename set: Snakemake waits for it
    if channel_space == "sensor":
        return _evoked_shape(p)
    if channel_space != "source":
        raise ValueError(f"channel space must be 'sensor' or 'source', got {channel_space!r}")
    if p.name.endswith(".h5"):
        return _h5_stc_shape(p, hemi)
    stem = str(p)[: -len("-lh.stc")] if p.name.endswith(("-lh.stc", "-rh.stc")) else str(p)
    hemis = [hemi] if hemi else ["lh", "rh"]
    shapes = [_stc_header(Path(f"{stem}-{h}.stc")) for h in hemis]
    n_channels = sum(s[0] for s in shapes)
    return EMEGShape(n_channels, 1, shapes[0][1], shapes[0][2])


def _evoked_shape(path: Path) -> EMEGShape:
    import mne

    try:
        evokeds = mne.read_evokeds(path, verbose="error")
    except Exception as e:  # MNE raises many types for a foreign file
        raise ValueError(f"{path} is not a readable MNE evoked file: {e}") from None
    info = evokeds[0].info
    picks = mne.pick_types(info, meg=True, eeg=True, exclude="bads")
    return EMEGShape(len(picks), len(evokeds), len(evokeds[0].times), float(info["sfreq"]))


def _stc_header(path: Path) -> tuple[int, int, float]:
    """(n_vertices, n_times, sample rate) from the header of one ``.stc`` file (big-endian)."""
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "source estimate file not found", str(path))
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12:
            raise ValueError(f"{path} is too short to be a source estimate (.stc) file")
        _tmin_ms, tstep_ms, n_vertices = struct.unpack(">ffI", head)
        f.seek(12 + 4 * n_vertices)
        raw = f.read(4)
    if len(raw) < 4 or tstep_ms <= 0:
        raise ValueError(f"{path} has a malformed source estimate (.stc) header")
    (n_times,) = struct.unpack(">I", raw)
    expected = 16 + 4 * n_vertices + _STC_FLOAT_BYTES * n_vertices * n_times
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but its header describes {expected}")
    return n_vertices, n_times, 1000.0 / tstep_ms


def _h5_stc_shape(path: Path, hemi: str | None) -> EMEGShape:
    import mne

    try:
        stc = mne.read_source_estimate(path, verbose="error")
    except Exception as e:
        raise ValueError(f"{path} is not a readable MNE source estimate: {e}") from None
    vertices = {"lh": len(stc.vertices[0]), "rh": len(stc.vertices[1])}
    n_channels = vertices[hemi] if hemi else sum(vertices.values())
    return EMEGShape(n_channels, 1, stc.data.shape[1], float(stc.sfreq))
