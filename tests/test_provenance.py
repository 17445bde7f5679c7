"""Provenance: one record schema in every file the pipeline writes, reproducible to the byte.

A tiny simulated study is run through ``gridsearch``, ``combine``, ``ippm`` and ``summary``; each
output's record must name the software, its git commit and the dependency versions, and the same
inputs (wherever they live) must give the same bytes.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

import kymata_core
from kymata_core.cli import main
from kymata_core.io.nkg import read_provenance
from kymata_core.provenance import (
    DEPENDENCIES,
    NOT_A_CHECKOUT,
    UNKNOWN_COMMIT,
    dependency_versions,
    describe_provenance,
    file_record,
    git_commit,
    make_provenance,
    sha256_of,
    sidecar_path,
)
from kymata_core.simulate import vectorview_sensors

N_SPLITS = 30
SPEC = {
    "participants": ["p1"],
    "emeg_sample_rate": 200.0,
    "transform_sample_rate": 100.0,
    "n_splits": N_SPLITS,
    "sensors": vectorview_sensors(2, 2),
    "hexels_lh": [0, 10],
    "hexels_rh": [5, 15],
    "transforms": ["a", "b"],
    "effects": [
        {"transform": "a", "channel_space": "sensor", "channels": ["MEG0111"], "latency_s": 0.05, "amplitude": 0.8},
        {"transform": "b", "channel_space": "sensor", "channels": ["MEG0212"], "latency_s": 0.12, "amplitude": 0.8},
    ],
    "seed": 3,
}  # fmt: skip
HIERARCHY = {"in": [], "a": ["in"], "b": ["a"]}
HEX = re.compile(r"[0-9a-f]{40}")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """The simulated study's data directory."""
    root = tmp_path_factory.mktemp("provenance-study")
    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    assert main(["simulate", "--out", str(root / "data"), "--spec", str(spec)]) == 0
    (root / "data/hierarchy.yaml").write_text(yaml.safe_dump(HIERARCHY))
    return root / "data"


def _run_chain(data: Path, work: Path, monkeypatch) -> dict[str, Path]:
    """gridsearch (both transforms), combine, ippm and summary, writing under ``work`` by relative paths."""
    (work / "shards").mkdir(parents=True)
    monkeypatch.chdir(work)
    for transform in ("a", "b"):
        assert main([
            "gridsearch", "--emeg", str(data / "emeg/p1-ave.fif"), "--hemi", "scalp",
            "--transform", str(data / f"transforms/{transform}.npy"), "--transform-rate", "100",
            "--n-splits", str(N_SPLITS), "--n-derangements", "2", "--seed", "5", "--out", f"shards/{transform}.scalp.nkg",
        ]) == 0  # fmt: skip
    assert (
        main(["combine", "--out", "expression-sensor.nkg", "shards/a.scalp.nkg", "shards/b.scalp.nkg"]) == 0
    )
    (work / "ippm").mkdir()
    assert main([
        "ippm", "--expression", "expression-sensor.nkg", "--hierarchy", str(data / "hierarchy.yaml"),
        "--denoiser", "maxpool", "--out", "ippm/maxpool-sensor.json",
    ]) == 0  # fmt: skip
    assert main(["summary", "--participant", "p1", "--out", "summary.json", "expression-sensor.nkg"]) == 0
    names = {
        "shard": "shards/a.scalp.nkg",
        "combined": "expression-sensor.nkg",
        "ippm": "ippm/maxpool-sensor.json",
        "ippm_provenance": "ippm/maxpool-sensor.provenance.json",
        "summary": "summary.json",
    }
    return {key: work / name for key, name in names.items()}


@pytest.fixture(scope="module")
def outputs(study, tmp_path_factory) -> dict[str, Path]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _run_chain(study, tmp_path_factory.mktemp("run-one"), monkeypatch)


def _assert_environment(record: dict) -> None:
    """The record names this software, its commit, this Python and the installed dependencies."""
    assert record["software"] == {
        "name": "kymata-pipeline",
        "package": "kymata_core",
        "version": kymata_core.__version__,
        "commit": git_commit(),
        "python": platform.python_version(),
    }
    assert record["dependencies"] == {name: version(name) for name in DEPENDENCIES}
    assert set(record) == {"step", "software", "dependencies", "inputs", "parameters", "seed"}


def test_the_source_tree_commit_is_read():
    commit = git_commit()
    source_tree = Path(kymata_core.__file__).resolve().parent.parent
    if (source_tree / ".git").exists():
        assert HEX.fullmatch(commit), commit
    else:
        assert commit == NOT_A_CHECKOUT


def test_a_gridsearch_shard_records_versions_and_commit(outputs, study):
    record = read_provenance(outputs["shard"])
    _assert_environment(record)
    assert record["step"] == "gridsearch" and record["seed"] == 5
    assert record["inputs"] == {
        "emeg": [file_record(study / "emeg/p1-ave.fif")],
        "transform": file_record(study / "transforms/a.npy"),
    }
    assert record["inputs"]["emeg"][0]["name"] == "p1-ave.fif"
    assert record["parameters"]["n_splits"] == N_SPLITS


def test_a_combined_set_records_versions_commit_and_its_shards(outputs):
    record = read_provenance(outputs["combined"])
    _assert_environment(record)
    assert record["step"] == "combine" and record["seed"] is None
    shards = record["inputs"]["shards"]
    assert [s["name"] for s in shards] == ["a.scalp.nkg", "b.scalp.nkg"]  # no directories
    assert shards[0]["sha256"] == sha256_of(outputs["shard"])
    assert shards[0]["provenance"] == read_provenance(outputs["shard"])
    assert [s["provenance"]["parameters"]["transform_name"] for s in shards] == ["a", "b"]


def test_an_ippm_json_has_its_provenance_beside_it(outputs, study):
    ippm = json.loads(outputs["ippm"].read_text())
    assert list(ippm) == ["directed", "multigraph", "graph", "nodes", "edges"]  # the reference's schema
    assert sidecar_path(outputs["ippm"]) == outputs["ippm_provenance"]
    record = json.loads(outputs["ippm_provenance"].read_text())
    _assert_environment(record)
    assert record["step"] == "ippm"
    assert record["inputs"] == {
        "expression": file_record(outputs["combined"]),
        "hierarchy": file_record(study / "hierarchy.yaml"),
    }
    assert record["parameters"] == {"denoiser": "maxpool", "denoiser_params": {}, "merge_hemispheres": False}


def test_summary_json_records_its_provenance(outputs):
    summary = json.loads(outputs["summary"].read_text())
    record = summary["provenance"]
    _assert_environment(record)
    assert record["step"] == "summary" and record["parameters"] == {"participant": "p1"}
    assert record["inputs"] == {"expressions": [file_record(outputs["combined"])]}


def test_two_runs_give_identical_bytes_wherever_the_inputs_live(outputs, study, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere/data"
    shutil.copytree(study, moved)
    again = _run_chain(moved, tmp_path / "run-two", monkeypatch)
    for key, path in outputs.items():
        assert again[key].read_bytes() == path.read_bytes(), key
    for key in ("shard", "combined"):
        assert str(tmp_path) not in json.dumps(read_provenance(again[key]))
        assert str(study) not in json.dumps(read_provenance(outputs[key]))


def test_info_prints_software_commit_and_dependency_versions(outputs, capsys):
    assert main(["info", str(outputs["combined"])]) == 0
    out = capsys.readouterr().out
    for name in ("numpy", "scipy", "mne"):
        assert f"{name} {version(name)}" in out
    assert f"commit {git_commit()}" in out and f"kymata-pipeline {kymata_core.__version__}" in out
    assert "shards: 2" in out
    assert re.search(r"^\s+a\.scalp\.nkg: gridsearch$", out, re.MULTILINE)
    assert re.search(r"^\s+b\.scalp\.nkg: gridsearch$", out, re.MULTILINE)


def test_a_shard_made_by_other_software_is_described_with_it():
    shard = make_provenance("gridsearch", {}, {})
    shard["software"]["commit"] = "4" * 40
    combined = make_provenance(
        "combine", {"shards": [{"name": "x.nkg", "sha256": "0" * 64, "provenance": shard}]}, {}
    )
    lines = describe_provenance(combined)
    assert lines[-1].startswith("  x.nkg: gridsearch, kymata-pipeline") and lines[-1].endswith(
        f"commit {'4' * 40}, Python {platform.python_version()}"
    )


@pytest.mark.parametrize("key", ["ippm", "summary", "ippm_provenance"])
def test_info_reads_the_provenance_of_json_files(outputs, capsys, key):
    assert main(["info", str(outputs[key])]) == 0
    out = capsys.readouterr().out
    assert f"numpy {version('numpy')}" in out and f"commit {git_commit()}" in out
    assert "step: ippm" in out if key != "summary" else "step: summary" in out


def test_info_prints_the_whole_record_with_json(outputs, capsys):
    assert main(["info", "--json", str(outputs["shard"])]) == 0
    out = capsys.readouterr().out
    assert '"kymata_core"' in out and f'"numpy": "{version("numpy")}"' in out


def test_info_without_a_sidecar_says_so(outputs, tmp_path, capsys):
    lone = tmp_path / "lone.json"
    shutil.copy(outputs["ippm"], lone)
    assert main(["info", str(lone)]) == 0
    assert "no provenance" in capsys.readouterr().out


def test_info_reads_the_provenance_of_a_source_operator(tmp_path, capsys):
    import numpy as np

    from kymata_core.io.source_operator import SourceOperator, write_source_operator

    operator = SourceOperator(
        np.eye(3, 2, dtype=np.float32), ([0, 1], [4]), ["MEG0111", "MEG0112"], "fsaverage", True
    )
    path = tmp_path / "op.h5"
    write_source_operator(operator, path, provenance=make_provenance("operator", {}, {"snr": 4.0}))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "source operator, 2 channels to 2 + 1 hexels" in out and "step: operator" in out
    assert f"mne {version('mne')}" in out and f"commit {git_commit()}" in out


# --- the commit, read without git ----------------------------------------------------------------------


def _fake_repository(
    tree: Path, head: str, refs: dict[str, str] | None = None, packed: str | None = None
) -> Path:
    git = tree / ".git"
    git.mkdir(parents=True)
    (git / "HEAD").write_text(head + "\n")
    for ref, value in (refs or {}).items():
        (git / ref).parent.mkdir(parents=True, exist_ok=True)
        (git / ref).write_text(value + "\n")
    if packed is not None:
        (git / "packed-refs").write_text(packed)
    return git


def test_commit_outside_a_git_tree(tmp_path):
    assert git_commit(tmp_path) == NOT_A_CHECKOUT


def test_commit_of_a_branch_a_detached_head_and_packed_refs(tmp_path):
    one, two = "1" * 40, "2" * 40
    _fake_repository(tmp_path / "loose", "ref: refs/heads/main", {"refs/heads/main": one})
    assert git_commit(tmp_path / "loose") == one
    _fake_repository(tmp_path / "detached", two)
    assert git_commit(tmp_path / "detached") == two
    packed = f"# pack-refs with: peeled fully-peeled sorted\n{one} refs/heads/other\n{two} refs/heads/main\n^{one}\n"
    _fake_repository(tmp_path / "packed", "ref: refs/heads/main", packed=packed)
    assert git_commit(tmp_path / "packed") == two
    _fake_repository(tmp_path / "unborn", "ref: refs/heads/main")
    assert git_commit(tmp_path / "unborn") == UNKNOWN_COMMIT


def test_commit_of_a_worktree(tmp_path):
    commit = "3" * 40
    main_git = _fake_repository(tmp_path / "main", "ref: refs/heads/main", {"refs/heads/feature": commit})
    worktree_git = main_git / "worktrees/feature"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (worktree_git / "commondir").write_text("../..\n")
    (tmp_path / "feature").mkdir()
    (tmp_path / "feature/.git").write_text(f"gitdir: {worktree_git}\n")
    assert git_commit(tmp_path / "feature") == commit


def test_a_copy_of_the_package_outside_git_records_not_a_git_checkout(study, tmp_path):
    shutil.copytree(
        Path(kymata_core.__file__).parent,
        tmp_path / "kymata_core",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = tmp_path / "shard.nkg"
    argv = [
        sys.executable, "-m", "kymata_core", "gridsearch", "--emeg", str(study / "emeg/p1-ave.fif"), "--hemi", "scalp",
        "--transform", str(study / "transforms/a.npy"), "--transform-rate", "100", "--n-splits", str(N_SPLITS),
        "--n-derangements", "2", "--out", str(out),
    ]  # fmt: skip
    subprocess.run(argv, cwd=tmp_path, env=env, check=True, capture_output=True)
    where = subprocess.run(
        [sys.executable, "-c", "import kymata_core; print(kymata_core.__file__)"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(tmp_path))
    assert read_provenance(out)["software"]["commit"] == NOT_A_CHECKOUT


# --- the record itself ---------------------------------------------------------------------------------


def test_make_provenance_is_deterministic_and_complete(tmp_path):
    path = tmp_path / "input.bin"
    path.write_bytes(b"abc")
    first = make_provenance("step", {"x": file_record(path)}, {"k": 1}, seed=2)
    assert first == make_provenance("step", {"x": file_record(path)}, {"k": 1}, seed=2)
    assert first["inputs"]["x"] == {
        "name": "input.bin",
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }
    assert first["seed"] == 2 and first["parameters"] == {"k": 1}


def test_versions_are_read_without_importing_the_dependencies():
    code = (
        "import sys; from kymata_core.provenance import make_provenance; make_provenance('s', {}, {}); "
        "print(sorted(m for m in ('numpy', 'scipy', 'mne', 'sklearn', 'matplotlib', 'snakemake') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_the_earlier_gridsearch_schema_is_described():
    old = {
        "command": "gridsearch",
        "kymata_core_version": "0.1.0",
        "inputs": {"transform": {"name": "a.npy", "sha256": "ab" * 32}},
    }
    lines = describe_provenance(old)
    assert lines[0] == "step: gridsearch"
    assert lines[1].startswith("software: kymata-pipeline 0.1.0, commit not recorded")
    assert any(line.startswith("input transform: a.npy") for line in lines)


def test_dependency_versions_of_a_missing_distribution_and_a_fresh_dict_each_call():
    assert dependency_versions(("kymata-no-such-distribution",)) == {
        "kymata-no-such-distribution": "not installed"
    }
    first = dependency_versions()
    first["numpy"] = "changed"
    assert dependency_versions()["numpy"] == version("numpy")
