"""The phase-2 step on a GPU: batch 64 at 256x256, CUDA bf16 autocast, channels_last, compile.

Run where CUDA is: `.venv/bin/python -m benchmarks.gpu`. Prints images/s of the step
(discriminator + generator update, `ColorGAN.adversarial_step`) against fp32 in the same run,
and the peak GPU memory. `--device cpu --batch 1 --repeats 1` checks the script itself on any
machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from benchmarks.common import best_seconds
from benchmarks.training import config, photo_folder
from colorgan.training.data import TrainingData
from colorgan.training.gan import ColorGAN


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--embedding-weights", help="EfficientNet-Lite0 file (no pip package)")
    parser.add_argument("--compile", action="store_true", help="also bf16 with torch.compile")
    parser.add_argument("--photos", help="folder of colour photos (default: shared, or made)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("needs CUDA (or pass --device cpu --batch 1 --repeats 1)")
    cuda = args.device.startswith("cuda")
    print(torch.cuda.get_device_name() if cuda else "CPU", f"torch {torch.__version__}")
    print(f"\n| phase-2 step, batch {args.batch}, 256x256 | images/s | vs fp32 | peak memory |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        photos = photo_folder(tmp, args.batch, args.photos)
        base = None
        rows = [("fp32", False, False), ("fp32", True, False), ("bf16", False, False)]
        rows += [("bf16", True, False)] + ([("bf16", True, True)] if args.compile else [])
        for precision, channels_last, compiled in rows:
            train = {
                "precision": precision,
                "channels_last": channels_last,
                "batch_size": args.batch,
                "device": args.device,
            }
            train["compile"] = compiled
            priors = {"embedding_weights": args.embedding_weights}
            name = f"{precision}-{channels_last}-{compiled}"
            cfg = config(tmp, photos, name, train=train, priors=priors)
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            gan = ColorGAN(cfg, args.device, precision, fmt)
            if compiled:
                gan.compile()
            x = TrainingData(cfg, device=args.device, memory_format=fmt, progress=False)
            x = x.training_batch(args.batch)

            def step(gan: ColorGAN = gan, x: dict = x) -> None:
                gan.adversarial_step(x)
                if cuda:
                    torch.cuda.synchronize()

            if cuda:
                torch.cuda.reset_peak_memory_stats()
            warmup = min(2, args.repeats)
            rate = args.batch / best_seconds(step, repeats=args.repeats, warmup=warmup)
            base = base or rate
            memory = f"{torch.cuda.max_memory_allocated() / 1024**3:.1f} GiB" if cuda else "-"
            label = f"{precision}, channels_last {'on' if channels_last else 'off'}"
            label += ", torch.compile" if compiled else ""
            print(f"| {label} | {rate:.1f} | {rate / base:.2f}x | {memory} |", flush=True)


if __name__ == "__main__":
    main()
