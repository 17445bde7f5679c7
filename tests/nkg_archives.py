"""Building ``.nkg`` archives member by member, for tests that need malformed or hand-made files."""

from __future__ import annotations

import io
import zipfile

from kymata_core.io.nkg import _write_zip


def zipfile_bytes(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_LZMA) -> bytes:
    """The bytes of an archive holding ``members`` (name, contents) in order, written as the ``.nkg`` writer
    writes its archives."""
    buffer = io.BytesIO()
    _write_zip(buffer, members, compression)
    return buffer.getvalue()
