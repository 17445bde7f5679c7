"""Atomic writes: never a half file under the final name, and no debris from killed writers."""

from __future__ import annotations

import pytest

from kymata_core.io.atomic import atomic_path, atomic_write, check_overwrite, write_bytes_atomic


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


# --- atomic_path: a temporary file name for libraries that write by name ----------------------------------


def test_atomic_path_replaces_the_file_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "dense.h5"
    target.write_bytes(b"old")
    with atomic_path(target, overwrite=True) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".dense.h5.") and tmp.name.endswith(".tmp")
        assert tmp.exists() and target.read_bytes() == b"old"  # the old file is untouched meanwhile
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.h5"]


def test_atomic_path_leaves_nothing_behind_on_error(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("savefig failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "new.png") as tmp:
        raise RuntimeError("savefig failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]


def test_atomic_path_refuses_an_existing_file_without_overwrite(tmp_path):
    target = tmp_path / "x-ave.fif"
    target.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="x-ave.fif"), atomic_path(target, suffix="-ave.fif"):
        pytest.fail("the block must not run")
    assert target.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-ave.fif"]


def test_atomic_path_keeps_the_ending_a_library_needs_and_gives_the_usual_permissions(tmp_path):
    target = tmp_path / "sub" / "p1-ave.fif"
    with atomic_path(target, suffix="-ave.fif") as tmp:
        assert tmp.name.endswith(".tmp-ave.fif")
        tmp.write_bytes(b"fif")
    assert target.read_bytes() == b"fif"
    reference = tmp_path / "plain"
    reference.write_bytes(b"")
    assert target.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_check_overwrite_names_the_file_and_the_flag(tmp_path):
    target = tmp_path / "x.json"
    check_overwrite(target, overwrite=False)  # absent: fine
    target.write_text("{}")
    check_overwrite(target, overwrite=True)
    with pytest.raises(FileExistsError, match=r"x\.json already exists \(pass --overwrite to replace it\)"):
        check_overwrite(target, overwrite=False, flag="--overwrite")
