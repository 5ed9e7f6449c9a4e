"""The phase-2 step on a GPU: batch 64 at 256x256, CUDA bf16 autocast and channels_last.

Run where CUDA is: `.venv/bin/python -m benchmarks.gpu`. Prints images/s of the step
(discriminator + generator update, `Trainer.adversarial_step`) against fp32 in the same run,
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
from colorgan.data import collate
from colorgan.train import Trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("needs CUDA (or pass --device cpu --batch 1 --repeats 1)")
    cuda = args.device.startswith("cuda")
    print(torch.cuda.get_device_name() if cuda else "CPU", f"torch {torch.__version__}")
    print(f"\n| phase-2 step, batch {args.batch}, 256x256 | images/s | vs fp32 | peak memory |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        photos = photo_folder(tmp, args.batch)
        base = None
        for precision, channels_last in (("fp32", False), ("bf16", True)):
            train = {"precision": precision, "channels_last": channels_last,
                     "batch_size": args.batch, "device": args.device}  # fmt: skip
            trainer = Trainer(config(tmp, photos, precision, train=train), progress=False)
            batch = collate([trainer.train_set[i] for i in range(args.batch)])
            x = trainer._inputs(batch)

            def step(t: Trainer = trainer, x: dict = x) -> None:
                t.adversarial_step(x)
                if cuda:
                    torch.cuda.synchronize()

            if cuda:
                torch.cuda.reset_peak_memory_stats()
            warmup = min(2, args.repeats)
            rate = args.batch / best_seconds(step, repeats=args.repeats, warmup=warmup)
            base = base or rate
            memory = f"{torch.cuda.max_memory_allocated() / 1024**3:.1f} GiB" if cuda else "-"
            print(f"| {precision}, channels_last {'on' if channels_last else 'off'} | "
                  f"{rate:.1f} | {rate / base:.2f}x | {memory} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
