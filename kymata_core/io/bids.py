"""A study in BIDS: participants, continuous recordings, their presentations, and mne-bids-pipeline output.

The Kymata design presents one long stimulus several times. From a BIDS dataset (read with
``mne-bids``) each participant's recording is cut into its presentations — one epoch per trigger,
over the stimulus and margins either side — filtered as configured, with the dataset's bad channels
left out, and written as the evoked file the gridsearch reads: the presentations averaged, or kept as
repetitions. With ``derivatives`` (mne-bids-pipeline's output), the participants' evoked files and
inverse operators are taken from there instead.

Participants are named after their BIDS label with its prefix, ``sub-01``, in the results.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kymata_core.errors import KymataError

#: The comment of the evoked(s) written from a BIDS recording: the analysed condition.
PRESENTATION_COMMENT = "presentation"
SUBJECT_PREFIX = "sub-"


class BidsError(KymataError, ValueError):
    """A BIDS dataset that does not hold what the configuration asks for; names the entity or file."""


@dataclass(frozen=True)
class BidsSpec:
    """Where a study's recordings are in a BIDS dataset.

    Parameters
    ----------
    root : str
        The dataset's root folder.
    task : str
    session, run, acquisition : str, optional
    datatype : {"meg", "eeg"}
    derivatives : str, optional
        mne-bids-pipeline's output folder (its ``derivatives/mne-bids-pipeline``), to take evoked files
        and inverse operators from.
    """

    root: str
    task: str
    session: str | None = None
    run: str | None = None
    acquisition: str | None = None
    datatype: str = "meg"
    derivatives: str | None = None

    def path(self, participant: str, *, root: str | None = None, suffix: str | None = None, extension: str | None = None):
        """The :class:`mne_bids.BIDSPath` of a participant's recording (or, with ``root``/``suffix``, a derivative)."""
        from mne_bids import BIDSPath

        return BIDSPath(
            subject=label(participant),
            session=self.session,
            task=self.task,
            run=self.run,
            acquisition=self.acquisition,
            datatype=self.datatype,
            root=root or self.root,
            suffix=suffix or self.datatype,
            extension=extension,
            check=root is None,
        )

    def derivative(self, participant: str, suffix: str) -> str:
        """A participant's mne-bids-pipeline file: ``suffix`` ``"ave"`` (evoked) or ``"inv"`` (inverse operator)."""
        assert self.derivatives is not None
        return str(self.path(participant, root=self.derivatives, suffix=suffix, extension=".fif").fpath)


def label(participant: str) -> str:
    """The BIDS subject label of a participant id (``sub-01`` → ``01``)."""
    return participant[len(SUBJECT_PREFIX) :] if participant.startswith(SUBJECT_PREFIX) else participant


def participant_id(subject: str) -> str:
    """The participant id of a BIDS subject label (``01`` → ``sub-01``)."""
    return subject if subject.startswith(SUBJECT_PREFIX) else SUBJECT_PREFIX + subject


def bids_participants(root: str | os.PathLike, listed: Sequence[str] | None = None) -> list[str]:
    """The study's participant ids: ``listed`` (labels or ids), else ``participants.tsv``, else the ``sub-*`` folders.

    Raises
    ------
    BidsError
        If the root is not a folder, or a listed participant has no folder in it.
    """
    root = Path(root)
    if not root.is_dir():
        raise BidsError(f"BIDS root {root} is not a folder")
    folders = sorted(p.name for p in root.glob(f"{SUBJECT_PREFIX}*") if p.is_dir())
    if listed:
        ids = [participant_id(str(p)) for p in listed]
        missing = [p for p in ids if p not in folders]
        if missing:
            raise BidsError(f"participant(s) {missing} not in the BIDS dataset {root} (it has {folders})")
        return ids
    table = root / "participants.tsv"
    if table.is_file():
        with table.open(newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        ids = [participant_id(row["participant_id"].strip()) for row in rows if row.get("participant_id", "").strip()]
        if ids:
            return ids
    if not folders:
        raise BidsError(f"no participants in the BIDS dataset {root} (no participants.tsv, no sub-* folders)")
    return folders


_SIDECARS = (".json", ".tsv")


def recording(spec: BidsSpec, participant: str):
    """The :class:`mne_bids.BIDSPath` of a participant's recording, checked to exist, with a message
    naming the entity that is missing."""
    from mne_bids import get_entity_vals

    bids_path = spec.path(participant)
    matches = [m for m in bids_path.match() if m.extension not in _SIDECARS]
    if matches:
        return matches[0]
    root = Path(spec.root)
    entities = {"task": spec.task, "session": spec.session, "run": spec.run, "acquisition": spec.acquisition}
    subject_dir = root / participant_id(participant)
    for key, value in entities.items():
        if value is None:
            continue
        available = get_entity_vals(subject_dir if subject_dir.is_dir() else root, key)
        if str(value) not in available:
            raise BidsError(
                f"{participant_id(participant)} has no recording with {key} {value!r} in {root} "
                f"(its {key}s: {available or 'none'})"
            )
    raise BidsError(f"no {spec.datatype} recording of {participant_id(participant)} matches {bids_path.basename} in {root}")


# ----------------------------------------------------------------------------------------- presentations


@dataclass(frozen=True)
class Presentations:
    """Where a recording's presentations start, in samples of the raw recording."""

    onsets: np.ndarray
    sample_rate: float
    first_sample: int
    n_samples: int
    source: str  # "events.tsv" or the stim channel's name


def find_presentations(
    raw, trigger: int | str, *, event_id: dict[str, int] | None = None, stim_channel: str | None = None
) -> Presentations:
    """The onsets of every presentation: events with ``trigger`` (an event value, or an event name).

    Events come from the recording's annotations (``read_raw_bids`` makes them from ``events.tsv``, and
    ``event_id`` maps their names to values) when it has any and no ``stim_channel`` is given; else from
    ``stim_channel`` (or MNE's default stimulus channel).

    Raises
    ------
    BidsError
        If no event has the trigger, listing the values and names there are.
    """
    import mne

    name = Path(raw.filenames[0]).name
    if len(raw.annotations) and stim_channel is None:
        mapping = dict(event_id or {})
        for description in sorted(set(raw.annotations.description)):
            mapping.setdefault(description, 100_000 + len(mapping))  # an unnumbered event name
        events, _ = mne.events_from_annotations(raw, event_id=mapping, verbose="error")
        source = "events.tsv"
        wanted = mapping.get(trigger) if isinstance(trigger, str) else int(trigger)
        available = [f"{n} ({v})" if v < 100_000 else n for n, v in sorted(mapping.items(), key=lambda kv: kv[1])]
    else:
        try:
            events = mne.find_events(raw, stim_channel=stim_channel, shortest_event=1, verbose="error")
        except ValueError as e:
            raise BidsError(f"{name}: no events file and no stimulus channel to find triggers in ({e})") from None
        source = stim_channel or "the stimulus channel"
        wanted = trigger if isinstance(trigger, int) else None
        available = sorted({int(v) for v in events[:, 2]})
    onsets = events[events[:, 2] == wanted, 0] if wanted is not None else np.empty(0, dtype=int)
    if onsets.size == 0:
        raise BidsError(f"{name}: no event with the trigger {trigger!r} in {source} (there are: {available})")
    return Presentations(np.asarray(onsets, dtype=np.int64), float(raw.info["sfreq"]), int(raw.first_samp), raw.n_times, source)


def presentation_epochs(
    raw,
    presentations: Presentations,
    *,
    duration: float,
    before: float,
    after: float,
    path: str,
) -> tuple[np.ndarray, float]:
    """``(presentations, channels, samples)`` of data from ``before`` s before each onset to ``after`` s after
    the stimulus ends, and the first sample's time (s, relative to the trigger).

    Raises
    ------
    BidsError
        If a presentation is cut short by the end (or start) of the recording, naming it and by how much.
    """
    starts, n_samples, first = presentation_starts(presentations, duration=duration, before=before, after=after, path=path)
    return np.stack([raw.get_data(start=start, stop=start + n_samples) for start in starts]), first / presentations.sample_rate


def presentation_starts(
    presentations: Presentations, *, duration: float, before: float, after: float, path: str
) -> tuple[list[int], int, int]:
    """``(first sample of each epoch, samples per epoch, offset of the first sample from the trigger)``.

    Raises
    ------
    BidsError
        If a presentation is cut short by the end (or start) of the recording, naming it and by how much.
    """
    rate = presentations.sample_rate
    offset = -int(round(before * rate))
    n_samples = int(round((before + duration + after) * rate))
    starts = []
    for k, onset in enumerate(presentations.onsets):
        start = int(onset) - presentations.first_sample + offset
        if start < 0 or start + n_samples > presentations.n_samples:
            short = max(-start, start + n_samples - presentations.n_samples) / rate
            raise BidsError(
                f"{path}: presentation {k + 1} of {len(presentations.onsets)} (trigger at "
                f"{(int(onset) - presentations.first_sample) / rate:.2f} s) is {short:.2f} s shorter than the "
                f"stimulus ({duration:g} s) plus the margins ({before:g} s before, {after:g} s after)"
            )
        starts.append(start)
    return starts, n_samples, offset


@dataclass(frozen=True)
class EpochSettings:
    """How a recording becomes the evoked file the gridsearch reads.

    Parameters
    ----------
    trigger : int or str
        The event value (or events.tsv trial_type name) that marks the start of a presentation.
    duration : float
        The stimulus length, s.
    before, after : float
        Margins kept before the trigger and after the stimulus ends, s.
    l_freq, h_freq : float, optional
        Band-pass filter edges (Hz; None: no high-pass / low-pass), applied to the continuous recording.
    keep_repetitions : bool
        Write each presentation as a repetition (the same comment), instead of their average.
    stim_channel : str, optional
        Find triggers on this channel instead of the events file.
    bad_channels : tuple of str
        Channels to leave out besides those the dataset marks bad.
    """

    trigger: int | str
    duration: float
    before: float = 0.5
    after: float = 1.5
    l_freq: float | None = None
    h_freq: float | None = None
    keep_repetitions: bool = False
    stim_channel: str | None = None
    bad_channels: tuple[str, ...] = ()


def presentation_evokeds(spec: BidsSpec, participant: str, settings: EpochSettings) -> list:
    """The evoked(s) of one participant's recording: its presentations averaged, or each as a repetition.

    Every evoked's comment is :data:`PRESENTATION_COMMENT`; ``nave`` counts the presentations averaged.
    MEG and EEG channels are kept, bad ones (the dataset's ``channels.tsv`` and ``bad_channels``) marked bad.

    Raises
    ------
    BidsError
        A missing recording (naming the entity), no event with the trigger, or a presentation cut short.
    """
    import mne
    from mne_bids import read_raw_bids

    from kymata_core.io.sensors import brain_channel_picks

    bids_path = recording(spec, participant)
    path = Path(bids_path.fpath)
    raw, event_id = read_raw_bids(bids_path, return_event_dict=True, verbose="error")
    unknown = [ch for ch in settings.bad_channels if ch not in raw.ch_names]
    if unknown:
        raise BidsError(f"{path.name}: bad channel(s) {unknown} are not channels of the recording")
    raw.info["bads"] = sorted(set(raw.info["bads"]) | set(settings.bad_channels))
    presentations = find_presentations(raw, settings.trigger, event_id=event_id, stim_channel=settings.stim_channel)
    picks = brain_channel_picks(raw.info, exclude_bads=False)
    if settings.l_freq is not None or settings.h_freq is not None:
        raw.load_data(verbose="error")
        raw.filter(settings.l_freq, settings.h_freq, picks=picks, verbose="error")
    data, t_start = presentation_epochs(
        raw.copy().pick(picks), presentations, duration=settings.duration, before=settings.before,
        after=settings.after, path=path.name,
    )  # fmt: skip
    info = mne.pick_info(raw.info, picks)
    if settings.keep_repetitions:
        return [
            mne.EvokedArray(epoch, info, tmin=t_start, comment=PRESENTATION_COMMENT, nave=1, verbose="error")
            for epoch in data
        ]
    return [mne.EvokedArray(data.mean(axis=0), info, tmin=t_start, comment=PRESENTATION_COMMENT, nave=len(data), verbose="error")]


def planned_presentations(spec: BidsSpec, participant: str, settings: EpochSettings):
    """The shape of the evoked file :func:`presentation_evokeds` will write, from the recording's header and
    events only, and the number of presentations: ``(EMEGShape, n_presentations)``.

    Raises
    ------
    BidsError
        A missing recording, no event with the trigger, or a presentation cut short (as the job would).
    """
    from mne_bids import read_raw_bids

    from kymata_core.io.emeg_shape import EMEGShape
    from kymata_core.io.sensors import brain_channel_picks

    bids_path = recording(spec, participant)
    raw, event_id = read_raw_bids(bids_path, return_event_dict=True, verbose="error")
    bads = set(raw.info["bads"]) | set(settings.bad_channels)
    presentations = find_presentations(raw, settings.trigger, event_id=event_id, stim_channel=settings.stim_channel)
    _, n_times, first = presentation_starts(
        presentations, duration=settings.duration, before=settings.before, after=settings.after,
        path=Path(bids_path.fpath).name,
    )  # fmt: skip
    rate = presentations.sample_rate
    picks = brain_channel_picks(raw.info, exclude=sorted(bads))
    n_reps = len(presentations.onsets) if settings.keep_repetitions else 1
    return EMEGShape(len(picks), n_reps, n_times, rate, first / rate), len(presentations.onsets)
