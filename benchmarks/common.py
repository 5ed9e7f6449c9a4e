"""What every benchmark prints first (the machine) and how it times (best of n, after a warm-up)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch

from colorgan.models.runtime import cpu_name


def machine() -> str:
    try:
        flags = set(open("/proc/cpuinfo").read().split())
    except OSError:
        flags = set()
    bf16 = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags] or ["none"]
    return (
        f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"bf16 instructions: {' '.join(bf16)}"
    )


def best_seconds(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# Starts a command from a small process: a child's peak resident memory counts what it had
# before exec, so one forked straight from a benchmark (torch loaded) would report the
# benchmark's own.
_LAUNCHER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds a command took (plus a bare Python start, about 0.03 s) and its peak resident
    memory in GB; `env`: its environment (default: this process's)."""
    import subprocess
    import sys

    start = time.perf_counter()
    peak = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *cmd], check=True, capture_output=True, text=True, env=env
    ).stdout
    return time.perf_counter() - start, int(peak) / 1024**2


def colorize_command(paths: list, out, engine: str, *extra: str) -> list[str]:
    """`colorgan colorize PATHS --out OUT` on `engine` in fp32, quiet, in this Python."""
    files = [str(path) for path in paths]
    options = ["--out", str(out), "--quiet", "--engine", engine, "--precision", "fp32"]
    return [sys.executable, "-m", "colorgan", "colorize", *files, *options, *extra]
