"""Atomic writes: never a half file under the final name, and no debris from killed writers."""

from __future__ import annotations

import pytest

from kymata_core.io.atomic import atomic_write, write_bytes_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.nkg"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target, overwrite=True) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nkg"]


def test_temporaries_left_by_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".x.nkg.k1l2d3.tmp"
    stale.write_bytes(b"half-written by a process that was killed")
    other = tmp_path / ".y.nkg.abc.tmp"  # another file's writer may still be running: left alone
    other.write_bytes(b"")
    write_bytes_atomic(tmp_path / "x.nkg", b"whole")
    assert (tmp_path / "x.nkg").read_bytes() == b"whole"
    assert not stale.exists()
    assert other.exists()


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "x.nkg"
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"keep"
