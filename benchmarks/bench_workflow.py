"""Workflow benchmarks: start-up and scheduling at scale, and the demo's wall time per stage.

    python benchmarks/bench_workflow.py start [--participants 50 --transforms 200] [--profile P] [-- ARGS]
    python benchmarks/bench_workflow.py throughput [--participants 10 --seconds 40] [--profile P] [-- ARGS]
    python benchmarks/bench_workflow.py rerun [--participants 10 --transforms 200] [--profile P]
    python benchmarks/bench_workflow.py dag [--participants 50 --transforms 200]
    python benchmarks/bench_workflow.py demo [--profile profiles/default] [--workdir DIR]

The first three write a study of tiny but real input files (source estimates and transforms), so
that Snakemake sees 50 participants × 200 transforms × 2 hemispheres = 20,000 gridsearch jobs (plus
the group average's).

``start`` runs the README's command (``snakemake --profile profiles/default --configfile …``) for
real and reports when the DAG was built and when the first job started (then kills the run):
"builds its DAG and starts". With a cluster profile it waits for the scheduler's job id (cancel the
submitted jobs afterwards: ``scancel -u $USER`` or ``qdel -u $USER``). Arguments after ``--`` go to Snakemake (e.g. ``-- --scheduler ilp``).

``throughput`` measures the scheduler's cost per job: it replaces the gridsearch rule's command by
``touch`` (jobs that do nothing) and counts the jobs finished in ``--seconds`` after the first.

``rerun`` runs every gridsearch job of such a study (``--until gridsearch``, the command replaced by
``touch``), then times the same command again with nothing to do, and after changing one transform
file (until its first job starts): how long "rerun only what changed" takes to decide.

``dag`` times a dry run (``--dry-run --quiet``): parsing, validation, DAG build, resource evaluation
and the dry run's listing of every job.

``demo`` runs the demo workflow in a fresh copy with the given profile and breaks its wall time down
per rule from the jobs' benchmark files.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.workflow_utils import copy_workflow, snakemake_env, write_config  # noqa: E402

BIN = Path(sys.executable).parent


def make_large_study(root: Path, n_participants: int, n_transforms: int) -> Path:
    import mne

    data = root / "data"
    (data / "emeg").mkdir(parents=True)
    (data / "transforms").mkdir()
    stc = mne.SourceEstimate(
        np.zeros((20, 400), dtype=np.float32), [np.arange(10), np.arange(10)], tmin=-0.2, tstep=0.005
    )
    participants = [f"sub{i:03d}" for i in range(n_participants)]
    for p in participants:
        stc.save(data / "emeg" / p, overwrite=True, verbose="error")
    transforms = {}
    for i in range(n_transforms):
        name = f"transform{i:03d}"
        np.save(data / "transforms" / f"{name}.npy", np.full(200, i, dtype=np.float32))
        transforms[name] = f"data/transforms/{name}.npy"
    config = {
        "dataset": "files",
        "participants": participants,
        "channel_space": "source",
        "emeg": {"source": "data/emeg/{participant}-lh.stc"},
        "transforms": {"sample_rate": 200, "files": transforms},
        # small enough for the recordings above to pass the input checks (1 s of transform, 2 s of EMEG)
        "gridsearch": {"n_splits": 4, "seconds_per_split": 0.25},
        "ippm": {"denoisers": []},
    }
    return write_config(root, config)


def bench_dag(n_participants: int, n_transforms: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workflow(Path(tmp))
        t0 = time.perf_counter()
        config = make_large_study(root, n_participants, n_transforms)
        setup = time.perf_counter() - t0
        cmd = [str(BIN / "snakemake"), "--dry-run", "--quiet", "all", "--cores", "2",
               "--workflow-profile", "none", "--configfile", str(config)]
        t0 = time.perf_counter()
        result = subprocess.run(cmd, cwd=root, env=snakemake_env(), capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
        counts = {}
        summary = subprocess.run(cmd[:3] + ["rules"] + cmd[4:], cwd=root, env=snakemake_env(),
                                 capture_output=True, text=True)
        for line in summary.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                counts[parts[0]] = int(parts[1])
        print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
        print(f"study: {n_participants} participants x {n_transforms} transforms x 2 hemispheres "
              f"(input files written in {setup:.1f} s)")
        print(f"jobs: {counts}")
        print(f"dry run, quiet (parse + validate + DAG + resources + scheduling): {elapsed:.1f} s")


def _run_until(cmd: list[str], root: Path, stop) -> dict[str, float]:
    """Run ``cmd`` in ``root``, timing its log lines, until ``stop(marks, line, t)`` is true; then kill it."""
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=snakemake_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    tail: list[str] = []
    try:
        for line in proc.stdout:
            t = time.perf_counter() - t0
            tail = (tail + [line])[-40:]
            text = line.strip()
            if text.startswith("Building DAG"):
                marks.setdefault("dag_start", t)
            elif text.startswith("Job stats"):
                marks.setdefault("dag_built", t)
            elif re.fullmatch(r"(local)?rule \w+:", text):
                marks.setdefault("first_job", t)
            elif "has been submitted with SLURM jobid" in text or "with external jobid" in text:
                marks.setdefault("first_submitted", t)
            if stop(marks, text, t):
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if "first_job" not in marks:
        sys.exit("".join(tail))
    return marks


def _snakemake_cmd(profile: str, config: Path, extra: list[str]) -> list[str]:
    return [str(BIN / "snakemake"), "--profile", profile, "--configfile", str(config), *extra]


def _workflow_with_profiles(root: Path) -> Path:
    """A copy of the workflow in ``root``, with the repository's profiles linked in."""
    copy_workflow(root)
    if not (root / "profiles").exists():
        (root / "profiles").symlink_to(Path(__file__).resolve().parents[1] / "profiles")
    return root


def _large_study_workdir(tmp: str, n_participants: int, n_transforms: int) -> tuple[Path, Path]:
    root = _workflow_with_profiles(Path(tmp))
    return root, make_large_study(root, n_participants, n_transforms)


def bench_start(n_participants: int, n_transforms: int, profile: str, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, config = _large_study_workdir(tmp, n_participants, n_transforms)
        local = Path(profile).name == "default"
        marks = _run_until(_snakemake_cmd(profile, config, extra), root,
                           lambda m, line, t: "first_job" in m if local else "first_submitted" in m)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"study: {n_participants} participants x {n_transforms} transforms x 2 hemispheres; "
          f"snakemake --profile {profile} {' '.join(extra)}")
    print(f"start-up {marks['dag_start']:.1f} s, DAG built at {marks['dag_built']:.1f} s, "
          f"first job started at {marks['first_job']:.1f} s"
          + (f", accepted by the scheduler at {marks['first_submitted']:.1f} s" if "first_submitted" in marks else ""))


def bench_throughput(n_participants: int, n_transforms: int, seconds: float, profile: str, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, config = _large_study_workdir(tmp, n_participants, n_transforms)
        _touch_gridsearch(root)
        finished = []

        def stop(marks, line, t):
            if "Finished jobid" in line:
                finished.append(t)
            return bool(finished) and t - finished[0] > seconds

        _run_until(_snakemake_cmd(profile, config, extra), root, stop)
    n_jobs = len([t for t in finished if t - finished[0] <= seconds])
    print(f"study: {n_participants} participants x {n_transforms} transforms x 2 hemispheres; "
          f"snakemake --profile {profile} {' '.join(extra)}; load average {os.getloadavg()[0]:.1f}")
    print(f"no-op jobs finished in the {seconds:.0f} s after the first: {n_jobs} ({n_jobs / seconds:.1f} per second)")


def _touch_gridsearch(root: Path) -> None:
    rule = root / "workflow/rules/gridsearch.smk"
    text = rule.read_text()
    rule.write_text(text[: text.index("    shell:")] + '    shell:\n        "touch {output.nkg} {log}"\n')


def bench_rerun(n_participants: int, n_transforms: int, profile: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, config = _large_study_workdir(tmp, n_participants, n_transforms)
        _touch_gridsearch(root)
        cmd = _snakemake_cmd(profile, config, ["--until", "gridsearch"])
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=root, env=snakemake_env(), capture_output=True, text=True, check=True)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = subprocess.run(cmd, cwd=root, env=snakemake_env(), capture_output=True, text=True, check=True)
        noop = time.perf_counter() - t0
        log = result.stdout + result.stderr
        assert "Nothing to be done" in log or re.search(r"^total\s+0$", log, re.M), log[-2000:]
        np.save(root / "data/transforms/transform000.npy", np.full(10, -1, dtype=np.float32))
        marks = _run_until(cmd, root, lambda m, line, t: "first_job" in m)
    n_jobs = (n_participants + 1) * n_transforms * 2  # and the group average's
    print(f"study: {n_participants} participants x {n_transforms} transforms x 2 hemispheres "
          f"({n_jobs:,} gridsearch jobs, no-op); snakemake --profile {profile} --until gridsearch; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"first run, every job: {first:.1f} s")
    print(f"second run, nothing to do: {noop:.1f} s")
    print(f"after changing one transform file: DAG built at {marks['dag_built']:.1f} s, "
          f"its first job started at {marks['first_job']:.1f} s")


def bench_demo(profile: str, workdir: Path | None) -> None:
    root = _workflow_with_profiles(workdir or Path(tempfile.mkdtemp(prefix="kymata-demo-bench-")))
    t0 = time.perf_counter()
    result = subprocess.run([str(BIN / "snakemake"), "--profile", profile], cwd=root, env=snakemake_env(),
                            capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if result.returncode != 0:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    per_rule: dict[str, list[float]] = defaultdict(list)
    for tsv in (root / "results" / "benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(root / "results" / "benchmarks").parts[0].removesuffix(".tsv")
        with tsv.open() as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        per_rule[rule].append(float(row["s"]))
    print(f"demo with {profile}: wall time {wall:.1f} s in {root}")
    print(f"{'rule':<18}{'jobs':>6}{'sum s':>10}{'max s':>8}")
    for rule, times in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:<18}{len(times):>6}{sum(times):>10.1f}{max(times):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    for name, participants in (("start", 50), ("throughput", 10), ("rerun", 10), ("dag", 50)):
        study = sub.add_parser(name)
        study.add_argument("--participants", type=int, default=participants)
        study.add_argument("--transforms", type=int, default=200)
        if name != "dag":
            study.add_argument("--profile", default="profiles/default")
        if name in ("start", "throughput"):
            study.add_argument("snakemake_args", nargs="*", help="after --: passed to snakemake")
        if name == "throughput":
            study.add_argument("--seconds", type=float, default=40.0)
    demo = sub.add_parser("demo")
    demo.add_argument("--profile", default="profiles/default")
    demo.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.what == "start":
        bench_start(args.participants, args.transforms, args.profile, args.snakemake_args)
    elif args.what == "throughput":
        bench_throughput(args.participants, args.transforms, args.seconds, args.profile, args.snakemake_args)
    elif args.what == "rerun":
        bench_rerun(args.participants, args.transforms, args.profile)
    elif args.what == "dag":
        bench_dag(args.participants, args.transforms)
    else:
        bench_demo(args.profile, args.workdir)


if __name__ == "__main__":
    main()
