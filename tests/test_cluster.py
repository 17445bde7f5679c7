"""End-to-end: workflows run through a real SLURM and a real SGE (``.ci/cluster/*-up.sh``).

For each scheduler and each target workflow: the scheduler must answer (else skip, or FAIL when
``KYMATA_REQUIRE_CLUSTER=1``), the workflow runs through ``profiles/<scheduler>`` (with CI's site settings
from ``.ci/cluster/profiles/<scheduler>`` as a second profile), every job Snakemake submitted must appear
as successful in the scheduler's accounting (sacct / qacct) and no other Snakemake job may, and the
outputs must equal those of a local run through ``profiles/default``. As in the repository,
``profiles/default`` also sits next to the Snakefile, where Snakemake applies it to every run.

The demo runs its small jobs as group jobs (``group:`` in the rules, ``group-components`` in the profiles):
the test counts the submissions and checks each group job's request against the jobs it ran.

The tests at the end need no scheduler: the profiles' placeholders stop a run with a message, CI's site
profiles restate the user profiles with only the placeholders filled in, both profiles size the groups
the rules name, and a retried job asks for more memory and time.

Add a workflow by appending a ``harness.Target`` to ``TARGETS``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _load_harness():
    path = Path(__file__).resolve().parent / "cluster" / "harness.py"
    spec = importlib.util.spec_from_file_location("kymata_cluster_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

pytestmark = pytest.mark.cluster

# The demo study (tests/cluster/demo/): 2 participants and the group average, 2 transforms, sensor and
# source space, one denoiser. Per participant: 6 gridsearch jobs (2 transforms x scalp, lh, rh), then
# 2 combine, 2 IPPM and 4 plot jobs (one of each per channel space, and an IPPM plot per space).
DEMO_PARTICIPANTS = 3
DEMO_GRIDSEARCH_PER_PARTICIPANT = 6
# The profiles' group sizes, but 4 gridsearch jobs per cluster job instead of 10, so that a participant's
# gridsearch jobs fill more than one.
GRIDSEARCH_PER_CLUSTER_JOB = 4
DEMO_GROUPS = {
    "gridsearch_{participant}": GRIDSEARCH_PER_CLUSTER_JOB,
    "combine_{participant}": 2,
    "ippm_{participant}": 100,
    "plots_{participant}": 100,
}
DEMO_GROUP_JOBS = DEMO_PARTICIPANTS * (
    math.ceil(DEMO_GRIDSEARCH_PER_PARTICIPANT / GRIDSEARCH_PER_CLUSTER_JOB)  # 2 gridsearch cluster jobs
    + 3  # its combine jobs, its IPPM jobs, its plot jobs
)

TARGETS = [
    # 2 x make + 2 x square (1 thread each) + 1 x combine (2 threads) = 5 scheduler jobs in 3 stages.
    harness.Target(
        "toy",
        source=harness.TOY,
        expected_jobs=5,
        expected_cpus={"make": 1, "square": 1, "combine": 2},
        timeout=170,
    ),
    # The real workflow (the repository's Snakefile, in place) on the demo study: 51 jobs, of which 6 are
    # local rules. Submitted one by one, the other 45 were 45 scheduler jobs; grouped, they are simulate,
    # the two averages, and per participant 2 gridsearch group jobs (4 + 2 jobs) and one group job each
    # of its combine, IPPM and plot jobs: 18. Logs and benchmarks hold timings, so they differ between
    # runs; every result must be byte-identical.
    harness.Target(
        "demo",
        source=harness.REPO / "tests" / "cluster" / "demo",
        snakefile=harness.REPO / "Snakefile",
        configfile="config.yaml",
        extra_args=("--group-components", *(f"{group}={n}" for group, n in DEMO_GROUPS.items())),
        ignore=("results/logs/*", "results/benchmarks/*"),
        expected_jobs=3 + DEMO_GROUP_JOBS,
        expected_groups=DEMO_GROUP_JOBS,
        expected_cpus={"simulate": 1, "average_sensor": 1, "average_source": 1},
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
        f"{target.name} via {kind}: {result.seconds:.1f} s, {len(result.submitted)} jobs {result.submitted}, "
        f"of which {len(result.groups)} group jobs {result.groups}"
    )
    assert result.returncode == 0, f"{kind} run failed (exit {result.returncode}):\n{result.tail()}"
    # The workflow profile (profiles/default) must not impose this machine's CPU/memory limits on the
    # cluster run (they would throttle submission; its default-resources would drop partition/account).
    # The cluster profiles' own `resources` are group_slot only (per cluster job, see the profiles).
    provided = re.findall(r"^Provided resources: (.*)$", result.output, re.MULTILINE)
    assert "Provided cores:" not in result.output and all("mem_mb" not in p for p in provided), result.tail()

    # (c) the jobs went through the scheduler, and all of them are in its accounting.
    assert result.submitted, f"Snakemake reported no {kind} submissions:\n{result.tail()}"
    if target.expected_jobs is not None:
        assert len(result.submitted) == target.expected_jobs, result.tail()
    assert len(result.groups) == target.expected_groups, result.tail()
    jobs = harness.jobs_since(kind, result.started)
    ours = harness.accounted_jobs(result, jobs)
    assert sorted(j.jobid for j in ours) == sorted(result.submitted), (
        f"submitted {sorted(result.submitted)}, accounting lists {[j.jobid for j in jobs]}"
    )
    assert [j for j in ours if not j.ok] == []
    snakemake_jobs = [j for j in jobs if j.rule is not None]
    assert len(snakemake_jobs) == len(result.submitted), [j.raw for j in snakemake_jobs]
    for rule, cpus in target.expected_cpus.items():
        got = {j.cpus for j in ours if j.rule == rule and j.jobid not in result.groups}
        assert got == {cpus}, f"rule {rule}: scheduler allotted {got} CPUs, expected {cpus}"

    # (d) a group job asked for what its jobs need, run one after another: the memory of the largest, the
    # sum of their runtimes, one job's CPUs. (SGE never asks for less than its 2 GB floor.)
    for job in (j for j in ours if j.jobid in result.groups):
        members = harness.group_members(kind, workdir, job.jobid)
        assert members, f"group job {job.jobid} ran no jobs"
        need = max(m["mem_mb"] for m in members)
        if kind == "sge":
            need = max(need, 2048)
        assert (job.mem_mb, job.minutes, job.cpus) == (need, sum(m["runtime"] for m in members), 1), (
            f"{kind} group job {job.jobid} ({job.name}) of {members}: asked for {job.mem_mb} MB, "
            f"{job.minutes} min, {job.cpus} CPUs"
        )
        # ... and the Snakemake inside ran them one at a time, as the request assumes.
        assert harness.group_parallelism(kind, workdir, job.jobid) == 1, harness.job_log(
            kind, workdir, job.jobid
        )

    # (e) same outputs as the local run.
    assert target.digests(workdir) == expected


# ---- without a scheduler ---------------------------------------------------------------------------


def _profile(path: Path) -> dict:
    return yaml.safe_load((path / "config.yaml").read_text())


def _is_placeholder(value) -> bool:
    """A value in <angle brackets>, maybe quoted inside (``"'<your queue>'"``, read by Snakemake as a string)."""
    text = value.strip("'\"") if isinstance(value, str) else ""
    return text.startswith("<") and text.endswith(">")


@pytest.mark.parametrize("kind", harness.SCHEDULERS)
def test_site_profile_restates_the_user_profile(kind):
    """CI's site profile replaces default-resources as a whole: it must be the user's, placeholders filled."""
    user = _profile(harness.PROFILES / kind)["default-resources"]
    site = _profile(harness.site_profile(kind))["default-resources"]
    placeholders = {key for key, value in user.items() if _is_placeholder(value)}
    assert placeholders, f"profiles/{kind} ships no placeholder for its site settings"
    assert site.keys() == user.keys()
    assert {k: v for k, v in site.items() if k not in placeholders} == {
        k: v for k, v in user.items() if k not in placeholders
    }
    assert not any(_is_placeholder(site[key]) for key in placeholders), site


def test_profiles_group_the_workflows_groups():
    """Both cluster profiles size exactly the groups the rules name, and group the same way."""
    templates = set()
    for path in (harness.REPO / "workflow" / "rules").glob("*.smk"):
        templates |= set(re.findall(r'^\s+group: "([^"]+)"', path.read_text(), re.MULTILINE))
    assert templates == set(DEMO_GROUPS)
    keys = ("group-components", "resources", "set-resource-scopes", "retries")
    slurm, sge = (_profile(harness.PROFILES / kind) for kind in harness.SCHEDULERS)
    assert set(slurm["group-components"]) == templates
    test_sizes = {group: n for group, n in DEMO_GROUPS.items() if n != GRIDSEARCH_PER_CLUSTER_JOB}
    assert test_sizes == {group: slurm["group-components"][group] for group in test_sizes}
    assert {k: slurm[k] for k in keys} == {k: sge[k] for k in keys}
    assert slurm["set-resource-scopes"] == {"group_slot": "local"}


@pytest.mark.parametrize("kind", harness.SCHEDULERS)
def test_placeholders_stop_the_run_before_any_job(kind, tmp_path):
    """With the profile as shipped, the run stops at once naming each setting to fill in."""
    workdir = harness.Target("demo", source=harness.REPO / "tests" / "cluster" / "demo").prepare(tmp_path)
    result = harness.run_workflow(
        workdir,
        kind,
        snakefile=harness.REPO / "Snakefile",
        configfile="config.yaml",
        extra_args=("--dry-run",),
        timeout=120,
        site=None,
    )
    assert result.returncode != 0, result.tail()
    assert "site settings are still placeholders" in result.output, result.tail()
    user = _profile(harness.PROFILES / kind)["default-resources"]
    for key, value in user.items():
        if _is_placeholder(value):
            assert f"{key}: {value}" in result.output, result.tail()
    assert "Building DAG of jobs" not in result.output and not result.submitted


def test_sge_submit_refuses_a_placeholder(tmp_path):
    """sge-submit.sh, used by another workflow that does not check, refuses it too, without calling qsub."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    called = tmp_path / "qsub-called"
    (fake_bin / "qsub").write_text(f"#!/bin/sh\ntouch {called}\necho 1\n")
    (fake_bin / "qsub").chmod(0o755)
    properties = {
        "rule": "a",
        "threads": 1,
        "resources": {
            "mem_mb": 100,
            "runtime": 5,
            "sge_queue": "all.q",
            "sge_pe": "<your parallel environment>",
        },
    }
    jobscript = tmp_path / "job.sh"
    jobscript.write_text(f"#!/bin/sh\n# properties = {json.dumps(properties)}\ntrue\n")
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [shutil.which("bash"), str(harness.PROFILES / "sge" / "sge-submit.sh"), str(jobscript)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "sge_pe is still the placeholder '<your parallel environment>'" in proc.stderr
    assert not called.exists()


def test_a_retry_asks_for_more_memory_and_time(tmp_path):
    """`retries` in the profiles: attempt 2 of a job asks for 1.5 x the memory and 2 x the time of attempt 1."""
    from kymata_core.simulate import StudySpec, simulate_study, vectorview_sensors

    spec = StudySpec(
        participants=["p1"],
        n_splits=8,
        sensors=vectorview_sensors(2, 1),
        hexels_lh=[0],
        hexels_rh=[0],
        transforms=["a"],
        effects=[],
        stimulus_delivery_latency=0.0,
        seed=1,
    )
    simulate_study(spec, tmp_path / "data")
    config = {
        "dataset": "files",
        "participants": ["p1"],
        "group_average": False,
        "channel_space": "sensor",
        "emeg": {"sensor": "data/emeg/{participant}-ave.fif"},
        "transforms": {"sample_rate": spec.transform_sample_rate, "files": {"a": "data/transforms/a.npy"}},
        "gridsearch": {"n_splits": 8, "stimulus_delivery_latency": 0.0, "runtime_min": 25},
        "ippm": {"hierarchy": {"input": [], "a": ["input"]}},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))

    def requests(attempt: int) -> dict[str, dict[str, int]]:
        result = harness.run_workflow(
            tmp_path,
            "default",
            snakefile=harness.REPO / "Snakefile",
            configfile="study.yaml",
            extra_args=("--dry-run", "--attempt", str(attempt)),
            timeout=120,
        )
        assert result.returncode == 0, result.tail()
        found = {}
        for rule, resources in re.findall(
            r"^\s*rule (\w+):\n(?:\s+\w+:.*\n)*?\s+resources: (.*)$", result.output, re.M
        ):
            # mem_mb of a job whose inputs do not exist yet is <TBD> in a dry run
            found.setdefault(
                rule, {k: int(v) for k, v in re.findall(r"(mem_mb|runtime)=(\d+)(?:,|$)", resources)}
            )
        return found

    first, second = requests(1), requests(2)
    assert first["gridsearch"]["runtime"] == 25 and first["combine"]["runtime"] == 30
    assert second["gridsearch"] == {"mem_mb": math.ceil(first["gridsearch"]["mem_mb"] * 1.5), "runtime": 50}
    assert second["combine"]["runtime"] == 60
