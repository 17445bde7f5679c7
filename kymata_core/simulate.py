"""A synthetic Kymata study with known ground truth, for the demo workflow and the tests.

Each transform is a smooth random signal (low-pass filtered white noise). Each participant's EMEG
is coloured noise plus, at the planted channels, copies of transforms delayed by the planted
latency. The delay is exactly the one the gridsearch tests: EMEG at trigger time ``τ`` carries the
transform at stimulus time ``τ − latency − stimulus_delivery_latency``, so a gridsearch run with
the same ``stimulus_delivery_latency`` finds the effect at ``latency``.

:func:`simulate_study` writes, under ``out_dir``::

    emeg/{participant}-ave.fif                  sensor space, one evoked per repetition
    emeg/{participant}-lh.stc, -rh.stc          source space (repetitions averaged)
    transforms/{transform}.npy                  float32 at the transform sample rate
    truth.json                                  the spec and every planted effect

Same spec and seed give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mne
import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

from kymata_core.errors import InputFileError
from kymata_core.io.atomic import atomic_path, atomic_write, write_text_atomic
from kymata_core.io.emeg import REPETITION_COMMENT, EMEGData, deterministic_fif_ids, write_source_estimate
from kymata_core.study import invalid_names

# Real Neuromag Vectorview triplet prefixes (magnetometer ends in 1, gradiometers in 2 and 3)
VECTORVIEW_TRIPLETS = (
    "011", "021", "041", "061", "071", "101", "111", "131", "141", "161", "181", "211", "221", "241", "261",
)  # fmt: skip

# Typical scale of each channel type, so the files look like real recordings (T, T/m, V)
_UNIT_SCALE = {"mag": 1e-13, "grad": 1e-11, "eeg": 1e-6}

_MEAS_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
HEMIS = ("lh", "rh")


def vectorview_sensors(n_triplets: int, n_eeg: int) -> list[str]:
    """Real Vectorview MEG channel names (``n_triplets`` × magnetometer + 2 gradiometers) and ``EEG001``.. names."""
    if n_triplets > len(VECTORVIEW_TRIPLETS):
        raise ValueError(f"at most {len(VECTORVIEW_TRIPLETS)} MEG triplets available, asked for {n_triplets}")
    meg = [f"MEG{prefix}{i}" for prefix in VECTORVIEW_TRIPLETS[:n_triplets] for i in (1, 2, 3)]
    return meg + [f"EEG{i:03d}" for i in range(1, n_eeg + 1)]


def sensor_type(name: str) -> str:
    """MNE channel type of a simulated sensor name."""
    if name.startswith("MEG"):
        return "mag" if name.endswith("1") else "grad"
    if name.startswith("EEG"):
        return "eeg"
    raise ValueError(f"simulated sensor names must start with MEG or EEG, got {name!r}")


@dataclass
class Effect:
    """A transform planted in some channels at one latency.

    Attributes
    ----------
    transform : str
    channel_space : {"sensor", "source"}
    channels : list
        Sensor names, or ``(hemi, vertex)`` pairs for source space.
    latency_s : float
        Latency in seconds (snapped to the EMEG sample grid when planted).
    amplitude : float
        Size of the planted signal relative to a noise level of 1 (the transform has unit variance).
    """

    transform: str
    channel_space: str
    channels: list
    latency_s: float
    amplitude: float

    def __post_init__(self) -> None:
        if self.channel_space not in ("sensor", "source"):
            raise ValueError(f"effect channel_space must be 'sensor' or 'source', got {self.channel_space!r}")
        if self.channel_space == "source":
            channels = []
            for ch in self.channels:
                if len(ch) != 2 or ch[0] not in HEMIS:
                    raise ValueError(f"source effect channels must be (hemi, vertex) pairs, got {ch!r}")
                channels.append((str(ch[0]), int(ch[1])))
            self.channels = channels
        else:
            self.channels = [str(c) for c in self.channels]
        self.latency_s = float(self.latency_s)
        self.amplitude = float(self.amplitude)


@dataclass
class StudySpec:
    """Everything that defines a simulated study. Load from a dict or YAML with :meth:`from_dict` / :meth:`from_yaml`.

    Attributes
    ----------
    participants : list of str
    emeg_sample_rate, transform_sample_rate : float
        EMEG rate must be a whole multiple of the transform rate.
    n_splits, seconds_per_split : int, float
        The stimulus lasts ``n_splits * seconds_per_split`` seconds.
    emeg_t_start : float
        Time of the first EMEG sample relative to the trigger (negative: recording starts before).
    end_padding : float
        Seconds of EMEG recorded after the stimulus ends; must cover the gridsearch's last window
        (``seconds_per_split + start_latency + stimulus_delivery_latency``).
    n_reps : int
        Repetitions per participant (several evokeds per ``-ave.fif``).
    sensors : list of str
        Sensor names (``MEG…`` Vectorview, ``EEG…``).
    bad_sensors : list of str
        Sensors marked in ``info["bads"]``.
    hexels_lh, hexels_rh : list of int
        Source-space vertex ids per hemisphere (sorted, unique).
    transforms : list of str
    effects : list of Effect
    noise : float
        Noise standard deviation (before unit scaling).
    amplitude_jitter : float
        Each participant's amplitude is ``amplitude * (1 + u)``, ``u`` uniform in ±jitter.
    latency_jitter_samples : int
        Each participant's latencies are shifted by 0..this many EMEG samples.
    stimulus_delivery_latency : float
    smoothness_hz : float
        Low-pass cutoff of the transforms.
    seed : int
    hierarchy : dict
        The transform hierarchy (transform -> parent transforms) the planted latencies follow, for
        checking IPPMs; inputs (no parents) need not be transforms of the study. Empty: none.
    """

    participants: list[str] = field(
        default_factory=lambda: ["participant_01", "participant_02", "participant_03"]
    )
    emeg_sample_rate: float = 200.0
    transform_sample_rate: float = 200.0
    n_splits: int = 100
    seconds_per_split: float = 1.0
    emeg_t_start: float = -0.2
    end_padding: float = 1.5
    n_reps: int = 1
    sensors: list[str] = field(default_factory=lambda: vectorview_sensors(8, 6))
    bad_sensors: list[str] = field(default_factory=list)
    hexels_lh: list[int] = field(default_factory=lambda: list(range(50)))
    hexels_rh: list[int] = field(default_factory=lambda: list(range(50)))
    transforms: list[str] = field(default_factory=lambda: ["envelope"])
    effects: list[Effect] = field(default_factory=list)
    noise: float = 1.0
    amplitude_jitter: float = 0.2
    latency_jitter_samples: int = 1
    stimulus_delivery_latency: float = 0.0
    smoothness_hz: float = 30.0
    seed: int = 0
    hierarchy: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.effects = [e if isinstance(e, Effect) else Effect(**e) for e in self.effects]
        self.participants = [str(p) for p in self.participants]
        self.hexels_lh = [int(v) for v in self.hexels_lh]
        self.hexels_rh = [int(v) for v in self.hexels_rh]
        self.validate()

    # ---------------------------------------------------------------------------------- validation

    def validate(self) -> None:
        """Raise ValueError naming the first inconsistent field."""
        if not self.participants or len(set(self.participants)) != len(self.participants):
            raise ValueError("spec: participants must be a non-empty list of distinct names")
        bad = invalid_names((*self.participants, *self.transforms))
        if bad:
            raise ValueError(
                f"spec: {bad[:5]} cannot be used as participant or transform names (letters, digits, '_' and "
                "'-' only, as they become file names and command-line words)"
            )
        ratio = self.emeg_sample_rate / self.transform_sample_rate
        if self.emeg_sample_rate <= 0 or self.transform_sample_rate <= 0 or not float(ratio).is_integer():
            raise ValueError(
                f"spec: emeg_sample_rate ({self.emeg_sample_rate:g}) must be a positive whole multiple of "
                f"transform_sample_rate ({self.transform_sample_rate:g})"
            )
        if self.n_splits < 1 or self.seconds_per_split <= 0 or self.n_reps < 1:
            raise ValueError("spec: n_splits and n_reps must be at least 1 and seconds_per_split positive")
        if not float(self.n_splits * self.seconds_per_split * self.transform_sample_rate).is_integer():
            raise ValueError(
                "spec: n_splits * seconds_per_split * transform_sample_rate must be a whole number"
            )
        if self.emeg_t_start > 0:
            raise ValueError(
                f"spec: emeg_t_start must be ≤ 0 (recording starts before the stimulus), got {self.emeg_t_start}"
            )
        if len(set(self.sensors)) != len(self.sensors) or not self.sensors:
            raise ValueError("spec: sensors must be a non-empty list of distinct names")
        for s in self.sensors:
            sensor_type(s)
        for b in self.bad_sensors:
            if b not in self.sensors:
                raise ValueError(f"spec: bad sensor {b!r} is not in sensors")
        for hemi, ids in (("lh", self.hexels_lh), ("rh", self.hexels_rh)):
            if not ids or list(ids) != sorted(set(ids)):
                raise ValueError(f"spec: hexels_{hemi} must be non-empty, sorted and unique")
        if len(set(self.transforms)) != len(self.transforms) or not self.transforms:
            raise ValueError("spec: transforms must be a non-empty list of distinct names")
        for i, e in enumerate(self.effects):
            where = f"spec: effects[{i}]"
            if e.transform not in self.transforms:
                raise ValueError(f"{where}: unknown transform {e.transform!r}")
            if not e.channels:
                raise ValueError(f"{where}: no channels")
            for ch in e.channels:
                if e.channel_space == "sensor" and ch not in self.sensors:
                    raise ValueError(f"{where}: unknown sensor {ch!r}")
                if e.channel_space == "sensor" and ch in self.bad_sensors:
                    raise ValueError(f"{where}: sensor {ch!r} is marked bad")
                if e.channel_space == "source":
                    ids = self.hexels_lh if ch[0] == "lh" else self.hexels_rh
                    if ch[1] not in ids:
                        raise ValueError(f"{where}: vertex {ch[1]} is not in hexels_{ch[0]}")
            if e.latency_s + self.stimulus_delivery_latency < 0:
                raise ValueError(f"{where}: latency plus delivery latency must not be negative")
        for transform, parents in self.hierarchy.items():
            if parents and transform not in self.transforms:
                raise ValueError(f"spec: hierarchy transform {transform!r} is not one of the transforms")
            unknown = [p for p in parents if p not in self.hierarchy]
            if unknown:
                raise ValueError(f"spec: hierarchy parents {unknown} of {transform!r} are not in the hierarchy")
        if self.noise <= 0:
            raise ValueError("spec: noise must be positive")
        if not 0 <= self.amplitude_jitter < 1:
            raise ValueError("spec: amplitude_jitter must be in [0, 1)")
        if self.latency_jitter_samples < 0:
            raise ValueError("spec: latency_jitter_samples must be ≥ 0")
        if not 0 < self.smoothness_hz < self.transform_sample_rate / 2:
            raise ValueError("spec: smoothness_hz must be between 0 and the transform Nyquist frequency")

    # ---------------------------------------------------------------------------------- (de)serialising

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StudySpec:
        """Build from a mapping (e.g. parsed YAML); unknown keys are refused, missing keys take defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"spec: unknown key(s) {unknown}; known keys: {sorted(known)}")
        return cls(**dict(d))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> StudySpec:
        """Load from a YAML file holding a mapping of :class:`StudySpec` fields."""
        import yaml

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"study spec not found: {path}")
        with open(path) as f:
            d = yaml.safe_load(f)
        if not isinstance(d, dict):
            raise InputFileError(f"{path}: expected a mapping of study spec fields")
        try:
            return cls.from_dict(d)
        except (TypeError, ValueError) as e:
            raise InputFileError(f"{path}: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-able dict (source channels as [hemi, vertex] lists)."""
        d = dataclasses.asdict(self)
        for e in d["effects"]:
            e["channels"] = [list(c) if isinstance(c, tuple) else c for c in e["channels"]]
        return d

    def with_seed(self, seed: int) -> StudySpec:
        return dataclasses.replace(self, seed=int(seed))

    # ---------------------------------------------------------------------------------- derived values

    @property
    def decimation(self) -> int:
        return int(self.emeg_sample_rate // self.transform_sample_rate)

    @property
    def stimulus_duration(self) -> float:
        return self.n_splits * self.seconds_per_split

    @property
    def n_transform_samples(self) -> int:
        return round(self.stimulus_duration * self.transform_sample_rate)

    @property
    def n_emeg_samples(self) -> int:
        return round((self.stimulus_duration + self.end_padding - self.emeg_t_start) * self.emeg_sample_rate)

    def planted_shift(self, effect: Effect) -> int:
        """EMEG samples between stimulus time and trigger time for an effect (before jitter)."""
        return round((effect.latency_s + self.stimulus_delivery_latency) * self.emeg_sample_rate)

    def planted_latency(self, effect: Effect, jitter: int = 0) -> float:
        """The latency the gridsearch should find for ``effect`` (snapped to the EMEG sample grid).

        The gridsearch moves its windows by the delivery latency rounded to whole EMEG samples, so
        that rounding, not the exact delivery latency, is taken off the planted shift.
        """
        return self.latency_of_shift(self.planted_shift(effect) + jitter)

    def latency_of_shift(self, shift: int) -> float:
        """The gridsearch latency of a signal planted ``shift`` EMEG samples after the transform."""
        delivery_samples = round(self.stimulus_delivery_latency * self.emeg_sample_rate)
        return (shift - delivery_samples) / self.emeg_sample_rate


DEMO_HIERARCHY: dict[str, list[str]] = {
    "input": [],
    "envelope": ["input"],
    "loudness": ["envelope"],
    "sharpness": ["loudness"],
    "pitch": ["envelope"],
}
"""A transform hierarchy for the demo study's IPPM (planted latencies increase along it)."""


def _demo_spec() -> StudySpec:
    """The demo study: :class:`StudySpec`'s defaults (3 participants, 30 sensors, 100 s at 200 Hz) and what
    differs from them, below."""
    hexels = [int(v) for v in np.arange(50) * 163 + 12]  # a spread of plausible vertex numbers
    effects = [
        # input -> envelope (60 ms) -> loudness (110 ms) -> sharpness (160 ms); pitch branches from envelope
        # Two or more channels per effect and hemisphere: the default IPPM denoisers treat a lone
        # significant point as noise.
        Effect("envelope", "sensor", ["MEG0111", "MEG0112", "MEG0113"], 0.060, 0.15),
        Effect("loudness", "sensor", ["MEG0411", "MEG0412", "EEG002"], 0.110, 0.15),
        Effect("sharpness", "sensor", ["MEG1011", "MEG1012"], 0.160, 0.15),
        Effect("pitch", "sensor", ["MEG1313", "MEG1312"], 0.130, 0.15),
        Effect("envelope", "source", [("lh", hexels[3]), ("lh", hexels[4]), ("rh", hexels[5]), ("rh", hexels[6])],
               0.060, 0.15),
        Effect("loudness", "source", [("lh", hexels[10]), ("lh", hexels[11]), ("rh", hexels[12]), ("rh", hexels[13])],
               0.110, 0.15),
        Effect("sharpness", "source", [("rh", hexels[20]), ("rh", hexels[21])], 0.160, 0.15),
        Effect("pitch", "source", [("rh", hexels[30]), ("rh", hexels[31])], 0.130, 0.15),
    ]
    return StudySpec(
        bad_sensors=["EEG005"],
        hexels_lh=hexels,
        hexels_rh=hexels,
        transforms=["envelope", "loudness", "sharpness", "pitch"],
        effects=effects,
        stimulus_delivery_latency=0.026,  # the config's default (kymata_core.parameters)
        seed=2024,
        hierarchy=DEMO_HIERARCHY,
    )


DEMO_SPEC: StudySpec = _demo_spec()
"""The built-in demo study: 3 participants, 4 transforms, 30 sensors, 50 hexels per hemisphere, 100 s at 200 Hz."""



# ----------------------------------------------------------------------------------------- signals


def _rng(spec: StudySpec, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=key))


def _lowpass(x: NDArray, cutoff: float, rate: float) -> NDArray:
    sos = butter(4, cutoff, btype="low", fs=rate, output="sos")
    return sosfiltfilt(sos, x, axis=-1)


class _Stimulus:
    """Every transform as a smooth signal at the EMEG rate over stimulus times ``(m + offset) / f``."""

    def __init__(self, spec: StudySpec):
        f = spec.emeg_sample_rate
        first_emeg = round(spec.emeg_t_start * f)
        max_shift = max([spec.planted_shift(e) for e in spec.effects] + [0]) + spec.latency_jitter_samples
        # stimulus sample index (at the EMEG rate) of the first value held: enough for any EMEG sample
        self.offset = min(first_emeg - max_shift, -round(2 * f)) - 1
        self.length = first_emeg + spec.n_emeg_samples - self.offset + 1
        self.signals: dict[str, NDArray[np.float64]] = {}
        for i, name in enumerate(spec.transforms):
            noise = _rng(spec, 0, i).standard_normal(self.length)
            smooth = _lowpass(noise, spec.smoothness_hz, f)
            self.signals[name] = (smooth - smooth.mean()) / smooth.std()

    def transform_values(self, spec: StudySpec, name: str) -> NDArray[np.float32]:
        start = -self.offset  # stimulus sample 0
        stop = start + spec.n_transform_samples * spec.decimation
        return self.signals[name][start : stop : spec.decimation].astype(np.float32)

    def delayed(self, spec: StudySpec, name: str, shift: int) -> NDArray[np.float64]:
        """The signal as seen at each EMEG sample when delayed by ``shift`` EMEG samples."""
        first = round(spec.emeg_t_start * spec.emeg_sample_rate) - shift - self.offset
        return self.signals[name][first : first + spec.n_emeg_samples]


def _noise(rng: np.random.Generator, n_channels: int, spec: StudySpec) -> NDArray[np.float64]:
    """Coloured (low-passed) Gaussian noise with standard deviation ``spec.noise``."""
    f = spec.emeg_sample_rate
    white = rng.standard_normal((n_channels, spec.n_emeg_samples))
    coloured = _lowpass(white, min(40.0, 0.4 * f), f)
    return spec.noise * coloured / coloured.std(axis=-1, keepdims=True)


def _participant_effects(spec: StudySpec, p_index: int) -> list[tuple[int, float]]:
    """(shift in EMEG samples, amplitude) of every effect for one participant."""
    rng = _rng(spec, 1, p_index, 0)
    jitter = int(rng.integers(0, spec.latency_jitter_samples + 1))
    out = []
    for e in spec.effects:
        scale = 1 + rng.uniform(-spec.amplitude_jitter, spec.amplitude_jitter)
        out.append((spec.planted_shift(e) + jitter, e.amplitude * scale))
    return out


def simulate_participant(
    spec: StudySpec, p_index: int, stimulus: _Stimulus | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[tuple[int, float]]]:
    """Sensor data (sensors, reps, time) in SI units, source data (hexels, time), and the effects as planted."""
    stimulus = stimulus or _Stimulus(spec)
    planted = _participant_effects(spec, p_index)
    n_hex = len(spec.hexels_lh) + len(spec.hexels_rh)
    sensor_rows = {s: i for i, s in enumerate(spec.sensors)}
    hexel_rows = {("lh", v): i for i, v in enumerate(spec.hexels_lh)}
    hexel_rows |= {("rh", v): len(spec.hexels_lh) + i for i, v in enumerate(spec.hexels_rh)}

    sensor = np.stack(
        [_noise(_rng(spec, 1, p_index, 1, r), len(spec.sensors), spec) for r in range(spec.n_reps)], axis=1
    )
    source = _noise(_rng(spec, 1, p_index, 2), n_hex, spec)  # a source estimate: one (averaged) repetition
    for e, (shift, amplitude) in zip(spec.effects, planted, strict=True):
        signal = amplitude * stimulus.delayed(spec, e.transform, shift)
        for ch in e.channels:
            if e.channel_space == "sensor":
                sensor[sensor_rows[ch]] += signal
            else:
                source[hexel_rows[tuple(ch)]] += signal
    scales = np.array([_UNIT_SCALE[sensor_type(s)] for s in spec.sensors])
    return sensor * scales[:, None, None], source, planted


def simulate_study(spec: StudySpec, out_dir: str | os.PathLike, *, overwrite: bool = False) -> dict[str, Any]:
    """Write a simulated study under ``out_dir`` and return its ground truth (also in ``truth.json``).

    Raises FileExistsError if ``out_dir/truth.json`` exists and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    truth_path = out_dir / "truth.json"
    if truth_path.exists() and not overwrite:
        raise FileExistsError(
            f"{truth_path} already exists: {out_dir} holds a simulated study (pass overwrite)"
        )
    (out_dir / "emeg").mkdir(parents=True, exist_ok=True)
    (out_dir / "transforms").mkdir(parents=True, exist_ok=True)

    stimulus = _Stimulus(spec)
    files: dict[str, Any] = {"transforms": {}, "sensor": {}, "source": {}}
    for name in spec.transforms:
        path = out_dir / "transforms" / f"{name}.npy"
        _save_npy(path, stimulus.transform_values(spec, name))
        files["transforms"][name] = str(path.relative_to(out_dir))

    info = mne.create_info(
        spec.sensors, spec.emeg_sample_rate, [sensor_type(s) for s in spec.sensors], verbose="error"
    )
    info["bads"] = list(spec.bad_sensors)
    info.set_meas_date(_MEAS_DATE)

    per_participant = []
    for p_index, participant in enumerate(spec.participants):
        sensor, source, planted = simulate_participant(spec, p_index, stimulus)
        fif = out_dir / "emeg" / f"{participant}-ave.fif"
        _write_evokeds(fif, sensor, info, spec)
        stem = out_dir / "emeg" / participant
        write_source_estimate(
            EMEGData(
                values=source[:, np.newaxis, :].astype(np.float32),
                channel_names=[spec.hexels_lh, spec.hexels_rh],
                sample_rate=spec.emeg_sample_rate,
                t_start=round(spec.emeg_t_start * spec.emeg_sample_rate) / spec.emeg_sample_rate,
                channel_space="source",
                sensor_layout=None,
                source=stem,
            ),
            stem,
            overwrite=True,
        )
        files["sensor"][participant] = str(fif.relative_to(out_dir))
        files["source"][participant] = str(stem.relative_to(out_dir))
        per_participant.append(planted)

    truth = {
        "spec": spec.to_dict(),
        "emeg_sample_rate": spec.emeg_sample_rate,
        "transform_sample_rate": spec.transform_sample_rate,
        "stimulus_delivery_latency": spec.stimulus_delivery_latency,
        "participants": list(spec.participants),
        "transforms": list(spec.transforms),
        "effects": [
            {
                "transform": e.transform,
                "channel_space": e.channel_space,
                "channels": [list(c) if e.channel_space == "source" else c for c in e.channels],
                "latency_s": spec.planted_latency(e),
                "amplitude": e.amplitude,
                "participants": {
                    participant: {
                        "latency_s": spec.latency_of_shift(planted[i][0]),
                        "amplitude": planted[i][1],
                    }
                    for participant, planted in zip(spec.participants, per_participant, strict=True)
                },
            }
            for i, e in enumerate(spec.effects)
        ],
        "files": files,
        "hierarchy": spec.hierarchy,
    }
    write_text_atomic(truth_path, json.dumps(truth, indent=2, sort_keys=True) + "\n", overwrite=True)
    return truth


def _write_evokeds(path: Path, sensor: NDArray, info: mne.Info, spec: StudySpec) -> None:
    tmin = round(spec.emeg_t_start * spec.emeg_sample_rate) / spec.emeg_sample_rate
    evokeds = [
        mne.EvokedArray(sensor[:, r, :], info, tmin=tmin, comment=REPETITION_COMMENT, nave=1, verbose="error")
        for r in range(sensor.shape[1])
    ]
    with atomic_path(path, overwrite=True, suffix="-ave.fif") as tmp, deterministic_fif_ids():
        mne.write_evokeds(tmp, evokeds, overwrite=True, verbose="error")


def _save_npy(path: Path, values: NDArray) -> None:
    with atomic_write(path, overwrite=True) as f:
        np.save(f, values, allow_pickle=False)


def load_truth(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``truth.json`` written by :func:`simulate_study`."""
    path = Path(path)
    if path.is_dir():
        path = path / "truth.json"
    if not path.exists():
        raise FileNotFoundError(f"simulation truth not found: {path}")
    return json.loads(path.read_text())
