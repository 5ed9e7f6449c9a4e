"""Two generators' ab averaged, photo by photo: does a second encoder's opinion lower the
colour cast at equal colourfulness? The cast is one error per photo; where two models err
independently, their mean errs less (RESULTS.md section 24).

Run from the repository root: `.venv/bin/python scripts/ensemble_probe.py --val-of
configs/default.yaml --weights A B --factors 1,1.1,1.2` (`--data FOLDER` for a folder of
photos; `default` names the bundled model). The first model alone is scored first, so every
mean is set against it on the same photos. Scored as `colorgan evaluate` scores, with KID.
"""

from __future__ import annotations

import argparse

import torch

from colorgan.config import load_config
from colorgan.evaluation import evaluate as ev
from colorgan.evaluation.fid import InceptionFeatures
from colorgan.training.photos import split_paths


class Averaged:
    """The mean of several colorizers' ab, each at its own stored saturation."""

    def __init__(self, colorizers: list[ev.Scored]) -> None:
        self.colorizers = colorizers

    def predict_ab(self, l_norm: torch.Tensor) -> torch.Tensor:
        return torch.stack([c.predict_ab(l_norm) for c in self.colorizers]).mean(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", help="a folder of photos")
    where.add_argument("--val-of", metavar="CONFIG.yaml", help="that config's validation split")
    parser.add_argument("--weights", nargs="+", required=True, help="generator files to average")
    parser.add_argument("--factors", default="1,1.1,1.2", help="saturations of the mean")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = args.data or split_paths(load_config(args.val_of).data)[1]
    models = ev.open_colorizers(args.weights, ev.CPU_FP32)
    first = next(iter(models))
    mean = Averaged(list(models.values()))
    colorizers = {first: models[first]}
    for k in ev.sweep_factors(args.factors):
        colorizers[f"mean of {len(models)} at {k:g}"] = ev.Saturated(mean, k)
    report = ev.evaluate(colorizers, data, features=InceptionFeatures())
    print(ev.markdown_report(report))


if __name__ == "__main__":
    main()
