"""The demo study end to end, as `make demo` runs it: every planted effect and hierarchy recovered."""

from __future__ import annotations

import json

import pytest

from kymata_core.demo import describe
from kymata_core.io.nkg import load_expression_set, read_provenance
from kymata_core.simulate import DEMO_SPEC
from tests.workflow_utils import copy_workflow, run_snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = copy_workflow(tmp_path_factory.mktemp("demo"))
    run_snakemake(root, timeout=1500)
    return root


def test_every_planted_effect_is_recovered_in_the_group_average(demo):
    summary = json.loads((demo / "results/group/summary.json").read_text())
    planted = summary["planted_effects"]
    n_channels = sum(len(e.channels) for e in DEMO_SPEC.effects)
    assert len(planted) == n_channels
    assert all(p["recovered"] for p in planted), [p for p in planted if not p["recovered"]]
    assert summary["false_positives"] == []
    text, ok = describe(demo / "results")
    assert ok and "All planted effects were recovered" in text


def test_every_ippm_matches_the_planted_hierarchy(demo):
    checks = sorted((demo / "results/group/ippm").glob("*.check.json"))
    assert [c.name for c in checks] == [
        "adaptive_maxpool-sensor.check.json",
        "adaptive_maxpool-source.check.json",
        "maxpool-sensor.check.json",
        "maxpool-source.check.json",
    ]
    for check in checks:
        result = json.loads(check.read_text())
        assert result["matches"], (check.name, result)


def test_expression_sets_hold_every_transform_and_hemisphere(demo):
    source = load_expression_set(demo / "results/group/expression-source.nkg")
    assert source.transforms == DEMO_SPEC.transforms
    assert list(source.hexels_left) == DEMO_SPEC.hexels_lh
    assert list(source.hexels_right) == DEMO_SPEC.hexels_rh
    sensor = load_expression_set(demo / "results/participant_01/expression-sensor.nkg")
    assert set(sensor.sensors) == set(DEMO_SPEC.sensors) - set(DEMO_SPEC.bad_sensors)
    provenance = read_provenance(demo / "results/group/expression-source.nkg")
    assert provenance["step"] == "combine"
    assert len(provenance["inputs"]["shards"]) == 2 * len(DEMO_SPEC.transforms)


def test_every_figure_and_the_report_are_written(demo):
    plots = sorted(p.name for p in (demo / "results/group/plots").iterdir())
    assert plots == [
        "expression-sensor.png",
        "expression-source.png",
        "ippm-adaptive_maxpool-sensor.png",
        "ippm-adaptive_maxpool-source.png",
        "ippm-maxpool-sensor.png",
        "ippm-maxpool-source.png",
    ]
    run_snakemake(demo, "--report", "results/report.html")
    report = (demo / "results/report.html").read_text(errors="replace")
    assert "expression-source.png" in report and "ippm-maxpool-sensor.png" in report


def test_a_second_run_has_nothing_to_do(demo):
    result = run_snakemake(demo, "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr
