"""Atomic file writes: write to a temporary file beside the target, then rename it into place.

A reader never sees half a file, and a failure part-way through leaves neither a file under the
final name nor the temporary file behind. Existing files are only replaced when asked.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | os.PathLike, overwrite: bool = False, mode: str = "wb", **open_kwargs: Any
) -> Iterator[IO]:
    """Open a temporary file for writing that replaces ``path`` when the ``with`` block ends cleanly.

    Parameters
    ----------
    path : path-like
        The final file name. Its directory must exist.
    overwrite : bool
        Replace an existing file at ``path``; otherwise refuse with FileExistsError.
    mode : str
        ``"wb"`` (default) or ``"w"`` (text; pass ``encoding=...`` in ``open_kwargs``).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False (checked before and again just before the rename).
    FileNotFoundError
        If the directory of ``path`` does not exist.

    Notes
    -----
    If the block raises, the temporary file is removed and ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} already exists (pass overwrite=True to replace it)")
    directory = target.parent if str(target.parent) else Path(".")
    _remove_stale_temporaries(directory, target.name)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        if not overwrite and target.exists():
            raise FileExistsError(f"{target} appeared while it was being written; not replacing it")
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


@contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` for a library that writes files by name; renamed to ``path`` when
    the ``with`` block ends cleanly (see :func:`atomic_write` for the guarantees).

    Parameters
    ----------
    path : path-like
        The final file name. Its directory is created if missing.
    overwrite : bool
        Replace an existing file at ``path``; otherwise refuse with FileExistsError.
    suffix : str
        The temporary name's ending, for libraries that check it (MNE wants ``-ave.fif``); it must end in
        ``.tmp`` or the library's own ending.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} already exists (pass overwrite=True to replace it)")
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(directory, target.name)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=f".tmp{suffix}" if suffix != ".tmp" else suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if not overwrite and target.exists():
            raise FileExistsError(f"{target} appeared while it was being written; not replacing it")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Remove temporary files a killed writer of ``name`` left behind (they never carry the final name)."""
    for stale in directory.glob(f".{glob_escape(name)}.*.tmp*"):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass


def write_bytes_atomic(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, overwrite=overwrite, mode="wb") as f:
        f.write(data)


def write_text_atomic(
    path: str | os.PathLike, text: str, overwrite: bool = False, encoding: str = "utf-8"
) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, overwrite=overwrite, mode="w", encoding=encoding, newline="") as f:
        f.write(text)
