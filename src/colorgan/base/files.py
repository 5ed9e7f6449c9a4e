"""Files written whole or not at all, content hashes, and files a user gave read within
bounds (text: `read_text`; arrays: `ArrayFile`).

A write goes to a temporary file beside the target, is flushed to the disk (a full disk fails
the write there, not later), and is then renamed over the target, so a kill at any moment
leaves the old file or the new one, never a half-written one. An exclusive write never
replaces anything: it publishes with a hard link, which fails if the name was taken meanwhile,
even by another process. The result gets the ordinary permissions (mkstemp's are owner-only).
Temporary names carry the writer's process id, so a later run can remove those a killed one
left behind without touching a live writer's.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from colorgan.base.errors import ColorganError, shown

NAME_MAX = 255  # bytes in one file or folder name, on every common file system
_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: str | Path, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    except OSError:
        if directory:
            return  # some filesystems cannot open a folder; the rename is still atomic
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def publish(
    tmp: str | Path, target: Path, directory: bool = False, exclusive: bool = False
) -> None:
    """Move a finished temporary file or folder to `target`; `exclusive`: only if it is free."""
    os.chmod(tmp, (0o777 if directory else 0o666) & ~_umask())
    if not exclusive:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails where target exists, however it got there
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, f"{target} exists") from None
        os.unlink(tmp)
    _fsync(target.parent, directory=True)


@contextmanager
def atomic_file(target: Path, exclusive: bool = False) -> Iterator[str]:
    """Yields a temporary path to write; on success it is synced and becomes `target`
    (replacing it, or, `exclusive`, raising FileExistsError if the name is taken)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # the name is cut so that ".name.pid.random.tmp" fits where the target's own name fits
    name = os.fsencode(target.name)[: NAME_MAX - 40].decode(errors="ignore")
    prefix = f".{name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        publish(tmp, target, exclusive=exclusive)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_folder(target: Path, exclusive: bool = False) -> Iterator[Path]:
    """`atomic_file` for a folder of files (a film's frames): yields a temporary folder
    beside `target` to fill; on success its files are synced and it becomes `target`,
    replacing what was there (or, `exclusive`, raising FileExistsError if the name is
    taken). A kill at any moment leaves the old folder or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    name = os.fsencode(target.name)[: NAME_MAX - 40].decode(errors="ignore")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}.{os.getpid()}.", suffix=".tmp"))
    try:
        yield tmp
        for path in tmp.iterdir():
            _fsync(path)
        os.chmod(tmp, 0o777 & ~_umask())
        if exclusive and (target.exists() or target.is_symlink()):
            raise FileExistsError(errno.EEXIST, f"{target} exists")
        old = None
        if target.exists() or target.is_symlink():  # moved aside, then removed once replaced
            old = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{name}.{os.getpid()}.", suffix=".tmp")
            )
            old.rmdir()
            os.rename(target, old)
        os.rename(tmp, target)
        _fsync(target.parent, directory=True)
        if old is not None:
            shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        Path(tmp).write_text(text)


def atomic_write_bytes(path: Path, data: bytes, exclusive: bool = False) -> None:
    with atomic_file(path, exclusive) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def same_plan(folder: Path, items: list[str], refusal: str) -> None:
    """A stopped job (its parts kept in `folder` by position in `items`) goes on only with
    the `items` it started with: else ColorganError(`refusal`). Records them otherwise."""
    plan = hashlib.sha256("\n".join(items).encode()).hexdigest()
    saved = folder / "plan.txt"
    if saved.is_file() and saved.read_text().strip() != plan:
        raise ColorganError(refusal)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved, plan + "\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: Path) -> int:
    """Delete the temporary files that killed writers left under `folder`; returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.rglob(".*.tmp"):
        match = _TEMP.match(path.name)
        if match and int(match[1]) != os.getpid() and not _alive(int(match[1])):
            try:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def output_folder(out: str, what: str = "the output folder") -> Path:
    """`out`, a folder for outputs (`what` names it: the output folder, a command's DIR),
    that exists or can be made (made later, by the first output); one line now if it is a
    file, holds a name too long for the disk, or cannot be written."""
    path = Path(out)
    longest = max((len(os.fsencode(part)) for part in path.parts), default=0)
    if longest > NAME_MAX:
        raise ColorganError(
            f"{what} {shown(out)}: a name in it is longer than the disk allows "
            f"({longest} bytes; at most {NAME_MAX})"
        )
    if path.exists() and not path.is_dir():
        raise ColorganError(f"{what} {shown(out)} is a file; give a folder")
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ColorganError(
            f"cannot write {what} {shown(out)} ({shown(str(existing))} is not "
            "a folder this user may write in)"
        )
    return path


@contextmanager
def folder_written_whole(out: Path) -> Iterator[Path]:
    """A new folder `out`, written whole: the block fills a temporary folder beside it, which
    becomes `out` (an empty folder there is replaced) where the block ends without an error,
    and is removed otherwise. An OSError on the way (a place this user may not write, a full
    disk) is one ColorganError."""
    name = os.fsencode(out.name)[: NAME_MAX - 20].decode(errors="ignore")
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{name}-"))
        yield tmp
        publish(tmp, out, directory=True)
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        raise ColorganError(f"cannot write the folder {shown(str(out))} ({why})") from None
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


MAX_TEXT_BYTES = 1 << 20  # a config, a points file: a megabyte is far beyond any real one


def read_text(path: str | Path, what: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A text file a user gave (a config, a points file), read only if it is a regular file of
    at most `limit` bytes, as UTF-8; ColorganError (one line, naming it as `what`) otherwise.
    A FIFO, a device (/dev/zero) or a folder is refused before any byte is read."""
    path = Path(path)
    name = f"{what} {shown(str(path))}"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ColorganError(f"{name}: no such file") from None
    except OSError as exc:
        raise ColorganError(f"{name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ColorganError(f"{name} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ColorganError(f"{name} is not a regular file (a pipe or a device?)")
    if info.st_size > limit:
        raise ColorganError(f"{name} is {info.st_size:,} bytes; at most {limit:,} are read")
    try:
        with open(path, "rb") as fh:
            data = fh.read(info.st_size + 1)  # read(n) holds n bytes first: no more than it has
            if len(data) > info.st_size:  # it grew since
                data += fh.read(limit + 1 - len(data))
    except OSError as exc:
        raise ColorganError(f"{name}: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew since
        raise ColorganError(f"{name} is over {limit:,} bytes; at most {limit:,} are read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ColorganError(f"{name} is not UTF-8 text") from None


# what one value of a kind of array may take: floats up to float64, names up to 1,024
# characters (a file name is at most 255 bytes)
_ITEM_BYTES = {"f": 8, "U": 4 * 1024}
_KINDS = {"f": "floats", "U": "text"}


class ArrayFile:
    """A .npz file (a zip of .npy members) or a .npy file a user may have damaged or made, read
    member by member: each member's header (its shape and type, a few bytes) is read first,
    alone, and its data only where they are the ones asked for, so a header that claims
    terabytes, or a member that inflates to gigabytes, costs nothing. Pickles are refused.
    Every failure is one ColorganError naming the file as `what`."""

    def __init__(self, path: str | Path, what: str) -> None:
        self.path, self.what = Path(path), what
        self.zip: zipfile.ZipFile | None = None
        if self.path.suffix == ".npz":
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
                raise self._damaged(exc) from None

    def __enter__(self) -> ArrayFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()

    def _damaged(self, exc: BaseException) -> ColorganError:
        why = {"BadZipFile": "not a whole .npz"}.get(type(exc).__name__, type(exc).__name__)
        return ColorganError(f"{self.what}: its {self.path.name} is damaged ({why})")

    def _open(self, name: str) -> BinaryIO:
        if self.zip is None:
            return open(self.path, "rb")
        try:
            return self.zip.open(f"{name}.npy")
        except KeyError:
            raise ColorganError(f"{self.what}: its {self.path.name} lacks its {name}") from None

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """The member's (shape, dtype), from its header alone."""
        with self._guard(), self._open(name) as fp:
            return self._header(fp)

    def read(self, name: str, shape: tuple[int, ...], kind: str) -> np.ndarray:
        """The member `name`, once its header shows `shape` and `kind` ("f": floats, "U":
        text); ColorganError before any of its data is read otherwise."""
        with self._guard(), self._open(name) as fp:
            got, dtype = self._header(fp)
            if got != shape or dtype.kind != kind or dtype.itemsize > _ITEM_BYTES[kind]:
                raise ColorganError(
                    f"{self.what}: its {name} are {dtype} {got}, not {_KINDS[kind]} {shape}"
                )
            fp.seek(0)
            array = np.lib.format.read_array(fp, allow_pickle=False)
            if fp.read(1):  # more than its header says (and a zip member's CRC checked)
                raise ColorganError(f"{self.what}: its {name} hold more than their header says")
        return array

    @staticmethod
    def _header(fp: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
        version = np.lib.format.read_magic(fp)
        readers = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }
        if version not in readers:
            raise ValueError(f"npy format {version}")
        shape, _, dtype = readers[version](fp)
        return tuple(shape), dtype

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A damaged file's own errors (a short read, a bad CRC, a corrupt stream) as one
        line; ColorganError passes as it is."""
        try:
            yield
        except ColorganError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise self._damaged(exc) from None
