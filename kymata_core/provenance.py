"""Provenance records: what produced a file the pipeline writes.

Every command that writes a result builds its record with :func:`make_provenance`, so every record
has one schema (documented in ``docs/nkg-format.md``, section "Provenance")::

    {
      "step": "gridsearch",
      "software": {"name": "kymata-pipeline", "package": "kymata_core", "version": "0.2.0",
                   "commit": "<40 hex digits>" or "not a git checkout", "python": "3.11.9"},
      "dependencies": {"numpy": "2.1.3", "scipy": ..., "mne": ..., "scikit-learn": ...,
                       "matplotlib": ..., "snakemake": ...},
      "inputs": {<role>: {"name": <file name>, "sha256": <hex>} or a list of them, ...},
      "parameters": {...},
      "seed": <int> or null
    }

A record holds no timestamps, host names or directories (input files are named without their
directories, and identified by their SHA-256), so the same inputs, parameters and environment give
byte-identical files wherever they run. Nothing here imports the dependencies it reports or runs
``git``: versions come from the installed distributions' metadata and the commit from the source
tree's ``.git`` directory, which keeps a job's start-up short.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from kymata_core import __version__

SOFTWARE_NAME = "kymata-pipeline"
PACKAGE = "kymata_core"
#: Distributions whose versions every record lists (their names on PyPI).
DEPENDENCIES = ("numpy", "scipy", "mne", "scikit-learn", "matplotlib", "snakemake")
NOT_A_CHECKOUT = "not a git checkout"
UNKNOWN_COMMIT = "unknown (unreadable .git)"
NOT_INSTALLED = "not installed"
#: The suffix of the provenance file written beside an output whose format has no room for it.
SIDECAR_SUFFIX = ".provenance.json"

_CHUNK = 1 << 20
_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256 repositories
_SOURCE_TREE = Path(__file__).resolve().parent.parent


# --- input files ---------------------------------------------------------------------------------


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | Path) -> dict[str, str]:
    """An input file as a record stores it: its name without directories and its SHA-256.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    dict
        ``{"name": ..., "sha256": ...}``.
    """
    return {"name": Path(path).name, "sha256": sha256_of(path)}


def file_records(paths: Iterable[str | Path]) -> list[dict[str, str]]:
    """:func:`file_record` of each path, in order."""
    return [file_record(p) for p in paths]


# --- environment ---------------------------------------------------------------------------------


def dependency_versions(names: Sequence[str] = DEPENDENCIES) -> dict[str, str]:
    """The installed version of each distribution, from its metadata (without importing it).

    Parameters
    ----------
    names : sequence of str
        Distribution names (as on PyPI: ``scikit-learn``, not ``sklearn``).

    Returns
    -------
    dict
        Name to version, or ``"not installed"``; a new dict on each call.
    """
    return dict(_versions(tuple(names)))


@functools.cache
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found = []
    for name in names:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, NOT_INSTALLED))
    return tuple(found)


def python_version() -> str:
    """The running Python's version, e.g. ``"3.11.9"``."""
    return ".".join(str(part) for part in sys.version_info[:3])


@functools.cache
def git_commit(tree: Path = _SOURCE_TREE) -> str:
    """The commit checked out in ``tree``, read from its ``.git`` without running git.

    Parameters
    ----------
    tree : Path
        The directory that would hold ``.git``: by default the one containing the ``kymata_core``
        package, so an installed copy (in ``site-packages``) is not a checkout.

    Returns
    -------
    str
        The commit's hex id; ``"not a git checkout"`` if ``tree`` has no ``.git``; ``"unknown
        (unreadable .git)"`` if HEAD cannot be resolved (an unborn branch, or a ref store this
        reader does not know).
    """
    git_dir = _git_dir(Path(tree))
    if git_dir is None:
        return NOT_A_CHECKOUT
    try:
        return _resolve_head(git_dir) or UNKNOWN_COMMIT
    except (OSError, UnicodeDecodeError):
        return UNKNOWN_COMMIT


def _git_dir(tree: Path) -> Path | None:
    """``tree/.git``, or the directory a ``.git`` file (a worktree's or submodule's) points to."""
    dot_git = tree / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        try:
            text = dot_git.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if text.startswith("gitdir:"):
            return (tree / text.removeprefix("gitdir:").strip()).resolve()
    return None


def _resolve_head(git_dir: Path) -> str | None:
    """The object id HEAD names: directly (detached), or through a loose or packed ref."""
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if _OBJECT_ID.fullmatch(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head.removeprefix("ref:").strip()
    common = _common_dir(git_dir)
    for directory in dict.fromkeys((git_dir, common)):  # a worktree's own refs, then the shared ones
        loose = directory / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            return value if _OBJECT_ID.fullmatch(value) else None
    return _packed_ref(common / "packed-refs", ref)


def _common_dir(git_dir: Path) -> Path:
    """Where a worktree's shared refs live (its ``commondir`` file), or ``git_dir`` itself."""
    pointer = git_dir / "commondir"
    if pointer.is_file():
        return (git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()
    return git_dir


def _packed_ref(packed_refs: Path, ref: str) -> str | None:
    """The object id of ``ref`` in a ``packed-refs`` file (lines ``<id> <ref>``), if listed."""
    if not packed_refs.is_file():
        return None
    for line in packed_refs.read_text(encoding="utf-8").splitlines():
        object_id, _, name = line.partition(" ")
        if name == ref and _OBJECT_ID.fullmatch(object_id):
            return object_id
    return None


def software_record(tree: Path = _SOURCE_TREE) -> dict[str, str]:
    """The ``software`` member of a record: this package, its version and commit, and Python's."""
    return {
        "name": SOFTWARE_NAME,
        "package": PACKAGE,
        "version": __version__,
        "commit": git_commit(tree),
        "python": python_version(),
    }


# --- records -------------------------------------------------------------------------------------


def make_provenance(
    step: str,
    inputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
    seed: int | None = None,
) -> dict[str, Any]:
    """The provenance record of one step (the schema in the module docstring).

    Parameters
    ----------
    step : str
        The ``kymata-core`` subcommand that wrote the file.
    inputs : mapping
        Each input's role to its :func:`file_record` (or a list of them; a combined set's shards
        also carry their own record under ``provenance``).
    parameters : mapping
        Every parameter that affects the output (JSON-serialisable, no paths).
    seed : int, optional
        The random seed, for steps that draw random numbers.

    Returns
    -------
    dict
        The record; the same arguments in the same environment give an equal record.
    """
    return {
        "step": step,
        "software": software_record(),
        "dependencies": dependency_versions(),
        "inputs": dict(inputs),
        "parameters": dict(parameters),
        "seed": seed,
    }


def provenance_json(record: Mapping[str, Any]) -> str:
    """A record as text: the ``.nkg`` member's layout (sorted keys, 2-space indent, UTF-8, final newline).

    Raises
    ------
    TypeError
        If the record is not JSON-serialisable (NaN and infinities included).
    """
    try:
        return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as e:
        raise TypeError(f"provenance must be JSON-serialisable: {e}") from None


def sidecar_path(path: str | Path) -> Path:
    """The provenance file written beside ``path`` (``F.json`` -> ``F.provenance.json``)."""
    return Path(path).with_suffix(SIDECAR_SUFFIX)


# --- reading -------------------------------------------------------------------------------------


def describe_provenance(record: Mapping[str, Any]) -> list[str]:
    """Lines describing a record for people: step, software, commit, dependencies, inputs, shards.

    Records of every schema the pipeline has written are described: this one, and the earlier
    gridsearch record (``command``, ``kymata_core_version``).

    Parameters
    ----------
    record : mapping
        A provenance record.

    Returns
    -------
    list of str
        The lines, without newlines; nested lines are indented by two spaces.
    """
    lines = [f"step: {_step_of(record)}", f"software: {_software_line(record)}"]
    dependencies = record.get("dependencies")
    if isinstance(dependencies, Mapping) and dependencies:
        lines.append("dependencies: " + ", ".join(f"{k} {v}" for k, v in dependencies.items()))
    inputs = record.get("inputs")
    if isinstance(inputs, Mapping):
        lines += _input_lines({k: v for k, v in inputs.items() if k != "shards"})
        shards = inputs.get("shards")
        if isinstance(shards, list):
            lines.append(f"shards: {len(shards)} (software as above unless stated)")
            lines += [f"  {_shard_line(shard, _software_line(record))}" for shard in shards]
    parameters = record.get("parameters")
    if isinstance(parameters, Mapping) and parameters:
        lines.append(
            "parameters: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(parameters.items()))
        )
    if record.get("seed") is not None:
        lines.append(f"seed: {record['seed']}")
    return lines


def _step_of(record: Mapping[str, Any]) -> str:
    return str(record.get("step") or record.get("command") or "unknown")


def _software_line(record: Mapping[str, Any]) -> str:
    software = record.get("software")
    if not isinstance(software, Mapping):
        software = {"version": record.get("kymata_core_version", "unknown")}
    line = f"{software.get('name', SOFTWARE_NAME)} {software.get('version', 'unknown')}"
    line += f", commit {software.get('commit', 'not recorded')}"
    if "python" in software:
        line += f", Python {software['python']}"
    return line


def _input_lines(inputs: Mapping[str, Any]) -> list[str]:
    lines = []
    for role, value in inputs.items():
        files = [f for f in (value if isinstance(value, list) else [value]) if isinstance(f, Mapping)]
        if files:
            lines.append(f"input {role}: " + ", ".join(_file_text(f) for f in files))
    return lines


def _file_text(record: Mapping[str, Any]) -> str:
    name = record.get("name") or Path(str(record.get("path", "?"))).name  # "path": records before one schema
    return f"{name} (sha256 {str(record.get('sha256'))[:12]})"


def _shard_line(shard: Any, software: str) -> str:
    """A combined set's shard: its name and step, and its software if not ``software``."""
    if not isinstance(shard, Mapping):
        return "?"
    name = shard.get("name") or Path(str(shard.get("path", "?"))).name
    nested = shard.get("provenance")
    if not isinstance(nested, Mapping):
        return f"{name}: no provenance"
    own = _software_line(nested)
    return f"{name}: {_step_of(nested)}" + ("" if own == software else f", {own}")
