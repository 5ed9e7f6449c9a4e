"""A film's stages on threads of their own, so that decoding, the model and encoding overlap
and every core stays busy: `Ahead` makes an iterator's items ahead of the one taking them (the
decoder), `Behind` does calls in order behind the one giving them (the encoder). FFmpeg, ONNX
Runtime, numpy and OpenCV release the GIL while they work. Each holds at most `depth` items
(decoded frames are large); an error or a Ctrl-C on either side stops both, and the error is
raised on the caller's thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Ahead:
    """`items` made on a thread of their own, at most `depth` ahead of the caller."""

    def __init__(self, items: Iterable, depth: int) -> None:
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._make, args=(items,), daemon=True)
        self._thread.start()

    def _make(self, items: Iterable) -> None:
        try:
            for item in items:
                if not _put(self._queue, item, self._stop):
                    return
            _put(self._queue, _END, self._stop)
        except BaseException as exc:  # raised again on the caller's thread
            _put(self._queue, _Failed(exc), self._stop)

    def __iter__(self) -> Iterator:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def close(self) -> None:
        """Stop making items (the caller is done with them, or failed)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Behind:
    """Calls done in order on a thread of their own, at most `depth` behind the caller."""

    def __init__(self, depth: int) -> None:
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._do, daemon=True)
        self._thread.start()

    def _do(self) -> None:
        while True:
            call = self._queue.get()
            if call is _END or self._error is not None:
                if call is _END:
                    return
                continue  # failed: the rest are let go
            try:
                call[0](*call[1])
            except BaseException as exc:  # raised again on the caller's thread
                self._error = exc

    def put(self, call: Callable, *args: object) -> None:
        """`call(*args)` after the calls before it; the error of an earlier one, if any."""
        self._raise()
        if not _put(self._queue, (call, args), self._stop):
            self._raise()

    def finish(self) -> None:
        """Wait for every call; the error of any."""
        _put(self._queue, _END, self._stop)
        self._thread.join()
        self._raise()

    def close(self) -> None:
        """Let the calls not yet done go (the caller failed)."""
        self._error = self._error or InterruptedError()
        self._stop.set()
        _put(self._queue, _END, threading.Event())
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def _put(where: queue.Queue, item: object, stop: threading.Event) -> bool:
    """`item` into the queue, waiting for room unless `stop` is set (then False)."""
    while not stop.is_set():
        try:
            where.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
