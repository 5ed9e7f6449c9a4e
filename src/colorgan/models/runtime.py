"""Device and numeric precision, chosen from what the hardware does well.

bf16 autocast is slower than fp32 on the CPUs measured here (benchmarks/inference.py): many
times slower on AVX2 (no bf16 kernels in oneDNN), and 0.70x of fp32's speed even on an
AVX-512 CPU with AVX512-BF16 but no AMX (its bf16 matmul peak is half its fp32 one). Only AMX
tile units do bf16 matmuls faster than fp32 (oneDNN's documentation; no AMX machine has been
measured here), so on the CPU "auto" picks bf16 only where `/proc/cpuinfo` lists amx_bf16.
On CUDA, "auto" is bf16 where supported, else fp16.
"""

from __future__ import annotations

import contextlib
import platform
from functools import cache

import torch

from colorgan.base.errors import ColorganError


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ColorganError(f"device {name!r} asked for, but CUDA is not available here")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ColorganError(f"unknown device {name!r}") from None


def cpu_name() -> str:
    """The CPU's model name, for the machine line of benchmarks and experiment reports."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags, as /proc/cpuinfo lists them (none where it cannot be read)."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return frozenset()
    return frozenset(
        w
        for line in text.splitlines()
        if line.startswith("flags")
        for w in line.split(":", 1)[1].split()
    )


def cpu_has_fast_bf16(flags: frozenset[str] | None = None) -> bool:
    """AMX's bf16 tiles (avx512_bf16 alone measured slower than fp32: see the module doc)."""
    return "amx_bf16" in (cpu_flags() if flags is None else flags)


def resolve_precision(
    precision: str, device: torch.device, flags: frozenset[str] | None = None
) -> str:
    """The precision "auto" means on `device` (on the CPU, by its `flags`: this machine's by
    default); an explicit precision is checked and kept."""
    if precision != "auto":
        if precision == "fp16" and device.type == "cpu":
            raise ColorganError("fp16 is for CUDA; use bf16 or fp32 on the CPU")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_fast_bf16(flags) else "fp32"


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)
