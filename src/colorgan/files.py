"""Files written whole or not at all, and content hashes.

A write goes to a temporary file beside the target and is renamed over it when complete, so a
kill at any moment leaves the old file or the new one, never a half-written one; the result
gets the ordinary permissions (mkstemp's are owner-only).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | Path, target: Path, directory: bool = False) -> None:
    os.chmod(tmp, (0o777 if directory else 0o666) & ~_umask())
    os.replace(tmp, target)


@contextmanager
def atomic_file(target: Path) -> Iterator[str]:
    """Yields a temporary path to write; on success it replaces `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        publish(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        Path(tmp).write_text(text)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
