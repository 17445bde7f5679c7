"""Run a Snakemake workflow through a profile and check what a scheduler's accounting says about it.

Used by ``tests/test_cluster.py``; usable by hand too::

    from tests.cluster import harness
    res = harness.run_workflow(workdir, "slurm", snakefile="Snakefile", timeout=170)
    jobs = harness.jobs_since("slurm", res.started)

Schedulers are the real ones brought up by ``.ci/cluster/slurm-up.sh`` / ``sge-up.sh`` (or a real site's).
The profiles ship placeholders for their site settings (account, partition, queue, parallel
environment); runs through a scheduler add the site's values as a second profile, CI's from
``.ci/cluster/profiles/<scheduler>/`` unless ``KYMATA_SITE_PROFILES`` names another directory of them.
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
SITE_PROFILES = Path(os.environ.get("KYMATA_SITE_PROFILES", REPO / ".ci" / "cluster" / "profiles"))
"""Directory with a profile of site settings per scheduler (``slurm/``, ``sge/``), given after the user's."""

SCHEDULERS = ("slurm", "sge")
SGE_DEFAULT_ENV = {"SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default"}
# How each executor reports a submission in Snakemake's output, and whether it was a group job: the SLURM
# plugin logs a group job under slurm_logs/group_<name>/, cluster-generic says "Submitted group job".
_SUBMITTED = {
    "slurm": re.compile(
        r"has been submitted with SLURM jobid (?P<id>\d+) \(log: \S*?/slurm_logs/(?P<group>group_)?"
    ),
    "sge": re.compile(r"Submitted (?P<group>group )?job \S+ with external jobid '(?P<id>[^'.\s]+)"),
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
    groups: list[str] = field(default_factory=list)
    """Those of ``submitted`` that were group jobs (several Snakemake jobs in one scheduler job)."""

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
    mem_mb: int | None = None
    """Memory the job asked for (SLURM --mem; SGE the memory complex per slot times the slots)."""
    minutes: float | None = None
    """Wall time the job asked for (SLURM -t, SGE h_rt)."""


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
    fields = [
        "JobIDRaw",
        "JobName",
        "State",
        "ExitCode",
        "Comment",
        "AllocCPUS",
        "ReqMem",
        "Timelimit",
        "Submit",
    ]
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
                mem_mb=_megabytes(raw["ReqMem"]),
                minutes=_minutes(raw["Timelimit"]),
            )
        )
    return jobs


def _megabytes(text: str) -> int | None:
    """``"292M"``, ``"2G"``, ``"2048Mn"`` (SLURM ReqMem; SGE's ``h_vmem=2048M``) in MB."""
    m = re.fullmatch(r"([\d.]+)([KMGT]?)[nc]?", text.strip())
    if not m:
        return None
    scale = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024**2}[m.group(2)]
    return round(float(m.group(1)) * scale)


def _minutes(text: str) -> float | None:
    """``"01:20:00"``, ``"1-00:00:00"``, ``"20:00"`` (SLURM Timelimit) or seconds (SGE h_rt) in minutes."""
    text = text.strip()
    if text.isdigit():
        return int(text) / 60
    days, _, clock = text.rpartition("-")
    parts = clock.split(":")
    if not all(p.isdigit() for p in parts) or not 2 <= len(parts) <= 3:
        return None
    h, m, sec = [0] * (3 - len(parts)) + [int(p) for p in parts]
    return (int(days or 0) * 24 + h) * 60 + m + sec / 60


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
        slots = int(raw.get("slots", "0") or 0)
        # category: the request, e.g. "-q all.q -l h_rt=1800,h_vmem=2048M -pe smp 1"
        requests = dict(re.findall(r"(\w+)=([^,\s]+)", raw.get("category", "")))
        per_slot = _megabytes(requests.get("h_vmem", ""))
        jobs.append(
            SchedulerJob(
                jobid=raw["jobnumber"],
                name=name,
                rule=name[len("smk_") :] if name.startswith("smk_") else None,
                ok=raw.get("failed", "").split(" ")[0] == "0"
                and raw.get("exit_status", "").split(" ")[0] == "0",
                cpus=slots,
                submitted=submitted,
                raw=raw,
                mem_mb=None if per_slot is None else per_slot * max(slots, 1),
                minutes=_minutes(requests.get("h_rt", "")),
            )
        )
    return jobs


def job_log(kind: str, workdir: Path, jobid: str) -> Path:
    """The log the scheduler kept of a Snakemake job (the profiles keep them under ``.snakemake/``)."""
    logs = Path(workdir) / ".snakemake"
    pattern = f"slurm_logs/**/{jobid}.log" if kind == "slurm" else f"sge_logs/*.o{jobid}"
    paths = sorted(logs.glob(pattern))
    if len(paths) != 1:
        raise FileNotFoundError(f"no single log of {kind} job {jobid} under {logs}: {paths}")
    return paths[0]


def group_members(kind: str, workdir: Path, jobid: str) -> list[dict[str, int]]:
    """The Snakemake jobs a group job ran, each as its ``mem_mb`` and ``runtime`` (minutes), from the log
    the scheduler kept of it (the Snakemake inside prints every job it runs as "localrule <rule>:")."""
    members, in_job = [], False
    for line in job_log(kind, workdir, jobid).read_text().splitlines():
        if re.match(r"localrule \w+:$", line.strip()):
            in_job = True
        elif in_job and line.strip().startswith("resources:"):
            values = dict(re.findall(r"(\w+)=(\d+)(?:,|$)", line))
            members.append({"mem_mb": int(values["mem_mb"]), "runtime": int(values["runtime"])})
            in_job = False
    return members


def group_parallelism(kind: str, workdir: Path, jobid: str) -> int | None:
    """How many of its jobs the Snakemake inside a group job could run at once: on SLURM the ``--jobs``
    of the job-step executor (which runs each job as its own ``srun``), on SGE the cores it was given."""
    pattern = r"--executor slurm-jobstep --jobs (\d+)" if kind == "slurm" else r"^Provided cores: (\d+)"
    m = re.search(pattern, job_log(kind, workdir, jobid).read_text(), re.MULTILINE)
    return int(m.group(1)) if m else None


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


def site_profile(kind: str) -> Path | None:
    """The profile of site settings for scheduler ``kind`` (``SITE_PROFILES/<kind>``), if there is one."""
    path = SITE_PROFILES / kind
    return path if (path / "config.yaml").is_file() else None


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
    site: str | os.PathLike[str] | None | bool = True,
) -> RunResult:
    """Run ``python -m snakemake --profile <profile>`` in ``workdir``, under ``timeout -k 10``.

    ``snakefile``/``configfile`` may be absolute (a workflow elsewhere, outputs written in ``workdir``)
    or relative to ``workdir``. The Python running this function runs Snakemake, and cluster jobs
    re-run ``python -m snakemake`` from the same environment. ``scheduler`` ("slurm"/"sge"; default:
    the profile directory's name if it is one of those) says how to read submitted job ids. ``site`` is
    a second profile with the site settings (``True``: :func:`site_profile` of the scheduler; ``None``
    or ``False``: none, so a cluster profile's placeholders stay).
    """
    prof = profile_path(profile)
    kind = scheduler or (prof.name if prof.name in SCHEDULERS else None)
    if site is True:
        site = site_profile(kind) if kind else None
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
    if site:
        cmd += ["--profile", str(profile_path(site))]
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
    matches = list(_SUBMITTED[kind].finditer(proc.stdout)) if kind else []
    submitted = [m.group("id") for m in matches]
    groups = [m.group("id") for m in matches if m.group("group")]
    return RunResult(proc.returncode, proc.stdout, seconds, Path(workdir), started, submitted, groups)


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
    expected_groups: int = 0
    """How many of those must be group jobs (several Snakemake jobs in one scheduler job)."""
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
