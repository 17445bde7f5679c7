"""Shared pytest fixtures.

The data files with reference answers live in ``tests/data`` (``tests/paths.py`` names them;
``tests/data/README.md`` says where they come from), so a clone of the repository tests on its own.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import settings

from tests.paths import DATA_DIR, NKG_FIXTURES_DIR

# CI runs the property-based tests on a fixed set of examples (derandomized), so that a run is
# reproducible and a submission cannot fail on a newly drawn example; locally each run draws new
# examples and explores further. Failures found either way become @example regression cases.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/data``: data files with reference answers."""
    return DATA_DIR


@pytest.fixture(scope="session")
def nkg_fixtures_dir() -> Path:
    """``tests/data/kymata-nkg``: .nkg files written by the reference implementation."""
    return NKG_FIXTURES_DIR


@pytest.fixture(scope="session")
def nkg_expected(nkg_fixtures_dir: Path) -> dict:
    """The answer key ``expected.json`` of the .nkg fixtures."""
    return json.loads((nkg_fixtures_dir / "expected.json").read_text())


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never use the network: any connection attempt from the test process fails."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
