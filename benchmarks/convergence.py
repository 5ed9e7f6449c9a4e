"""Does bf16 autocast train as well as fp32? The small config, run twice side by side.

Run: `.venv/bin/python -m benchmarks.convergence [configs/small/ours.yaml]`. Both runs use the
same seed, data order and photos (the feature cache is shared); the bf16 run uses channels_last,
the faster layout for bf16 here. Prints the validation L1 after every epoch and the wall time.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from colorgan.config import load_config
from colorgan.train import Trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", nargs="?", default="configs/small/ours.yaml")
    args = parser.parse_args()
    print(machine())
    curves, times = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision, channels_last in (("fp32", "false"), ("bf16", "true")):
            cfg = load_config(args.config, [f"train.precision={precision}",
                                            f"train.channels_last={channels_last}",
                                            f"out_dir={tmp}", f"name={precision}"])  # fmt: skip
            start = time.perf_counter()
            Trainer(cfg, progress=False).run()
            times[precision] = time.perf_counter() - start
            rows = csv.DictReader(open(Path(tmp) / precision / "losses.csv"))
            curves[precision] = [float(r["val_l1"]) for r in rows if r["val_l1"]]
            print(f"{precision}: {times[precision]:.0f} s", flush=True)
    print(f"\n{args.config}\n| epoch | fp32 val L1 | bf16 val L1 | difference |\n|---|---|---|---|")
    for i, (a, b) in enumerate(zip(curves["fp32"], curves["bf16"], strict=True)):
        print(f"| {i + 1} | {a:.4f} | {b:.4f} | {(b - a) / a:+.2%} |")
    print(f"training time: fp32 {times['fp32']:.0f} s, bf16 {times['bf16']:.0f} s "
          f"({times['bf16'] / times['fp32']:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
