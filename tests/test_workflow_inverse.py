"""The workflow in source space from inverse operators: operators, hexel shards, the group, reruns.

Two participants' evoked files (the real Neuromag channels, real noise, a transform planted in a left
source patch through the forward model) with an inverse operator and a precomputed morph each
(tests/source_space.py). The run builds one premorphed operator per participant, forms the hexels on
the fly in every source-space gridsearch job, averages the participants' morphed hexel data for the
group, and finds the patch in every participant and the group. Changing ``source.snr`` rebuilds the
operators and everything after them in source space, and nothing in sensor space.
"""

from __future__ import annotations

import json
import shutil

import mne
import numpy as np
import pytest

from kymata_core.io.source_operator import read_source_operator_header
from kymata_core.planted import BandLimitedSignal, lengthen_recording
from tests.real_meg import NEUROMAG, real_source
from tests.source_space import build_source_setup, plant_in_patch, strongest_left_patch, vertex_distance
from tests.workflow_utils import copy_workflow, planned_jobs, run_snakemake, write_config

pytestmark = pytest.mark.slow

RATE = 200.0
SECONDS = 42.0
PARTICIPANTS = ["p1", "p2"]
LATENCY = 0.1


def config(snr: float = 4.0) -> dict:
    return {
        "dataset": "files",
        "participants": PARTICIPANTS,
        "channel_space": ["sensor", "source"],
        "emeg": {
            "sensor": "data/{participant}-ave.fif",
            "inverse_operator": "data/{participant}-inv.fif",
            "morph": "data/{participant}-morph.h5",
        },
        "source": {"snr": snr},
        "transforms": {"sample_rate": RATE, "files": {"x": "data/x.npy"}},
        "gridsearch": {"n_splits": 40, "n_derangements": 3, "stimulus_delivery_latency": 0.0},
        "ippm": {"hierarchy": {"input": [], "x": ["input"]}, "denoisers": ["maxpool"]},
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("inverse-study"))
    setup = build_source_setup(root / "setup")
    data = root / "data"
    data.mkdir()
    setup.morph(spacing=3).save(data / "p1-morph.h5", overwrite=True, verbose="error")
    centre, patch = strongest_left_patch(setup)
    signal = BandLimitedSignal(30.0, seed=4)
    np.save(data / "x.npy", signal.sampled(RATE, SECONDS).astype(np.float32))
    times = -0.2 + np.arange(int(SECONDS * RATE)) / RATE - LATENCY
    source = np.where(times >= 0, signal.at(times), 0.0)
    info = setup.info.copy()
    with info._unlock():
        info["sfreq"], info["lowpass"] = RATE, RATE / 2
    real = real_source(NEUROMAG)
    rows = [real.info.ch_names.index(name) for name in info.ch_names]
    for i, participant in enumerate(PARTICIPANTS):
        noise = lengthen_recording(real.data[rows], int(SECONDS * RATE), seed=20 + i)
        sensors = plant_in_patch(setup, noise, source, patch)
        mne.EvokedArray(sensors, info, tmin=-0.2, comment="stimulus", verbose="error").save(
            data / f"{participant}-ave.fif", verbose="error"
        )
        shutil.copyfile(setup.inverse_path, data / f"{participant}-inv.fif")
        if participant != "p1":
            shutil.copyfile(data / "p1-morph.h5", data / f"{participant}-morph.h5")
    path = write_config(root, config())
    run_snakemake(root, "--configfile", str(path), timeout=1500)
    return root, setup, centre


@pytest.mark.parametrize("participant", [*PARTICIPANTS, "group"])
def test_the_patch_is_found_in_every_participant_and_the_group(study, participant):
    root, setup, centre = study
    summary = json.loads((root / f"results/{participant}/summary.json").read_text())["spaces"]["source"]
    best = summary["transforms"]["x"]["best"]
    assert best["hemi"] == "lh", best
    assert vertex_distance(setup, int(best["channel"]), centre) < 0.02, best
    assert abs(best["latency_s"] - LATENCY) <= 1 / RATE + 1e-9, best


def test_one_operator_per_participant_on_the_common_subject(study):
    root, _, _ = study
    for participant in PARTICIPANTS:
        header = read_source_operator_header(root / f"results/{participant}/operator/source-operator.h5")
        assert header.morphed and header.subject == "target" and header.attrs["snr"] == 4.0
        assert (header.n_lh, header.n_rh) == (642, 642)
    assert not (root / "results/p1/emeg").exists()  # no participant's source time series is written
    group = mne.read_source_estimate(root / "results/group/emeg/group-lh.stc")
    assert group.data.shape == (1284, int(SECONDS * RATE))


def test_changing_the_snr_rebuilds_the_operators_and_what_follows_in_source_space_only(study):
    root, _, _ = study
    jobs = planned_jobs(root, "--configfile", str(write_config(root, config(snr=3.0), name="snr3.yaml")))
    rules = sorted({rule for rule, _ in jobs})
    assert ("operator", (("participant", "p1"),)) in jobs and ("operator", (("participant", "p2"),)) in jobs
    assert "average_sensor" not in rules
    assert all(dict(w).get("hemi") != "scalp" for rule, w in jobs if rule.startswith("gridsearch"))
    assert all(dict(w).get("space") != "sensor" for rule, w in jobs if rule in ("combine", "ippm", "plot_expression", "plot_ippm"))
    shards = [w for rule, w in jobs if rule.startswith("gridsearch")]
    assert len(shards) == 2 * 3  # lh and rh of p1, p2 and the group
