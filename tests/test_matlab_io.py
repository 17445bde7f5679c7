"""Damaged MATLAB files that crash scipy's reader are refused before it reads them (io/matlab.py)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from scipy.io import savemat

from kymata_core.io.matlab import NUMERIC_DATA_TYPES, check_v5_variable
from kymata_core.io.transform import load_transform

VALUES = np.sin(np.arange(400) / 7.0).astype(np.float32)


def _mat_bytes(variables: dict, compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    savemat(buffer, variables, do_compression=compress)
    return buffer.getvalue()


def _element_offsets(data: bytes) -> list[int]:
    """Start of each top-level element (uncompressed little-endian file)."""
    offsets, pos = [], 128
    while pos + 8 <= len(data):
        offsets.append(pos)
        pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
    return offsets


# A single numeric variable "loudness": tag 128, flags 136 (data 144), dims 152, name 168, data tag 184.
DATA_TAG = 184
FLAGS_BYTE_1 = 145  # complex (0x08), global, logical bits


@pytest.mark.parametrize("code", [0, 8, 10, 11, 14, 15, 19, 60, 255])
def test_unknown_data_type_code_is_refused_naming_the_byte(tmp_path, code):
    data = bytearray(_mat_bytes({"loudness": VALUES}))
    assert data[DATA_TAG] == 7  # miSINGLE: the layout above holds
    data[DATA_TAG] = code  # scipy 1.17's reader segfaults on every one of these
    path = tmp_path / "loudness.mat"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"loudness\.mat.*byte {DATA_TAG} has unknown type code {code}"):
        load_transform(path, name="loudness", sample_rate=200.0)


def test_complex_flag_without_imaginary_part_is_refused_before_the_next_variable_is_read(tmp_path):
    data = bytearray(_mat_bytes({"loudness": VALUES, "zz": np.arange(3.0)}))
    data[FLAGS_BYTE_1] |= 0x08  # complex: scipy would read the next variable's tag as the imaginary part
    path = tmp_path / "two.mat"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="'loudness' has no imaginary part"):
        load_transform(path, name="loudness", sample_rate=200.0)


def test_damaged_header_of_another_variable_is_refused(tmp_path):
    data = bytearray(_mat_bytes({"aa": np.arange(3.0), "loudness": VALUES}))
    other = _element_offsets(bytes(data))[0]
    data[other + 8] = 60  # the flags tag of "aa"
    with pytest.raises(ValueError, match=f"header element at byte {other + 8} has unknown type code 60"):
        check_v5_variable(bytes(data), "loudness")


def test_damaged_compressed_variable_is_refused():
    data = _mat_bytes({"loudness": VALUES}, compress=True)
    start = 128
    nbytes = struct.unpack_from("<I", data, start + 4)[0]
    inner = bytearray(zlib.decompress(data[start + 8 : start + 8 + nbytes]))
    inner[DATA_TAG - 128] = 60  # the data tag, inside
    packed = zlib.compress(bytes(inner))
    damaged = data[:start] + struct.pack("<II", 15, len(packed)) + packed
    with pytest.raises(ValueError, match="in the compressed variable at byte 128, the real part.*type code 60"):
        check_v5_variable(damaged, "loudness")


def test_non_numeric_variable_is_refused(tmp_path):
    path = tmp_path / "s.mat"
    path.write_bytes(_mat_bytes({"loudness": {"field": VALUES}}))
    with pytest.raises(ValueError, match=r"'loudness' is not a numeric array \(MATLAB array class 2\)"):
        load_transform(path, name="loudness", sample_rate=200.0)


@pytest.mark.parametrize("compress", [False, True])
def test_valid_files_of_every_numeric_type_are_read(tmp_path, compress):
    variables = {f"v_{np.dtype(t).name}": np.arange(1, 6).astype(t) for t in
                 (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
                  np.float32, np.float64)}  # fmt: skip
    variables.update(loudness=VALUES, text="a char array", record={"f": VALUES}, cells=np.array([1, "a"], dtype=object))
    path = tmp_path / "all.mat"
    path.write_bytes(_mat_bytes(variables, compress))
    data = path.read_bytes()
    for name in variables:
        if name.startswith("v_"):
            check_v5_variable(data, name)
            np.testing.assert_array_equal(load_transform(path, name=name, sample_rate=1.0).values, np.arange(1, 6))
    np.testing.assert_array_equal(load_transform(path, name="loudness", sample_rate=200.0).values, VALUES)
    assert NUMERIC_DATA_TYPES >= {1, 2, 3, 4, 5, 6, 7, 9, 12, 13}
