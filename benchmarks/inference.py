"""The generator at 256x256, batch 16: images/s and achieved GFLOP/s, fp32 against bf16 autocast,
channels_last off and on, next to this machine's matmul peak in each precision (same run).

Run: `.venv/bin/python -m benchmarks.inference [--batch 16] [--size 256] [--generators-only]`.
First every registered generator side by side (GFLOP per image and fp32 images/s, the cost a
new generator adds against the paper's); then the paper's generator in fp32 and bf16. bf16
rows are timed once without a warm-up (minutes each on CPUs without native bf16); fp32 rows
best of three after a warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import functools

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import best_seconds, machine
from colorgan.config import ModelConfig, PriorConfig
from colorgan.engines.torch_engine import TorchEngine
from colorgan.models.file import build_generator


def matmul_peak(dtype: torch.dtype, n: int = 2048) -> float:
    """GFLOP/s of an n x n x n matmul, the best this CPU does in that dtype."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    fast = dtype == torch.float32
    seconds = best_seconds(lambda: a @ b, repeats=3 if fast else 1, warmup=1 if fast else 0)
    return 2 * n**3 / seconds / 1e9


def compare_generators(b: int, s: int) -> None:
    """Each registered generator with every prior it can take, fp32, channels_last off."""
    from colorgan.config import config_from_dict

    print(
        f"| generator, batch {b}, {s}x{s}, fp32 | GFLOP per image | vs fusion | images/s "
        "| vs fusion |\n|---|---|---|---|---|"
    )
    base_flops = base_rate = 0.0
    for name in ("fusion", "lite_unet", "koalarization", "unet"):
        model = {
            "generator": name,
            **({"unet": {"downs": s.bit_length() - 1}} if name == "unet" else {}),
        }
        cfg = config_from_dict({"model": model, "data": {"image_size": s}})
        generator = build_generator(cfg.model, cfg.priors).eval()
        inputs = (torch.rand(b, 1, s, s) * 2 - 1, torch.randn(b, 1000), torch.rand(b, 21, s, s))
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            generator(*inputs[:1], inputs[1], inputs[2])
        flops = counter.get_total_flops() / b / 1e9
        with torch.inference_mode():
            rate = b / best_seconds(lambda g=generator, x=inputs: g(*x), repeats=2)
        base_flops, base_rate = base_flops or flops, base_rate or rate
        print(
            f"| {name} | {flops:.2f} | {flops / base_flops:.2f}x | {rate:.2f} "
            f"| {rate / base_rate:.2f}x |",
            flush=True,
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--generators-only", action="store_true", help="only the comparison")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(machine())
    compare_generators(args.batch, args.size)
    if args.generators_only:
        return
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"matmul 2048^3: fp32 {peaks['fp32']:.1f} GFLOP/s, bf16 {peaks['bf16']:.1f} GFLOP/s")

    b, s = args.batch, args.size
    generator = build_generator(ModelConfig(), PriorConfig()).eval()  # Table 1, both priors on
    inputs = (torch.rand(b, 1, s, s) * 2 - 1, torch.randn(b, 1000), torch.rand(b, 21, s, s))
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        generator(*inputs)
    flops = counter.get_total_flops()
    print(f"FusionGenerator (Table 1) forward at {s}x{s}: {flops / b / 1e9:.2f} GFLOP per image\n")
    print(f"| generator, batch {b}, {s}x{s} | images/s | GFLOP/s | share of the matmul peak |")
    print("|---|---|---|---|")
    fp32_rate = 0.0
    for precision in ("fp32", "bf16"):
        for channels_last in (False, True):
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            model = generator.to(memory_format=fmt)
            x = tuple(t.contiguous(memory_format=fmt) if t.ndim == 4 else t for t in inputs)
            cast = (
                torch.autocast("cpu", dtype=torch.bfloat16)
                if precision == "bf16"
                else contextlib.nullcontext()
            )
            with torch.inference_mode(), cast:
                run = functools.partial(model, *x)
                fast = precision == "fp32"  # bf16 rows take minutes here: once, no warm-up
                seconds = best_seconds(run, repeats=3 if fast else 1, warmup=1 if fast else 0)
            rate = b / seconds
            fp32_rate = fp32_rate or rate
            print(
                f"| {precision}, channels_last {'on' if channels_last else 'off'} | "
                f"{rate:.2f} ({rate / fp32_rate:.2f}x) | {flops / seconds / 1e9:.1f} | "
                f"{flops / seconds / 1e9 / peaks[precision]:.0%} of {precision} |"
            )

    # The whole colorization model as `colorgan colorize` runs it (priors + generator, fp32):
    # one photo at a time, and batches of 16 as evaluation or a batch job could.
    print(f"\n| TorchEngine.predict_full, {s}x{s}, fp32 | batch 1 images/s | batch {b} images/s |")
    print("|---|---|---|")
    for channels_last in (False, True):
        engine = TorchEngine(precision="fp32", size=s, channels_last=channels_last)
        rates = []
        for n in (1, b):
            l_norm = torch.rand(n, 1, s, s) * 2 - 1
            rates.append(n / best_seconds(functools.partial(engine.predict_full, l_norm)))
        print(
            f"| channels_last {'on' if channels_last else 'off'} | {rates[0]:.2f} | "
            f"{rates[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
