"""Real MNE source-space objects built offline: fake FreeSurfer subjects, a forward model, an inverse.

Two subjects made of MNE's own icosahedron surfaces (written with nibabel): ``sub`` (the
participant; each hemisphere's "white" surface a sphere 35 mm across, 40 mm either side of the
midline) and ``target`` (the common subject to morph to), each with ``sphere`` and ``sphere.reg`` the
unit icosahedron, so a morph maps vertex to vertex of the sphere. With a sphere head model, the real
Neuromag VectorView channels of tests/data/real-meg (MEG and EEG, average reference), an ad-hoc noise
covariance and a loose-orientation inverse, this is the chain a lab runs, in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mne
import nibabel
import numpy as np

from tests.real_meg import NEUROMAG_FILE

SUBJECT = "sub"
TARGET = "target"
SNR = 4.0


@dataclass(frozen=True)
class SourceSetup:
    """Everything a source-space test needs, on disk under ``root``."""

    root: Path
    subjects_dir: Path
    info: mne.Info  # the evoked's channels (MEG + EEG with an average-reference projection)
    src: mne.SourceSpaces
    forward: mne.Forward
    inverse_path: Path
    inverse: mne.minimum_norm.InverseOperator

    def morph(self, spacing: int = 3) -> mne.SourceMorph:
        return mne.compute_source_morph(
            self.src, SUBJECT, TARGET, subjects_dir=self.subjects_dir, spacing=spacing, warn=False, verbose="error"
        )


def _write_subject(subjects_dir: Path, name: str, grade: int) -> None:
    ico = mne.read_bem_surfaces(Path(mne.__file__).parent / "data/icos.fif.gz", s_id=9000 + grade, verbose="error")
    unit = ico["rr"] / np.linalg.norm(ico["rr"], axis=1, keepdims=True)
    surf = subjects_dir / name / "surf"
    surf.mkdir(parents=True, exist_ok=True)
    for hemi, side in (("lh", -1.0), ("rh", 1.0)):
        for kind in ("sphere", "sphere.reg"):
            nibabel.freesurfer.write_geometry(surf / f"{hemi}.{kind}", unit * 100.0, ico["tris"])
        white = unit * 35.0 + np.array([side * 40.0, 0.0, 40.0])  # mm, in a head of radius 90 mm
        nibabel.freesurfer.write_geometry(surf / f"{hemi}.white", white, ico["tris"])


def evoked_info(meg_only: bool = False) -> mne.Info:
    """The real Neuromag channels: MEG, and EEG with an average-reference projection unless ``meg_only``."""
    evoked = mne.read_evokeds(NEUROMAG_FILE, condition=0, verbose="error")
    if meg_only:
        evoked.pick("meg")
    else:
        evoked.pick(["meg", "eeg"]).set_eeg_reference(projection=True, verbose="error")
    return evoked.info


def build_source_setup(
    root: Path, spacing: str = "ico3", meg_only: bool = False, info: mne.Info | None = None
) -> SourceSetup:
    """The setup on the real Neuromag channels, or on ``info``'s (EEG gets an average-reference projection)."""
    subjects_dir = root / "subjects"
    _write_subject(subjects_dir, SUBJECT, 5)
    _write_subject(subjects_dir, TARGET, 5)
    if info is None:
        info = evoked_info(meg_only)
    elif "eeg" in info.get_channel_types() and not meg_only:
        evoked = mne.EvokedArray(np.zeros((len(info.ch_names), 1)), info, verbose="error")
        info = evoked.set_eeg_reference(projection=True, verbose="error").info
    src = mne.setup_source_space(SUBJECT, spacing=spacing, subjects_dir=subjects_dir, add_dist=False, verbose="error")
    sphere = mne.make_sphere_model(r0=(0.0, 0.0, 0.04), head_radius=0.09, verbose="error")
    trans = mne.transforms.Transform("head", "mri")
    forward = mne.make_forward_solution(info, trans, src, sphere, meg=True, eeg=not meg_only and "eeg" in info.get_channel_types(), verbose="error")
    covariance = mne.make_ad_hoc_cov(info, verbose="error")
    inverse = mne.minimum_norm.make_inverse_operator(info, forward, covariance, loose=0.2, depth=0.8, verbose="error")
    inverse_path = root / f"{SUBJECT}-inv.fif"
    mne.minimum_norm.write_inverse_operator(inverse_path, inverse, overwrite=True, verbose="error")
    return SourceSetup(root, subjects_dir, info, src, forward, inverse_path, inverse)


def strongest_left_patch(setup: SourceSetup, radius: float = 0.01) -> tuple[int, np.ndarray]:
    """The left source the magnetometers see best (a radial one would be silent to MEG in a sphere) and
    the indices of the left sources within ``radius`` metres of it (a patch)."""
    fwd = mne.convert_forward_solution(setup.forward, force_fixed=True, surf_ori=True, verbose="error")
    vertices = fwd["src"][0]["vertno"]
    magnetometers = mne.pick_types(setup.info, meg="mag")
    centre = int(np.argmax(np.linalg.norm(fwd["sol"]["data"][magnetometers][:, : len(vertices)], axis=0)))
    rr = fwd["src"][0]["rr"]
    patch = np.flatnonzero(np.linalg.norm(rr[vertices] - rr[vertices[centre]], axis=1) < radius)
    return int(vertices[centre]), patch


def plant_in_patch(setup: SourceSetup, sensors: np.ndarray, source: np.ndarray, patch: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """``sensors`` plus the field of the left ``patch`` carrying the time course ``source``, through the
    forward model; scaled so the largest magnetometer signal is ``strength`` times the magnetometer noise."""
    fwd = mne.convert_forward_solution(setup.forward, force_fixed=True, surf_ori=True, verbose="error")
    gain = fwd["sol"]["data"][:, patch].sum(axis=1)
    magnetometers = mne.pick_types(setup.info, meg="mag")
    scale = strength * sensors[magnetometers].std() / np.abs(gain[magnetometers]).max()
    return sensors + scale * np.outer(gain, source)


def vertex_distance(setup: SourceSetup, a: int, b: int) -> float:
    """Metres between two vertices of the left white surface (the target subject's are the same, vertex for
    vertex, so this also measures morphed hexels)."""
    rr = setup.src[0]["rr"]
    return float(np.linalg.norm(rr[a] - rr[b]))
