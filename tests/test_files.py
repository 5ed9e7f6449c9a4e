import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from colorgan.base.files import (
    atomic_file,
    atomic_folder,
    atomic_write_bytes,
    atomic_write_text,
    remove_stale_temps,
)


@contextmanager
def small_disk(path: Path, size: str = "64k"):
    """A real full disk: a tiny tmpfs (root and a kernel that allows the mount), else a skip."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_write_replaces_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "out.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        Path(tmp).write_text("half")
        raise RuntimeError("killed while writing")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


@pytest.mark.subprocess
def test_an_exclusive_write_never_replaces_even_a_file_another_process_made_meanwhile(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(FileExistsError), atomic_file(target, exclusive=True) as tmp:
        Path(tmp).write_bytes(b"ours")
        # another process takes the name between our check and our publish
        subprocess.run(
            [sys.executable, "-c", f"open({str(target)!r}, 'wb').write(b'theirs')"], check=True
        )
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"ours", exclusive=True)
    atomic_write_bytes(tmp_path / "free.png", b"ours", exclusive=True)
    assert (tmp_path / "free.png").read_bytes() == b"ours"


@pytest.mark.subprocess
def test_a_full_disk_fails_the_write_and_publishes_nothing(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        atomic_write_bytes(disk / "small.bin", b"x" * 1000)
        with pytest.raises(OSError):
            atomic_write_bytes(disk / "big.bin", os.urandom(200_000))
        assert sorted(p.name for p in disk.iterdir()) == ["small.bin"]
        with pytest.raises(OSError):
            atomic_write_bytes(disk / "small.bin", os.urandom(200_000))
        assert (disk / "small.bin").read_bytes() == b"x" * 1000  # the old file stays


@pytest.mark.subprocess
def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".photo.png.{dead_pid}.k2j4_x9q.tmp"
    live = tmp_path / f".photo.png.{os.getppid()}.abcdefgh.tmp"
    mine = tmp_path / f".photo.png.{os.getpid()}.abcdefgh.tmp"
    unrelated = tmp_path / ".notes.tmp"
    for path in (stale, live, mine, unrelated):
        path.write_text("x")
    assert remove_stale_temps(tmp_path) == 1
    assert not stale.exists() and live.exists() and mine.exists() and unrelated.exists()
    assert remove_stale_temps(tmp_path / "absent") == 0


def test_a_folder_is_published_whole_replacing_the_old_one_or_not_at_all(tmp_path):
    """A film's frames: the folder appears with all its files, replaces the last one whole
    where asked (nothing of the old one left), is refused where it exists and replacing was
    not asked, and a failure part-way leaves the old folder and no temporary."""
    target = tmp_path / "reel"
    with atomic_folder(target, exclusive=True) as folder:
        (folder / "000000.png").write_bytes(b"a")
        assert not target.exists()
    assert [p.name for p in target.iterdir()] == ["000000.png"]
    with pytest.raises(FileExistsError), atomic_folder(target, exclusive=True) as folder:
        (folder / "000000.png").write_bytes(b"b")
    with pytest.raises(RuntimeError), atomic_folder(target) as folder:
        (folder / "000001.png").write_bytes(b"c")
        raise RuntimeError("stopped part-way")
    assert [p.name for p in target.iterdir()] == ["000000.png"]
    with atomic_folder(target) as folder:
        (folder / "000005.png").write_bytes(b"d")
    assert [p.name for p in target.iterdir()] == ["000005.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reel"]
