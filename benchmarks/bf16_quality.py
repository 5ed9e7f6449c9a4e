"""Is bf16 autocast as good as fp32? Colorization quality and training, side by side.

1. The bundled model on ../shared/datasets/eval (the evaluation protocol, 256x256): PSNR and
   SSIM with the generator in fp32 and under bf16 autocast.
2. The small training config run twice with the same seed, data order and cached priors, in
   fp32 and in bf16: validation L1 after every epoch and the wall time.

Run: `.venv/bin/python -m benchmarks.bf16_quality [--config configs/small/ours.yaml]
[--skip-training]`. bf16 runs channels_last, its faster layout on CPUs without native bf16
(where it is still 5x to 30x slower than fp32: the training part takes about 45 minutes there).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from colorgan.config import load_config
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation.evaluate import Scored, evaluate
from colorgan.pipeline.colorizer import Colorizer
from colorgan.training.trainer import Trainer

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "eval"


def colorization() -> None:
    print(f"\n| bundled model on {EVAL.name}/ (256x256) | PSNR (dB) | SSIM | seconds |")
    print("|---|---|---|---|")
    psnrs = {}
    for precision in ("fp32", "bf16"):
        engine = TorchEngine(precision=precision, channels_last=precision == "bf16")
        colorizer = Scored(Colorizer(engine))
        start = time.perf_counter()
        report = evaluate(colorizer, EVAL, progress=False)["results"]["model"]
        psnrs[precision] = report["psnr"]
        print(
            f"| {precision} | {report['psnr']:.4f} | {report['ssim']:.4f} | "
            f"{time.perf_counter() - start:.0f} |",
            flush=True,
        )
    print(f"bf16 - fp32: {psnrs['bf16'] - psnrs['fp32']:+.4f} dB")


def training(config: str) -> None:
    curves, times = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision, channels_last in (("fp32", "false"), ("bf16", "true")):
            cfg = load_config(
                config,
                [
                    f"train.precision={precision}",
                    f"train.channels_last={channels_last}",
                    f"out_dir={tmp}",
                    f"name={precision}",
                ],
            )
            start = time.perf_counter()
            Trainer(cfg, progress=False).run()
            times[precision] = time.perf_counter() - start
            rows = csv.DictReader(open(Path(tmp) / precision / "losses.csv"))
            curves[precision] = [float(r["val_l1"]) for r in rows if r["val_l1"]]
            print(f"{precision} training: {times[precision]:.0f} s", flush=True)
    print(f"\n{config}\n| epoch | fp32 val L1 | bf16 val L1 | difference |\n|---|---|---|---|")
    for i, (a, b) in enumerate(zip(curves["fp32"], curves["bf16"], strict=True)):
        print(f"| {i + 1} | {a:.4f} | {b:.4f} | {(b - a) / a:+.2%} |")
    print(
        f"training time: fp32 {times['fp32']:.0f} s, bf16 {times['bf16']:.0f} s "
        f"({times['bf16'] / times['fp32']:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/small/ours.yaml")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    print(machine())
    if not EVAL.is_dir():
        raise SystemExit(f"needs the evaluation photos at {EVAL}")
    colorization()
    if not args.skip_training:
        training(args.config)


if __name__ == "__main__":
    main()
