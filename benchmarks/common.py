"""What every benchmark prints first (the machine) and how it times (best of n, after a warm-up)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from colorgan.runtime import cpu_has_native_bf16, cpu_name


def machine() -> str:
    return (
        f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"native bf16: {cpu_has_native_bf16()}"
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
