"""The example study (config/example-own-study.yaml), run as written on real Neuromag noise.

Two participants' evoked files are built from the real VectorView recording in tests/data/real-meg:
its magnetometers and EEG channels (MNE's names, with a space), at its real 600.614990234375 Hz,
each file holding the analysed condition "Left Auditory" (real noise with the transforms planted)
and "Right Auditory" (real noise only, which must not be read as a repetition). The workflow runs
without the venv on PATH, as a user runs the README's command, and must find every planted effect
in every participant and in the group average, at its latency, and nothing else.
"""

from __future__ import annotations

import json
import shutil

import mne
import numpy as np
import pytest

from kymata_core.planted import BandLimitedSignal, lengthen_recording, plant
from tests.real_meg import NEUROMAG, real_source, write_evoked
from tests.workflow_utils import REPO, copy_workflow, run_snakemake, snakemake_env

pytestmark = pytest.mark.slow

PARTICIPANTS = ("p01", "p02")
SECONDS = 42.0  # 40 splits of 1 s and a window
# transform -> (planted sensors, latency s, seed of its signal)
PLANTED = {
    "loudness": (("MEG 0141", "MEG 0241", "EEG 015"), 0.08, 11),
    "pitch": (("MEG 1331", "MEG 1441", "EEG 050"), 0.15, 12),
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("real-study"))
    source = real_source(NEUROMAG)
    keep = mne.pick_types(source.info, meg="mag", eeg=True)
    info = mne.pick_info(source.info, keep)
    rate = source.sample_rate
    (root / "data/transforms").mkdir(parents=True)
    signals = {name: BandLimitedSignal(cutoff_hz=30.0, seed=seed) for name, (_, _, seed) in PLANTED.items()}
    for name, signal in signals.items():
        np.save(root / f"data/transforms/{name}.npy", signal.sampled(1000.0, SECONDS).astype(np.float32))
    for i, participant in enumerate(PARTICIPANTS):
        noise = lengthen_recording(source.data[keep], int(SECONDS * rate), seed=10 + i)
        story = noise
        for name, (sensors, latency, _) in PLANTED.items():
            rows = [info.ch_names.index(s) for s in sensors]
            story = plant(story, rows, signals[name], sample_rate=rate, t_start=-0.2, latency=latency, snr=0.5)
        rest = lengthen_recording(source.data[keep], int(SECONDS * rate), seed=20 + i)
        write_evoked(root / f"data/{participant}-ave.fif", info, [("Left Auditory", story), ("Right Auditory", rest)])
    run_snakemake(root, "--configfile", "config/example-own-study.yaml", timeout=1200)
    return root


def test_the_example_config_is_the_repositorys(study):
    assert (study / "config/example-own-study.yaml").read_text() == (REPO / "config/example-own-study.yaml").read_text()


@pytest.mark.parametrize("participant", [*PARTICIPANTS, "group"])
def test_every_planted_effect_is_found_where_and_when_it_was_planted(study, participant):
    summary = json.loads((study / f"results/{participant}/summary.json").read_text())["spaces"]["sensor"]
    step = 3 / 600.614990234375  # resample 200 at 600.615 Hz: every third sample
    for name, (sensors, latency, _) in PLANTED.items():
        result = summary["transforms"][name]
        assert result["best"]["channel"] in sensors, (participant, name, result)
        assert abs(result["best"]["latency_s"] - latency) <= 1.5 * step, (participant, name, result)
        assert result["best"]["logp"] < summary["threshold_logp"]
        assert 1 <= result["n_significant_channels"] <= len(sensors), (participant, name, result)


def test_the_outputs_a_user_looks_at_exist(study):
    for participant in (*PARTICIPANTS, "group"):
        for path in ("plots/expression-sensor.png", "plots/ippm-maxpool-sensor.png", "ippm/maxpool-sensor.json"):
            assert (study / f"results/{participant}/{path}").stat().st_size > 0
    group = mne.read_evokeds(study / "results/group/emeg/group-ave.fif", verbose="error")
    assert [ev.comment for ev in group] == ["Left Auditory"]  # the participants' selection, nothing else


def test_the_commands_ran_without_the_venv_on_path(study):
    log = (study / "results/logs/gridsearch/p01/loudness.scalp.log").read_text()
    assert "error" not in log.lower()
    assert shutil.which("kymata-core", path=snakemake_env()["PATH"]) is None
