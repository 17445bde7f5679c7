"""Packaging: the lock file, environment.yml, the container recipes, the version, LICENSE and CITATION.cff.

These read the repository's files (and the environment ``make setup`` built); only the lint test runs
anything (``snakemake --lint``, a few seconds). Nothing here uses the network: the CFF schema comes from
a wheel that ``make setup`` downloads, hash-checked, into ``.venv/share/cff``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from datetime import date
from importlib.metadata import PackageNotFoundError, distribution, distributions
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import kymata_core
from tests.workflow_utils import copy_workflow, run_snakemake

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]

#: The image the Snakefile's container directive names, and that containers/README.md builds.
IMAGE = "containers/kymata-pipeline.sif"

#: Packages whose versions environment.yml must pin as the lock does (lock name: conda-forge name).
MAIN_PACKAGES = {
    "numpy": "numpy",
    "scipy": "scipy",
    "mne": "mne-base",
    "scikit-learn": "scikit-learn",
    "matplotlib": "matplotlib-base",
    "snakemake": "snakemake",
    "xarray": "xarray",
    "sparse": "sparse",
    "h5py": "h5py",
    "networkx": "networkx",
    "pyyaml": "pyyaml",
}
#: conda-forge packages that are a PyPI package under another name (the rest have the same name).
CONDA_TO_PYPI = {conda: pypi for pypi, conda in MAIN_PACKAGES.items()}

CFF_WHEEL = "cffconvert-2.0.0-py3-none-any.whl"
CFF_SCHEMA_MEMBER = "cffconvert/schemas/1.2.0/schema.json"


def read_lock() -> dict[str, tuple[str, list[str]]]:
    """The lock as {canonical name: (version, [hashes])}; fails on any line that is not a hashed pin."""
    pins: dict[str, tuple[str, list[str]]] = {}
    # A requirement continues over lines ending in a backslash; comments stand alone.
    text = re.sub(r"\\\n", " ", LOCK.read_text())
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"requirements.lock: an option, not a pinned package: {line!r}"
        spec, *options = line.split(" --hash=")
        req = Requirement(spec.strip())
        assert len(req.specifier) == 1 and str(next(iter(req.specifier))).startswith("=="), (
            f"requirements.lock: {spec!r} is not pinned to one version"
        )
        assert req.url is None and not req.extras and req.marker is None, f"requirements.lock: {spec!r}"
        hashes = [opt.strip() for opt in options]
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (
            f"requirements.lock: {spec!r} has no sha256 hashes"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"requirements.lock pins {name} twice"
        pins[name] = (str(next(iter(req.specifier)).version), hashes)
    return pins


@pytest.fixture(scope="module")
def lock() -> dict[str, tuple[str, list[str]]]:
    return read_lock()


# --- the lock file -----------------------------------------------------------------------------------


def test_lock_pins_every_package_with_hashes(lock):
    assert len(lock) > 50  # the whole environment, not only the direct dependencies
    header = LOCK.read_text().split("\n\n", 1)[0]
    assert "pip-compile with Python 3.11" in header and "make lock" in header


def test_lock_satisfies_pyproject(lock):
    """Every dependency, test extra and build requirement of pyproject.toml is locked at a version it allows.

    A dependency added to pyproject.toml without `make lock` fails here, not on a fresh machine.
    """
    wanted = [
        *PYPROJECT["project"]["dependencies"],
        *PYPROJECT["project"]["optional-dependencies"]["test"],
        *PYPROJECT["build-system"]["requires"],
    ]
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} (pyproject.toml) is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(lock[name][0], prereleases=True), (
            f"requirements.lock pins {name}=={lock[name][0]}, outside pyproject.toml's {spec!r}: run `make lock`"
        )


def _in_conda_env() -> bool:
    return (Path(sys.prefix) / "conda-meta").is_dir()


def test_environment_is_the_lock(lock):
    """The running environment has every locked package at its locked version (what `make setup` installs).

    In a conda environment (environment.yml) conda chooses the indirect dependencies, so only the main
    packages are compared there.
    """
    names = MAIN_PACKAGES if _in_conda_env() else lock
    wrong = {}
    for name in names:
        try:
            installed = distribution(name).version
        except PackageNotFoundError:
            installed = None
        if installed != lock[canonicalize_name(name)][0]:
            wrong[name] = (installed, lock[canonicalize_name(name)][0])
    assert not wrong, f"installed vs locked (run `make setup`): {wrong}"
    if not _in_conda_env():
        # Nothing beside the lock but the installer and the project itself.
        extra = {canonicalize_name(d.metadata["Name"]) for d in distributions()} - set(lock)
        assert extra <= {"pip", "kymata-pipeline"}, (
            f"installed but not in requirements.lock: {sorted(extra)} (`make clean setup` rebuilds .venv)"
        )


def test_makefile_installs_exactly_the_lock():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\): \$\(LOCK\)", makefile, re.M), "a changed lock must reinstall .venv"
    assert re.search(r"^LOCK\s*:= requirements\.lock$", makefile, re.M)
    assert "pip install --quiet --require-hashes -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    assert re.search(r"^lock:", makefile, re.M) and "pip-compile" in makefile


# --- environment.yml ---------------------------------------------------------------------------------


def read_environment_yml() -> dict[str, str]:
    """environment.yml's conda and pip pins as {PyPI name: version} (`==` pins only), with python."""
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if match := re.fullmatch(r"([A-Za-z0-9_.-]+)\s*={1,2}\s*([^\s=<>!,]+)", item):
                name = CONDA_TO_PYPI.get(match.group(1), match.group(1))
                pins[canonicalize_name(name)] = match.group(2)
    return pins


def test_environment_yml_agrees_with_the_lock(lock):
    pins = read_environment_yml()
    assert pins.get("python") == "3.11"
    missing = sorted(set(MAIN_PACKAGES) - set(pins))
    assert not missing, f"environment.yml does not pin {missing}"
    disagree = {
        name: (version, lock.get(name, ("not locked",))[0])
        for name, version in pins.items()
        if name != "python" and lock.get(name, (None,))[0] != version
    }
    assert not disagree, f"environment.yml vs requirements.lock: {disagree}"


# --- containers ---------------------------------------------------------------------------------------


def test_dockerfile_installs_the_lock():
    dockerfile = (REPO / "containers" / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim\S*$", dockerfile, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", dockerfile, re.M)
    assert re.search(r"^COPY requirements\.lock ", dockerfile, re.M)
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    # Every file it copies exists and is let through by its .dockerignore.
    ignore = (REPO / "containers" / "Dockerfile.dockerignore").read_text().split()
    for line in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for src in line.split():
            assert (REPO / src).exists(), f"containers/Dockerfile copies {src}, which does not exist"
            assert f"!{src}" in ignore, f"containers/Dockerfile.dockerignore leaves out {src}"


def test_apptainer_recipe_installs_the_lock():
    definition = (REPO / "containers" / "kymata-pipeline.def").read_text()
    assert re.search(r"^Bootstrap: docker$", definition, re.M)
    assert re.search(r"^From: python:3\.11-slim\S*$", definition, re.M)
    files = re.search(r"^%files\n((?:[ \t]+\S.*\n)+)", definition, re.M).group(1).split("\n")
    sources = [line.split()[0] for line in files if line.strip()]
    assert "requirements.lock" in sources
    for src in sources:
        assert (REPO / src).exists(), f"containers/kymata-pipeline.def copies {src}, which does not exist"
    assert "pip install --require-hashes -r requirements.lock" in definition
    assert "pip install --no-deps --no-build-isolation ." in definition
    assert f"apptainer build {IMAGE} containers/kymata-pipeline.def" in definition


def test_snakefile_names_the_documented_image():
    snakefile = (REPO / "Snakefile").read_text()
    directives = re.findall(r"^container:\s*(.+)$", snakefile, re.M)
    assert directives == [f'"{IMAGE}"'], "one workflow-level container directive, naming the documented image"
    readme = (REPO / "containers" / "README.md").read_text()
    assert f'container: "{IMAGE}"' in readme
    assert f"apptainer build {IMAGE} containers/kymata-pipeline.def" in readme
    assert f"apptainer build {IMAGE} docker-daemon://kymata-pipeline:" in readme


def test_documented_image_tags_are_this_version():
    for path in [REPO / "containers" / "README.md", REPO / "containers" / "Dockerfile"]:
        tags = re.findall(r"kymata-pipeline:(\d[\w.]*\w)", path.read_text())
        assert tags and set(tags) == {VERSION}, f"{path.name}: image tags {sorted(set(tags))}, version {VERSION}"


def test_snakemake_lint_is_clean(tmp_path):
    """`snakemake --lint` finds nothing: every rule has the container, and no other lint fires."""
    work = copy_workflow(tmp_path / "wf")
    result = run_snakemake(work, "--lint", check=False, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"snakemake --lint:\n{output[-6000:]}"
    assert "Lints for" not in output
    assert "Congratulations, your workflow is in a good condition!" in output


# --- version, licence and citation --------------------------------------------------------------------


def test_version_is_bumped_consistently():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), f"pyproject.toml version {VERSION!r} is not X.Y.Z"
    assert Version(VERSION) >= Version("0.2.0")
    assert kymata_core.__version__ == VERSION, "kymata_core.__version__ must equal pyproject.toml's version"
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert str(citation["version"]) == VERSION, "CITATION.cff's version must equal pyproject.toml's"
    # The installed metadata too: a stale editable install would record the old version in provenance.
    assert distribution("kymata-pipeline").version == VERSION, "run `make setup` to reinstall the project"


def test_cli_reports_the_version():
    result = subprocess.run(
        [sys.executable, "-m", "kymata_core", "--version"], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip().endswith(VERSION)


def test_git_tag_names_this_version():
    """A commit tagged vX.Y.Z (docs/releasing.md) has version X.Y.Z; untagged commits pass."""
    try:
        result = subprocess.run(
            ["git", "tag", "--points-at", "HEAD", "--list", "v*"], capture_output=True, text=True, cwd=REPO
        )
    except FileNotFoundError:  # no git: not a checkout to check
        return
    tags = result.stdout.split() if result.returncode == 0 else []
    assert all(tag == f"v{VERSION}" for tag in tags), f"HEAD is tagged {tags}, version is {VERSION}"


def test_license_is_mit():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the kymata-pipeline developers" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    assert PYPROJECT["project"]["license"] == "MIT"


def load_citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text())


def test_citation_required_fields():
    """CFF 1.2's required keys and the shape of those used, checked by hand (the schema test does it all)."""
    citation = load_citation()
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title"):
        assert isinstance(citation[key], str) and citation[key].strip()
    assert citation["authors"] and all(
        isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in citation["authors"]
    )
    assert citation["type"] == "software" and citation["license"] == "MIT"
    assert isinstance(citation["date-released"], str)
    date.fromisoformat(citation["date-released"])  # YYYY-MM-DD


def cff_schema() -> dict | None:
    wheel = Path(sys.prefix) / "share" / "cff" / CFF_WHEEL
    if not wheel.exists():
        return None
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read(CFF_SCHEMA_MEMBER))


def test_citation_valid_against_cff_schema():
    schema = cff_schema()
    if schema is None:
        message = f"no CFF schema in {Path(sys.prefix) / 'share' / 'cff'} (`make setup` downloads it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert schema["$id"].endswith("/1.2.0/schema.json")
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load_citation())]
    assert not errors, "CITATION.cff is not valid CFF 1.2.0:\n" + "\n".join(errors)
