"""Helpers for tests that run the real Snakemake workflow in a temporary directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOW_PARTS = ("Snakefile", "workflow", "config")

Job = tuple[str, tuple[tuple[str, str], ...]]


def copy_workflow(dst: Path) -> Path:
    """Copy the workflow (Snakefile, workflow/, config/) into ``dst`` and return it."""
    dst.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dst / part, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst / part)
    return dst


def snakemake_env() -> dict[str, str]:
    """The environment for a workflow run: the caller's, with the venv's bin taken OFF the PATH.

    As a user who runs ``.venv/bin/snakemake`` without activating the venv: the rules must find
    ``kymata-core`` through the Python that runs Snakemake, not through PATH.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != BIN)
    env.pop("VIRTUAL_ENV", None)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run ``snakemake`` in ``workdir`` with the given arguments (2 cores, no profile)."""
    cmd = [str(BIN / "snakemake"), "--cores", "2", "--workflow-profile", "none", *args]
    result = subprocess.run(
        cmd, cwd=workdir, env=snakemake_env(), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
    return result


_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def planned_jobs(workdir: Path, *args: str) -> list[Job]:
    """The jobs a dry run would execute, as sorted (rule, wildcards) pairs, without the ``all`` rule."""
    result = run_snakemake(workdir, "--dry-run", *args)
    jobs: list[Job] = []
    rule = None
    wildcards: dict[str, str] = {}
    for line in (result.stdout + "\n" + result.stderr).splitlines() + ["rule __end__:"]:
        if match := _RULE.match(line.strip()):
            if rule is not None and rule != "all":
                jobs.append((rule, tuple(sorted(wildcards.items()))))
            rule, wildcards = match.group(1), {}
        elif rule is not None and (match := _WILDCARDS.match(line)):
            wildcards = dict(item.split("=", 1) for item in match.group(1).split(", "))
    return sorted(jobs)


def job(rule: str, **wildcards: str) -> Job:
    """A (rule, wildcards) pair as :func:`planned_jobs` reports it."""
    return (rule, tuple(sorted(wildcards.items())))


def write_config(workdir: Path, config: dict, name: str = "study.yaml") -> Path:
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
