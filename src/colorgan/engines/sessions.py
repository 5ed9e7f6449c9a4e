"""ONNX Runtime's sessions, their graph optimizations done once per machine.

Opening a graph, ONNX Runtime optimizes it for the CPU it runs on (fusions, blocked layouts):
a third of `colorgan colorize`'s start-up for the bundled default. The graph as optimized is
kept in a cache folder (COLORGAN_CACHE, else $XDG_CACHE_HOME/colorgan or ~/.cache/colorgan;
COLORGAN_CACHE="" keeps none), named by what it depends on (the graph file's path, size and
time, ONNX Runtime's version, the CPU's flags), and later opened as it is, with the same
kernels and the same results. A cache that cannot be written or read is passed over: the
graph is optimized again, as it would be without one. Only for the CPU's provider (a CUDA
graph's optimizations are the GPU's)."""

from __future__ import annotations

import hashlib
import os
import platform
from functools import lru_cache
from pathlib import Path

CPU = ["CPUExecutionProvider"]


def session_options(threads: int | None, optimize: bool = True):
    """Runtime's options for colorgan's graphs: `threads` (default one per core) that sleep
    rather than spin when idle (a busy machine is not slowed tenfold), errors alone logged."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its warnings are not the user's
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


def cache_folder() -> Path | None:
    """Where optimized graphs are kept; None where none is to be."""
    given = os.environ.get("COLORGAN_CACHE")
    if given is not None:
        return Path(given) if given else None
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "colorgan"


@lru_cache(maxsize=1)
def _machine() -> str:
    """What an optimized graph depends on besides itself: the CPU's flags, Runtime's version."""
    import onnxruntime as ort

    flags = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line for line in info if line.startswith("flags")), flags)
    except OSError:
        pass
    return f"{ort.__version__}|{platform.machine()}|{flags}"


def open_session(path: Path, threads: int | None, providers: list[str]):
    """The session of the graph at `path`, from its optimized copy in the cache folder where
    there is one (written there now where there is not)."""
    import onnxruntime as ort

    folder = cache_folder()
    if folder is None or providers != CPU:
        return ort.InferenceSession(str(path), session_options(threads), providers)
    info = path.stat()
    key = f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}|{_machine()}"
    kept = folder / f"{path.stem}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.onnx"
    if kept.is_file():
        try:
            return ort.InferenceSession(str(kept), session_options(threads, False), providers)
        except Exception:  # a damaged copy: optimized again below
            kept.unlink(missing_ok=True)
    options = session_options(threads)
    temporary = kept.with_name(f".{kept.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(temporary)
    except OSError:
        pass
    session = ort.InferenceSession(str(path), options, providers)
    try:
        os.replace(temporary, kept)  # whole or not at all
    except OSError:
        temporary.unlink(missing_ok=True)
    return session
