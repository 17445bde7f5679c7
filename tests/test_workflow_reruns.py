"""Real Snakemake runs of a small study: the right jobs, and only those, rerun after each kind of change.

One study is simulated and run once; each test then makes one change, asserts the exact job list of a
dry run, runs the workflow for real, and leaves the study in its new state for the next test (the
tests in this module run in order).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from kymata_core.io.nkg import load_expression_set
from kymata_core.simulate import Effect, StudySpec, simulate_study, vectorview_sensors
from tests.workflow_utils import copy_workflow, job, planned_jobs, run_snakemake, write_config

pytestmark = pytest.mark.slow

PARTICIPANTS = ["p1", "p2"]
TRANSFORMS = ["a", "b"]
ALL = [*PARTICIPANTS, "group"]
SNAPSHOT = job("config_snapshot")  # results/config.yaml: redone whenever the configuration changes


def small_spec(participants: list[str], transforms: list[str]) -> StudySpec:
    sensors = vectorview_sensors(3, 2)
    effects = [
        Effect(t, "sensor", [sensors[2 * i]], 0.05 + 0.05 * i, 0.6) for i, t in enumerate(transforms)
    ]
    return StudySpec(
        participants=participants,
        n_splits=40,
        sensors=sensors,
        hexels_lh=list(range(4)),
        hexels_rh=list(range(4)),
        transforms=transforms,
        effects=effects,
        stimulus_delivery_latency=0.0,
        seed=7,
    )


class Study:
    """The study's directory and its current configuration."""

    def __init__(self, root, config):
        self.root = root
        self.config = config

    def write(self):
        return write_config(self.root, self.config)

    def jobs(self):
        return planned_jobs(self.root, "--configfile", str(self.write()))

    def run(self):
        return run_snakemake(self.root, "--configfile", str(self.write()))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("study"))
    simulate_study(small_spec(PARTICIPANTS + ["p3"], TRANSFORMS + ["c"]), root / "data")
    config = {
        "dataset": "files",
        "participants": list(PARTICIPANTS),
        "channel_space": "sensor",
        "emeg": {"sensor": "data/emeg/{participant}-ave.fif"},
        "transforms": {
            "sample_rate": 200,
            "files": {t: f"data/transforms/{t}.npy" for t in TRANSFORMS},
        },
        "gridsearch": {"n_splits": 40, "n_derangements": 2, "stimulus_delivery_latency": 0.0},
        "ippm": {"hierarchy": {"input": [], "a": ["input"], "b": ["a"]}, "denoisers": ["maxpool"]},
    }
    s = Study(root, config)
    s.run()
    return s


def downstream(participants, rules=("combine", "summary", "ippm", "plot_expression", "plot_ippm")):
    """Jobs after the gridsearch for the given participants (sensor space, maxpool, png)."""
    jobs = []
    for p in participants:
        if "combine" in rules:
            jobs.append(job("combine", participant=p, space="sensor"))
        if "summary" in rules:
            jobs.append(job("summary", participant=p))
        if "ippm" in rules:
            jobs.append(job("ippm", participant=p, denoiser="maxpool", space="sensor"))
        if "plot_expression" in rules:
            jobs.append(job("plot_expression", participant=p, space="sensor", fmt="png"))
        if "plot_ippm" in rules:
            jobs.append(job("plot_ippm", participant=p, denoiser="maxpool", space="sensor", fmt="png"))
    return jobs


def gridsearch_jobs(participants, transforms):
    return [job("gridsearch", participant=p, transform=t, hemi="scalp") for p in participants for t in transforms]


def test_first_run_recovers_the_planted_effects(study):
    summary = json.loads((study.root / "results/group/summary.json").read_text())
    best = summary["spaces"]["sensor"]["transforms"]
    sensors = vectorview_sensors(3, 2)
    assert best["a"]["best"]["channel"] == sensors[0]
    assert best["b"]["best"]["channel"] == sensors[2]
    assert best["a"]["best"]["latency_s"] == pytest.approx(0.05, abs=0.0051)
    assert best["b"]["best"]["latency_s"] == pytest.approx(0.10, abs=0.0051)
    es = load_expression_set(study.root / "results/group/expression-sensor.nkg")
    assert es.transforms == TRANSFORMS


def test_nothing_to_do_after_a_complete_run(study):
    assert study.jobs() == []


def test_touching_a_file_without_changing_it_reruns_nothing(study):
    path = study.root / "data/transforms/a.npy"
    later = time.time() + 10
    os.utime(path, (later, later))
    assert study.jobs() == []


def test_changing_one_transform_reruns_only_its_jobs(study):
    path = study.root / "data/transforms/a.npy"
    values = np.load(path)
    np.save(path, (values * 1.5).astype(values.dtype))
    before = (study.root / "results/p1/shards/b.scalp.nkg").stat().st_mtime_ns
    assert study.jobs() == sorted(gridsearch_jobs(ALL, ["a"]) + downstream(ALL))
    study.run()
    assert (study.root / "results/p1/shards/b.scalp.nkg").stat().st_mtime_ns == before
    assert study.jobs() == []


def test_changing_a_gridsearch_parameter_reruns_the_gridsearch_and_after(study):
    study.config["gridsearch"]["n_derangements"] = 3
    assert study.jobs() == sorted(gridsearch_jobs(ALL, TRANSFORMS) + downstream(ALL) + [SNAPSHOT])
    study.run()
    assert study.jobs() == []


def test_changing_a_denoiser_parameter_reruns_only_the_ippms(study):
    study.config["ippm"]["denoiser_params"] = {"maxpool": {"bin_size": 0.02}}
    assert study.jobs() == sorted(downstream(ALL, rules=("ippm", "plot_ippm")) + [SNAPSHOT])
    study.run()
    assert study.jobs() == []


def test_changing_a_plot_option_reruns_only_the_plots(study):
    study.config["plots"] = {"expression": {"title": "Small study"}}
    assert study.jobs() == sorted(downstream(ALL, rules=("plot_expression",)) + [SNAPSHOT])
    study.run()
    assert study.jobs() == []


def test_adding_a_transform_adds_only_its_jobs(study):
    study.config["transforms"]["files"]["c"] = "data/transforms/c.npy"
    assert study.jobs() == sorted(gridsearch_jobs(ALL, ["c"]) + downstream(ALL) + [SNAPSHOT])
    study.run()
    es = load_expression_set(study.root / "results/p1/expression-sensor.nkg")
    assert es.transforms == ["a", "b", "c"]


def test_adding_a_participant_adds_its_jobs_and_the_new_group_average(study):
    study.config["participants"] = [*PARTICIPANTS, "p3"]
    expected = (
        [job("average_sensor")]
        + gridsearch_jobs(["p3", "group"], ["a", "b", "c"])
        + downstream(["p3", "group"])
        + [SNAPSHOT]
    )
    assert study.jobs() == sorted(expected)
    study.run()
    assert study.jobs() == []
