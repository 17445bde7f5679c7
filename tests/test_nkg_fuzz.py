"""Property test: whatever is done to a valid archive, reading it either succeeds or raises NkgFormatError."""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kymata_core.entities.expression import ExpressionSet, HexelExpressionSet, SensorExpressionSet
from kymata_core.io.nkg import NkgFormatError, load_expression_set, save_expression_set
from tests.nkg_archives import zipfile_bytes

LATENCIES = [-0.01, 0.0, 0.01, 0.02]


def _valid_archives() -> list[bytes]:
    rng = np.random.default_rng(0)
    sensor = SensorExpressionSet(["a", "b"], ["s1", "s2", "s3"], LATENCIES, -rng.exponential(2, (3, 4, 2)))
    hexel = HexelExpressionSet(
        "f", [0, 5], [1], LATENCIES, -rng.exponential(2, (2, 4)), -rng.exponential(2, (1, 4))
    )
    archives = []
    for es in (sensor, hexel):
        for compression in (zipfile.ZIP_LZMA, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            buffer = io.BytesIO()
            save_expression_set(es, buffer, compression=compression)
            archives.append(buffer.getvalue())
    return archives


ARCHIVES = _valid_archives()
MEMBER_NAMES = [info.filename for info in zipfile.ZipFile(io.BytesIO(ARCHIVES[0])).infolist()] + [
    info.filename for info in zipfile.ZipFile(io.BytesIO(ARCHIVES[3])).infolist()
]


def _load_or_refuse(payload: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            es = load_expression_set(io.BytesIO(payload))
        except NkgFormatError:
            return
    assert isinstance(es, ExpressionSet)


def _rebuild(payload: bytes, name: str, new: bytes | None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    members = [(n, new if n == name else b) for n, b in members if not (n == name and new is None)]
    return zipfile_bytes(members, zipfile.ZIP_STORED)


# 300 examples in all, shared between the three kinds of damage (to keep the test fast).
def _settings(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings(120)
@given(
    archive=st.sampled_from(range(len(ARCHIVES))),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8
    ),
)
def test_corrupted_bytes(archive, flips):
    payload = bytearray(ARCHIVES[archive])
    for position, value in flips:
        payload[position % len(payload)] = value
    _load_or_refuse(bytes(payload))


@_settings(60)
@given(archive=st.sampled_from(range(len(ARCHIVES))), keep=st.floats(min_value=0.0, max_value=1.0))
def test_truncated(archive, keep):
    payload = ARCHIVES[archive]
    _load_or_refuse(payload[: int(len(payload) * keep)])


@_settings(120)
@given(
    archive=st.sampled_from(range(len(ARCHIVES))),
    name=st.sampled_from(sorted(set(MEMBER_NAMES))),
    new=st.one_of(
        st.none(),
        st.binary(max_size=200),
        st.text(max_size=60).map(str.encode),
        st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=12).map(
            lambda xs: np.array(xs, dtype="<i8").tobytes()
        ),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12).map(
            lambda xs: np.array(xs, dtype="<f8").tobytes()
        ),
        st.lists(
            st.sampled_from(["0", "1", "2", "-1", "1e9", "nan", "a", "", "0.5", "0.4", "sensor"]), max_size=6
        ).map(lambda xs: "\n".join(xs).encode()),
    ),
)
def test_mutated_members(archive, name, new):
    _load_or_refuse(_rebuild(ARCHIVES[archive], name, new))


@pytest.mark.parametrize("archive", range(len(ARCHIVES)))
def test_the_unmutated_archives_load(archive):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(load_expression_set(io.BytesIO(ARCHIVES[archive])), ExpressionSet)
