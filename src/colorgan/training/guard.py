"""What keeps a run folder whole while it trains: one trainer at a time, and a checkpoint on
the way out when the user stops it.

`RunLock` holds an exclusive lock on the run folder for as long as a trainer writes to it;
a second `colorgan train --resume` on the same folder is refused, naming the holder, instead
of interleaving its files. `StopRequests` turns the first Ctrl-C (SIGINT) or SIGTERM into a
request the loop sees between steps, so it can checkpoint and stop; a second one interrupts
at once.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from colorgan.base.errors import ColorganError, shown


class RunLock:
    """An exclusive lock on `run_dir` (flock on run_dir/.lock; the OS drops it with the
    process, so a killed trainer leaves no stale lock). The lock file goes when the lock is
    released: a finished run folder holds no `.lock`."""

    def __init__(self, run_dir: Path) -> None:
        # the folders this run makes (the run folder, and out_dir where it is new too) go again
        # if the run fails before writing anything into them
        self.made = [p for p in [run_dir, *run_dir.parents] if not p.exists()]
        self.run_dir, self.path = run_dir, run_dir / ".lock"
        self.fd: int | None = None
        while self.fd is None:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise ColorganError(
                    f"{run_dir} is being trained by another colorgan process (pid {holder}); "
                    "wait for it or stop it"
                ) from None
            if self._still_named(fd):
                self.fd = fd
            else:  # its holder removed it between our open and our lock: it locks nothing
                os.close(fd)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def _open(self) -> int:
        """The lock file, opened (the run folder made where it is new); one line where this
        user may not write there (out_dir a file, a read-only place, a name too long)."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self._remove_made()
            why = exc.strerror or exc.__class__.__name__
            raise ColorganError(
                f"cannot write the run folder {shown(str(self.run_dir))} ({why})"
            ) from None

    def _still_named(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Drop the lock and its file; a run folder this run made and left holding nothing
        else (a run that failed before its first file) is removed."""
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)  # while held: a waiter that opened it sees it go
        self._remove_made()
        os.close(self.fd)  # closing drops the flock
        self.fd = None

    def _remove_made(self) -> None:
        """The folders this run made, the run folder first, then the new parents above it,
        each as far as it is empty (something else may be in it now)."""
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:
                break


class StopRequests:
    """While entered, SIGINT and SIGTERM set `requested` instead of killing the process."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is not None:  # asked twice: stop now
            self.__exit__()
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():  # signals go to it alone
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()
