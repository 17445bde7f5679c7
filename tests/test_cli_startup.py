"""Start-up of the ``kymata-core`` command: each of a study's thousands of jobs is a new process.

``kymata-core --help`` must import no subcommand module and none of the heavy libraries, and a
subcommand must import only its own module; every subcommand's ``--help`` must still work. Imports
are checked in a fresh interpreter (``sys.modules`` after running the command as ``python -m
kymata_core`` does), since this test process has imported everything already.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import kymata_core.commands
from kymata_core.cli import COMMANDS, build_parser

HEAVY = ("mne", "scipy.signal", "xarray", "sparse", "matplotlib", "sklearn")

_RUN_AND_LIST_MODULES = """
import contextlib, io, json, runpy, sys
sys.argv = ["kymata-core", *json.loads(sys.argv[1])]
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        runpy.run_module("kymata_core", run_name="__main__")
    except SystemExit as e:
        status = e.code
print(json.dumps({"status": status, "stdout": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _run(*argv: str) -> dict:
    """Run ``python -m kymata_core ARGV`` in a fresh interpreter: exit status, output and loaded modules."""
    result = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, json.dumps(argv)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def _subcommand_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("kymata_core.commands.")]


def test_help_imports_no_subcommand_and_no_heavy_module():
    run = _run("--help")
    assert run["status"] == 0
    for name, help_text in COMMANDS.items():
        assert name in run["stdout"] and help_text.split()[0] in run["stdout"]
    assert _subcommand_modules(run["modules"]) == []
    assert [m for m in HEAVY if m in run["modules"]] == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_subcommand_help_works_and_imports_only_its_module(name):
    run = _run(name, "--help")
    assert run["status"] == 0
    assert run["stdout"].startswith(f"usage: kymata-core {name}")
    assert _subcommand_modules(run["modules"]) == [f"kymata_core.commands.{name}"]
    assert [m for m in HEAVY if m in run["modules"]] == []


@pytest.mark.parametrize("kind", ["expression", "ippm"])
def test_plot_kinds_help_works(kind):
    run = _run("plot", kind, "--help")
    assert run["status"] == 0 and run["stdout"].startswith(f"usage: kymata-core plot {kind}")


def test_every_subcommand_module_is_listed_with_its_own_help():
    modules = sorted(
        p.stem for p in Path(kymata_core.commands.__file__).parent.glob("*.py") if p.stem != "__init__"
    )
    assert sorted(COMMANDS) == modules
    for name, help_text in COMMANDS.items():
        parser = build_parser(name)
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        [choice] = subparsers._choices_actions
        assert (choice.dest, choice.help) == (name, help_text)


def test_an_unknown_subcommand_is_refused_with_the_list():
    run = _run("gridsearh")
    assert run["status"] == 2


# --- the end of a run: python -m kymata_core skips the interpreter's teardown ----------------------------


def _python_m_kymata_core(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kymata_core", *argv], capture_output=True, text=True, env=env
    )


def test_a_finished_run_flushes_its_output_and_keeps_its_status(tmp_path):
    done = _python_m_kymata_core("simulate", "--dump-spec")  # stdout is a pipe: block-buffered
    assert done.returncode == 0
    assert yaml.safe_load(done.stdout)["participants"] == [
        "participant_01",
        "participant_02",
        "participant_03",
    ]
    failed = _python_m_kymata_core("info", str(tmp_path / "missing.nkg"))
    assert failed.returncode == 2 and "missing.nkg" in failed.stderr


def test_exit_handlers_still_run():
    code = (
        "import atexit, runpy, sys; atexit.register(lambda: print('handler ran')); "
        "sys.argv = ['kymata-core', 'simulate', '--dump-spec']; runpy.run_module('kymata_core', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("handler ran")
