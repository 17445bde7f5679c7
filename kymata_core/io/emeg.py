"""Reading and writing EMEG data: MNE evoked files (sensor space) and source estimates (source space).

Every reader returns an :class:`EMEGData`, whose ``values`` array has the shape
``(channels, repetitions, time)`` that :func:`kymata_core.gridsearch.plain.do_gridsearch` expects.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import mne
import numpy as np
from numpy.typing import NDArray

from kymata_core.errors import InputFileError, KymataError
from kymata_core.io.atomic import atomic_path, check_overwrite
from kymata_core.io.conditions import Condition, describe_condition, select_recordings
from kymata_core.io.emeg_shape import evoked_entries, stc_sample_rate
from kymata_core.io.layouts import SensorLayout
from kymata_core.io.sensors import brain_channel_picks, guess_sensor_layout, sensor_sides

log = logging.getLogger(__name__)

CHANNEL_SPACES = ("sensor", "source")
HEMIS = ("lh", "rh")

#: The comment of every evoked that :func:`write_evoked` writes when the data name no condition.
REPETITION_COMMENT = "stimulus"

_VECTORVIEW_MEG = re.compile(r"^MEG ?\d{4}$")


@dataclass
class EMEGData:
    """EMEG values with everything the gridsearch needs to know about them.

    Attributes
    ----------
    values : ndarray of float32, shape (channels, reps, time)
    channel_names : list of str, or [list of int, list of int]
        Sensor names (sensor space), or the left and right hemisphere vertex ids (source space;
        rows are the left hemisphere's vertices then the right's).
    sample_rate : float
        Samples per second.
    t_start : float
        Time of the first sample relative to stimulus onset (the trigger), seconds.
    channel_space : str
        ``"sensor"`` or ``"source"``.
    sensor_layout : SensorLayout or None
        The sensor layout guessed from channel names (sensor space only), if recognised.
    source : Path
        The file the data came from (the first file for an average).
    info : mne.Info or None
        The MNE measurement info (sensor space), used to write the data back.
    conditions : list of str or None
        Sensor space: the condition name of each repetition (what the file called it).
    sensor_sides : dict or None
        Sensor space: each sensor's side of the head, ``"left"``, ``"right"`` or ``"midline"``
        (:func:`kymata_core.io.sensors.sensor_sides`), for sensors whose side is known.
    """

    values: NDArray[np.float32]
    channel_names: list
    sample_rate: float
    t_start: float
    channel_space: str
    sensor_layout: SensorLayout | None
    source: Path
    info: mne.Info | None = field(default=None, repr=False)
    conditions: list[str] | None = None
    sensor_sides: dict[str, str] | None = None

    @property
    def n_channels(self) -> int:
        return self.values.shape[0]

    @property
    def n_reps(self) -> int:
        return self.values.shape[1]

    @property
    def n_times(self) -> int:
        return self.values.shape[2]

    @property
    def flat_channel_names(self) -> list:
        """Channel names in row order (source space: left vertex ids, then right)."""
        if self.channel_space == "source":
            return [*self.channel_names[0], *self.channel_names[1]]
        return list(self.channel_names)


# ----------------------------------------------------------------------------------------- reading


def _naming_the_file(reader: Callable[..., EMEGData]) -> Callable[..., EMEGData]:
    """Report any failure of ``reader`` on a damaged or foreign file as one error naming the file.

    MNE and numpy can fail almost anywhere on a damaged file (KeyError, IndexError, struct.error, a
    division by a zero sample rate, ...): at this boundary they become the reader's documented error,
    an :class:`~kymata_core.errors.InputFileError` (a ValueError), which ``kymata-core`` reports as one
    line. Errors that are already the project's (a missing condition, ...) pass through unchanged.
    """

    @functools.wraps(reader)
    def wrapper(path, *args, **kwargs):
        try:
            return reader(path, *args, **kwargs)
        except (FileNotFoundError, KymataError):
            raise
        except Exception as e:
            if isinstance(e, ValueError) and str(path) in str(e):
                raise InputFileError(str(e)) from e
            raise InputFileError(f"{path}: cannot read as EMEG data: {type(e).__name__}: {e}") from e

    return wrapper


@_naming_the_file
def read_evoked(
    path: str | os.PathLike,
    *,
    condition: Condition = None,
    picks: Sequence[str] = ("meg", "eeg"),
    exclude_bads: bool = True,
) -> EMEGData:
    """Read the chosen condition of an MNE evoked (``-ave.fif``) or epochs (``-epo.fif``) file.

    Evokeds with the same comment, or the epochs of one event type, are repetitions of one condition;
    ``condition`` chooses which (see :mod:`kymata_core.io.conditions`).

    Parameters
    ----------
    path : path-like
        An evoked file (``*-ave.fif``, ``*-ave.fif.gz``) or an epochs file (``*-epo.fif``).
    condition : str, sequence of str, or None
        The evoked comment (or epochs event name) to analyse, or a list of them taken in order as
        repetitions; None when the file holds one condition only.
    picks : sequence of str
        Channel types to keep (MNE type names: ``"meg"``, ``"eeg"``, ``"mag"``, ``"grad"``). Reference,
        stimulus, EOG, ECG and misc channels are never kept.
    exclude_bads : bool
        Drop the channels listed in ``info["bads"]``.

    Returns
    -------
    EMEGData
        ``values`` has shape (channels, repetitions, time).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ConditionError
        The condition is not in the file, or the file holds several and none was chosen.
    ValueError
        The repetitions disagree on channels, times or sample rate; no channel is left after picking;
        or the data contain NaNs.
    """
    path = _existing(path)
    read = _read_epochs_repetitions if _is_epochs_file(path) else _read_evoked_repetitions
    recordings, conditions, info, t_start = read(path, condition)
    names = _pick_names(info, picks, exclude_bads, path)
    sfreq = float(info["sfreq"])
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"{path}: sample rate {sfreq} is not a positive number")
    pick_idx = [info.ch_names.index(n) for n in names]
    values = np.empty((len(pick_idx), len(recordings), recordings[0].shape[-1]), dtype=np.float32)
    for r, data in enumerate(recordings):
        values[:, r] = data[pick_idx]
    _check_finite(values, names, path)
    picked = mne.pick_info(info, pick_idx)
    layout = guess_sensor_layout(picked)
    return EMEGData(
        values=values,
        channel_names=names,
        sample_rate=sfreq,
        t_start=_clean_time(t_start, sfreq),
        channel_space="sensor",
        sensor_layout=layout,
        source=path,
        info=picked,
        conditions=conditions,
        sensor_sides=sensor_sides(picked, layout) or None,
    )


def _is_epochs_file(path: Path) -> bool:
    return path.name.endswith(("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz"))


class _Repetitions(NamedTuple):
    """The selected recordings of a file: each repetition's (channels, times) data and condition name."""

    data: list[NDArray]
    conditions: list[str]
    info: mne.Info
    t_start: float


def _read_evoked_repetitions(path: Path, condition: Condition) -> _Repetitions:
    comments = [entry.comment for entry in evoked_entries(path)]
    chosen = select_recordings(comments, condition, path)
    try:
        evokeds = mne.read_evokeds(path, condition=chosen, verbose="error")
    except Exception as e:
        raise ValueError(f"{path}: cannot read as an MNE evoked file: {e}") from e
    first = evokeds[0]
    for i, ev in zip(chosen[1:], evokeds[1:], strict=True):
        problem = _evoked_mismatch(first, ev)
        if problem:
            raise ValueError(
                f"{path}: evoked {i} ({ev.comment!r}) does not match evoked {chosen[0]} as a repetition: {problem}"
            )
    sfreq = float(first.info["sfreq"])
    t_start = first.first / sfreq if sfreq > 0 else 0.0
    return _Repetitions([ev.data for ev in evokeds], [comments[i] for i in chosen], first.info, t_start)


def _read_epochs_repetitions(path: Path, condition: Condition) -> _Repetitions:
    try:
        epochs = mne.read_epochs(path, preload=False, verbose="error")
    except Exception as e:
        raise ValueError(f"{path}: cannot read as an MNE epochs file: {e}") from e
    code_to_name = {code: name for name, code in epochs.event_id.items()}
    names = [code_to_name.get(int(code), str(code)) for code in epochs.events[:, 2]]
    chosen = select_recordings(names, condition, path)
    data = epochs.get_data(item=chosen, verbose="error")
    return _Repetitions(list(data), [names[i] for i in chosen], epochs.info, float(epochs.tmin))


def _pick_names(info: mne.Info, picks: Sequence[str], exclude_bads: bool, path: Path) -> list[str]:
    idx = brain_channel_picks(info, exclude_bads=exclude_bads, types=picks)
    if len(idx) == 0:
        raise ValueError(
            f"{path}: no channels left after picking {list(picks)}"
            + (" and excluding bad channels" if exclude_bads else "")
            + f" (channels in file: {len(info.ch_names)}, bads: {info['bads']})"
        )
    return [info.ch_names[i] for i in idx]


@_naming_the_file
def read_source_estimate(path_or_stem: str | os.PathLike, *, hemi: str | None = None) -> EMEGData:
    """Read an MNE surface source estimate: an ``.stc`` pair or an ``-stc.h5`` file.

    Parameters
    ----------
    path_or_stem : path-like
        ``stem-lh.stc``, ``stem-rh.stc``, ``stem-stc.h5``, or the stem itself (``.stc`` pair tried
        first, then ``.h5``).
    hemi : {"lh", "rh"} or None
        Keep only this hemisphere's rows (the other hemisphere's id list is then empty).

    Returns
    -------
    EMEGData
        One repetition; ``channel_names`` is ``[left vertex ids, right vertex ids]``.
    """
    if hemi is not None and hemi not in HEMIS:
        raise ValueError(f"hemi must be 'lh', 'rh' or None, got {hemi!r}")
    files = source_estimate_files(path_or_stem)
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"source estimate file not found: {f}")
    if len(files) == 2:
        values, lh, rh, tmin, tstep = _read_stc_pair(files, hemi)
    else:
        values, lh, rh, tmin, tstep = _read_stc_h5(files[0], hemi)
    if values.shape[0] == 0:
        raise ValueError(f"{files[0]}: no vertices" + (f" in hemisphere {hemi}" if hemi else ""))
    values = values[:, np.newaxis, :]
    _check_finite(values, [*(f"lh:{v}" for v in lh), *(f"rh:{v}" for v in rh)], files[0])
    sfreq = stc_sample_rate(tstep)
    return EMEGData(
        values=values,
        channel_names=[lh, rh],
        sample_rate=sfreq,
        t_start=_clean_time(tmin, sfreq),
        channel_space="source",
        sensor_layout=None,
        source=files[0],
    )


def _read_stc_pair(
    files: list[Path], hemi: str | None
) -> tuple[NDArray[np.float32], list, list, float, float]:
    """Read the hemispheres wanted from an ``.stc`` pair, each file on its own (a hemisphere job never
    loads the other hemisphere, and values go straight from the file's float32 to float32)."""
    wanted = {"lh": hemi in (None, "lh"), "rh": hemi in (None, "rh")}
    headers = {h: _stc_header(f) for h, f in zip(HEMIS, files, strict=True)}
    (tmin_l, tstep_l, _, n_l, _), (tmin_r, tstep_r, _, n_r, _) = headers["lh"], headers["rh"]
    if (tmin_l, tstep_l, n_l) != (tmin_r, tstep_r, n_r):
        raise ValueError(
            f"{files[1]}: times differ from {files[0]} ({n_r} samples from {tmin_r:g} s every {tstep_r:g} s "
            f"vs {n_l} from {tmin_l:g} s every {tstep_l:g} s)"
        )
    blocks, ids = [], {"lh": [], "rh": []}
    for h, f in zip(HEMIS, files, strict=True):
        if wanted[h]:
            _, _, vertices, n_times, offset = headers[h]
            data = np.memmap(f, dtype=">f4", mode="r", offset=offset, shape=(n_times, len(vertices)))
            blocks.append(np.ascontiguousarray(data.T, dtype=np.float32))
            del data
            ids[h] = vertices
    return np.concatenate(blocks, axis=0), ids["lh"], ids["rh"], tmin_l, tstep_l


def _stc_header(path: Path) -> tuple[float, float, list[int], int, int]:
    """(tmin s, tstep s, vertex ids, n_times, data offset) of an ``.stc`` file, checking its size.

    The format (big-endian): tmin and tstep as float32 milliseconds, the vertex count (uint32), the
    vertex ids (uint32), the number of time points (uint32), then float32 data, time-major.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = np.fromfile(f, dtype=">f4", count=2)
        count = np.fromfile(f, dtype=">u4", count=1)
        if len(head) < 2 or len(count) < 1 or 16 + 4 * int(count[0]) > size:
            raise ValueError(f"{path}: not a source estimate (.stc) file: header too short")
        vertices = np.fromfile(f, dtype=">u4", count=int(count[0]))
        n_times = np.fromfile(f, dtype=">u4", count=1)
    offset = 12 + 4 * len(vertices) + 4
    expected = offset + 4 * len(vertices) * int(n_times[0]) if len(n_times) else -1
    if size != expected or head[1] <= 0:
        raise ValueError(
            f"{path}: not a valid source estimate (.stc) file ({size} bytes; its header describes {expected})"
        )
    return (
        float(head[0]) / 1000.0,
        float(head[1]) / 1000.0,
        [int(v) for v in vertices],
        int(n_times[0]),
        offset,
    )


def _read_stc_h5(path: Path, hemi: str | None) -> tuple[NDArray[np.float32], list, list, float, float]:
    try:
        stc = mne.read_source_estimate(path)
    except Exception as e:  # MNE raises many types for a foreign file, RuntimeError without h5io
        raise ValueError(f"{path}: cannot read as an MNE source estimate: {e}") from e
    if not isinstance(stc, mne.SourceEstimate):
        raise ValueError(f"{path}: expected a surface source estimate (lh + rh), got {type(stc).__name__}")
    lh, rh = (list(map(int, v)) for v in stc.vertices)
    data = stc.data
    if hemi == "lh":
        data, rh = data[: len(lh)], []
    elif hemi == "rh":
        data, lh = data[len(lh) :], []
    return np.asarray(data, dtype=np.float32), lh, rh, float(stc.tmin), float(stc.tstep)


def read_emeg(
    path: str | os.PathLike,
    channel_space: str,
    hemi: str | None = None,
    *,
    condition: Condition = None,
    operator: str | os.PathLike | None = None,
) -> EMEGData:
    """Read EMEG for ``channel_space`` ``"sensor"`` (evoked or epochs FIF, the chosen ``condition``) or
    ``"source"``: a source estimate (stc pair or h5), or, with ``operator``, the evoked ``path`` projected
    through that source operator (:func:`read_projected_sources`)."""
    if channel_space == "sensor":
        if hemi not in (None, "scalp"):
            raise ValueError(f"hemi {hemi!r} makes no sense in sensor space (use none, or 'scalp')")
        return read_evoked(path, condition=condition)
    if channel_space == "source":
        if operator is not None:
            return read_projected_sources(path, operator, hemi=hemi, condition=condition)
        return read_source_estimate(path, hemi=hemi)
    raise ValueError(f"channel space must be 'sensor' or 'source', got {channel_space!r}")


def read_projected_sources(
    evoked_path: str | os.PathLike,
    operator_path: str | os.PathLike,
    *,
    hemi: str | None = None,
    condition: Condition = None,
) -> EMEGData:
    """Hexel time series of an evoked file through a source operator, formed a chunk at a time.

    Reads the evoked's chosen condition and the operator's rows of ``hemi`` (both hemispheres if None);
    ``values`` is a :class:`~kymata_core.io.projected.ProjectedSources`, which the gridsearch reads in
    chunks of hexels.

    Raises
    ------
    SourceOperatorError
        If the evoked lacks (or marks bad) a channel the operator was built for.
    """
    from kymata_core.io.projected import ProjectedSources
    from kymata_core.io.source_operator import SourceOperatorError, read_source_operator

    sensors = read_evoked(evoked_path, condition=condition)
    operator = read_source_operator(operator_path, hemi=hemi)
    missing = [name for name in operator.channel_names if name not in sensors.channel_names]
    if missing:
        raise SourceOperatorError(
            f"{evoked_path} lacks {len(missing)} channel(s) (or marks them bad) that the source operator "
            f"{operator_path} was built for: {missing[:8]}; rebuild the operator from this evoked"
        )
    rows = [sensors.channel_names.index(name) for name in operator.channel_names]
    return EMEGData(
        values=ProjectedSources(operator.matrix, sensors.values[rows]),
        channel_names=[list(operator.vertices[0]), list(operator.vertices[1])],
        sample_rate=sensors.sample_rate,
        t_start=sensors.t_start,
        channel_space="source",
        sensor_layout=None,
        source=Path(evoked_path),
    )


def source_estimate_files(path_or_stem: str | os.PathLike) -> list[Path]:
    """The files that make up a source estimate given as a path or a stem.

    ``stem-lh.stc`` or ``stem-rh.stc`` or a stem with an existing pair gives both ``.stc`` files;
    ``stem-stc.h5`` (or a stem with only that file) gives the ``.h5`` file.
    """
    p = Path(path_or_stem)
    name = p.name
    for suffix in ("-lh.stc", "-rh.stc"):
        if name.endswith(suffix):
            stem = p.with_name(name[: -len(suffix)])
            return [stem.with_name(stem.name + "-lh.stc"), stem.with_name(stem.name + "-rh.stc")]
    if name.endswith(".h5"):
        return [p]
    pair = [p.with_name(name + "-lh.stc"), p.with_name(name + "-rh.stc")]
    h5 = p.with_name(name + "-stc.h5")
    if not pair[0].exists() and h5.exists():
        return [h5]
    if not pair[0].exists() and not h5.exists():
        raise FileNotFoundError(f"source estimate not found: neither {pair[0]} nor {h5} exists")
    return pair


# ----------------------------------------------------------------------------------------- averaging


def grand_average(
    paths: Sequence[str | os.PathLike],
    channel_space: str,
    *,
    condition: Condition = None,
    n_reps: int = 1,
) -> EMEGData:
    """Average EMEG over participants, repetition by repetition.

    Each participant contributes exactly what its own gridsearch analyses: the first ``n_reps``
    repetitions of the chosen ``condition``. Repetition ``r`` of the average is the mean over
    participants of their repetition ``r``, so the average is analysed with the same ``n_reps``.
    Every file must have the same channels (sensor names, or vertex ids), sample rate and times. In
    sensor space, participants' bad channels may differ: the average keeps the channels that are good
    in every file (as ``mne.grand_average(..., drop_bads=True)``) and logs the ones it leaves out.

    Parameters
    ----------
    paths : sequence of path-like
        One EMEG file per participant.
    channel_space : {"sensor", "source"}
    condition : str, sequence of str, or None
        Sensor space: the condition to average (see :func:`read_evoked`).
    n_reps : int
        Repetitions to keep (source estimates have one).

    Returns
    -------
    EMEGData
        ``n_reps`` repetitions, named after the first participant's.

    Raises
    ------
    ValueError
        Naming the first file that differs from the first file, and what differs; a file with fewer
        than ``n_reps`` repetitions; or, in sensor space, when no channel is good in every file.
    """
    if not paths:
        raise ValueError("grand_average needs at least one input file")
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")

    def read(path: str | os.PathLike) -> EMEGData:
        # sensor space: every MEG/EEG channel, bad or not, so that files with other bads still line up
        if channel_space == "sensor":
            data = read_evoked(path, condition=condition, exclude_bads=False)
        else:
            data = read_emeg(path, channel_space)
        if data.n_reps < n_reps:
            raise ValueError(
                f"{path}: {data.n_reps} repetition(s) of {describe_condition(condition)}, but n_reps is {n_reps}"
            )
        return data

    first = read(paths[0])
    total = first.values[:, :n_reps].astype(np.float64)
    bads = set(first.info["bads"]) if first.info is not None else set()
    for p in paths[1:]:
        data = read(p)
        if data.channel_names != first.channel_names:
            what = "sensor names" if channel_space == "sensor" else "vertex ids"
            raise ValueError(
                f"{data.source}: {what} differ from {first.source} "
                f"({_describe_difference(first.flat_channel_names, data.flat_channel_names)})"
            )
        if data.sample_rate != first.sample_rate:
            raise ValueError(
                f"{data.source}: sample rate {data.sample_rate:g} Hz differs from {first.sample_rate:g} Hz in {first.source}"
            )
        if data.n_times != first.n_times or not np.isclose(data.t_start, first.t_start):
            raise ValueError(
                f"{data.source}: times differ from {first.source} ({data.n_times} samples from {data.t_start:g} s "
                f"vs {first.n_times} samples from {first.t_start:g} s)"
            )
        if data.info is not None:
            bads.update(data.info["bads"])
        total += data.values[:, :n_reps]
    mean = (total / len(paths)).astype(np.float32)
    channel_names, info, layout, sides = first.channel_names, first.info, first.sensor_layout, first.sensor_sides
    if channel_space == "sensor":
        keep = [i for i, name in enumerate(first.channel_names) if name not in bads]
        if not keep:
            raise ValueError(f"grand average of {len(paths)} files: no channel is good in all of them (bads: {sorted(bads)})")
        if bads:
            log.info("grand average: leaving out %d channel(s) bad in some participant: %s", len(bads), sorted(bads))
        mean = mean[keep]
        channel_names = [first.channel_names[i] for i in keep]
        info = mne.pick_info(first.info, keep)
        info["bads"] = []
        layout = guess_sensor_layout(info)
        sides = sensor_sides(info, layout) or None
    return EMEGData(
        values=mean,
        channel_names=channel_names,
        sample_rate=first.sample_rate,
        t_start=first.t_start,
        channel_space=channel_space,
        sensor_layout=layout,
        source=first.source,
        info=info,
        conditions=first.conditions[:n_reps] if first.conditions else None,
        sensor_sides=sides,
    )


def grand_average_projected(
    evoked_paths: Sequence[str | os.PathLike],
    operator_paths: Sequence[str | os.PathLike],
    *,
    condition: Condition = None,
    n_reps: int = 1,
) -> EMEGData:
    """The participants' hexel time series (evoked through each one's source operator), averaged.

    Repetition ``r`` is the mean over participants of their repetition ``r``, as :func:`grand_average`.
    Every operator must put its hexels on the same subject (the morph target), with the same hexels.
    The average is held in memory (hexels × repetitions × samples, float32); one participant's data at
    a time besides.

    Raises
    ------
    ValueError
        Naming the operator that is morphed differently, on another subject or other hexels, or the
        evoked file whose rate or times differ.
    """
    from kymata_core.io.source_operator import read_source_operator_header

    if len(evoked_paths) != len(operator_paths) or not evoked_paths:
        raise ValueError(
            f"grand_average_projected needs one source operator per evoked file, got {len(operator_paths)} "
            f"for {len(evoked_paths)}"
        )
    headers = [read_source_operator_header(p) for p in operator_paths]
    first_header = headers[0]
    for path, header in zip(operator_paths[1:], headers[1:], strict=True):
        if header.morphed != first_header.morphed or header.subject != first_header.subject:
            def describe(h):
                return f"{'morphed to' if h.morphed else 'unmorphed, on'} {h.subject!r}"

            raise ValueError(
                f"{path} is {describe(header)} but {operator_paths[0]} is {describe(first_header)}: the group average "
                "needs every participant's hexels on one common subject (morph them all to it)"
            )
    total, first = None, None
    for evoked, operator in zip(evoked_paths, operator_paths, strict=True):
        data = read_projected_sources(evoked, operator, condition=condition)
        if data.n_reps < n_reps:
            raise ValueError(f"{evoked}: {data.n_reps} repetition(s) of {describe_condition(condition)}, but n_reps is {n_reps}")
        if first is None:
            first = data
            total = np.zeros((data.n_channels, n_reps, data.n_times), dtype=np.float64)
        elif data.channel_names != first.channel_names:
            raise ValueError(f"{operator}: hexels differ from {operator_paths[0]}")
        elif data.sample_rate != first.sample_rate or data.n_times != first.n_times or not np.isclose(data.t_start, first.t_start):
            raise ValueError(
                f"{evoked}: sample rate or times differ from {evoked_paths[0]} ({data.n_times} samples at "
                f"{data.sample_rate:g} Hz from {data.t_start:g} s vs {first.n_times} at {first.sample_rate:g} Hz from "
                f"{first.t_start:g} s)"
            )
        total += data.values[:, :n_reps, :]
    assert first is not None and total is not None
    return EMEGData(
        values=(total / len(evoked_paths)).astype(np.float32),
        channel_names=first.channel_names,
        sample_rate=first.sample_rate,
        t_start=first.t_start,
        channel_space="source",
        sensor_layout=None,
        source=Path(evoked_paths[0]),
    )


# ----------------------------------------------------------------------------------------- writing


def write_evoked(data: EMEGData, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write sensor-space data as an MNE evoked file, one evoked per repetition (atomically).

    Each evoked's comment is its repetition's condition (``data.conditions``), or
    :data:`REPETITION_COMMENT` for all of them, so the file reads back as repetitions of one condition.

    Uses ``data.info`` when present; otherwise builds one from the channel names (``MEG…1`` are
    magnetometers, other ``MEG`` gradiometers, ``EEG`` electroencephalography, the rest misc).
    """
    if data.channel_space != "sensor":
        raise ValueError(f"write_evoked needs sensor-space data, got {data.channel_space!r}")
    path = Path(path)
    check_overwrite(path, overwrite)
    info = (
        data.info if data.info is not None else info_from_channel_names(data.channel_names, data.sample_rate)
    )
    if info.ch_names != list(data.channel_names):
        raise ValueError("write_evoked: data.info channels do not match data.channel_names")
    conditions = data.conditions or [REPETITION_COMMENT] * data.n_reps
    evokeds = [
        mne.EvokedArray(
            data.values[:, r, :].astype(np.float64),
            info,
            tmin=data.t_start,
            comment=conditions[r],
            nave=1,
            verbose="error",
        )
        for r in range(data.n_reps)
    ]
    with atomic_path(path, overwrite=overwrite, suffix="-ave.fif") as tmp, deterministic_fif_ids():
        mne.write_evokeds(tmp, evokeds, overwrite=True, verbose="error")
    return path


def write_source_estimate(data: EMEGData, stem: str | os.PathLike, *, overwrite: bool = False) -> list[Path]:
    """Write source-space data as an ``.stc`` pair ``stem-lh.stc`` / ``stem-rh.stc`` (atomically).

    ``stem`` may also be given as ``…-lh.stc`` or ``…-rh.stc``. Only the first repetition is written
    (average repetitions first). Returns the two paths.
    """
    if data.channel_space != "source":
        raise ValueError(f"write_source_estimate needs source-space data, got {data.channel_space!r}")
    stem = Path(stem)
    for suffix in ("-lh.stc", "-rh.stc"):
        if stem.name.endswith(suffix):
            stem = stem.with_name(stem.name[: -len(suffix)])
    targets = [stem.with_name(stem.name + "-lh.stc"), stem.with_name(stem.name + "-rh.stc")]
    for target in targets:
        check_overwrite(target, overwrite)
    lh, rh = (np.asarray(v, dtype=np.int64) for v in data.channel_names)
    stc = mne.SourceEstimate(
        data.values[:, 0, :].astype(np.float64),
        vertices=[lh, rh],
        tmin=data.t_start,
        tstep=1.0 / data.sample_rate,
        verbose="error",
    )
    # MNE writes the pair from one stem, adding -lh.stc and -rh.stc: given the stem of the left file's
    # temporary (which ends in -lh.stc), it writes the left file in place and the right one beside it,
    # which then becomes the right file's temporary.
    with (
        atomic_path(targets[0], overwrite=overwrite, suffix="-lh.stc") as tmp_lh,
        atomic_path(targets[1], overwrite=overwrite, suffix="-rh.stc") as tmp_rh,
    ):
        tmp_stem = str(tmp_lh)[: -len("-lh.stc")]
        written_rh = Path(tmp_stem + "-rh.stc")
        try:
            stc.save(tmp_stem, ftype="stc", overwrite=True, verbose="error")
            os.replace(written_rh, tmp_rh)
        finally:
            written_rh.unlink(missing_ok=True)
    return targets


def info_from_channel_names(names: Sequence[str], sample_rate: float) -> mne.Info:
    """An :class:`mne.Info` with channel types guessed from Vectorview/EEG-style names."""
    types = []
    for n in names:
        if _VECTORVIEW_MEG.match(n):
            types.append("mag" if n.endswith("1") else "grad")
        elif n.startswith("EEG"):
            types.append("eeg")
        else:
            types.append("misc")
    return mne.create_info(list(names), sample_rate, types, verbose="error")


def _fixed_machid() -> NDArray[np.int32]:
    """The machine id written into our FIF files: zeros, the same on every machine."""
    return np.zeros(2, dtype=np.int32)


@contextlib.contextmanager
def deterministic_fif_ids() -> Iterator[None]:
    """Make MNE write a fixed machine id into FIF files, so identical data give identical bytes.

    MNE stamps every FIF block id with the writing machine's MAC address, from
    ``mne._fiff.write.get_machid``; with a fixed ``meas_date`` this is the only machine-dependent
    content of an evoked file. MNE offers no argument for it, so inside the ``with`` block that
    function is replaced by one returning zeros, and the original is put back when the block ends
    (also on error). The replacement is process-wide: do not write FIF files from other threads
    meanwhile. Should a future MNE move the function, this does nothing (the files are then still
    valid, only not byte-identical across machines).
    """
    write_module = getattr(getattr(mne, "_fiff", None), "write", None)
    original = getattr(write_module, "get_machid", None)
    if original is None:
        yield
        return
    write_module.get_machid = _fixed_machid
    try:
        yield
    finally:
        write_module.get_machid = original


# ----------------------------------------------------------------------------------------- helpers


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"EMEG file not found: {path}")
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, expected an EMEG file")
    return path


def _evoked_mismatch(a: mne.Evoked, b: mne.Evoked) -> str | None:
    if a.ch_names != b.ch_names:
        return f"channels differ ({_describe_difference(a.ch_names, b.ch_names)})"
    if a.info["sfreq"] != b.info["sfreq"]:
        return f"sample rate {b.info['sfreq']:g} Hz vs {a.info['sfreq']:g} Hz"
    if len(a.times) != len(b.times) or a.first != b.first:
        return f"times differ ({len(b.times)} samples from {b.times[0]:g} s vs {len(a.times)} from {a.times[0]:g} s)"
    return None


def _describe_difference(a: Sequence, b: Sequence) -> str:
    if len(a) != len(b):
        return f"{len(b)} channels vs {len(a)}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return f"first difference at position {i}: {y!r} vs {x!r}"
    return "same channels"  # pragma: no cover


def _check_finite(values: NDArray, names: Sequence[str], path: Path) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        channel, rep, sample = np.argwhere(bad)[0]
        raise ValueError(
            f"{path}: non-finite value (NaN or inf) in channel {names[channel]!r}, repetition {rep}, sample {sample}"
        )


def _clean_time(t: float, rate: float) -> float:
    """Snap a start time to the nearest whole sample, which float32 storage may have missed."""
    samples = t * rate
    nearest = round(samples)
    return float(nearest / rate) if abs(samples - nearest) < 1e-3 else float(t)
