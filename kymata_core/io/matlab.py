"""One variable of a MATLAB ``.mat`` file, read without letting a damaged file crash the process.

scipy's MAT v5 reader (scipy 1.17) looks up each data element's type code in a table without
checking it, so a file whose numeric data carries an unknown code (one damaged byte is enough) ends
the process with a segmentation fault instead of an exception (scipy/scipy#25349). Before calling
:func:`scipy.io.loadmat`, :func:`load_mat_variable` walks the element tags of every variable
(decompressing compressed ones) and refuses such a file with a ``ValueError`` naming the byte. Only
the tags scipy reads are checked: each variable's header (flags, dimensions, name) and the data of
the variable asked for, which must be a numeric array. Version 4 and 7.3 files go to scipy as they
are (the first is read in Python, the second is refused by scipy).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from numpy.typing import NDArray

# MAT v5 data types ("mi" codes) and array classes ("mx" codes), MATLAB's MAT-file format reference.
MI_INT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED, MI_UTF8 = 1, 5, 6, 14, 15, 16
NUMERIC_DATA_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13})  # int8 … uint64, single, double
NUMERIC_CLASSES = frozenset(range(6, 16))  # double, single, int8 … uint64
COMPLEX_FLAG = 0x800  # in an array's flags
HEADER_BYTES = 128
_HEADER_TYPES = ({MI_INT32, MI_UINT32}, {MI_INT32, MI_UINT32}, {MI_INT8, MI_UTF8})  # flags, dims, name


def load_mat_variable(path: Path, name: str) -> NDArray | None:
    """The variable ``name`` of the ``.mat`` file ``path``, or None if the file has no such variable.

    Raises
    ------
    ValueError
        The file is damaged, is not a MAT file, or ``name`` is not a numeric array (the message says
        which and where).
    """
    from scipy.io import loadmat
    from scipy.io.matlab import matfile_version

    data = Path(path).read_bytes()  # read once: checked, then parsed by scipy from memory
    major, _ = matfile_version(io.BytesIO(data))
    if major == 1:
        check_v5_variable(data, name)
    mat = loadmat(io.BytesIO(data), variable_names=[name])
    return mat.get(name)


def check_v5_variable(data: bytes, name: str) -> None:
    """ValueError at the first element tag of a MAT v5 file that scipy's reader would crash on.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        The variable that will be read in full; the other variables' headers only are checked.
    """
    if len(data) < HEADER_BYTES:
        raise ValueError(f"shorter than the {HEADER_BYTES}-byte MAT header")
    endian = "<" if data[126:128] == b"IM" else ">"
    pos = HEADER_BYTES
    while pos + 8 <= len(data):
        mdtype, nbytes, payload, _ = _tag(data, pos, endian)
        if payload + nbytes > len(data):
            raise ValueError(f"the variable at byte {pos} is cut short ({nbytes} bytes declared)")
        if mdtype == MI_COMPRESSED:
            try:
                inner = zlib.decompressobj().decompress(data[payload : payload + nbytes])
            except zlib.error as e:
                raise ValueError(f"the compressed variable at byte {pos} cannot be decompressed: {e}") from e
            if len(inner) >= 8:
                _check_matrix(inner, 0, endian, name, where=f"in the compressed variable at byte {pos}, ")
        elif mdtype == MI_MATRIX:
            _check_matrix(data, pos, endian, name, where="")
        pos = payload + nbytes


def _tag(data: bytes, pos: int, endian: str) -> tuple[int, int, int, int]:
    """``(type, bytes, payload start, start of the next element)`` of the element tag at ``pos``."""
    first, second = struct.unpack_from(endian + "II", data, pos)
    if first >> 16:  # small element: type and size share the first 4 bytes, the data the next 4
        return first & 0xFFFF, first >> 16, pos + 4, pos + 8
    return first, second, pos + 8, pos + 8 + second + (-second % 8)


def _check_matrix(data: bytes, pos: int, endian: str, name: str, where: str) -> None:
    mdtype, nbytes, payload, _ = _tag(data, pos, endian)
    if mdtype != MI_MATRIX:
        raise ValueError(f"{where}the element at byte {pos} has type {mdtype}, not a MATLAB array ({MI_MATRIX})")
    end = min(len(data), payload + nbytes)
    sub = payload
    fields: list[bytes] = []
    for expected in _HEADER_TYPES:
        if sub + 8 > end:
            return  # a short header: scipy raises on it
        sub_type, sub_bytes, sub_payload, next_sub = _tag(data, sub, endian)
        if sub_type not in expected:
            raise ValueError(f"{where}the array header element at byte {sub} has unknown type code {sub_type}")
        fields.append(data[sub_payload : sub_payload + sub_bytes])
        sub = next_sub
    flags, _, var_name = fields
    if var_name.decode("latin-1") != name:
        return
    array_flags = struct.unpack_from(endian + "I", flags.ljust(4, b"\0"))[0]
    array_class = array_flags & 0xFF
    if array_class not in NUMERIC_CLASSES:
        raise ValueError(f"{where}variable {name!r} is not a numeric array (MATLAB array class {array_class})")
    # scipy reads the real part, then the imaginary part if the flags say complex, wherever they are
    parts = ("real", "imaginary") if array_flags & COMPLEX_FLAG else ("real",)
    for part in parts:
        if sub + 8 > end:
            raise ValueError(f"{where}variable {name!r} has no {part} part")
        sub_type, _, _, next_sub = _tag(data, sub, endian)
        if sub_type not in NUMERIC_DATA_TYPES:
            raise ValueError(f"{where}the {part} part of {name!r} at byte {sub} has unknown type code {sub_type}")
        sub = next_sub
