"""Benchmark of source space from an inverse operator against a full source estimate (issue: full cortex).

    .venv/bin/python benchmarks/bench_source_operator.py [--work DIR] [--seconds 402] [--keep]

Builds offline a participant (fake FreeSurfer subject, ico-4 source space, sphere head model, the
306 real Neuromag MEG channels of tests/data/real-meg, ad-hoc covariance, loose inverse) and a
common subject of 2 x 10242 hexels (ico-5), 402 s of real MEG noise at 200 Hz, and a transform.
Then runs, each as its own ``kymata-core`` process (wall time and peak RSS from the OS):

* ``operator``: the premorphed operator (20484 x 306), and the bytes it writes;
* ``gridsearch --operator`` for lh and rh: hexels formed on the fly from the sensors;
* ``gridsearch`` of the same data written as a full source estimate (.stc pair, streamed to disk
  here; 6.6 GB), for lh and rh;

with 400 splits of 1 s and 6 derangements, and checks that both give the same result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mne
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kymata_core.io.nkg import load_expression_set  # noqa: E402
from kymata_core.io.source_operator import read_source_operator  # noqa: E402
from kymata_core.planted import BandLimitedSignal, lengthen_recording  # noqa: E402
from tests.source_space import build_source_setup  # noqa: E402

RATE = 200.0


def run(argv: list[str]) -> tuple[float, float]:
    """Run ``kymata-core argv`` in a subprocess: (wall seconds, peak RSS MB of that process alone)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "kymata_core", *argv], stdout=log, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            log.seek(0)
            raise SystemExit(f"kymata-core {argv[0]} failed: {log.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def write_stc_streamed(stem: Path, operator, sensors: np.ndarray, t_start: float, block: int = 4000) -> list[Path]:
    """Write ``operator @ sensors`` as an .stc pair without holding it: the format is time-major."""
    paths = []
    n_lh = len(operator.vertices[0])
    for hemi, rows, vertices in (
        ("lh", slice(0, n_lh), operator.vertices[0]),
        ("rh", slice(n_lh, None), operator.vertices[1]),
    ):
        path = stem.with_name(f"{stem.name}-{hemi}.stc")
        with open(path, "wb") as f:
            np.array([1000 * t_start, 1000 / RATE], dtype=">f4").tofile(f)
            np.array([len(vertices)], dtype=">u4").tofile(f)
            np.asarray(vertices, dtype=">u4").tofile(f)
            np.array([sensors.shape[1]], dtype=">u4").tofile(f)
            for t0 in range(0, sensors.shape[1], block):
                (operator.matrix[rows] @ sensors[:, t0 : t0 + block]).T.astype(">f4").tofile(f)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--seconds", type=float, default=402.0, help="length of the recording (402: 400 splits)")
    parser.add_argument("--n-splits", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-source-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.monotonic()
        setup = build_source_setup(work / "setup", spacing="ico4", meg_only=True)
        print(f"participant and forward model: {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        morph = mne.compute_source_morph(setup.src, "sub", "target", subjects_dir=setup.subjects_dir, spacing=5,
                                         warn=False, verbose="error")  # fmt: skip
        morph.save(work / "sub-morph.h5", overwrite=True, verbose="error")
        print(f"morph to 2 x 10242 hexels: {time.monotonic() - started:.1f} s")

        info = setup.info.copy()
        with info._unlock():
            info["sfreq"], info["lowpass"] = RATE, RATE / 2
        evokeds = mne.read_evokeds(REPO / "tests/data/real-meg/neuromag-sample-ave.fif.gz", verbose="error")
        rows = [evokeds[0].ch_names.index(name) for name in info.ch_names]
        source = np.concatenate([ev.data[rows] for ev in evokeds], axis=1)
        sensors = lengthen_recording(source, int(args.seconds * RATE), seed=0).astype(np.float32)
        evoked = work / "p-ave.fif"
        mne.EvokedArray(sensors, info, tmin=-0.2, verbose="error").save(evoked, overwrite=True, verbose="error")
        signal = BandLimitedSignal(30.0, seed=1)
        np.save(work / "x.npy", signal.sampled(RATE, args.seconds).astype(np.float32))

        results: dict[str, dict] = {}
        operator_path = work / "operator.h5"
        wall, peak = run(["operator", "--evoked", str(evoked), "--inverse", str(setup.inverse_path), "--morph",
                          str(work / "sub-morph.h5"), "--out", str(operator_path), "--overwrite"])  # fmt: skip
        results["operator"] = {"wall_s": wall, "peak_mb": peak, "written_mb": operator_path.stat().st_size / 2**20}
        print(f"operator: {wall:.1f} s, peak {peak:.0f} MB, writes {results['operator']['written_mb']:.1f} MB")

        operator = read_source_operator(operator_path)
        started = time.monotonic()
        stc_files = write_stc_streamed(work / "p", operator, sensors, t_start=-0.2)
        stc_mb = sum(p.stat().st_size for p in stc_files) / 2**20
        print(f"full source estimate written for comparison: {stc_mb:.0f} MB in {time.monotonic() - started:.1f} s")
        results["stc"] = {"written_mb": stc_mb}

        common = ["--transform", str(work / "x.npy"), "--transform-rate", str(RATE), "--n-splits", str(args.n_splits),
                  "--n-derangements", "6", "--memory-budget-mb", "1024", "--overwrite"]  # fmt: skip
        for hemi in ("lh", "rh"):
            for kind, emeg in (("operator", ["--emeg", str(evoked), "--operator", str(operator_path)]),
                               ("stc", ["--emeg", str(stc_files[0])])):  # fmt: skip
                out = work / f"{kind}.{hemi}.nkg"
                wall, peak = run(["gridsearch", *emeg, "--hemi", hemi, "--out", str(out), *common])
                results[f"gridsearch {kind} {hemi}"] = {"wall_s": wall, "peak_mb": peak}
                print(f"gridsearch {hemi} from {kind}: {wall:.1f} s, peak {peak:.0f} MB")
            a = load_expression_set(work / f"operator.{hemi}.nkg").coo("left" if hemi == "lh" else "right")
            b = load_expression_set(work / f"stc.{hemi}.nkg").coo("left" if hemi == "lh" else "right")
            same = a.shape == b.shape and np.array_equal(a.coords, b.coords) and np.allclose(a.data, b.data, rtol=1e-3, atol=1e-3)
            results[f"agree {hemi}"] = bool(same)
            print(f"  {hemi}: operator and stc results agree: {same}")
        (work / "results.json").write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
