"""Does a model underfit or overfit? It is scored on photos it trained on, drawn from each source
of a config's training split as many as that source gives to validation (seed 0), so the two
sets have the same mix; `colorgan evaluate --val-of` gives the held-out side. Near-equal
figures mean the network cannot fit even what it has seen: more capacity (or a freer encoder)
is the lever, not more photos or regularisation. (docs/results/freed-encoder.md.)

Run from the repository root: `.venv/bin/python scripts/research/fit_probe.py configs/default.yaml`
(`--weights FILE` for a run's generator instead of the bundled default). No FID or KID.
"""

from __future__ import annotations

import argparse
import random

import torch

from colorgan.config import load_config
from colorgan.evaluation import evaluate as ev
from colorgan.training.photos import split_sources


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", metavar="CONFIG.yaml", help="the config whose split is used")
    parser.add_argument("--weights", help="a generator file (default: the bundled default)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = random.Random(0)
    seen = []
    for train, val, _ in split_sources(load_config(args.config).data):
        seen += rng.sample(train, len(val))
    colorizers = ev.open_colorizers([args.weights or "default"], ev.CPU_FP32)
    report = ev.evaluate(colorizers, seen)
    print(f"{report['images']} training photos")
    print(ev.metrics_table({ev.TITLES.get(k, k): v for k, v in report["results"].items()}))


if __name__ == "__main__":
    main()
