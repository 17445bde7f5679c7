"""Where the tests' data files live: ``tests/data`` (see its README for their origin and licence)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
NKG_FIXTURES_DIR = DATA_DIR / "kymata-nkg"
GRIDSEARCH_FIXTURES_DIR = DATA_DIR / "gridsearch"
REAL_MEG_DIR = DATA_DIR / "real-meg"
