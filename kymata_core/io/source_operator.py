"""The premorphed source operator: one linear map from a participant's sensors to the target hexels.

Labs have each participant's evoked response and an MNE inverse operator, not source estimates: a
full-cortex estimate of a 400 s recording at 1 kHz is ~33 GB. The hexel time series are linear in
the sensor data (for the minimum-norm family with the normal component: MNE, dSPM, sLORETA,
eLORETA), so the whole chain — projections, noise whitening, the inverse kernel, the surface-normal
component and the morph to a common subject — is one matrix ``M`` (hexels × channels). It is built
once per participant (:func:`build_source_operator`), stored in HDF5 (a few tens of MB), and the
gridsearch forms each chunk of hexels on the fly as ``M[chunk] @ sensors``
(:class:`kymata_core.io.projected.ProjectedSources`).

``M`` is found by applying the inverse, with :func:`mne.minimum_norm.apply_inverse` itself, to an
evoked whose data is the identity matrix (column ``j`` is sensor ``j`` alone): every step MNE applies
to real data is in it, exactly, and ``M @ data`` equals ``apply_inverse(data)`` followed by the morph.

File layout (HDF5): dataset ``operator`` (float32, hexels × channels, left-hemisphere rows first,
chunked by rows so a hemisphere's job reads only its rows), ``vertices_lh``, ``vertices_rh`` (int64),
``channel_names`` (UTF-8); attributes ``subject`` (of the hexels), ``morphed``, ``subject_from``,
``method``, ``snr``, ``lambda2``, ``nave``, ``orientation`` and ``provenance`` (JSON).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kymata_core.errors import KymataError

#: Inverse methods whose normal-component estimate is linear in the data.
SOURCE_METHODS = ("MNE", "dSPM", "sLORETA", "eLORETA")
#: The reference's signal-to-noise ratio: ``lambda2 = 1 / snr ** 2``.
DEFAULT_SNR = 4.0
DEFAULT_METHOD = "MNE"
ORIENTATION = "normal"
_ROW_CHUNK = 256


class SourceOperatorError(KymataError, ValueError):
    """An inverse operator, morph or evoked that cannot make a source operator; names the file and why."""


@dataclass(frozen=True)
class MorphSpec:
    """Morph the participant's source space to a common subject (:func:`mne.compute_source_morph`).

    Parameters
    ----------
    subject_to : str
        The target subject, e.g. ``"fsaverage"``.
    subjects_dir : str
        The FreeSurfer subjects directory holding both subjects.
    spacing : int
        The target's icosahedral spacing (5: 10242 hexels a hemisphere, the reference's).
    """

    subject_to: str
    subjects_dir: str
    spacing: int = 5


@dataclass
class SourceOperator:
    """A linear map from sensors to hexels, with everything needed to use and check it.

    Attributes
    ----------
    matrix : float32 array (hexels, channels)
        Left-hemisphere rows first, then right.
    vertices : (list of int, list of int)
        The hexel ids of each hemisphere's rows (vertex numbers of ``subject``).
    channel_names : list of str
        The sensors, in column order.
    subject : str
        The subject whose surface the hexels are on (the morph target, or the participant's own).
    morphed : bool
    attrs : dict
        ``subject_from``, ``method``, ``snr``, ``lambda2``, ``nave``, ``orientation``.
    provenance : dict
    """

    matrix: NDArray[np.float32]
    vertices: tuple[list[int], list[int]]
    channel_names: list[str]
    subject: str
    morphed: bool
    attrs: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_hexels(self) -> int:
        return self.matrix.shape[0]


def build_source_operator(
    evoked_path: str | os.PathLike,
    inverse_path: str | os.PathLike,
    *,
    condition: str | list[str] | None = None,
    snr: float = DEFAULT_SNR,
    method: str = DEFAULT_METHOD,
    morph: MorphSpec | str | os.PathLike | None = None,
) -> SourceOperator:
    """The premorphed operator of one participant: inverse (normal component), then morph.

    Parameters
    ----------
    evoked_path : path-like
        The participant's evoked file: its good brain channels, projections (e.g. the EEG average
        reference) and ``nave`` (of the chosen condition) are the ones the data will have.
    inverse_path : path-like
        An MNE inverse operator (``-inv.fif``) on a surface source space; fixed, loose or free
        orientation (the surface-normal component is taken, as the reference does).
    condition : str or list, optional
        The condition analysed (:mod:`kymata_core.io.conditions`), for its ``nave``.
    snr : float
        ``lambda2 = 1 / snr ** 2`` (the reference's default 4).
    method : {"MNE", "dSPM", "sLORETA", "eLORETA"}
    morph : MorphSpec, path or None
        Morph to a common subject, computed (``MorphSpec``) or read from a ``-morph.h5`` file; None keeps
        the participant's own source space.

    Raises
    ------
    SourceOperatorError
        An unknown method, a non-positive snr, a volume source space, channels the inverse needs that the
        evoked lacks or marks bad, or a morph that does not start from the inverse's source space.
    """
    import mne

    from kymata_core.io.emeg import read_evoked

    if method not in SOURCE_METHODS:
        raise SourceOperatorError(f"source method {method!r} is not one of {SOURCE_METHODS} (linear methods only)")
    if not snr > 0:
        raise SourceOperatorError(f"source snr must be positive, got {snr}")
    inverse = _read_inverse(inverse_path)
    evoked = read_evoked(evoked_path, condition=condition)
    needed = list(inverse["eigen_fields"]["col_names"])
    missing = [name for name in needed if name not in evoked.channel_names]
    if missing:
        raise SourceOperatorError(
            f"{inverse_path} uses {len(missing)} channel(s) that are not good brain channels of {evoked_path}: "
            f"{missing[:8]}{' ...' if len(missing) > 8 else ''} (bad, or absent); the inverse and the evoked must "
            "agree on the channels: recompute the inverse without them, or do not mark them bad"
        )
    picks = [evoked.info.ch_names.index(name) for name in needed]
    info = mne.pick_info(evoked.info, picks)
    nave = _nave(evoked_path, condition)
    identity = mne.EvokedArray(np.eye(len(needed)), info, tmin=0.0, nave=nave, verbose="error")
    fixed = inverse["source_ori"] == mne.io.constants.FIFF.FIFFV_MNE_FIXED_ORI
    lambda2 = 1.0 / snr**2
    try:
        kernel = mne.minimum_norm.apply_inverse(
            identity, inverse, lambda2=lambda2, method=method, pick_ori=None if fixed else ORIENTATION, verbose="error"
        )
    except (ValueError, RuntimeError) as e:
        raise SourceOperatorError(f"{inverse_path}: cannot apply it to {evoked_path}'s channels: {e}") from None
    matrix = kernel.data
    vertices = [np.asarray(v, dtype=np.int64) for v in kernel.vertices]
    subject_from = str(inverse["src"][0].get("subject_his_id") or "")
    subject, morphed = subject_from, False
    if morph is not None:
        source_morph = _source_morph(morph, inverse, subject_from, inverse_path)
        _check_morph_start(source_morph, vertices, inverse_path)
        matrix = source_morph.morph_mat @ matrix
        vertices = [np.asarray(v, dtype=np.int64) for v in source_morph.vertices_to]
        subject, morphed = str(source_morph.subject_to), True
    return SourceOperator(
        matrix=np.ascontiguousarray(matrix, dtype=np.float32),
        vertices=(vertices[0].tolist(), vertices[1].tolist()),
        channel_names=needed,
        subject=subject,
        morphed=morphed,
        attrs={
            "subject_from": subject_from,
            "method": method,
            "snr": float(snr),
            "lambda2": lambda2,
            "nave": int(nave),
            "orientation": ORIENTATION,
        },
    )


def _read_inverse(path: str | os.PathLike):
    import mne

    if not Path(path).is_file():
        raise FileNotFoundError(f"inverse operator not found: {path}")
    try:
        inverse = mne.minimum_norm.read_inverse_operator(path, verbose="error")
    except Exception as e:  # MNE raises many types for a file that is not an inverse operator
        raise SourceOperatorError(f"{path}: cannot read as an MNE inverse operator: {e}") from None
    kinds = {s["type"] for s in inverse["src"]}
    if kinds != {"surf"} or len(inverse["src"]) != 2:
        raise SourceOperatorError(
            f"{path}: the inverse is on a {'/'.join(sorted(kinds))} source space; hexels need a surface source space "
            "of two hemispheres"
        )
    return inverse


def _nave(evoked_path: str | os.PathLike, condition) -> int:
    import mne

    from kymata_core.io.conditions import select_recordings
    from kymata_core.io.emeg_shape import evoked_entries

    path = Path(evoked_path)
    if path.name.endswith(("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz")):
        return 1  # each epoch is one presentation
    chosen = select_recordings([e.comment for e in evoked_entries(path)], condition, path)
    evoked = mne.read_evokeds(path, condition=chosen[0], verbose="error")
    return int(evoked.nave)


def _source_morph(morph: MorphSpec | str | os.PathLike, inverse, subject_from: str, inverse_path):
    import mne

    if isinstance(morph, MorphSpec):
        if not subject_from:
            raise SourceOperatorError(f"{inverse_path}: the source space does not name its subject, so it cannot be morphed")
        try:
            return mne.compute_source_morph(
                inverse["src"],
                subject_from=subject_from,
                subject_to=morph.subject_to,
                subjects_dir=morph.subjects_dir,
                spacing=morph.spacing,
                warn=False,
                verbose="error",
            )
        except Exception as e:  # missing FreeSurfer files, an unknown subject, ...
            raise SourceOperatorError(
                f"cannot morph {inverse_path}'s source space ({subject_from}) to {morph.subject_to} in "
                f"{morph.subjects_dir}: {e}"
            ) from None
    path = Path(morph)
    if not path.is_file():
        raise FileNotFoundError(f"source morph not found: {path}")
    try:
        return mne.read_source_morph(path)
    except Exception as e:
        raise SourceOperatorError(f"{path}: cannot read as an MNE source morph: {e}") from None


def _check_morph_start(source_morph, vertices: list[NDArray], inverse_path) -> None:
    if getattr(source_morph, "kind", "surface") != "surface" or source_morph.morph_mat is None:
        raise SourceOperatorError("the source morph must be a surface morph with a morph matrix")
    start = [np.asarray(v) for v in (source_morph.src_data or {}).get("vertices_from", [])]
    if len(start) != 2 or any(not np.array_equal(a, b) for a, b in zip(start, vertices, strict=True)):
        raise SourceOperatorError(
            f"the source morph does not start from {inverse_path}'s source space "
            f"({[len(v) for v in start]} vertices vs {[len(v) for v in vertices]})"
        )


# ----------------------------------------------------------------------------------------- files


def write_source_operator(
    operator: SourceOperator, path: str | os.PathLike, *, provenance: Mapping[str, Any] | None = None, overwrite: bool = False
) -> Path:
    """Write ``operator`` as HDF5 (see the module docstring), atomically; same content, same bytes."""
    import h5py

    from kymata_core.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        rows = max(1, min(_ROW_CHUNK, operator.n_hexels))
        f.create_dataset(
            "operator", data=operator.matrix, chunks=(rows, operator.matrix.shape[1]), track_times=False
        )
        for hemi, ids in zip(("lh", "rh"), operator.vertices, strict=True):
            f.create_dataset(f"vertices_{hemi}", data=np.asarray(ids, dtype=np.int64), track_times=False)
        f.create_dataset(
            "channel_names", data=operator.channel_names, dtype=h5py.string_dtype("utf-8"), track_times=False
        )
        f.attrs["subject"] = operator.subject
        f.attrs["morphed"] = bool(operator.morphed)
        for key, value in operator.attrs.items():
            f.attrs[key] = value
        f.attrs["provenance"] = json.dumps(dict(provenance or operator.provenance), sort_keys=True)
    return path


@dataclass(frozen=True)
class SourceOperatorHeader:
    """What a source operator file describes, without its matrix."""

    n_lh: int
    n_rh: int
    channel_names: list[str]
    subject: str
    morphed: bool
    attrs: dict[str, Any]

    def n_hexels(self, hemi: str | None = None) -> int:
        return {"lh": self.n_lh, "rh": self.n_rh}.get(hemi, self.n_lh + self.n_rh) if hemi else self.n_lh + self.n_rh


def read_source_operator_header(path: str | os.PathLike) -> SourceOperatorHeader:
    """The shape, channels, subject and settings of a source operator file (not its matrix)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            return SourceOperatorHeader(
                n_lh=int(f["vertices_lh"].shape[0]),
                n_rh=int(f["vertices_rh"].shape[0]),
                channel_names=list(f["channel_names"].asstr()[()]),
                subject=str(attrs.pop("subject")),
                morphed=bool(attrs.pop("morphed")),
                attrs=attrs,
            )
    except FileNotFoundError:
        raise
    except Exception as e:  # h5py raises OSError/KeyError for a damaged or foreign file
        raise SourceOperatorError(f"{path}: not a source operator file: {type(e).__name__}: {e}") from None


def read_source_operator(path: str | os.PathLike, hemi: str | None = None) -> SourceOperator:
    """Read a source operator, only ``hemi``'s rows if given (the other hemisphere's id list is empty)."""
    import h5py

    if hemi not in (None, "lh", "rh"):
        raise ValueError(f"hemi must be 'lh', 'rh' or None, got {hemi!r}")
    header = read_source_operator_header(path)
    rows = {"lh": slice(0, header.n_lh), "rh": slice(header.n_lh, header.n_lh + header.n_rh)}.get(hemi, slice(None))
    try:
        with h5py.File(path, "r") as f:
            matrix = f["operator"][rows]
            lh = f["vertices_lh"][()].tolist() if hemi in (None, "lh") else []
            rh = f["vertices_rh"][()].tolist() if hemi in (None, "rh") else []
            provenance = json.loads(header.attrs.get("provenance", "{}"))
    except Exception as e:
        raise SourceOperatorError(f"{path}: not a source operator file: {type(e).__name__}: {e}") from None
    if matrix.shape != (len(lh) + len(rh), len(header.channel_names)) or not np.isfinite(matrix).all():
        raise SourceOperatorError(f"{path}: the operator's shape or values are damaged")
    attrs = {k: v for k, v in header.attrs.items() if k != "provenance"}
    return SourceOperator(
        np.asarray(matrix, dtype=np.float32), (lh, rh), header.channel_names, header.subject, header.morphed, attrs, provenance
    )
