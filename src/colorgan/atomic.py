"""Atomic file writes: a temporary file beside the target, renamed over it when complete.

A kill at any moment leaves either the old file or the new one, never a half-written one, and
the result gets the ordinary permissions (mkstemp's are owner-only).
"""

from __future__ import annotations

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
