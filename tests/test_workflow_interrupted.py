"""An interrupted run loses nothing: SIGKILL to Snakemake and its running jobs, then rerun.

The rerun (README: ``snakemake --unlock`` then the same command) must run only the jobs that had not
finished, no ``.nkg`` may ever be half-written under its final name, and the final results must be
byte-identical to those of an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from kymata_core.io.nkg import load_expression_set
from kymata_core.simulate import Effect, StudySpec, simulate_study, vectorview_sensors
from tests.workflow_utils import BIN, copy_workflow, planned_jobs, run_snakemake, snakemake_env, write_config

pytestmark = pytest.mark.slow

IGNORED = ("results/logs/", "results/benchmarks/")


def make_study(root: Path) -> Path:
    sensors = vectorview_sensors(3, 2)
    transforms = ["a", "b", "c"]
    spec = StudySpec(
        participants=["p1", "p2"],
        n_splits=40,
        sensors=sensors,
        hexels_lh=list(range(6)),
        hexels_rh=list(range(6)),
        transforms=transforms,
        effects=[Effect(t, "sensor", sensors[2 * i : 2 * i + 2], 0.05 + 0.04 * i, 0.6) for i, t in enumerate(transforms)],
        seed=3,
    )
    copy_workflow(root)
    simulate_study(spec, root / "data")
    return write_config(
        root,
        {
            "dataset": "files",
            "participants": ["p1", "p2"],
            "channel_space": ["sensor", "source"],
            "emeg": {"sensor": "data/emeg/{participant}-ave.fif", "source": "data/emeg/{participant}-lh.stc"},
            "transforms": {"sample_rate": 200, "files": {t: f"data/transforms/{t}.npy" for t in transforms}},
            "gridsearch": {"n_splits": 40, "n_derangements": 3, "stimulus_delivery_latency": 0.0},
            "ippm": {"hierarchy": {"input": [], "a": ["input"], "b": ["a"], "c": ["b"]}, "denoisers": ["maxpool"]},
        },
    )


def digests(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted((root / "results").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(IGNORED):
            out[rel] = path.read_bytes()
    return out


def running_jobs(root: Path, needle: str) -> list[int]:
    """PIDs of processes whose command line contains ``needle`` and which run in ``root``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if needle in cmdline and cwd == str(root):
            pids.append(int(proc.name))
    return pids


def test_sigkill_mid_run_then_rerun_gives_identical_results(tmp_path):
    reference = tmp_path / "uninterrupted"
    run_snakemake(reference, "--configfile", str(make_study(reference)))

    root = tmp_path / "interrupted"
    config = make_study(root)
    all_jobs = planned_jobs(root, "--configfile", str(config))
    cmd = [str(BIN / "snakemake"), "--cores", "2", "--workflow-profile", "none", "--configfile", str(config)]
    proc = subprocess.Popen(
        cmd, cwd=root, env=snakemake_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            shards = list((root / "results").glob("*/shards/*.nkg"))
            gridsearch = running_jobs(root, "-m kymata_core gridsearch")
            if len(shards) >= 3 and gridsearch:
                break
            assert proc.poll() is None, "the workflow finished before it could be interrupted"
            time.sleep(0.2)
        else:
            pytest.fail("no gridsearch job was seen running")
        for pid in gridsearch:  # a running job dies first, mid-write if it is writing
            os.kill(pid, signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    for path in (root / "results").rglob("*.nkg"):  # every .nkg under its final name is whole
        load_expression_set(path)
    remaining = planned_jobs(root, "--configfile", str(config), "--rerun-incomplete")
    assert 0 < len(remaining) < len(all_jobs)
    assert set(remaining) <= set(all_jobs)

    run_snakemake(root, "--unlock", "--configfile", str(config))
    run_snakemake(root, "--configfile", str(config), "--rerun-incomplete")
    assert planned_jobs(root, "--configfile", str(config)) == []
    assert digests(root) == digests(reference)
    leftovers = [p for p in (root / "results").rglob(".*.tmp")]
    assert leftovers == []
