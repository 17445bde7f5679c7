"""Atomic file writes: write to a temporary file beside the target, then rename it into place.

A reader never sees half a file, and a failure part-way through leaves neither a file under the
final name nor the temporary file behind. Existing files are only replaced when asked
(:func:`check_overwrite`, the one overwrite check of the package).

Use :func:`atomic_write` to write through an open file, and :func:`atomic_path` for a library that
writes by file name (h5py, matplotlib's ``savefig``, MNE's ``save``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Any


def check_overwrite(path: str | os.PathLike, overwrite: bool, flag: str = "overwrite=True") -> None:
    """Refuse to replace an existing file unless asked.

    Parameters
    ----------
    path : path-like
        The file about to be written.
    overwrite : bool
        Whether replacing an existing file was asked for.
    flag : str
        How the caller asks for it, named in the message: ``"overwrite=True"`` (library functions) or
        ``"--overwrite"`` (``kymata-core`` commands).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    if not overwrite and Path(path).exists():
        raise FileExistsError(f"{path} already exists (pass {flag} to replace it)")


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
    check_overwrite(target, overwrite)
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

    The temporary file is hidden (``.NAME.RANDOM.tmp``), unique to this call, and exists (empty) when
    the block starts; the library writes over it. When the block ends cleanly the file is synced to
    disk, given the usual permissions and renamed to ``path``; if the block raises, it is removed and
    ``path`` is left as it was.

    Parameters
    ----------
    path : path-like
        The final file name. Its directory is created if missing.
    overwrite : bool
        Replace an existing file at ``path``; otherwise refuse with FileExistsError.
    suffix : str
        The temporary name's ending, for libraries that check it or add their own (MNE wants
        ``-ave.fif``, numpy's ``save`` adds ``.npy``): the name ends in ``.tmp`` then ``suffix``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False (checked before and again just before the rename).

    Examples
    --------
    >>> with atomic_path("results/p1/dense.h5", overwrite=True) as tmp:  # doctest: +SKIP
    ...     with h5py.File(tmp, "w") as f:
    ...         f.create_dataset("logp", data=logp)
    """
    target = Path(path)
    check_overwrite(target, overwrite)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(directory, target.name)
    ending = suffix if suffix == ".tmp" else f".tmp{suffix}"
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=ending)
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
