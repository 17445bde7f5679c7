"""Shared pytest fixtures.

The shared fixture data live in ``shared/fixtures`` beside the repository clone (``../shared``
relative to the repository root), both here and in CI.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property-based tests on a fixed set of examples (derandomized), so that a run is
# reproducible and a submission cannot fail on a newly drawn example; locally each run draws new
# examples and explores further. Failures found either way become @example regression cases.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_FIXTURES_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
NKG_FIXTURES_DIR = SHARED_FIXTURES_DIR / "kymata-nkg"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``shared/fixtures``: data files with reference answers."""
    if not SHARED_FIXTURES_DIR.is_dir():
        pytest.fail(
            f"shared fixtures not found at {SHARED_FIXTURES_DIR} (expected ../shared beside the repo)"
        )
    return SHARED_FIXTURES_DIR


@pytest.fixture(scope="session")
def nkg_fixtures_dir(fixtures_dir: Path) -> Path:
    """``shared/fixtures/kymata-nkg``: .nkg files written by the reference implementation."""
    return fixtures_dir / "kymata-nkg"


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
