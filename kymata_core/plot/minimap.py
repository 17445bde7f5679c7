"""Minimaps beside the expression plot: which channels are significant, coloured by best transform.

* Sensor sets: a topographic map of the sensors at their layout positions (head seen from above,
  nose up). Significant sensors are coloured by their best transform; the rest are small grey dots.
* Hexel sets: each hemisphere's FreeSurfer ``fsaverage`` surface, drawn with matplotlib's
  ``plot_trisurf``, with every vertex coloured like its nearest hexel. This needs the fsaverage
  subject on disk (``minimap_kwargs["subjects_dir"]`` or ``$SUBJECTS_DIR``); it is never downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Circle, Polygon

from kymata_core.entities.expression import ExpressionSet, HexelExpressionSet, SensorExpressionSet
from kymata_core.entities.hemispheres import BLOCK_SCALP, HEMISPHERE_BLOCKS, hemi_of_block
from kymata_core.plot.colors import INSIGNIFICANT_COLOR

# camera (elevation, azimuth) per hemisphere block for each view name: (left, right)
_VIEWS: dict[str, dict[str, tuple[float, float]]] = {
    view: dict(zip(HEMISPHERE_BLOCKS, cameras, strict=True))
    for view, cameras in {
        "lateral": ((0, 180), (0, 0)),
        "medial": ((0, 0), (0, 180)),
        "rostral": ((0, 90), (0, 90)),
        "frontal": ((20, 120), (20, 60)),
        "caudal": ((0, -90), (0, -90)),
        "coronal": ((0, -90), (0, -90)),
        "parietal": ((20, -120), (20, -60)),
        "dorsal": ((90, -90), (90, -90)),
        "axial": ((90, -90), (90, -90)),
        "ventral": ((-90, -90), (-90, -90)),
        "sagittal": ((0, 0), (0, 0)),
    }.items()
}


def prepare(es: ExpressionSet, minimap_type: str, minimap_view: str | None, minimap_kwargs: dict):
    """Check what the minimap needs (before any drawing) and return an object that draws it.

    Raises
    ------
    FileNotFoundError
        Hexel sets: the fsaverage surfaces are missing.
    ValueError
        Sensor sets without a known layout; unknown views.
    NotImplementedError
        ``minimap_type="volumetric"``.
    """
    if isinstance(es, SensorExpressionSet):
        if es.sensor_layout is None:
            raise ValueError(
                "minimap: the SensorExpressionSet has no sensor layout, so sensor positions are unknown"
            )
        from kymata_core.io.layouts import layout_positions

        positions = layout_positions(es.sensors.tolist(), es.sensor_layout)
        if not positions:
            raise ValueError(f"minimap: no sensor positions are known for the layout {es.sensor_layout}")
        return _SensorMinimap(dict(positions))
    if isinstance(es, HexelExpressionSet):
        if minimap_type == "volumetric":
            raise NotImplementedError(
                "minimap_type='volumetric' is not implemented; use a surface such as 'inflated'"
            )
        view = minimap_view or "lateral"
        if view not in _VIEWS:
            raise ValueError(f"minimap_view must be one of {sorted(_VIEWS)}, got {view!r}")
        surfaces = locate_fsaverage_surfaces(minimap_type, minimap_kwargs.get("subjects_dir"))
        return _SurfaceMinimap(surfaces, view)
    raise TypeError(f"no minimap for a {type(es).__name__}")


def locate_fsaverage_surfaces(
    surface: str = "inflated", subjects_dir: str | os.PathLike | None = None
) -> dict:
    """Paths of ``fsaverage/surf/{lh,rh}.<surface>``.

    Parameters
    ----------
    surface : str
        FreeSurfer surface name.
    subjects_dir : path, optional
        FreeSurfer subjects directory; default the ``SUBJECTS_DIR`` environment variable.

    Raises
    ------
    FileNotFoundError
        Naming what is missing and how to get it.
    """
    where = subjects_dir if subjects_dir is not None else os.environ.get("SUBJECTS_DIR")
    how = (
        "A cortical minimap needs the FreeSurfer 'fsaverage' subject. Pass minimap_kwargs={'subjects_dir': DIR} "
        "or set SUBJECTS_DIR to a directory containing fsaverage/. To get it, run "
        "mne.datasets.fetch_fsaverage(subjects_dir=DIR) once (this downloads it, so it needs network access)."
    )
    if where is None:
        raise FileNotFoundError(f"No FreeSurfer subjects directory given (SUBJECTS_DIR is not set). {how}")
    paths = {
        block: Path(where) / "fsaverage" / "surf" / f"{hemi_of_block(block)}.{surface}"
        for block in HEMISPHERE_BLOCKS
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"fsaverage surface file(s) not found: {', '.join(missing)}. {how}")
    return paths


@dataclass
class _SensorMinimap:
    positions: dict[str, tuple[float, float]]

    def draw(self, fig: Figure | SubFigure, es, shown, colors, alpha_logp, latency_range, sensor_filter):
        ax = fig.add_subplot(1, 1, 1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        sensors = [
            s
            for s in es.sensors.tolist()
            if s in self.positions and (sensor_filter is None or sensor_filter(s))
        ]
        xy = np.array([self.positions[s] for s in sensors], dtype=float).reshape(-1, 2)
        if len(xy):
            centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
            radius = float(np.max(np.linalg.norm(xy - centre, axis=1))) * 1.08 or 1.0
        else:
            centre, radius = np.zeros(2), 1.0
        ax.add_patch(Circle(tuple(centre), radius, fill=False, color="#666666", linewidth=1))
        nose = [
            (centre[0] - 0.1 * radius, centre[1] + radius * 0.995),
            (centre[0], centre[1] + 1.12 * radius),
            (centre[0] + 0.1 * radius, centre[1] + radius * 0.995),
        ]
        ax.add_patch(Polygon(nose, closed=False, fill=False, color="#666666", linewidth=1))
        ax.scatter(xy[:, 0], xy[:, 1], s=4, color=INSIGNIFICANT_COLOR, linewidths=0, gid="minimap-sensors")
        found = es.best_points(BLOCK_SCALP, shown, latency_range)
        significant = found.logps <= alpha_logp
        best = dict(
            zip(found.channels[significant].tolist(), found.transforms[significant].tolist(), strict=True)
        )
        for t in shown:
            chosen = [s for s in sensors if best.get(s) == t]
            if chosen:
                pts = np.array([self.positions[s] for s in chosen], dtype=float)
                ax.scatter(pts[:, 0], pts[:, 1], s=30, color=colors[t], linewidths=0, gid=f"minimap:{t}")
        ax.set_xlim(centre[0] - 1.2 * radius, centre[0] + 1.2 * radius)
        ax.set_ylim(centre[1] - 1.2 * radius, centre[1] + 1.25 * radius)
        return [ax]


@dataclass
class _SurfaceMinimap:
    surfaces: dict[str, Path]
    view: str

    def draw(self, fig: Figure | SubFigure, es, shown, colors, alpha_logp, latency_range, sensor_filter):
        from scipy.spatial import cKDTree

        axes = []
        for row, hemi in enumerate(HEMISPHERE_BLOCKS):
            found = es.best_points(hemi, shown, latency_range)
            ax = fig.add_subplot(2, 1, row + 1, projection="3d")
            axes.append(ax)
            ax.set_axis_off()
            coords, faces = read_freesurfer_surface(self.surfaces[hemi])
            face_colors = np.tile(_rgba(INSIGNIFICANT_COLOR), (len(faces), 1))
            hexels = np.asarray(es.channels(hemi), dtype=np.int64)
            hexels = hexels[(hexels >= 0) & (hexels < len(coords))]
            if len(hexels):
                significant = found.logps <= alpha_logp
                colour_of = {
                    int(c): _rgba(colors[t])
                    for c, t in zip(found.channels[significant], found.transforms[significant], strict=True)
                }
                hexel_rgba = np.array([colour_of.get(int(h), _rgba(INSIGNIFICANT_COLOR)) for h in hexels])
                _, nearest = cKDTree(coords[hexels]).query(coords)
                vertex_rgba = hexel_rgba[nearest]
                face_colors = vertex_rgba[faces[:, 0]]
            surf = ax.plot_trisurf(
                coords[:, 0],
                coords[:, 1],
                coords[:, 2],
                triangles=faces,
                linewidth=0,
                antialiased=False,
                shade=False,
            )
            surf.set_facecolor(face_colors)
            surf.set_rasterized(True)
            surf.set_gid(f"minimap-surface:{hemi}")
            elev, azim = _VIEWS[self.view][hemi]
            ax.view_init(elev=elev, azim=azim)
            ax.set_box_aspect(np.ptp(coords, axis=0))
            ax.set_title(f"{hemi} hemisphere", fontsize="small")
        return axes


def read_freesurfer_surface(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 3) and triangles (m, 3) of a FreeSurfer triangle-format surface (``lh.inflated``, …).

    Read directly (the format is a 3-byte magic number, a comment line ending in two newlines, the
    vertex and face counts, then big-endian float32 coordinates and int32 vertex indices), so that
    nibabel, which :func:`mne.read_surface` needs for this, is not required.

    Raises
    ------
    ValueError
        If the file is not a FreeSurfer triangle surface, or is truncated.
    """
    data = Path(path).read_bytes()
    if data[:3] != b"\xff\xff\xfe":
        raise ValueError(f"{path}: not a FreeSurfer triangle surface file (wrong magic number)")
    end = data.find(b"\n\n", 3)
    if end < 0:
        raise ValueError(f"{path}: truncated FreeSurfer surface header")
    offset = end + 2
    try:
        n_vertices, n_faces = (int(x) for x in np.frombuffer(data, dtype=">i4", count=2, offset=offset))
        offset += 8
        coords = np.frombuffer(data, dtype=">f4", count=3 * n_vertices, offset=offset).reshape(-1, 3)
        offset += 12 * n_vertices
        faces = np.frombuffer(data, dtype=">i4", count=3 * n_faces, offset=offset).reshape(-1, 3)
    except ValueError as e:
        raise ValueError(f"{path}: truncated FreeSurfer surface file ({e})") from None
    if n_faces and (faces.min() < 0 or faces.max() >= n_vertices):
        raise ValueError(f"{path}: face indices out of range for {n_vertices} vertices")
    return coords.astype(np.float64), faces.astype(np.int64)


def _rgba(color: str) -> np.ndarray:
    from matplotlib.colors import to_rgba

    return np.asarray(to_rgba(color), dtype=float)
