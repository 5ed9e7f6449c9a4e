"""GFLOP of one photo through each model's whole inference: the priors at their size (where
the model has priors) and the generator at its own size, counted by torch's FlopCounterMode.

Run: `.venv/bin/python -m benchmarks.flops [MODEL_OR_FILE ...]` (default: the bundled models);
the first is the reference the others are given as a ratio of.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import machine
from colorgan.engines.torch_engine import TorchEngine
from colorgan.evaluation.evaluate import open_colorizers
from colorgan.priors.semantic import PRIOR_IMAGE_SIZE


def inference_flops(engine: TorchEngine) -> tuple[float, float]:
    """(priors, generator) GFLOP for one grey photo."""
    l_norm = torch.rand(1, 1, PRIOR_IMAGE_SIZE, PRIOR_IMAGE_SIZE) * 2 - 1
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        if engine.priors is not None:
            engine.priors.on_l(l_norm)
    priors = counter.get_total_flops() / 1e9
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        engine.predict_tensor(l_norm, l_norm)
    return priors, counter.get_total_flops() / 1e9 - priors


def main() -> None:
    from colorgan.spec.bundled import BUNDLED

    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=list(BUNDLED))
    args = parser.parse_args()
    print(machine(), "\n")
    print("| model | size | priors GFLOP | generator GFLOP | total | vs first |")
    print("|---|---|---|---|---|---|")
    first = None
    for label, scored in open_colorizers(args.models, {"device": "cpu"}).items():
        engine = scored.colorizer.engine
        priors, generator = inference_flops(engine)
        total = priors + generator
        first = first or total
        print(
            f"| {label} | {engine.spec.size} | {priors:.2f} | {generator:.2f} | {total:.2f} "
            f"| {total / first:.2f}x |"
        )


if __name__ == "__main__":
    main()
