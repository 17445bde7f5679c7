"""Corrupt or foreign files stop the run at the job that reads them, naming the file and the problem.

One small study runs once; each test damages one file, runs the workflow, expects it to fail with the
file named, checks that no other result changed, and restores the file (the tests run in order).
"""

from __future__ import annotations

import shutil

import mne
import numpy as np
import pytest

from kymata_core.simulate import Effect, StudySpec, simulate_study, vectorview_sensors
from tests.workflow_utils import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.slow

PARTICIPANTS = ["p1", "p2"]


def spec(participants, n_sensor_triplets=3, seed=5):
    sensors = vectorview_sensors(n_sensor_triplets, 2)
    return StudySpec(
        participants=participants,
        n_splits=30,
        sensors=sensors,
        hexels_lh=[0, 1],
        hexels_rh=[0, 1],
        transforms=["a", "b"],
        effects=[Effect("a", "sensor", sensors[:2], 0.05, 0.6)],
        seed=seed,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("bad-inputs"))
    simulate_study(spec(PARTICIPANTS), root / "data")
    simulate_study(spec(["x1"], n_sensor_triplets=4, seed=6), root / "other-study")
    config = write_config(
        root,
        {
            "dataset": "files",
            "participants": PARTICIPANTS,
            "channel_space": "sensor",
            "emeg": {"sensor": "data/emeg/{participant}-ave.fif"},
            "transforms": {"sample_rate": 200, "files": {"a": "data/transforms/a.npy", "b": "data/transforms/b.npy"}},
            "gridsearch": {"n_splits": 30, "n_derangements": 2, "stimulus_delivery_latency": 0.0},
            "ippm": {"denoisers": []},
        },
    )
    run_snakemake(root, "--configfile", str(config))
    return root, config


def snapshot(root):
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "results").rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(("results/logs/", "results/benchmarks/"))
    }


def run_expecting_failure(root, config, *fragments):
    result = run_snakemake(root, "--configfile", str(config), check=False)
    assert result.returncode != 0
    logs = "\n".join(p.read_text(errors="replace") for p in (root / "results/logs").rglob("*.log"))
    for fragment in fragments:
        assert fragment in logs, f"{fragment!r} not in the job logs"
    return result


def test_truncated_shard_stops_combine_naming_the_shard(study):
    root, config = study
    shard = root / "results/p1/shards/b.scalp.nkg"
    before = snapshot(root)
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 2])
    try:
        run_expecting_failure(root, config, "results/p1/shards/b.scalp.nkg", "not a readable .nkg file")
        after = snapshot(root)
        changed = {k for k in before if after.get(k) != before[k]}
        assert changed <= {"results/p1/shards/b.scalp.nkg", "results/p1/expression-sensor.nkg"}
    finally:
        shard.write_bytes(good)
        run_snakemake(root, "--configfile", str(config))


def test_shard_from_another_study_stops_combine_naming_it_and_what_differs(study):
    root, config = study
    shard = root / "results/p2/shards/a.scalp.nkg"
    good = shard.read_bytes()
    foreign_root = root / "foreign"
    foreign_root.mkdir(exist_ok=True)
    from kymata_core.cli import main

    assert main([
        "gridsearch", "--emeg", str(root / "other-study/emeg/x1-ave.fif"), "--space", "sensor",
        "--transform", str(root / "other-study/transforms/a.npy"), "--transform-rate", "200",
        "--n-splits", "30", "--n-derangements", "2", "--out", str(foreign_root / "a.nkg"),
    ]) == 0
    shutil.copyfile(foreign_root / "a.nkg", shard)
    try:
        run_expecting_failure(root, config, "results/p2/shards/a.scalp.nkg", "different scalp channels")
    finally:
        shard.write_bytes(good)
        run_snakemake(root, "--configfile", str(config))


def test_participant_with_another_sample_rate_is_refused_before_any_job_naming_the_file(study):
    """Found from the files' headers when the config is read: no job runs, nothing is rewritten."""
    root, config = study
    path = root / "data/emeg/p2-ave.fif"
    good = path.read_bytes()
    evoked = mne.read_evokeds(path, verbose="error")[0]
    evoked.resample(400.0, verbose="error")
    evoked.save(path, overwrite=True, verbose="error")
    before = snapshot(root)
    try:
        result = run_snakemake(root, "--configfile", str(config), check=False)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert "p2-ave.fif at 400 Hz" in output and "group average needs every participant at one sample rate" in output
        assert "rule gridsearch" not in output
        assert snapshot(root) == before
    finally:
        path.write_bytes(good)
        run_snakemake(root, "--configfile", str(config))


def test_nan_in_a_transform_stops_its_gridsearch_naming_the_file(study):
    root, config = study
    path = root / "data/transforms/b.npy"
    good = path.read_bytes()
    values = np.load(path)
    values[17] = np.nan
    np.save(path, values)
    try:
        run_expecting_failure(root, config, "b.npy", "NaN")
    finally:
        path.write_bytes(good)
        run_snakemake(root, "--configfile", str(config))
