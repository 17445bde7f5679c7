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

from kymata_core.io.conditions import Condition, select_recordings

_STC_FLOAT_BYTES = 4


class EMEGShape(NamedTuple):
    """Channels, repetitions, samples per repetition, sample rate and start time of an EMEG recording."""

    n_channels: int
    n_reps: int
    n_times: int
    sample_rate: float
    t_start: float = 0.0
    """Time of the first sample relative to the trigger, seconds."""


def read_emeg_shape(
    path: str | Path, channel_space: str, hemi: str | None = None, condition: Condition = None
) -> EMEGShape:
    """The shape of the EMEG data a gridsearch job would read from ``path``.

    Parameters
    ----------
    path : path
        An evoked ``-ave.fif`` (sensor space), or the ``-lh.stc``/``-rh.stc`` file of a source
        estimate or an ``-stc.h5`` file (source space).
    channel_space : {"sensor", "source"}
    hemi : {"lh", "rh"} or None
        In source space, the hemisphere that will be read (None: both).
    condition : str, sequence of str, or None
        In sensor space, the condition whose repetitions are counted (:mod:`kymata_core.io.conditions`).

    Raises
    ------
    FileNotFoundError
        If the file does not exist (yet).
    ValueError
        If the file is not a readable EMEG file of that space.
    ConditionError
        If the condition is not in the file (or must be chosen).
    """
    p = Path(path)
    try:
        stat = p.stat()
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "EMEG file not found", str(path)) from None  # Snakemake waits for it
    if not p.is_file():
        raise ValueError(f"{path}: is not a file")
    key = condition if condition is None or isinstance(condition, str) else tuple(condition)
    return _read_shape(str(path), stat.st_mtime_ns, stat.st_size, channel_space, hemi, key)


@lru_cache(maxsize=1024)
def _read_shape(
    path: str, _mtime_ns: int, _size: int, channel_space: str, hemi: str | None, condition: Condition
) -> EMEGShape:
    """Cached by path and the file's modification time and size, so a rewritten file is read again."""
    p = Path(path)
    if channel_space == "sensor":
        return _evoked_shape(p, condition)
    if channel_space != "source":
        raise ValueError(f"channel space must be 'sensor' or 'source', got {channel_space!r}")
    if p.name.endswith(".h5"):
        return _h5_stc_shape(p, hemi)
    stem = str(p)[: -len("-lh.stc")] if p.name.endswith(("-lh.stc", "-rh.stc")) else str(p)
    hemis = [hemi] if hemi else ["lh", "rh"]
    shapes = [_stc_header(Path(f"{stem}-{h}.stc")) for h in hemis]
    n_channels = sum(s[0] for s in shapes)
    return EMEGShape(n_channels, 1, shapes[0][1], shapes[0][2], shapes[0][3])


def _evoked_shape(path: Path, condition: Condition) -> EMEGShape:
    import mne

    from kymata_core.io.sensors import brain_channel_picks

    if path.name.endswith(("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz")):
        try:
            epochs = mne.read_epochs(path, preload=False, verbose="error")
        except Exception as e:  # MNE raises many types for a foreign file
            raise ValueError(f"{path} is not a readable MNE epochs file: {e}") from None
        names = {code: name for name, code in epochs.event_id.items()}
        chosen = select_recordings([names.get(int(c), str(c)) for c in epochs.events[:, 2]], condition, path)
        info, n_times, t_start = epochs.info, len(epochs.times), float(epochs.tmin)
    else:
        entries = evoked_entries(path)
        chosen = select_recordings([e.comment for e in entries], condition, path)
        try:
            info = mne.io.read_info(path, verbose="error")
        except Exception as e:
            raise ValueError(f"{path} is not a readable MNE evoked file: {e}") from None
        n_times = entries[chosen[0]].n_times
        t_start = entries[chosen[0]].first / float(info["sfreq"])
    picks = brain_channel_picks(info)
    return EMEGShape(len(picks), len(chosen), n_times, float(info["sfreq"]), t_start)


class EvokedEntry(NamedTuple):
    """What a FIF file's directory says of one averaged evoked: its comment, first sample and length."""

    comment: str
    first: int
    n_times: int


def evoked_entries(path: str | Path) -> list[EvokedEntry]:
    """Every averaged evoked of a FIF file, read from the file's directory without reading the data.

    Standard-error evokeds are left out, as :func:`mne.read_evokeds` leaves them out by default. Falls
    back to reading the whole file if MNE's FIF internals are not as expected.

    Raises
    ------
    ValueError
        If the file is not an evoked FIF file.
    """
    path = Path(path)
    try:
        return _entries_from_directory(path)
    except ValueError:
        raise
    except Exception as e:  # MNE raises many types for a damaged or foreign file
        raise ValueError(f"{path} is not a readable MNE evoked file: {type(e).__name__}: {e}") from None


def _entries_from_directory(path: Path) -> list[EvokedEntry]:
    try:
        from mne._fiff.constants import FIFF
        from mne._fiff.open import fiff_open
        from mne._fiff.tag import read_tag
        from mne._fiff.tree import dir_tree_find
    except ImportError:  # MNE's internals moved: read the whole file the public way
        import mne

        return [
            EvokedEntry(ev.comment or "No comment", int(ev.first), len(ev.times))
            for ev in mne.read_evokeds(path, verbose="error")
        ]
    f, tree, _ = fiff_open(path, verbose="error")
    entries = []
    with f as fid:
        for node in dir_tree_find(tree, FIFF.FIFFB_EVOKED):
            tags = {"comment": "No comment", "first": None, "last": None}  # MNE's name for an evoked without one
            for entry in node["directory"]:
                if entry.kind == FIFF.FIFF_COMMENT:
                    tags["comment"] = str(read_tag(fid, entry.pos).data)
                elif entry.kind == FIFF.FIFF_FIRST_SAMPLE:
                    tags["first"] = int(read_tag(fid, entry.pos).data.item())
                elif entry.kind == FIFF.FIFF_LAST_SAMPLE:
                    tags["last"] = int(read_tag(fid, entry.pos).data.item())
            kinds = [
                int(read_tag(fid, entry.pos).data.item())
                for aspect in dir_tree_find(node, FIFF.FIFFB_ASPECT)
                for entry in aspect["directory"]
                if entry.kind == FIFF.FIFF_ASPECT_KIND
            ]
            if tags["first"] is None or tags["last"] is None:
                raise ValueError(f"{path}: an evoked without its first or last sample")
            if not kinds or FIFF.FIFFV_ASPECT_AVERAGE in kinds:
                entries.append(EvokedEntry(tags["comment"], tags["first"], tags["last"] - tags["first"] + 1))
    if not entries:
        raise ValueError(f"{path}: no evoked data in the file")
    return entries


def stc_sample_rate(tstep: float) -> float:
    """The sample rate of a source estimate whose time step is ``tstep`` seconds.

    ``.stc`` files store the step as float32 milliseconds, so ``1 / tstep`` is off by ~1e-7 relative:
    a rate that close to a whole number of Hz is that number.
    """
    rate = 1.0 / tstep
    nearest = round(rate)
    return float(nearest) if abs(rate - nearest) < 1e-4 * max(1.0, rate) else float(rate)


def _stc_header(path: Path) -> tuple[int, int, float, float]:
    """(n_vertices, n_times, sample rate, first time in s) from the header of one ``.stc`` file (big-endian)."""
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "source estimate file not found", str(path))
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12:
            raise ValueError(f"{path} is too short to be a source estimate (.stc) file")
        tmin_ms, tstep_ms, n_vertices = struct.unpack(">ffI", head)
        f.seek(12 + 4 * n_vertices)
        raw = f.read(4)
    if len(raw) < 4 or tstep_ms <= 0:
        raise ValueError(f"{path} has a malformed source estimate (.stc) header")
    (n_times,) = struct.unpack(">I", raw)
    expected = 16 + 4 * n_vertices + _STC_FLOAT_BYTES * n_vertices * n_times
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but its header describes {expected}")
    return n_vertices, n_times, stc_sample_rate(tstep_ms / 1000.0), tmin_ms / 1000.0


def _h5_stc_shape(path: Path, hemi: str | None) -> EMEGShape:
    import mne

    try:
        stc = mne.read_source_estimate(path, verbose="error")
    except Exception as e:
        raise ValueError(f"{path} is not a readable MNE source estimate: {e}") from None
    vertices = {"lh": len(stc.vertices[0]), "rh": len(stc.vertices[1])}
    n_channels = vertices[hemi] if hemi else sum(vertices.values())
    return EMEGShape(n_channels, 1, stc.data.shape[1], float(stc.sfreq), float(stc.tmin))
