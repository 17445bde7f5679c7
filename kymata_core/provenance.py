"""Provenance records: what produced a file, stored inside every ``.nkg`` the pipeline writes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from kymata_core import __version__

_CHUNK = 1 << 20


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | Path) -> dict[str, str]:
    """The name (as given) and checksum of an input file."""
    return {"path": str(path), "sha256": sha256_of(path)}


def make_provenance(step: str, inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """A provenance record for one step: package version, input checksums and parameters.

    Holds no timestamps or host names, so that the same inputs and parameters give byte-identical
    files.
    """
    return {
        "software": {"name": "kymata-pipeline", "package": "kymata_core", "version": __version__},
        "step": step,
        "inputs": inputs,
        "parameters": parameters,
    }
