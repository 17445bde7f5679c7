"""Run a Snakemake workflow through a profile and check what a scheduler's accounting says about it.

Used by ``tests/test_cluster.py``; usable by hand too::

    from tests.cluster import harness
    res = harness.run_workflow(workdir, "slurm", snakefile="Snakefile", timeout=170)
    jobs = harness.jobs_since("slurm", res.started)

Schedulers are the real ones brought up by ``.ci/cluster/slurm-up.sh`` / ``sge-up.sh`` (or a real site's).
Every workflow run is wrapped in ``timeout -k 10 <s>``: a misconfigured status check makes Snakemake
wait forever, and SIGTERM alone only makes it wait for its running jobs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
TOY = Path(__file__).resolve().parent / "toy"

SCHEDULERS = ("slurm", "sge")
SGE_DEFAULT_ENV = {"SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default"}
# How each executor reports a submission in Snakemake's output.
_SUBMITTED = {
    "slurm": re.compile(r"has been submitted with SLURM jobid (\d+)"),
    "sge": re.compile(r"Submitted (?:group )?job \S+ with external jobid '([^'.\s]+)"),
}


@dataclass
class RunResult:
    """Outcome of one Snakemake run."""

    returncode: int
    output: str
    seconds: float
    workdir: Path
    started: float
    """``time.time()`` just before Snakemake started (for ``jobs_since``)."""
    submitted: list[str] = field(default_factory=list)
    """Scheduler job ids Snakemake reported submitting, in order."""

    def tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the output, for assertion messages."""
        return "\n".join(self.output.splitlines()[-lines:])


@dataclass(frozen=True)
class SchedulerJob:
    """One job as the scheduler's accounting records it."""

    jobid: str
    name: str
    rule: str | None
    """Snakemake rule, from the SLURM job comment or the SGE job name ``smk_<rule>``."""
    ok: bool
    """Finished with exit code 0 and no scheduler failure."""
    cpus: int
    submitted: datetime
    raw: dict[str, str]


# ---- schedulers ------------------------------------------------------------------------------------


def scheduler_env(kind: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running Snakemake and scheduler clients.

    The running interpreter's bin directory goes first on ``PATH``, so jobs (which inherit this
    environment: ``--export=ALL`` / ``qsub -V``) find ``python`` and ``kymata-core`` from the same venv.
    For SGE, ``SGE_ROOT``/``SGE_CELL`` default to Debian's.
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("SNAKEMAKE_PROFILE", None)
    if kind in (None, "sge"):
        for key, value in SGE_DEFAULT_ENV.items():
            env.setdefault(key, value)
    return env


def _run_quiet(cmd: Sequence[str], timeout: float = 20, env: dict[str, str] | None = None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def scheduler_available(kind: str) -> tuple[bool, str]:
    """Whether a ``kind`` ("slurm" or "sge") scheduler answers here, and why not if it does not."""
    if kind not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {kind!r}: expected one of {SCHEDULERS}")
    cmd = ["sinfo", "-h", "-o", "%T"] if kind == "slurm" else ["qstat", "-f"]
    env = scheduler_env(kind)
    if shutil.which(cmd[0], path=env["PATH"]) is None:
        return False, f"{cmd[0]} is not installed"
    try:  # a healthy scheduler answers within a second; a stopped one makes the client retry
        proc = _run_quiet(cmd, timeout=5, env=env)
    except subprocess.TimeoutExpired:
        return False, f"{' '.join(cmd)} timed out"
    if proc.returncode != 0:
        return False, f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout).strip()[:300]}"
    if kind == "slurm":
        states = proc.stdout.split()
        if not any(s.rstrip("*~#").startswith(("idle", "mixed", "allocated", "completing")) for s in states):
            return False, f"no usable SLURM node (sinfo states: {states})"
    elif not re.search(r"^\S+@\S+\s+\S+\s+\d+/\d+/\d+", proc.stdout, re.MULTILINE):
        return False, "qstat -f lists no queue instance"
    return True, ""


def jobs_since(kind: str, t0: float) -> list[SchedulerJob]:
    """Finished jobs the scheduler's accounting lists as submitted at or after ``t0`` (epoch seconds)."""
    if kind == "slurm":
        return slurm_jobs_since(t0)
    if kind == "sge":
        return sge_jobs_since(t0)
    raise ValueError(f"unknown scheduler {kind!r}: expected one of {SCHEDULERS}")


def slurm_jobs_since(t0: float) -> list[SchedulerJob]:
    """Jobs ``sacct`` knows that were submitted at or after ``t0`` (needs slurmdbd accounting)."""
    fields = ["JobIDRaw", "JobName", "State", "ExitCode", "Comment", "AllocCPUS", "ReqMem", "Submit"]
    start = datetime.fromtimestamp(int(t0))
    proc = _run_quiet(
        ["sacct", "-X", "-n", "-P", "-a", "-S", start.strftime("%Y-%m-%dT%H:%M:%S"), "-o", ",".join(fields)],
        env=scheduler_env("slurm"),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"sacct failed: {proc.stderr.strip()}")
    jobs = []
    for line in proc.stdout.splitlines():
        values = line.split("|")
        if len(values) != len(fields):
            continue
        raw = dict(zip(fields, values, strict=True))
        submitted = datetime.strptime(raw["Submit"], "%Y-%m-%dT%H:%M:%S")
        if submitted < start:
            continue
        m = re.fullmatch(r"rule_(.+?)(?:_wildcards_.*)?", raw["Comment"])
        jobs.append(
            SchedulerJob(
                jobid=raw["JobIDRaw"],
                name=raw["JobName"],
                rule=m.group(1) if m else None,
                ok=raw["State"] == "COMPLETED" and raw["ExitCode"] == "0:0",
                cpus=int(raw["AllocCPUS"] or 0),
                submitted=submitted,
                raw=raw,
            )
        )
    return jobs


def sge_jobs_since(t0: float) -> list[SchedulerJob]:
    """Jobs ``qacct`` knows that were submitted at or after ``t0``."""
    start = datetime.fromtimestamp(int(t0))
    # -b filters on the job's start time, which is never before its submission.
    proc = _run_quiet(["qacct", "-j", "*", "-b", start.strftime("%Y%m%d%H%M.%S")], env=scheduler_env("sge"))
    if proc.returncode != 0:
        if "no jobs running since" in (proc.stderr + proc.stdout).lower():
            return []
        raise RuntimeError(f"qacct failed: {(proc.stderr or proc.stdout).strip()}")
    jobs = []
    for record in re.split(r"^=+\s*$", proc.stdout, flags=re.MULTILINE):
        raw = {}
        for line in record.splitlines():
            key, _, value = line.partition(" ")
            if key:
                raw[key] = value.strip()
        if "jobnumber" not in raw:
            continue
        submitted = datetime.strptime(raw["qsub_time"], "%a %b %d %H:%M:%S %Y")
        if submitted < start:
            continue
        name = raw.get("jobname", "")
        jobs.append(
            SchedulerJob(
                jobid=raw["jobnumber"],
                name=name,
                rule=name[len("smk_") :] if name.startswith("smk_") else None,
                ok=raw.get("failed", "").split(" ")[0] == "0"
                and raw.get("exit_status", "").split(" ")[0] == "0",
                cpus=int(raw.get("slots", "0") or 0),
                submitted=submitted,
                raw=raw,
            )
        )
    return jobs


# ---- workflows -------------------------------------------------------------------------------------


def profile_path(profile: str | os.PathLike[str]) -> Path:
    """A profile directory: a name under ``profiles/`` ("default", "slurm", "sge") or a path."""
    path = Path(profile)
    if not path.is_dir():
        path = PROFILES / str(profile)
    if not (path / "config.yaml").is_file():
        raise FileNotFoundError(f"no profile config.yaml in {path}")
    return path


def copy_workflow(
    source: Path, dest: Path, ignore: Iterable[str] = ("results", ".snakemake", "logs")
) -> Path:
    """Copy a workflow directory (Snakefile, config, ...) to ``dest``, leaving out earlier results."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*ignore), dirs_exist_ok=True)
    return dest


def run_workflow(
    workdir: Path,
    profile: str | os.PathLike[str],
    snakefile: str | os.PathLike[str] | None = None,
    configfile: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 600,
    env: dict[str, str] | None = None,
    targets: Sequence[str] = (),
    scheduler: str | None = None,
) -> RunResult:
    """Run ``python -m snakemake --profile <profile>`` in ``workdir``, under ``timeout -k 10``.

    ``snakefile``/``configfile`` may be absolute (a workflow elsewhere, outputs written in ``workdir``)
    or relative to ``workdir``. The Python running this function runs Snakemake, and cluster jobs
    re-run ``python -m snakemake`` from the same environment. ``scheduler`` ("slurm"/"sge"; default:
    the profile directory's name if it is one of those) says how to read submitted job ids.
    """
    prof = profile_path(profile)
    kind = scheduler or (prof.name if prof.name in SCHEDULERS else None)
    cmd = [
        "timeout",
        "-k",
        "10",
        str(int(timeout)),
        sys.executable,
        "-m",
        "snakemake",
        *targets,  # before the options: --configfile and others take several values
        "--profile",
        str(prof),
    ]
    if snakefile is not None:
        cmd += ["--snakefile", str(snakefile)]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += list(extra_args)
    started = time.time()
    proc = subprocess.run(
        cmd,
        cwd=workdir,
        env=scheduler_env(kind, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    seconds = time.time() - started
    submitted = _SUBMITTED[kind].findall(proc.stdout) if kind else []
    return RunResult(proc.returncode, proc.stdout, seconds, Path(workdir), started, submitted)


def accounted_jobs(result: RunResult, jobs: Iterable[SchedulerJob]) -> list[SchedulerJob]:
    """The accounting records of the jobs ``result`` submitted."""
    ids = set(result.submitted)
    return [job for job in jobs if job.jobid in ids]


def output_digests(root: Path, subdir: str = "results", ignore: Iterable[str] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``root/subdir``, keyed by path relative to ``root``."""
    ignore = tuple(ignore)
    base = Path(root) / subdir
    digests = {}
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(fnmatch(rel, pattern) for pattern in ignore):
            continue
        digests[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@dataclass(frozen=True)
class Target:
    """A workflow the cluster tests run locally and through each scheduler.

    ``source`` is copied into each run's fresh work directory (leave it ``None`` for a workflow used in
    place, e.g. the repository's own ``Snakefile`` given as an absolute path); ``snakefile`` and
    ``configfile`` are relative to the work directory or absolute. Outputs under ``outputs`` must be
    byte-identical between the local and the scheduler run, except files matching ``ignore``.
    """

    name: str
    source: Path | None = None
    snakefile: str | os.PathLike[str] | None = "Snakefile"
    configfile: str | os.PathLike[str] | None = None
    extra_args: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    """Snakemake targets (files or rules); empty: the default target."""
    timeout: int = 170
    outputs: str = "results"
    ignore: tuple[str, ...] = ()
    expected_jobs: int | None = None
    """How many jobs must go to the scheduler (``None``: at least one)."""
    expected_cpus: dict[str, int] = field(default_factory=dict)
    """Rule -> CPUs the scheduler must have allotted (checks threads -> cpus-per-task / -pe smp)."""
    with_workflow_profile: bool = True
    """Copy the repository's ``profiles/default`` next to a copied Snakefile, as in the repository, where
    Snakemake applies it to every run as the workflow profile (also on top of a cluster profile)."""

    def prepare(self, workdir: Path) -> Path:
        """Create ``workdir`` and copy the workflow into it."""
        workdir.mkdir(parents=True, exist_ok=True)
        if self.source is not None:
            copy_workflow(self.source, workdir)
            if self.with_workflow_profile:
                shutil.copytree(PROFILES / "default", workdir / "profiles" / "default", dirs_exist_ok=True)
        return workdir

    def run(self, workdir: Path, profile: str, timeout: int | None = None) -> RunResult:
        """Run this workflow in ``workdir`` through ``profile``."""
        return run_workflow(
            workdir,
            profile,
            snakefile=self.snakefile,
            configfile=self.configfile,
            extra_args=self.extra_args,
            timeout=timeout or self.timeout,
            targets=self.targets,
        )

    def digests(self, workdir: Path) -> dict[str, str]:
        """Digests of this workflow's outputs in ``workdir``."""
        return output_digests(workdir, self.outputs, self.ignore)
