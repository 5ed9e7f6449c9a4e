"""fp32 against bf16 autocast on this CPU, side by side in one run.

Why: `precision: auto` turns bf16 on only where the CPU has native bf16 (AMX / AVX512-BF16).
This measures a 3x3 conv and the paper's generator forward in both precisions and prints the
ratio with the machine it ran on. Run: `.venv/bin/python benchmarks/precision.py`.
"""

from __future__ import annotations

import platform
import time

import torch
from torch import nn

from colorgan.models import PaperGenerator
from colorgan.runtime import cpu_has_native_bf16


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn, repeats: int = 3) -> float:  # noqa: ANN001 - any callable
    with torch.inference_mode():
        fn()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    return best


def both(name: str, fn, flops: float | None = None) -> None:  # noqa: ANN001
    fp32 = timed(fn)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = timed(fn, repeats=1)

    def cell(seconds: float) -> str:
        rate = f" ({flops / seconds / 1e9:.0f} GFLOP/s)" if flops else ""
        return f"{seconds * 1e3:.1f} ms{rate}"

    print(f"| {name} | {cell(fp32)} | {cell(bf16)} | {bf16 / fp32:.1f}x |")


def main() -> None:
    torch.manual_seed(0)
    print(f"CPU: {cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16: {cpu_has_native_bf16()}\n")  # fmt: skip
    print("| workload | fp32 | bf16 autocast | bf16 time / fp32 time |")
    print("|---|---|---|---|")
    conv = nn.Conv2d(64, 128, 3, padding=1).eval()
    x = torch.randn(4, 64, 64, 64)
    both("conv 3x3 64->128, 4x64x64x64", lambda: conv(x), 2 * 64 * 128 * 9 * 64 * 64 * 4)
    gen = PaperGenerator().eval()
    l_norm, emb, seg = torch.rand(2, 1, 128, 128), torch.randn(2, 1000), torch.rand(2, 21, 128, 128)
    both("PaperGenerator forward, 2x128x128", lambda: gen(l_norm, emb, seg))


if __name__ == "__main__":
    main()
