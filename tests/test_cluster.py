"""End-to-end: workflows run through a real SLURM and a real SGE (``.ci/cluster/*-up.sh``).

For each scheduler and each target workflow: the scheduler must answer (else skip, or FAIL when
``KYMATA_REQUIRE_CLUSTER=1``), the workflow runs through ``profiles/<scheduler>``, every job Snakemake
submitted must appear as successful in the scheduler's accounting (sacct / qacct) and no other Snakemake
job may, and the outputs must equal those of a local run through ``profiles/default``. As in the
repository, ``profiles/default`` also sits next to the Snakefile, where Snakemake applies it to every run.

Add a workflow by appending a ``harness.Target`` to ``TARGETS``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest


def _load_harness():
    path = Path(__file__).resolve().parent / "cluster" / "harness.py"
    spec = importlib.util.spec_from_file_location("kymata_cluster_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

pytestmark = pytest.mark.cluster

TARGETS = [
    # 2 x make + 2 x square (1 thread each) + 1 x combine (2 threads) = 5 scheduler jobs in 3 stages.
    harness.Target(
        "toy",
        source=harness.TOY,
        expected_jobs=5,
        expected_cpus={"make": 1, "square": 1, "combine": 2},
        timeout=170,
    ),
    # The real workflow (the repository's Snakefile, in place) on a small simulated study
    # (tests/cluster/demo/: 2 participants, 2 transforms, sensor and source space, one denoiser):
    # 51 jobs, of which the 45 that are not local rules go through the scheduler. Logs and
    # benchmarks hold timings, so they differ between runs; every result must be byte-identical.
    harness.Target(
        "demo",
        source=harness.REPO / "tests" / "cluster" / "demo",
        snakefile=harness.REPO / "Snakefile",
        configfile="config.yaml",
        ignore=("results/logs/*", "results/benchmarks/*"),
        expected_jobs=45,
        expected_cpus={"gridsearch": 1, "combine": 1},
        timeout=900,
    ),
]


def require_scheduler(kind: str) -> None:
    """Skip unless ``kind`` answers; with KYMATA_REQUIRE_CLUSTER=1 a missing scheduler fails instead."""
    ok, why = harness.scheduler_available(kind)
    if ok:
        return
    label = {"slurm": "SLURM", "sge": "SGE"}[kind]
    message = f"no {label} scheduler reachable (run .ci/cluster/{kind}-up.sh): {why}"
    if os.environ.get("KYMATA_REQUIRE_CLUSTER") == "1":
        pytest.fail(message + " [KYMATA_REQUIRE_CLUSTER=1]", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def local_digests(tmp_path_factory):
    """Output digests of each target's local run (profiles/default), computed once per target."""
    cache: dict[str, dict[str, str]] = {}

    def get(target) -> dict[str, str]:
        if target.name not in cache:
            workdir = target.prepare(tmp_path_factory.mktemp(f"{target.name}-local"))
            result = target.run(workdir, "default")
            assert result.returncode == 0, f"local run of {target.name} failed:\n{result.tail()}"
            digests = target.digests(workdir)
            assert digests, f"local run of {target.name} wrote nothing under {target.outputs}/"
            cache[target.name] = digests
        return cache[target.name]

    return get


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("kind", harness.SCHEDULERS)
def test_workflow_through_scheduler(kind, target, tmp_path, local_digests):
    require_scheduler(kind)
    expected = local_digests(target)

    workdir = target.prepare(tmp_path / kind)
    result = target.run(workdir, kind)
    print(
        f"{target.name} via {kind}: {result.seconds:.1f} s, {len(result.submitted)} jobs {result.submitted}"
    )
    assert result.returncode == 0, f"{kind} run failed (exit {result.returncode}):\n{result.tail()}"
    # The workflow profile (profiles/default) must not impose this machine's CPU/memory limits on the
    # cluster run (they would throttle submission; its default-resources would drop partition/account).
    assert "Provided cores:" not in result.output and "Provided resources:" not in result.output, (
        result.tail()
    )

    # (c) the jobs went through the scheduler, and all of them are in its accounting.
    assert result.submitted, f"Snakemake reported no {kind} submissions:\n{result.tail()}"
    if target.expected_jobs is not None:
        assert len(result.submitted) == target.expected_jobs, result.tail()
    jobs = harness.jobs_since(kind, result.started)
    ours = harness.accounted_jobs(result, jobs)
    assert sorted(j.jobid for j in ours) == sorted(result.submitted), (
        f"submitted {sorted(result.submitted)}, accounting lists {[j.jobid for j in jobs]}"
    )
    assert [j for j in ours if not j.ok] == []
    snakemake_jobs = [j for j in jobs if j.rule is not None]
    assert len(snakemake_jobs) == len(result.submitted), [j.raw for j in snakemake_jobs]
    for rule, cpus in target.expected_cpus.items():
        got = {j.cpus for j in ours if j.rule == rule}
        assert got == {cpus}, f"rule {rule}: scheduler allotted {got} CPUs, expected {cpus}"

    # (d) same outputs as the local run.
    assert target.digests(workdir) == expected
