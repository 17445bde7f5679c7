"""Start-up cost of the ``kymata-core`` command: a study runs tens of thousands of jobs, each a new process.

Measures, in fresh processes (median and best of ``--runs``, with the peak RSS of each process):

* ``python -c "import numpy"``: the floor, Python and numpy;
* ``kymata-core --help``: the subcommand list;
* ``kymata-core gridsearch --help``;
* one sensor-space gridsearch job of the demo study, run as the workflow runs it (one participant,
  one transform, 100 splits at 200 Hz), split into phases by the timestamps of its log: start-up
  (interpreter, imports, reading the transform and the EMEG), importing and planning the gridsearch,
  the gridsearch itself, writing the ``.nkg`` (with its provenance), and exit. The job's overhead is
  its wall time minus the gridsearch itself.

Then it lists what the job imports, by cumulative import time (``python -X importtime``), and the
modules that pull in the heavy libraries.

Usage::

    .venv/bin/python benchmarks/bench_startup.py [--runs 7] [--source DIR]

``--source DIR`` puts DIR first on ``PYTHONPATH``, to measure another copy of ``kymata_core`` (for
example an earlier commit's, exported with ``git archive``) with the same environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

# Runs a command, and reports its wall time, start and end (epoch seconds) and peak RSS: the
# wrapper's only child is the command, so RUSAGE_CHILDREN is the command's alone.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.time()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
end = time.time()
print(json.dumps({"start": start, "end": end, "status": done.returncode, "log": done.stderr,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (\S+): (.*)$")
HEAVY = ("mne", "scipy.stats", "scipy.signal", "xarray", "pandas", "sparse", "numba", "matplotlib", "sklearn")


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> dict:
    """One run of ``command`` in a fresh process: wall time, start, end, status, stderr and peak RSS.

    ``cwd`` must not hold a ``kymata_core`` package: ``python -m`` and ``-c`` put it first on the path.
    """
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    if result["status"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result['log']}")
    result["wall"] = result["end"] - result["start"]
    return result


def summarise(values: list[float]) -> str:
    """``median (best)`` of a list of times in seconds."""
    return f"{statistics.median(values):.3f} s ({min(values):.3f})"


def simulate_job_inputs(directory: Path) -> tuple[Path, Path]:
    """The EMEG and first transform of the demo study's first participant, simulated into ``directory``."""
    from kymata_core.simulate import DEMO_SPEC, simulate_study

    spec = dataclasses.replace(DEMO_SPEC, participants=DEMO_SPEC.participants[:1])
    simulate_study(spec, directory)
    participant, transform = spec.participants[0], spec.transforms[0]
    return directory / f"emeg/{participant}-ave.fif", directory / f"transforms/{transform}.npy"


def gridsearch_command(emeg: Path, transform: Path, out: Path) -> list[str]:
    """A sensor-space gridsearch job with the demo configuration's flags (as the workflow runs it)."""
    return [
        sys.executable, "-m", "kymata_core", "gridsearch", "--emeg", str(emeg), "--hemi", "scalp",
        "--transform-name", transform.stem, "--transform", str(transform), "--transform-rate", "200.0",
        "--start-latency", "-0.2", "--seconds-per-split", "1.0", "--n-splits", "100", "--n-reps", "1",
        "--n-derangements", "6", "--seed", "0", "--stimulus-delivery-latency", "0.026",
        "--stimulus-shift-correction", "0.0", "--nan-policy", "error", "--memory-budget-mb", "512",
        "--resample", "200", "--threads", "1", "--out", str(out), "--overwrite",
    ]  # fmt: skip


def job_phases(run: dict) -> dict[str, float]:
    """The phases of one gridsearch job, in seconds, from its log's timestamps (millisecond resolution)."""
    marks = {}
    for line in run["log"].splitlines():
        match = _LOG_TIME.match(line)
        if not match:
            continue
        when = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        message = match[3]
        if message.startswith("gridsearch of "):
            marks["read"] = when
        elif re.match(r"gridsearch '.*': \d+ channels", message):
            marks["planned"] = when
        elif " done in " in message:
            marks["computed"] = when
        elif message.startswith("wrote "):
            marks["written"] = when
    if set(marks) != {"read", "planned", "computed", "written"}:
        raise RuntimeError(f"unexpected gridsearch log:\n{run['log']}")
    return {
        "start-up, reading inputs": marks["read"] - run["start"],
        "gridsearch imports, planning": marks["planned"] - marks["read"],
        "gridsearch": marks["computed"] - marks["planned"],
        "writing .nkg and provenance": marks["written"] - marks["computed"],
        "exit": run["end"] - marks["written"],
    }


def import_profile(command: list[str], env: dict[str, str], cwd: Path) -> list[tuple[str, float, int]]:
    """Every module ``command`` imports: (name, cumulative import time in seconds, nesting depth), in order."""
    argv = [command[0], "-X", "importtime", *command[1:]]
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    profile = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            profile.append((match[3], int(match[1]) / 1e6, (len(match[2]) - 1) // 2))
    return profile


def importers(profile: list[tuple[str, float, int]], module: str) -> str:
    """The chain of modules through which ``module`` (or, if the profile has no line for the package
    itself, its costliest submodule) was first imported; importtime lists children before parents."""
    candidates = [
        i for i, (name, _, _) in enumerate(profile) if name == module or name.startswith(module + ".")
    ]
    if not candidates:
        return f"{module}: not imported"
    exact = [i for i in candidates if profile[i][0] == module]
    index = exact[0] if exact else max(candidates, key=lambda i: profile[i][1])
    chain = [f"{profile[index][0]} ({profile[index][1]:.2f} s)"]
    depth = profile[index][2]
    for name, seconds, level in profile[index + 1 :]:
        if level < depth:
            chain.append(f"{name} ({seconds:.2f} s)")
            depth = level
    return " <- ".join(chain)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    parser.add_argument("--source", type=Path, help="measure the kymata_core package in this directory")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(args.source.resolve()), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        where = subprocess.run(
            [sys.executable, "-c", "import kymata_core; print(kymata_core.__file__)"],
            env=env, cwd=work, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"kymata_core from {where}; Python {sys.version.split()[0]}; load average {os.getloadavg()}")
        measure_commands(env, work, args.runs)
        measure_gridsearch_job(env, work, args.runs)
    return 0


def measure_commands(env: dict[str, str], cwd: Path, n_runs: int) -> None:
    """Print the wall time and peak RSS of ``import numpy``, ``kymata-core --help`` and ``gridsearch --help``."""
    commands = {
        'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
        "kymata-core --help": [sys.executable, "-m", "kymata_core", "--help"],
        "kymata-core gridsearch --help": [sys.executable, "-m", "kymata_core", "gridsearch", "--help"],
    }
    print("\n| command | wall, median (best) | peak RSS |\n|---|---|---|")
    medians = {}
    for label, command in commands.items():
        runs = [run_once(command, env, cwd) for _ in range(n_runs)]
        medians[label] = statistics.median(r["wall"] for r in runs)
        rss = statistics.median(r["max_rss_mb"] for r in runs)
        print(f"| `{label}` | {summarise([r['wall'] for r in runs])} | {rss:.0f} MB |")
    ratio = medians["kymata-core --help"] / medians['python -c "import numpy"']
    print(f"\n`kymata-core --help` / `import numpy`: {ratio:.2f}")


def measure_gridsearch_job(env: dict[str, str], cwd: Path, n_runs: int) -> None:
    """Print the phases of a sensor gridsearch job, its overhead, and what it imports and why."""
    emeg, transform = simulate_job_inputs(cwd / "study")
    job = gridsearch_command(emeg, transform, cwd / "shard.nkg")
    runs = [run_once(job, env, cwd) for _ in range(n_runs)]
    phases = [job_phases(r) for r in runs]
    overheads = [r["wall"] - p["gridsearch"] for r, p in zip(runs, phases, strict=True)]
    print("\nSensor gridsearch job (demo participant, one transform, 29 channels, 100 splits at 200 Hz):\n")
    print("| phase | median (best) |\n|---|---|")
    for phase in phases[0]:
        print(f"| {phase} | {summarise([p[phase] for p in phases])} |")
    print(f"| **wall** | {summarise([r['wall'] for r in runs])} |")
    print(f"| **overhead (wall - gridsearch)** | {summarise(overheads)} |")
    print(f"| peak RSS | {statistics.median(r['max_rss_mb'] for r in runs):.0f} MB |")

    profile = import_profile(job, env, cwd)
    top = sorted((p for p in profile if p[2] == 0), key=lambda p: -p[1])[:12]
    total = sum(p[1] for p in profile if p[2] == 0)
    print(
        f"\nTop-level imports of the job: {len(profile)} modules, {total:.2f} s (with -X importtime's own cost)\n"
    )
    for name, seconds, _ in top:
        print(f"  {seconds:6.3f} s  {name}")
    print("\nWhy the heavy libraries are imported:\n")
    for module in HEAVY:
        print(f"  {importers(profile, module)}")


if __name__ == "__main__":
    sys.exit(main())
