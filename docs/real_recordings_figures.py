"""Draw the figures of docs/real-recordings.md: a transform planted in each MEG system's real noise.

    .venv/bin/python docs/real_recordings_figures.py [--out docs/images]

For each recording in tests/data/real-meg (Neuromag at 600.614990234375 Hz, CTF at 480 Hz, KIT at
1000 Hz), 62 s of its real noise (lengthened from the few seconds in the file) carry one transform
planted at 80 ms in three left-side sensors and another at 150 ms in three right-side ones; the
evoked file keeps every channel of the recording (reference, stimulus, misc). The transforms are
given at 1000 Hz. Each is searched with ``kymata-core gridsearch`` at 200 Hz (160 Hz for CTF) and the
two results drawn with ``kymata-core plot expression``: every sensor on its side of the head.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import mne
import numpy as np

from kymata_core.cli import main as kymata_core
from kymata_core.io.sensors import brain_channel_picks, guess_sensor_layout, sensor_sides
from kymata_core.planted import BandLimitedSignal, lengthen_recording, plant

REAL_MEG = Path(__file__).resolve().parents[1] / "tests/data/real-meg"
SYSTEMS = {  # name: (file, resample, title)
    "neuromag": ("neuromag-sample-ave.fif.gz", "200", "Neuromag VectorView, 600.615 Hz"),
    "ctf": ("ctf-comp-raw.fif", "160", "CTF 275, 480 Hz"),
    "kit": ("kit-raw.fif", "200", "KIT 157, 1000 Hz"),
}
EFFECTS = {"left80": ("left", 0.08, 1), "right150": ("right", 0.15, 2)}  # name: (side, latency s, seed)
SECONDS = 62.0


def recording(name: str) -> tuple[np.ndarray, mne.Info]:
    path = REAL_MEG / SYSTEMS[name][0]
    if name == "neuromag":
        evokeds = mne.read_evokeds(path, verbose="error")
        return np.concatenate([ev.data for ev in evokeds], axis=1), evokeds[0].info
    raw = mne.io.read_raw_fif(path, verbose="error")
    return raw.get_data(), raw.info


def draw(name: str, out: Path, work: Path) -> Path:
    data, info = recording(name)
    rate = float(info["sfreq"])
    brain = brain_channel_picks(info)
    picked = mne.pick_info(info, brain)
    sides = sensor_sides(picked, guess_sensor_layout(picked))
    rng = np.random.default_rng(0)
    full = rng.standard_normal((len(info.ch_names), int(SECONDS * rate))) * np.abs(data[brain]).max()
    noise = lengthen_recording(data[brain], full.shape[1], seed=1)
    shards = []
    for effect, (side, latency, seed) in EFFECTS.items():
        rows = [i for i, ch in enumerate(picked.ch_names) if sides.get(ch) == side]
        chosen = [rows[len(rows) // 3], rows[len(rows) // 2], rows[2 * len(rows) // 3]]
        signal = BandLimitedSignal(cutoff_hz=30.0, seed=seed)
        noise = plant(noise, chosen, signal, sample_rate=rate, t_start=-0.2, latency=latency, snr=0.5)
        np.save(work / f"{effect}.npy", signal.sampled(1000.0, SECONDS).astype(np.float32))
    full[brain] = noise
    emeg = work / f"{name}-ave.fif"
    mne.EvokedArray(full, info, tmin=-0.2, comment="stimulus", verbose="error").save(emeg, overwrite=True, verbose="error")
    for effect in EFFECTS:
        shard = work / f"{name}-{effect}.nkg"
        argv = [
            "gridsearch", "--emeg", str(emeg), "--hemi", "scalp", "--transform", str(work / f"{effect}.npy"),
            "--transform-rate", "1000", "--resample", SYSTEMS[name][1], "--n-splits", "60",
            "--stimulus-delivery-latency", "0", "--out", str(shard), "--overwrite",
        ]  # fmt: skip
        if kymata_core(argv) != 0:
            raise SystemExit(f"gridsearch of {name} failed")
        shards.append(str(shard))
    combined = work / f"{name}.nkg"
    kymata_core(["combine", "--out", str(combined), "--overwrite", *shards])
    figure = out / f"real-{name}-expression.png"
    options = json.dumps({"title": f"{SYSTEMS[name][2]}: left80 at 80 ms on the left, right150 at 150 ms on the right"})
    kymata_core(["plot", "expression", "--expression", str(combined), "--options", options, "--out", str(figure), "--overwrite"])
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name in SYSTEMS:
            print(draw(name, args.out, Path(work)))


if __name__ == "__main__":
    main()
